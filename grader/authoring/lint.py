"""Notebook lint: the course's rules for source notebooks, checked before anything runs.

Rules (each problem names the notebook, the cell and the fix):

* the assignment folder and notebook are named ``NN_name/NN_name.ipynb``;
* no outputs or execution counts are committed;
* a papermill ``parameters`` cell defines ``SEED`` and ``FAST``;
* grade_ids are unique within the notebook;
* every graded cell has points > 0;
* every graded or solution cell has ``metadata.mlcourse`` with a stage the
  rubric defines and a tier 1-5;
* a stage module (not the capstone) has graded exercises at every tier 1-5;

and the rules that make an exercise measure skill (:data:`grader.authoring.rules.RULES`):

* ``forbid``: every solution cell declares ``metadata.mlcourse.forbid``, the
  library names that would give its answer; an empty list needs a ``forbid_reason``;
* ``visible-tests``: what a learner can read of a test cell (all but its hidden
  region) defines no function, class or lambda, and uses nothing its exercise
  forbids: reference implementations belong in the hidden region;
* ``evidence``: a stage module has the rubric's minimum graded cells at every
  tier, from enough distinct exercises at the upper tiers;
* ``mistakes``: every solution cell from tier 3 lists mistakes its tests must
  catch, one of them the nearest thing a learner can read (``"readable"``).

A module exempt from a rule (``notebooks/exemptions.yaml``) has its problems
under that rule counted as exempt, not failed; an exemption its module no
longer needs is a problem, so that it is dropped.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.assessment.rubric import Rubric
from grader.authoring.rules import EVIDENCE, FORBID, MISTAKES, VISIBLE_TESTS, Exemption, load_exemptions
from grader.autograde.integrity import dotted_name, forbidden_entry, forbidden_names, module_aliases
from grader.catalogue import ASSIGNMENT_PATTERN, exercise_blocks, read_notebook, solution_cells
from grader.errors import CourseError

_HIDDEN = re.compile(r"^\s*### BEGIN HIDDEN TESTS\s*$.*?^\s*### END HIDDEN TESTS\s*$", re.S | re.M)


@dataclass(frozen=True)
class Problem:
    path: Path
    where: str
    message: str
    rule: str = ""
    exempt_until: int | None = None  # the issue that removes the module's exemption from this rule

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


def _tags(cell) -> dict:
    tags = cell.get("metadata", {}).get("mlcourse", {})
    return tags if isinstance(tags, dict) else {}


def _grade_id(cell) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")


def _check_forbid(nb) -> list[tuple[str, str]]:
    problems = []
    for grade_id, cell in solution_cells(nb).items():
        tags = _tags(cell)
        forbid = tags.get("forbid")
        if not isinstance(forbid, list) or not all(isinstance(n, str) and n for n in forbid):
            problems.append((grade_id, 'needs metadata.mlcourse.forbid: the dotted names that would give the '
                                       'answer, e.g. ["sklearn.metrics.roc_auc_score", "mlcourse.evaluation"]'))
        elif not forbid and not str(tags.get("forbid_reason", "")).strip():
            problems.append((grade_id, "forbids nothing: say why in metadata.mlcourse.forbid_reason"))
    return problems


def visible_region(source: str) -> str:
    """What a learner reads of a test cell: its source without the hidden region."""
    return _HIDDEN.sub("", source)


def _check_visible_tests(nb) -> list[tuple[str, str]]:
    aliases = module_aliases(c.source for c in nb.cells if c.cell_type == "code")
    cells = {_grade_id(c): c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")}
    solutions = solution_cells(nb)
    problems = []
    for block in exercise_blocks(nb):
        forbid = set().union(*(forbidden_names(solutions[g]) for g in block.solutions)) if block.solutions else set()
        for grade_id in block.graded:
            problems += [(grade_id, message) for message in _visible_problems(cells[grade_id].source, aliases, forbid)]
    return problems


def _visible_problems(source: str, aliases: dict, forbid: set[str]) -> list[str]:
    try:
        tree = ast.parse(visible_region(source))
    except SyntaxError:
        return []
    local = {**aliases, **module_aliases([visible_region(source)])}
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            what = "a lambda" if isinstance(node, ast.Lambda) else f"{type(node).__name__[:-3].lower()} {node.name}"
            found.append(f"line {node.lineno}: the visible test defines {what}: a reference implementation belongs "
                         f"in the hidden region (### BEGIN HIDDEN TESTS); visible tests check contracts, "
                         f"properties and worked examples with literal expected values")
        names = []
        if isinstance(node, (ast.Attribute, ast.Name)) and not isinstance(parents.get(id(node)), ast.Attribute):
            names.append(dotted_name(node, local))
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            entry = forbidden_entry(name, forbid)
            if entry:
                found.append(f"line {node.lineno}: the visible test uses {name}, which the exercise forbids "
                             f"({entry}): a learner would read the answer there; move it to the hidden region")
    return sorted(set(found))


def _check_evidence(nb, path: Path, rubric: Rubric) -> list[tuple[str, str]]:
    if path.stem == rubric.capstone_assignment:
        return []
    rules = rubric.evidence
    cells: dict[int, int] = {}
    exercises: dict[int, set[str]] = {}
    tier_of = {_grade_id(c): _tags(c).get("tier") for c in nb.cells}
    for block in exercise_blocks(nb):
        for grade_id in block.graded:
            tier = tier_of.get(grade_id)
            cells[tier] = cells.get(tier, 0) + 1
            exercises.setdefault(tier, set()).add(block.id)
    problems = []
    for tier in (1, 2, 3, 4, 5):
        if cells.get(tier, 0) < rules.min_cells_per_tier:
            problems.append(("notebook", f"tier {tier} has {cells.get(tier, 0)} graded cell(s); the rubric asks for "
                                         f"at least {rules.min_cells_per_tier}, so that one slip does not decide it"))
        if tier >= rules.exercises_from_tier and len(exercises.get(tier, ())) < rules.min_exercises_per_tier:
            problems.append(("notebook", f"tier {tier} has {len(exercises.get(tier, ()))} exercise(s); the rubric "
                                         f"asks for at least {rules.min_exercises_per_tier}"))
    return problems


def _check_mistakes(nb) -> list[tuple[str, str]]:
    problems = []
    for grade_id, cell in solution_cells(nb).items():
        tags = _tags(cell)
        if not isinstance(tags.get("tier"), int) or tags["tier"] < 3:
            continue
        mistakes = tags.get("mistakes", [])
        if not mistakes:
            problems.append((grade_id, "a tier-3+ exercise lists its mistakes: add mistake cells after the solution "
                                       "cell in the module's text (see AUTHORING.md)"))
        elif not any(str(m.get("readable", "")).strip() for m in mistakes):
            problems.append((grade_id, 'none of its mistakes is the nearest thing a learner can read and paste '
                                       '(mark it with "readable": where it is read)'))
    return problems


def lint_notebook(path: Path, rubric: Rubric, exemption: Exemption | None = None) -> list[Problem]:
    """All problems found in one source notebook (empty when it is clean).

    Problems under a rule ``exemption`` covers are returned with
    ``exempt_until`` set; an exempt rule with no problem left is a problem.
    """
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
    problems = [Problem(path, where, message) for where, message in found]
    for rule, ruled in ((FORBID, _check_forbid(nb)), (VISIBLE_TESTS, _check_visible_tests(nb)),
                        (EVIDENCE, _check_evidence(nb, path, rubric)), (MISTAKES, _check_mistakes(nb))):
        exempt = exemption is not None and exemption.covers(rule)
        problems += [Problem(path, where, message, rule, exemption.issue if exempt else None)
                     for where, message in ruled]
        if exempt and not ruled:
            problems.append(Problem(path, "notebook", f"meets the rule {rule!r} it is exempt from: drop it from "
                                                      f"notebooks/exemptions.yaml", rule))
    return problems


def lint_course(notebooks_dir: Path, rubric: Rubric) -> list[Problem]:
    """Every problem of every source notebook, exempt ones included (``exempt_until`` set)."""
    paths = sorted(p for p in notebooks_dir.glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not paths:
        raise CourseError(f"no notebooks under {notebooks_dir}")
    exemptions = load_exemptions(notebooks_dir)
    unknown = sorted(set(exemptions) - {p.parent.name for p in paths})
    if unknown:
        raise CourseError(f"{notebooks_dir}/exemptions.yaml names assignments the course does not have: "
                          f"{', '.join(unknown)}")
    return [problem for path in paths for problem in lint_notebook(path, rubric, exemptions.get(path.parent.name))]


def failing(problems: list[Problem]) -> list[Problem]:
    """The problems that fail the lint: all but the exempt ones."""
    return [problem for problem in problems if problem.exempt_until is None]
