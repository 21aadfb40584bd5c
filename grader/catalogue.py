"""The course catalogue: assignments and graded exercises, read from SOURCE notebooks.

Stage and tier live in each graded cell's ``metadata.mlcourse`` in the source
notebook (outside nbgrader's key, whose schema rejects extra keys). They are
never read from a submission: a learner controls a submission's metadata.

Layout: ``notebooks/<NN_stage>/<NN_stage>.ipynb``, one assignment per folder, beside
its text source ``<NN_stage>.pct.py`` (:mod:`grader.authoring.notebook_text`),
which holds the solutions and hidden tests too and is never released.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.errors import CourseError
from grader.assessment.proficiency import Exercise

ASSIGNMENT_PATTERN = re.compile(r"^\d{2}_[a-z][a-z0-9_]*$")
#: The text source beside ``NN_stage.ipynb`` is ``NN_stage.pct.py``: a Python file (editors highlight and run
#: its ``# %%`` cells) whose double suffix keeps it apart from any helper module in an assignment folder.
TEXT_SUFFIX = ".pct.py"


#: ``metadata.mlcourse`` keys for the course's authors and checks only (wrong answers, mutants judged harmless):
#: the source keeps them, a release never carries them.
AUTHORING_ONLY = ("mistakes", "equivalent_mutants")


@dataclass(frozen=True)
class Assignment:
    id: str
    folder: Path

    @property
    def notebooks(self) -> list[Path]:
        return sorted(self.folder.glob("*.ipynb"))


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a notebook, turning a malformed file into a :class:`CourseError` that says what is wrong with it."""
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types
        why = _shape_problem(path) or f"{exc.__class__.__name__}: {exc}"
        raise CourseError(f"{path} is not a readable notebook: {why}") from None


def _shape_problem(path: Path) -> str | None:
    """Where a notebook file departs from the notebook format's shape (nbformat's own errors do not say)."""
    try:
        data = json.loads(path.read_bytes())
    except RecursionError:
        return "JSON nested too deeply to be a notebook"
    except (OSError, ValueError):
        return None  # nbformat's own message says it is not JSON
    if not isinstance(data, dict):
        return "not a JSON object"
    if not isinstance(data.get("metadata", {}), dict):
        return "its metadata is not a JSON object"
    if not isinstance(data.get("cells"), list):
        return "it has no list of cells"
    for number, cell in enumerate(data["cells"], 1):
        if not isinstance(cell, dict):
            return f"cell {number} is not a JSON object"
        if not isinstance(cell.get("metadata", {}), dict):
            return f"cell {number}'s metadata is not a JSON object"
        if not isinstance(cell.get("source", ""), (str, list)):
            return f"cell {number}'s source is not text"
    return None


def notebook_problem(path: Path) -> str | None:
    """Why ``path`` cannot be graded as a notebook, or None when it reads cleanly."""
    try:
        read_notebook(path)
    except CourseError as exc:
        return str(exc).removeprefix(f"{path} is ")
    return None


def find_assignments(notebooks_dir: Path) -> dict[str, Assignment]:
    """Assignments in the course, keyed by id, in course order."""
    if not notebooks_dir.is_dir():
        raise CourseError(f"notebooks folder {notebooks_dir} does not exist")
    found = {
        folder.name: Assignment(folder.name, folder)
        for folder in sorted(notebooks_dir.iterdir())
        if folder.is_dir() and ASSIGNMENT_PATTERN.match(folder.name) and any(folder.glob("*.ipynb"))
    }
    if not found:
        raise CourseError(f"no assignments under {notebooks_dir}: expected folders like 04_evaluation/04_evaluation.ipynb")
    return found


def select_assignments(notebooks_dir: Path, wanted: list[str] | None) -> list[Assignment]:
    """The named assignments (all when ``wanted`` is empty); unknown names are an error."""
    known = find_assignments(notebooks_dir)
    if not wanted:
        return list(known.values())
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise CourseError(f"unknown assignment {', '.join(unknown)}; the course has: {', '.join(known)}")
    return [known[name] for name in wanted]


def graded_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """Cells nbgrader awards points for (``nbgrader.grade`` true)."""
    return [cell for cell in nb.cells if cell.get("metadata", {}).get("nbgrader", {}).get("grade")]


def solution_cells(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """Cells the learner writes (``nbgrader.solution`` true), by grade_id."""
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell
        for cell in nb.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution")
    }


@dataclass(frozen=True)
class ExerciseBlock:
    """One exercise of a notebook: its solution cells and the graded cells that judge them.

    An exercise is a run of solution cells followed by the graded cells up to
    the next solution cell; ``id`` is its first solution cell's grade_id (a
    graded cell with no solution cell before it is an exercise of its own).
    ``first`` and ``last`` are the indices of its first and last cell.
    """

    id: str
    solutions: tuple[str, ...]
    graded: tuple[str, ...]
    first: int
    last: int


def exercise_blocks(nb: nbformat.NotebookNode) -> list[ExerciseBlock]:
    """The notebook's exercises in order (see :class:`ExerciseBlock`)."""
    blocks: list[ExerciseBlock] = []
    solutions: list[tuple[int, str]] = []
    graded: list[tuple[int, str]] = []

    def close() -> None:
        if solutions or graded:
            first = solutions[0] if solutions else graded[0]
            blocks.append(ExerciseBlock(first[1], tuple(g for _, g in solutions), tuple(g for _, g in graded),
                                        first[0], (graded or solutions)[-1][0]))
        solutions.clear()
        graded.clear()

    for index, cell in enumerate(nb.cells):
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if grading.get("solution"):
            if graded:
                close()
            solutions.append((index, grading.get("grade_id", f"cell {index + 1}")))
        if grading.get("grade"):
            if graded and not solutions:  # graded cells with no solution cell: each is an exercise of its own
                close()
            graded.append((index, grading.get("grade_id", f"cell {index + 1}")))
    close()
    return blocks


def strip_authoring_metadata(nb: nbformat.NotebookNode) -> bool:
    """Remove :data:`AUTHORING_ONLY` keys from every cell of ``nb`` in place; True when any was there."""
    found = False
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("mlcourse")
        if isinstance(tags, dict):
            for key in AUTHORING_ONLY:
                found = tags.pop(key, None) is not None or found
    return found


def exercise_from_cell(cell: nbformat.NotebookNode, assignment: str, notebook: str, task: str = "") -> Exercise:
    meta = cell.metadata
    grade_id = meta["nbgrader"].get("grade_id", "?")
    tags = meta.get("mlcourse")
    if not isinstance(tags, dict) or "stage" not in tags or "tier" not in tags:
        raise CourseError(
            f"{assignment}/{notebook}: graded cell {grade_id} has no metadata.mlcourse "
            '{"stage": ..., "tier": ...}; add it in the source notebook'
        )
    return Exercise(assignment, notebook, grade_id, tags["stage"], int(tags["tier"]), float(meta["nbgrader"]["points"]),
                    task)


def read_exercises(notebooks_dir: Path, assignments: list[str] | None = None) -> list[Exercise]:
    """Every graded exercise of the course, in notebook order."""
    exercises = []
    for assignment in select_assignments(notebooks_dir, assignments):
        for path in assignment.notebooks:
            nb = read_notebook(path)
            task = {g: block.id for block in exercise_blocks(nb) for g in block.graded}
            exercises.extend(exercise_from_cell(cell, assignment.id, path.stem, task.get(cell.metadata["nbgrader"].get(
                "grade_id"), "")) for cell in graded_cells(nb))
    return exercises
