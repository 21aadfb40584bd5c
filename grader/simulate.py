"""Simulated learners: submissions built from the released notebooks.

A simulated learner works like a real one: they take the student version,
replace the ``raise NotImplementedError()`` stubs of the exercises they can do
with working code, and submit the notebook. Here the working code is the
instructor's solution, taken from the source notebook, for the exercises at
the tiers in the learner's profile. The demo uses these to show distinct
proficiency profiles; the tests use them to prove every graded cell fails on
the stub and passes on the solution.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.catalogue import Assignment, read_notebook

_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


@dataclass(frozen=True)
class Profile:
    """A learner who solves the exercises at ``tiers`` and leaves the rest as stubs."""

    learner: str
    tiers: frozenset[int]
    description: str


DEMO_COHORT = (
    Profile("ada", frozenset({1, 2}), "solves tiers 1-2: knows the basic measures"),
    Profile("grace", frozenset({1, 2, 3, 4}), "solves tiers 1-4: thresholds, uncertainty and slices"),
    Profile("linus", frozenset({1, 2, 3, 4, 5}), "solves every tier, including the hidden-data tier 5"),
)


def strip_solution_markers(source: str) -> str:
    """The solution code without nbgrader's ``### BEGIN/END SOLUTION`` lines."""
    return "\n".join(line for line in source.splitlines() if not _MARKER.match(line))


def _solution_cells(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell
        for cell in nb.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution")
    }


def solve(released: nbformat.NotebookNode, source: nbformat.NotebookNode, tiers: frozenset[int]) -> nbformat.NotebookNode:
    """A copy of ``released`` with the solution cells at ``tiers`` filled in from ``source``.

    The tier of a solution cell is its ``metadata.mlcourse.tier`` in the source.
    """
    solutions = _solution_cells(source)
    solved = nbformat.from_dict(released)
    for grade_id, cell in _solution_cells(solved).items():
        reference = solutions[grade_id]
        if reference.metadata.get("mlcourse", {}).get("tier") in tiers:
            cell.source = strip_solution_markers(reference.source)
    return solved


def write_submission(release_dir: Path, assignment: Assignment, profile: Profile, submissions_dir: Path) -> Path:
    """Write ``<submissions_dir>/<learner>/<assignment>/`` for one simulated learner."""
    dest = submissions_dir / profile.learner / assignment.id
    dest.mkdir(parents=True, exist_ok=True)
    for source_path in assignment.notebooks:
        released = read_notebook(release_dir / source_path.name)
        nbformat.write(solve(released, read_notebook(source_path), profile.tiers), dest / source_path.name)
    return dest
