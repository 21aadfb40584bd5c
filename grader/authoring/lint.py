"""Notebook lint: the course's rules for source notebooks, checked before anything runs.

Rules (each problem names the notebook, the cell and the fix):

* the assignment folder and notebook are named ``NN_name/NN_name.ipynb``;
* no outputs or execution counts are committed;
* a papermill ``parameters`` cell defines ``SEED`` and ``FAST``;
* grade_ids are unique within the notebook;
* every graded cell has points > 0;
* every graded or solution cell has ``metadata.mlcourse`` with a stage the
  rubric defines and a tier 1-5;
* a stage module (not the capstone) has graded exercises at every tier 1-5.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.catalogue import ASSIGNMENT_PATTERN, read_notebook
from grader.errors import CourseError
from grader.assessment.rubric import Rubric


@dataclass(frozen=True)
class Problem:
    path: Path
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.message}"


def _names_assigned(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _check_layout(path: Path) -> list[str]:
    folder = path.parent.name
    if not ASSIGNMENT_PATTERN.match(folder):
        return [f"assignment folder '{folder}' must look like NN_name (e.g. 04_evaluation)"]
    if path.stem != folder:
        return [f"notebook must be named {folder}.ipynb to match its folder"]
    return []


def _check_outputs(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [
        (f"cell {i}", "has committed outputs or an execution count; clear them before committing")
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]


def _check_parameters(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        return [("notebook", "no cell tagged 'parameters' (papermill needs one defining SEED and FAST)")]
    missing = {"SEED", "FAST"} - _names_assigned(cells[0].source)
    return [("parameters cell", f"does not assign {', '.join(sorted(missing))}")] if missing else []


def _check_cell(cell, index: int, rubric: Rubric, seen: set[str]) -> list[tuple[str, str]]:
    grading = cell.get("metadata", {}).get("nbgrader", {})
    if not (grading.get("grade") or grading.get("solution")):
        return []
    grade_id = grading.get("grade_id")
    where = f"cell {index} ({grade_id or 'no grade_id'})"
    problems = []
    if not grade_id:
        problems.append((where, "graded or solution cell without a grade_id"))
    elif grade_id in seen:
        problems.append((where, f"grade_id '{grade_id}' is used twice"))
    seen.add(grade_id)
    if grading.get("grade") and not (isinstance(grading.get("points"), (int, float)) and grading["points"] > 0):
        problems.append((where, "graded cell needs points > 0"))
    tags = cell.metadata.get("mlcourse")
    if not isinstance(tags, dict):
        return problems + [(where, 'needs metadata.mlcourse = {"stage": ..., "tier": 1-5}')]
    if tags.get("stage") not in rubric.stage_ids:
        problems.append((where, f"stage {tags.get('stage')!r} is not one of the rubric's {', '.join(rubric.stage_ids)}"))
    if tags.get("tier") not in (1, 2, 3, 4, 5):
        problems.append((where, f"tier {tags.get('tier')!r} must be an integer 1-5"))
    return problems


def _check_tier_coverage(nb: nbformat.NotebookNode, path: Path, rubric: Rubric) -> list[tuple[str, str]]:
    if path.stem == rubric.capstone_assignment:
        return []
    tiers = {
        cell.metadata.get("mlcourse", {}).get("tier")
        for cell in nb.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade")
    }
    missing = [t for t in (1, 2, 3, 4, 5) if t not in tiers]
    return [("notebook", f"no graded exercise at tier(s) {missing}")] if missing else []


def lint_notebook(path: Path, rubric: Rubric) -> list[Problem]:
    """All problems found in one source notebook (empty when it is clean)."""
    try:
        nb = read_notebook(path)
    except CourseError as exc:
        return [Problem(path, "file", str(exc))]
    found: list[tuple[str, str]] = [("file", message) for message in _check_layout(path)]
    found += _check_outputs(nb) + _check_parameters(nb)
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        found += _check_cell(cell, index, rubric, seen)
    found += _check_tier_coverage(nb, path, rubric)
    return [Problem(path, where, message) for where, message in found]


def lint_course(notebooks_dir: Path, rubric: Rubric) -> list[Problem]:
    paths = sorted(p for p in notebooks_dir.glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not paths:
        raise CourseError(f"no notebooks under {notebooks_dir}")
    return [problem for path in paths for problem in lint_notebook(path, rubric)]
