"""Wrong answers must fail: hand-written mistakes, generated mutants, and the runner that tries them.

The CI guarantee at the end: every mistake of every module loses points on its
own exercise, and every module held to the mutation rule reaches the
rubric's mutation score with all its mutants run. The runner is tested on a
small notebook built here, whose right and wrong answers are known by
construction, and checked against nbgrader's verdict on the real stub.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from grader.authoring.mutants import OPERATORS, mutants, solution_lines
from grader.authoring.rules import MUTATION, exempt, load_exemptions
from grader.authoring.selfcheck import mutation_failures
from grader.authoring.trials import Trial, run_trials
from grader.authoring.wrong_answers import try_wrong_answers
from grader.catalogue import (AUTHORING_ONLY, read_notebook, select_assignments, solution_cells,
                              strip_authoring_metadata)
from grader.paths import NOTEBOOKS_DIR

SOLUTION = '''def clipped_mean(values, low):
    """Mean of the values at or above low; 0.0 when none is."""
    ### BEGIN SOLUTION
    kept = [v for v in values if v >= low]
    if not kept:
        return 0.0
    return sum(kept) / len(kept)
    ### END SOLUTION'''


def _solution_cell(source: str, grade_id: str, tier: int = 3, **tags) -> nbformat.NotebookNode:
    return v4.new_code_cell(source, metadata={
        "nbgrader": {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3, "solution": True,
                     "task": False},
        "mlcourse": {"stage": "evaluation", "tier": tier, **tags}})


def _test_cell(source: str, grade_id: str, points: int = 2) -> nbformat.NotebookNode:
    return v4.new_code_cell(source, metadata={
        "nbgrader": {"grade": True, "grade_id": grade_id, "locked": True, "points": points, "schema_version": 3,
                     "solution": False, "task": False},
        "mlcourse": {"stage": "evaluation", "tier": 3}})


def _mistake(mistake_id: str, why: str, code: str, **extra) -> dict:
    return {"id": mistake_id, "why": why, "code": code, **extra}


def small_notebook(mistakes: list[dict], slow: bool = False) -> nbformat.NotebookNode:
    """One exercise, clipped_mean, judged by three graded cells: main case, the boundary, the empty case."""
    cells = [
        v4.new_code_cell("SEED = 0\nFAST = False", metadata={"tags": ["parameters"]}),
        v4.new_code_cell("import time\nSETUP_RUNS = 1"),
        _solution_cell(SOLUTION, "ex1_clipped_mean", mistakes=mistakes),
        _test_cell("assert abs(clipped_mean([1.0, 2.0, 6.0], 1.5) - 4.0) < 1e-9", "ex1_main"),
        _test_cell("assert abs(clipped_mean([1.0, 2.0, 3.0], 2.0) - 2.5) < 1e-9  # 2 and 3 kept: the boundary",
                   "ex1_boundary"),
        _test_cell("assert clipped_mean([1.0], 5.0) == 0.0", "ex1_empty"),
        _solution_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                       "ex2_double", tier=1),
        _test_cell(("time.sleep(60)\n" if slow else "") + "assert double(3) == 6", "ex2_tests", points=1),
    ]
    for index, cell in enumerate(cells):
        cell.id = f"cell-{index}"
    return v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})


@pytest.fixture
def small_course(tmp_path):
    def write(mistakes: list[dict], slow: bool = False) -> Path:
        folder = tmp_path / "notebooks" / "04_evaluation"
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(small_notebook(mistakes, slow), folder / "04_evaluation.ipynb")
        return tmp_path / "notebooks"
    return write


OFF_BY_ONE = "def clipped_mean(values, low):\n    kept = [v for v in values if v > low]\n    return sum(kept) / len(kept) if kept else 0.0"
NO_EMPTY_CASE = "def clipped_mean(values, low):\n    kept = [v for v in values if v >= low]\n    return sum(kept) / len(kept)"
RIGHT_ANYWAY = "def clipped_mean(values, low):\n    import statistics\n    kept = [v for v in values if v >= low]\n    return statistics.fmean(kept) if kept else 0.0"


# -- the runner ----------------------------------------------------------------------
def test_each_trial_is_judged_on_its_own_exercise_cells_only(small_course):
    notebooks = small_course([])
    trials = [Trial("ex1_clipped_mean", "boundary", OFF_BY_ONE), Trial("ex1_clipped_mean", "empty", NO_EMPTY_CASE),
              Trial("ex1_clipped_mean", "right", RIGHT_ANYWAY), Trial("ex2_double", "wrong", "def double(x):\n    return x + 2")]
    run = run_trials(notebooks / "04_evaluation" / "04_evaluation.ipynb", trials, jobs=2, progress=lambda line: None)
    got = {r.trial.name: r for r in run.results}
    assert not run.unreliable and not run.unknown
    assert got["boundary"].failed == ("ex1_boundary",) and got["boundary"].points_lost == 2
    assert got["empty"].failed == ("ex1_empty",) and got["empty"].points == 6
    assert not got["right"].caught and got["right"].points_lost == 0
    # ex2's wrong answer ran after ex1's trials: the parent's state was not touched by any of them.
    assert got["wrong"].graded == ("ex2_tests",) and got["wrong"].failed == ("ex2_tests",)


def test_a_trial_that_never_ends_is_cut_at_its_deadline_and_counts_as_caught(small_course, monkeypatch):
    import grader.authoring.trials as trials_module

    monkeypatch.setattr(trials_module, "DEADLINE_FLOOR_S", 2.0)
    notebooks = small_course([])
    endless = "def clipped_mean(values, low):\n    while True:\n        pass"
    dies = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
    run = run_trials(notebooks / "04_evaluation" / "04_evaluation.ipynb",
                     [Trial("ex1_clipped_mean", "endless", endless), Trial("ex1_clipped_mean", "dies", dies)],
                     progress=lambda line: None)
    got = {r.trial.name: r for r in run.results}
    assert got["endless"].caught and got["endless"].problem.startswith("timed out after")
    assert got["endless"].failed == ("ex1_main", "ex1_boundary", "ex1_empty")
    assert got["dies"].caught and got["dies"].problem == "died (signal 9)"


def test_an_exercise_whose_solution_fails_when_forked_is_reported_not_judged(small_course):
    notebooks = small_course([])
    path = notebooks / "04_evaluation" / "04_evaluation.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[4].source = "assert False, 'a broken test'"
    nbformat.write(nb, path)
    run = run_trials(path, [Trial("ex1_clipped_mean", "boundary", OFF_BY_ONE), Trial("ex9_none", "x", "pass")],
                     progress=lambda line: None)
    assert "ex1_boundary" in run.unreliable["ex1_clipped_mean"] and not run.results
    assert run.unknown == ["ex9_none"]


def test_the_runner_agrees_with_nbgrader_on_the_real_stub():
    """Every exercise of the worked example fails on its released stub, as nbgrader's autograde finds
    (test_selfcheck.py), and passes on its own solution, when tried by the runner."""
    path = NOTEBOOKS_DIR / "04_evaluation" / "04_evaluation.ipynb"
    trials = []
    for grade_id, cell in solution_cells(read_notebook(path)).items():
        stub = re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "raise NotImplementedError()", cell.source, flags=re.S)
        trials += [Trial(grade_id, "stub", stub), Trial(grade_id, "solution", cell.source)]
    run = run_trials(path, trials, progress=lambda line: None)
    assert not run.unreliable
    assert {r.trial.solution for r in run.results if r.trial.name == "stub" and r.failed == r.graded} \
        == set(solution_cells(read_notebook(path)))
    assert [r.trial.solution for r in run.results if r.trial.name == "solution" and r.caught] == []


# -- mutants --------------------------------------------------------------------------
def test_mutants_change_only_the_solution_region_one_operator_at_a_time():
    found = {m.id: m for m in mutants(SOLUTION)}
    # kept = [v for v in values if v >= low] / if not kept / return 0.0 / return sum(kept) / len(kept)
    assert list(found) == ["4:33 compare GtE>Gt", "5:7 boolean not>", "6:15 number 0.0>1.0", "7:11 arith Div>Mult"]
    original = ast.dump(ast.parse(SOLUTION))
    region = solution_lines(SOLUTION)
    for mutant in found.values():
        assert ast.dump(ast.parse(mutant.code)) != original
        assert int(mutant.id.split(":")[0]) in region and mutant.id.split()[1] in OPERATORS
    # The signature and docstring (outside the region) are never mutated.
    assert all(m.code.startswith("def clipped_mean(values, low):") for m in found.values())
    assert mutants("def f():\n    return 1") == []  # no solution region


def test_each_operator_produces_the_change_it_names():
    source = ("def f(xs, n):\n    ### BEGIN SOLUTION\n    total = 0\n    for x in xs:\n        if x < n and True:\n"
              "            total += -x\n    out = np.mean(xs, axis=0)\n    xs.sort()\n    hit = xs & ~out\n    return total\n"
              "    ### END SOLUTION")
    made = [(m.id.split(" ", 1)[1], m.code) for m in mutants(source)]

    def made_by(change: str, text: str, present: bool = True) -> bool:
        return any(c == change and (text in code) is present for c, code in made)

    assert made_by("compare Lt>LtE", "x <= n") and made_by("arith Add>Sub", "total -= -x")
    assert made_by("number 0>1", "total = 1") and made_by("number 0>1", "axis=1")
    assert made_by("boolean And>Or", "x < n or True") and made_by("boolean True>False", "x < n and False")
    assert made_by("sign -x>x", "total += x") and made_by("name mean>median", "np.median(xs, axis=0)")
    assert made_by("keyword drop axis=", "np.mean(xs)") and made_by("statement drop expr", "xs.sort()", False)
    assert made_by("boolean BitAnd>BitOr", "hit = xs | ~out") and made_by("boolean ~>", "hit = xs & out")
    assert len({m.id for m in mutants(source)}) == len(mutants(source))


def test_mutant_ids_are_stable_across_runs():
    assert [m.id for m in mutants(SOLUTION)] == [m.id for m in mutants(SOLUTION)]


# -- mistakes and mutation scores through `mlcourse check` ----------------------------
def _check(notebooks: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader.cli", "check", "--notebooks", str(notebooks),
                           "--mistakes-only", *extra], capture_output=True, text=True)


def test_a_mistake_the_tests_miss_fails_the_check_and_is_named(small_course, tmp_path):
    notebooks = small_course([_mistake("m-boundary", "drops the values equal to low", OFF_BY_ONE),
                              _mistake("m-right", "a different but right answer", RIGHT_ANYWAY)])
    result = _check(notebooks, "--json", str(tmp_path / "out.json"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"mistake m-boundary \(drops the values equal to low\): caught, keeps 4 of 6 points "
                     r"\(fails ex1_boundary\)", result.stdout)
    assert "mistake m-right (a different but right answer): SURVIVES" in result.stdout
    assert "1 of 2 mistakes lose points on their exercise" in result.stdout
    record = json.loads((tmp_path / "out.json").read_text())
    assert [m["caught"] for m in record["mistakes"]] == [True, False]


def test_mutation_scores_are_printed_and_held_to_the_rubrics_target(small_course, rubric):
    notebooks = small_course([_mistake("m-boundary", "drops the values equal to low", OFF_BY_ONE)])
    result = _check(notebooks, "--mutants")
    assert "04_evaluation/ex1_clipped_mean (tier 3):" in result.stdout, result.stdout + result.stderr
    found = try_wrong_answers(notebooks, with_mutants=True, progress=lambda line: None)
    [score] = [s for s in found.mutation if s.solution == "ex1_clipped_mean"]
    assert score.judged == score.generated and score.killed + len(score.survivors) == score.judged
    failures = mutation_failures(found.mutation, notebooks, rubric)
    if score.score < rubric.evidence.mutation_score:
        assert any(line.startswith("04_evaluation/ex1_clipped_mean: catches") for line in failures)
        assert result.returncode == 1
    # A tier-1 exercise is below the rubric's mutation_from_tier: not held to the target.
    assert not any("ex2_double" in line for line in failures if "catches" in line)


def test_equivalent_mutants_are_left_out_and_a_stale_mark_fails(small_course, tmp_path, rubric):
    notebooks = small_course([])
    path = notebooks / "04_evaluation" / "04_evaluation.ipynb"
    nb = nbformat.read(path, as_version=4)
    some = mutants(SOLUTION)[0].id
    nb.cells[2].metadata["mlcourse"]["equivalent_mutants"] = {some: "judged harmless", "99:0 number 1>2": "gone"}
    nbformat.write(nb, path)
    found = try_wrong_answers(notebooks, with_mutants=True, progress=lambda line: None)
    [score] = [s for s in found.mutation if s.solution == "ex1_clipped_mean"]
    assert score.equivalent == 1 and score.judged == score.generated - 1
    assert score.stale_marks == ("99:0 number 1>2",)
    assert any("no longer has: 99:0 number 1>2" in line for line in mutation_failures(found.mutation, notebooks,
                                                                                       rubric))


def test_a_sample_is_the_same_fixed_subset_on_every_run(small_course):
    notebooks = small_course([])
    first = try_wrong_answers(notebooks, sample=3, with_mutants=True, progress=lambda line: None)
    again = try_wrong_answers(notebooks, sample=3, with_mutants=True, progress=lambda line: None)
    [a] = [s for s in first.mutation if s.solution == "ex1_clipped_mean"]
    [b] = [s for s in again.mutation if s.solution == "ex1_clipped_mean"]
    assert a.judged == 3 and (a.killed, a.survivors) == (b.killed, b.survivors)


# -- the release carries none of it ---------------------------------------------------------
def test_mistakes_and_equivalent_mutants_never_reach_a_release(small_course, tmp_path):
    from grader.course import Course

    notebooks = small_course([_mistake("m-boundary", "drops the values equal to low", OFF_BY_ONE)])
    nb = nbformat.read(notebooks / "04_evaluation" / "04_evaluation.ipynb", as_version=4)
    nb.cells[2].metadata["mlcourse"]["equivalent_mutants"] = {"4:33 compare GtE>Gt": "x"}
    nbformat.write(nb, notebooks / "04_evaluation" / "04_evaluation.ipynb")
    course = Course(tmp_path / "course", notebooks_dir=notebooks, sandbox=False)
    [assignment] = select_assignments(notebooks, None)
    released = (course.release(assignment) / "04_evaluation.ipynb").read_text()
    assert "m-boundary" not in released and "v > low" not in released and "GtE" not in released
    assert '"tier": 3' in released  # stage and tier stay: the reports read them from the source anyway
    assert not strip_authoring_metadata(read_notebook(course.path("release", "", "04_evaluation")
                                                      / "04_evaluation.ipynb"))
    assert set(AUTHORING_ONLY) == {"mistakes", "equivalent_mutants"}


# -- the course ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def course_wrong_answers():
    """Every mistake of the course, and every mutant of the modules held to the mutation rule."""
    exemptions = load_exemptions(NOTEBOOKS_DIR)
    held = [p.name for p in sorted(NOTEBOOKS_DIR.iterdir())
            if p.is_dir() and any(p.glob("*.ipynb")) and not exempt(exemptions, p.name, MUTATION)]
    with_mistakes = [p.parent.name for p in sorted(NOTEBOOKS_DIR.glob("*/*.ipynb"))
                     if any(c.metadata.get("mlcourse", {}).get("mistakes") for c in read_notebook(p).cells)]
    mistakes_only = [a for a in with_mistakes if a not in held]
    found = try_wrong_answers(NOTEBOOKS_DIR, held, with_mutants=True, progress=lambda line: None) if held else None
    rest = try_wrong_answers(NOTEBOOKS_DIR, mistakes_only, progress=lambda line: None) if mistakes_only else None
    return held, [*(found.mistakes if found else []), *(rest.mistakes if rest else [])], \
        (found.mutation if found else [])


def test_every_mistake_in_the_course_loses_points_on_its_exercise(course_wrong_answers):
    _, mistakes, _ = course_wrong_answers
    assert mistakes, "the course declares no mistakes"
    surviving = [m.describe() for m in mistakes if not m.ok]
    assert not surviving, "mistakes the tests let through:\n" + "\n".join(surviving)


def test_every_module_held_to_the_mutation_rule_reaches_it(course_wrong_answers, rubric):
    held, _, scores = course_wrong_answers
    assert held, "no module is held to the mutation rule yet"
    failures = mutation_failures(scores, NOTEBOOKS_DIR, rubric)
    assert not failures, "\n".join(failures)
