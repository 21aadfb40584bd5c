"""Source notebooks: the course lint, and execution with papermill in FAST mode.

(nbval runs the same notebooks cell by cell from ``make test``; the stub/solution
check through nbgrader's autograde is ``mlcourse check``, tested in test_selfcheck.py;
the notebooks' text sources are checked in test_notebook_text.py.)
"""

from __future__ import annotations

import copy

import nbformat
import papermill
import pytest

from grader.authoring.lint import lint_course, lint_notebook
from grader.paths import NOTEBOOKS_DIR

SOURCE_NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*/*.ipynb"))


def test_course_notebooks_pass_the_lint(rubric):
    problems = lint_course(NOTEBOOKS_DIR, rubric)
    assert not problems, "\n".join(map(str, problems))


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
