"""The CI guarantee: every graded cell fails on the released stub and passes solved.

Checked through nbgrader's real generate_assignment and autograde, for every
module in the course, and shown to catch a test cell that cannot fail and one
that fails on the solution.
"""

from __future__ import annotations

import shutil

import nbformat
import pytest

from grader.paths import NOTEBOOKS_DIR
from grader.authoring.selfcheck import check_assignments


@pytest.fixture(scope="session")
def course_checks(tmp_path_factory):
    return check_assignments(NOTEBOOKS_DIR, work_dir=tmp_path_factory.mktemp("check"), progress=lambda line: None)


def test_every_graded_cell_fails_on_the_stub(course_checks):
    scoring = [c.describe() for c in course_checks if not c.fails_on_stub]
    assert not scoring, "test cells that pass on the unsolved student version:\n" + "\n".join(scoring)
    # A stub function raises NotImplementedError; a stub that should have
    # defined variables leaves them undefined.
    unexpected = [
        (c.exercise.ref, c.stub.reason)
        for c in course_checks
        if c.stub.reason != "not implemented" and not c.stub.reason.startswith("error: NameError")
    ]
    assert not unexpected, unexpected


def test_every_graded_cell_passes_on_the_solution(course_checks):
    failing = [c.describe() for c in course_checks if not c.passes_on_solution]
    assert not failing, "test cells that fail on the solution:\n" + "\n".join(failing)


def test_every_module_is_checked(course_checks):
    checked = {c.exercise.assignment for c in course_checks}
    assert checked == {p.name for p in NOTEBOOKS_DIR.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))}


def test_the_check_catches_weak_and_broken_tests(tmp_path):
    notebooks = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR / "04_evaluation", notebooks / "04_evaluation")
    path = notebooks / "04_evaluation" / "04_evaluation.ipynb"
    nb = nbformat.read(path, as_version=4)
    tests = {c.metadata.nbgrader.grade_id: c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    weak, broken = sorted(tests)[:2]
    tests[weak].source = "assert True, 'a test that cannot fail'"
    tests[broken].source = "assert False, 'a test that cannot pass'"
    nbformat.write(nb, path)

    checks = {c.exercise.grade_id: c for c in check_assignments(notebooks, progress=lambda line: None)}
    assert not checks[weak].fails_on_stub and checks[weak].passes_on_solution
    assert checks[broken].fails_on_stub and not checks[broken].passes_on_solution
    assert "BROKEN: scores" in checks[weak].describe()
    assert "BROKEN: loses points on the solution" in checks[broken].describe()
    assert all(c.ok for gid, c in checks.items() if gid not in (weak, broken))
