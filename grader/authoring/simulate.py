"""Simulated learners: submissions built from the released notebooks.

A simulated learner works like a real one: they take the student version,
replace the ``raise NotImplementedError()`` stubs of the exercises they can do
with working code, and submit the notebook. Here the working code is the
instructor's solution, taken from the source notebook, for the exercises at
the tiers in the learner's profile; for the copy-paste learner, it is what
they could read and paste instead. The demo uses these to show distinct
proficiency profiles; the tests use them to prove every graded cell fails on
the stub and passes on the solution.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.catalogue import Assignment, read_notebook, solution_cells

_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


@dataclass(frozen=True)
class Profile:
    """A learner who solves the exercises at ``tiers`` and leaves the rest as stubs.

    ``by_stage`` overrides ``tiers`` for the stages it names, so a simulated
    learner can be stronger in one stage than another; ``also_solves`` names
    solution cells (grade_ids) solved whatever their tier, such as part of
    the capstone.
    """

    learner: str
    tiers: frozenset[int]
    description: str
    by_stage: Mapping[str, frozenset[int]] = field(default_factory=dict)
    also_solves: frozenset[str] = frozenset()
    #: Writes no logic: fills every exercise with the nearest thing they can read and paste (the source's
    #: ``"readable"`` mistake), and with the solution where none is declared (a module whose exercises a
    #: paste still passes; notebooks/exemptions.yaml lists them under "copy-paste").
    pastes: bool = False

    def solves(self, stage: str | None, tier: int | None, grade_id: str = "") -> bool:
        return grade_id in self.also_solves or tier in self.by_stage.get(stage, self.tiers)


def _tiers(*tiers: int) -> frozenset[int]:
    return frozenset(tiers)


JUNIOR_CORE = ("dataset", "features", "modeling", "evaluation", "inference")

DEMO_COHORT = (
    Profile("ada", _tiers(1, 2), "solves tiers 1-3 in the five core stages, 1-2 elsewhere (a Junior profile)",
            dict.fromkeys(JUNIOR_CORE, _tiers(1, 2, 3))),
    Profile("grace", _tiers(1, 2, 3, 4), "solves tiers 1-4 (1-3 in feature engineering) and half the capstone "
            "(model and calibration, no serving or monitoring): a Senior who fails the capstone",
            {"features": _tiers(1, 2, 3)}, frozenset({"cap1_build_scorer", "cap2_calibrate"})),
    Profile("linus", _tiers(1, 2, 3, 4, 5), "solves every tier and the whole capstone: Staff"),
    Profile("copycat", _tiers(1, 2, 3, 4, 5), "writes no logic: pastes the nearest demo, library function or "
            "visible helper into every exercise, and the solution where a paste still passes (no role)",
            pastes=True),
)


def strip_solution_markers(source: str) -> str:
    """The solution code without nbgrader's ``### BEGIN/END SOLUTION`` lines."""
    return "\n".join(line for line in source.splitlines() if not _MARKER.match(line))


def substitute_solutions(released: nbformat.NotebookNode, code: Mapping[str, str]) -> nbformat.NotebookNode:
    """A copy of ``released`` whose solution cells named in ``code`` (grade_id -> source) hold that source."""
    solved = nbformat.from_dict(released)
    cells = solution_cells(solved)
    unknown = sorted(set(code) - set(cells))
    if unknown:
        raise ValueError(f"no solution cells {unknown} in this notebook; it has {sorted(cells)}")
    for grade_id, source in code.items():
        cells[grade_id].source = source
    return solved


def solve(released: nbformat.NotebookNode, source: nbformat.NotebookNode, profile: Profile) -> nbformat.NotebookNode:
    """A copy of ``released`` with the solution cells ``profile`` solves filled in from ``source``.

    Stage and tier of a solution cell are its ``metadata.mlcourse`` in the source.
    """
    code = {}
    for grade_id, reference in solution_cells(source).items():
        tags = reference.metadata.get("mlcourse", {})
        if profile.solves(tags.get("stage"), tags.get("tier"), grade_id):
            pasted = next((m["code"] for m in tags.get("mistakes", []) if m.get("readable")), None)
            code[grade_id] = pasted if profile.pastes and pasted is not None else strip_solution_markers(
                reference.source)
    return substitute_solutions(released, code)


def write_submission(release_dir: Path, assignment: Assignment, profile: Profile, submissions_dir: Path) -> Path:
    """Write ``<submissions_dir>/<learner>/<assignment>/`` for one simulated learner."""
    dest = submissions_dir / profile.learner / assignment.id
    dest.mkdir(parents=True, exist_ok=True)
    for source_path in assignment.notebooks:
        released = read_notebook(release_dir / source_path.name)
        nbformat.write(solve(released, read_notebook(source_path), profile), dest / source_path.name)
    return dest
