"""Source notebooks: the course lint, and execution with papermill in FAST mode.

(nbval runs the same notebooks cell by cell from ``make test``; the stub/solution
check through nbgrader's autograde is ``mlcourse check``, tested in test_selfcheck.py;
the notebooks' text sources are checked in test_notebook_text.py.)
"""

from __future__ import annotations

import copy
import re

import nbformat
import papermill
import pytest

from grader.authoring.lint import failing, lint_course, lint_notebook
from grader.authoring.rules import RULES, Exemption, load_exemptions
from grader.errors import CourseError
from grader.paths import NOTEBOOKS_DIR

SOURCE_NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*/*.ipynb"))


def test_course_notebooks_pass_the_lint(rubric):
    problems = failing(lint_course(NOTEBOOKS_DIR, rubric))
    assert not problems, "\n".join(map(str, problems))


def test_every_exemption_names_a_rule_an_issue_and_a_module_that_needs_it(rubric):
    exemptions = load_exemptions(NOTEBOOKS_DIR)
    assert "04_evaluation" not in exemptions, "the worked example meets every rule"
    found = lint_course(NOTEBOOKS_DIR, rubric)
    for assignment, exemption in exemptions.items():
        assert exemption.issue in (19, 20, 21) and exemption.rules <= set(RULES)
        for rule in exemption.rules & {"forbid", "visible-tests", "evidence", "mistakes"}:
            assert any(p.path.parent.name == assignment and p.rule == rule and p.exempt_until for p in found), \
                (assignment, rule)


def test_an_exemption_file_that_names_an_unknown_rule_or_is_malformed_is_an_error(tmp_path):
    for text, complaint in (("01_dataset: {issue: 19, rules: [speling]}", "unknown rule(s) speling"),
                            ("01_dataset: {rules: [forbid]}", "needs issue: <number>"),
                            ("[1, 2]", "expected assignment:"), ("a: [", "cannot be read")):
        (tmp_path / "exemptions.yaml").write_text(text)
        with pytest.raises(CourseError, match=re.escape(complaint)):
            load_exemptions(tmp_path)


def _solution(nb, tier=None):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
                and (tier is None or c.metadata["mlcourse"]["tier"] == tier))


def _first_visible_test(nb):
    return next(c for c in _graded(nb) if "BEGIN HIDDEN TESTS" not in c.source)


EXERCISE_BREAKAGES = {
    "no forbid key": (lambda nb: _solution(nb).metadata.mlcourse.pop("forbid"), "forbid", "needs metadata.mlcourse.forbid"),
    "empty forbid without a reason": (
        lambda nb: (_solution(nb).metadata.mlcourse.update(forbid=[]), _solution(nb).metadata.mlcourse.pop(
            "forbid_reason", None)), "forbid", "forbids nothing: say why"),
    "a visible reference helper": (
        lambda nb: _first_visible_test(nb).update(source="def _reference(x):\n    return x\n" + _first_visible_test(
            nb).source), "visible-tests", "the visible test defines function _reference"),
    "a visible lambda": (
        lambda nb: _first_visible_test(nb).update(source="_ref = lambda x: x\n" + _first_visible_test(nb).source),
        "visible-tests", "the visible test defines a lambda"),
    "too few cells at a tier": (
        lambda nb: [c.metadata.mlcourse.update(tier=2) for c in [c for c in _graded(nb)
                                                                  if c.metadata.mlcourse["tier"] == 1][2:]],
        "evidence", "tier 1 has 2 graded cell(s); the rubric asks for at least 3"),
    "one exercise at a tier": (
        lambda nb: [c.metadata.mlcourse.update(tier=4) for c in nb.cells if c.metadata.get("mlcourse", {}).get("tier")
                    == 5 and "ex12" in c.metadata.get("nbgrader", {}).get("grade_id", "")],
        "evidence", "tier 5 has 1 exercise(s); the rubric asks for at least 2"),
    "no mistakes at tier 3": (lambda nb: _solution(nb, 3).metadata.mlcourse.pop("mistakes"), "mistakes",
                              "a tier-3+ exercise lists its mistakes"),
    "no readable mistake": (
        lambda nb: [m.pop("readable", None) for m in _solution(nb, 3).metadata.mlcourse["mistakes"]], "mistakes",
        "none of its mistakes is the nearest thing a learner can read"),
}


@pytest.mark.parametrize("breakage", EXERCISE_BREAKAGES)
def test_lint_enforces_the_exercise_rules_unless_exempt(tmp_path, rubric, evaluation_nb, breakage):
    break_it, rule, expected = EXERCISE_BREAKAGES[breakage]
    nb = copy.deepcopy(evaluation_nb)
    break_it(nb)
    path = tmp_path / "04_evaluation" / "04_evaluation.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    problems = [p for p in lint_notebook(path, rubric) if expected in str(p)]
    assert problems and all(p.rule == rule for p in problems), [str(p) for p in lint_notebook(path, rubric)]
    exempted = lint_notebook(path, rubric, Exemption("04_evaluation", 20, frozenset({rule})))
    assert [p for p in exempted if expected in str(p) and p.exempt_until == 20] and \
        not [p for p in failing(exempted) if expected in str(p)]


def test_a_visible_test_that_calls_what_the_exercise_forbids_is_an_error(tmp_path, rubric, evaluation_nb):
    nb = copy.deepcopy(evaluation_nb)
    solution = _solution(nb, 2)
    solution.metadata.mlcourse["forbid"] = ["sklearn.metrics"]
    block_test = nb.cells[nb.cells.index(solution) + 1]
    block_test.source = "import sklearn\n_x = sklearn.metrics.f1_score([0, 1], [0, 1])\n" + block_test.source
    path = tmp_path / "04_evaluation" / "04_evaluation.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    messages = [str(p) for p in lint_notebook(path, rubric)]
    assert any("uses sklearn.metrics.f1_score, which the exercise forbids (sklearn.metrics)" in m for m in messages)


def test_an_exemption_a_module_no_longer_needs_is_a_problem(tmp_path, rubric):
    path = NOTEBOOKS_DIR / "04_evaluation" / "04_evaluation.ipynb"
    problems = lint_notebook(path, rubric, Exemption("04_evaluation", 20, frozenset({"forbid"})))
    assert [str(p) for p in failing(problems)] == [f"{path}: notebook: meets the rule 'forbid' it is exempt from: "
                                                   f"drop it from notebooks/exemptions.yaml"]


@pytest.fixture
def evaluation_nb():
    return nbformat.read(NOTEBOOKS_DIR / "04_evaluation/04_evaluation.ipynb", as_version=4)


def _graded(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def _first_parameters_cell(nb):
    return next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))


BREAKAGES = {
    "duplicate grade_id": (
        lambda nb: _graded(nb)[1].metadata.nbgrader.update(grade_id=_graded(nb)[0].metadata.nbgrader.grade_id),
        "is used twice",
    ),
    "missing points": (lambda nb: _graded(nb)[0].metadata.nbgrader.pop("points"), "graded cell needs points > 0"),
    "missing stage and tier": (lambda nb: _graded(nb)[0].metadata.pop("mlcourse"), "needs metadata.mlcourse"),
    "unknown stage": (lambda nb: _graded(nb)[0].metadata.mlcourse.update(stage="astrology"), "stage 'astrology' is not one of"),
    "tier out of range": (lambda nb: _graded(nb)[0].metadata.mlcourse.update(tier=6), "tier 6 must be an integer 1-5"),
    "committed outputs": (
        lambda nb: next(c for c in nb.cells if c.cell_type == "code").update(
            execution_count=1, outputs=[nbformat.v4.new_output("stream", text="hi")]),
        "has committed outputs or an execution count",
    ),
    "no FAST parameter": (lambda nb: _first_parameters_cell(nb).update(source="SEED = 0"), "does not assign FAST"),
    "no parameters cell": (lambda nb: _first_parameters_cell(nb).metadata.update(tags=[]), "no cell tagged 'parameters'"),
    "missing tier": (
        lambda nb: [c.metadata.mlcourse.update(tier=4) for c in _graded(nb) if c.metadata.mlcourse["tier"] == 5],
        "no graded exercise at tier(s) [5]",
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_lint_names_each_problem(tmp_path, rubric, evaluation_nb, breakage):
    break_it, expected = BREAKAGES[breakage]
    nb = copy.deepcopy(evaluation_nb)
    break_it(nb)
    path = tmp_path / "04_evaluation" / "04_evaluation.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    messages = [str(p) for p in lint_notebook(path, rubric)]
    assert any(expected in m for m in messages), messages


def test_lint_checks_layout_and_readability(tmp_path, rubric, evaluation_nb):
    misnamed = tmp_path / "04_evaluation" / "evaluation.ipynb"
    misnamed.parent.mkdir()
    nbformat.write(evaluation_nb, misnamed)
    assert any("must be named 04_evaluation.ipynb" in str(p) for p in lint_notebook(misnamed, rubric))
    broken = tmp_path / "05_calibration" / "05_calibration.ipynb"
    broken.parent.mkdir()
    broken.write_text("{")
    assert any("not a readable notebook" in str(p) for p in lint_notebook(broken, rubric))


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=[p.stem for p in SOURCE_NOTEBOOKS])
def test_notebook_executes_with_papermill_in_fast_mode(tmp_path, path, seed):
    out = tmp_path / path.name
    papermill.execute_notebook(
        str(path), str(out), parameters={"SEED": seed, "FAST": True}, cwd=str(path.parent), progress_bar=False,
        kernel_name="python3",
    )
    executed = nbformat.read(out, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and f"SEED = {seed}" in injected[0].source and "FAST = True" in injected[0].source
