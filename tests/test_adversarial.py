"""The adversarial corpus: hostile and broken submissions of a real course notebook, graded end to end.

Every case below is a learner's submission of ``04_evaluation`` (21 points
over 12 test cells), built from the released student version. All of them go
through one ``mlcourse grade`` run -- nbgrader's autograde, in the sandbox,
into one SQLite gradebook -- and each must end with its expected score and a
reason a human can read. The run itself must complete, the honest learners
must keep full marks, and no submission may be modified.
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from grader.catalogue import read_exercises, read_notebook, select_assignments
from grader.commands import grade_course
from grader.course import Course
from grader.paths import NOTEBOOKS_DIR
from grader.sandbox import SandboxLimits
from grader.simulate import Profile, solve

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="the corpus is graded in the sandbox")

ASSIGNMENT = "04_evaluation"
FULL = sum(e.points for e in read_exercises(NOTEBOOKS_DIR, [ASSIGNMENT]))
EVERYTHING = Profile("all", frozenset({1, 2, 3, 4, 5}), "every tier")
NOTHING = Profile("none", frozenset(), "nothing")

# The function ex2 asks for, which several cases replace with something hostile.
EX2 = "def confusion_counts(y_true, y_pred):\n    {body}\n"


@dataclass(frozen=True)
class Case:
    """A submission and what grading it must give."""

    learner: str
    build: Callable[[dict], None]   # writes the learner's folder; gets the context (see `corpus`)
    total: float                    # expected points out of FULL
    reasons: dict[str, str]         # grade_id -> a substring its failure reason must contain


def _cells(nb, grade_id):
    return next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def _write(ctx, learner, nb=None, raw: str | None = None, name: str = f"{ASSIGNMENT}.ipynb"):
    folder = ctx["submissions"] / learner / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    if raw is not None:
        (folder / name).write_text(raw)
    else:
        nbformat.write(nb, folder / name)


def solved(ctx, **replace: str):
    """The fully solved notebook, with some solution cells replaced (grade_id -> source)."""
    nb = solve(ctx["released"], ctx["source"], EVERYTHING)
    for grade_id, source in replace.items():
        _cells(nb, grade_id).source = source
    return nb


def stub(ctx):
    return solve(ctx["released"], ctx["source"], NOTHING)


def with_ex2(body: str):
    return lambda ctx, learner: _write(ctx, learner, solved(ctx, ex2_confusion_counts=EX2.format(body=body)))


def prepend_to_ex2(code: str):
    def build(ctx, learner):
        nb = solved(ctx)
        cell = _cells(nb, "ex2_confusion_counts")
        cell.source = code + "\n" + cell.source
        _write(ctx, learner, nb)
    return build


def stub_with(mutate: Callable):
    def build(ctx, learner):
        nb = stub(ctx)
        mutate(nb)
        _write(ctx, learner, nb)
    return build


def _delete_test(nb, grade_id="ex2_confusion_counts_tests"):
    nb.cells.remove(_cells(nb, grade_id))


def _edit_tests(nb):
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            cell.source = "pass"


def _retype_test(nb):
    index = nb.cells.index(_cells(nb, "ex1_baseline_tests"))
    old = nb.cells[index]
    nb.cells[index] = nbformat.v4.new_markdown_cell("I am not a test", metadata=old.metadata, id=old.get("id"))


def _with_cell_after(nb, grade_id: str, source: str):
    """``nb`` with a new ordinary cell (no nbgrader metadata, as JupyterLab adds one) after cell ``grade_id``."""
    nb.cells.insert(nb.cells.index(_cells(nb, grade_id)) + 1, nbformat.v4.new_code_cell(source))
    return nb


def _with_spy(nb):
    """ex8's correct solution, which also prints the hidden test's hand-built frame (only it has a 'region')."""
    cell = _cells(nb, "ex8_worst_slice")
    head, rest = cell.source.split("\n", 1)
    cell.source = head + "\n    if 'region' in frame.columns:\n        print('SPY' + '-LEAK', frame.to_string()[:400])\n" + rest
    return nb


TAMPER = "tampering: "

CORPUS = [
    Case("honest", lambda ctx, learner: _write(ctx, learner, solved(ctx)), FULL, {}),
    Case("unsolved", lambda ctx, learner: _write(ctx, learner, stub(ctx)), 0.0,
         {"ex2_confusion_counts_tests": "not implemented"}),
    # Runaway and resource-hungry code.
    Case("infinite_loop", with_ex2("while True:\n        pass"), FULL - 1, {"ex2_confusion_counts_tests": "timed out"}),
    Case("loop_ignoring_interrupts", with_ex2(
        "import signal\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    while True:\n        pass"),
        2.0, {"ex2_confusion_counts_tests": "timed out", "ex9_cost_threshold_tests": "timed out"}),
    Case("memory_bomb", with_ex2("hog = bytearray(64 * 2**30)"), FULL - 1,
         {"ex2_confusion_counts_tests": "ran out of memory"}),
    Case("fork_bomb", with_ex2(
        "import os, time\n    while True:\n        if os.fork() == 0:\n            time.sleep(20)\n            os._exit(0)"),
        FULL - 1, {"ex2_confusion_counts_tests": "error: BlockingIOError"}),
    Case("network", with_ex2("import urllib.request\n    return urllib.request.urlopen('http://example.com', timeout=3)"),
         FULL - 1, {"ex2_confusion_counts_tests": "error: URLError"}),
    Case("fill_the_disk", with_ex2("open('big.bin', 'wb').write(b'0' * 300 * 2**20)"), FULL - 1,
         {"ex2_confusion_counts_tests": "error: OSError"}),
    # Reaching for what the grader must keep away.
    Case("read_hidden_tests", with_ex2("return open({source!r}).read()"), FULL - 1,
         {"ex2_confusion_counts_tests": "error: FileNotFoundError"}),
    Case("read_other_learner", with_ex2("return open({other!r}).read()"), FULL - 1,
         {"ex2_confusion_counts_tests": "error: FileNotFoundError"}),
    Case("write_gradebook", with_ex2(
        "import sqlite3\n    sqlite3.connect({gradebook!r}).execute('UPDATE grade SET manual_score = 99')"),
        FULL - 1, {"ex2_confusion_counts_tests": "error: OperationalError"}),
    Case("write_library", with_ex2("open({package!r} + '/evaluation.py', 'w').write('')"), FULL - 1,
         {"ex2_confusion_counts_tests": "error: OSError"}),
    # Test cells deleted, edited or re-typed come back from the gradebook and run.
    Case("deleted_test_unsolved", stub_with(_delete_test), 0.0, {"ex2_confusion_counts_tests": "not implemented"}),
    Case("deleted_test_solved", lambda ctx, learner: _write(ctx, learner, (lambda nb: (_delete_test(nb), nb)[1])(
        solved(ctx))), FULL, {}),
    Case("edited_tests", stub_with(_edit_tests), 0.0, {"ex5_roc_auc_rank_tests": "not implemented"}),
    Case("retyped_test", stub_with(_retype_test), 0.0, {"ex1_baseline_tests": "NameError"}),
    # Gaming the tests: zero, with the reason.
    Case("patch_builtins", prepend_to_ex2("import builtins\nbuiltins.abs = lambda x: 0"), 0.0,
         {"ex9_cost_threshold_tests": TAMPER + "ex2_confusion_counts, line 2: replaces builtins.abs"}),
    Case("patch_numpy_testing", prepend_to_ex2("np.testing.assert_allclose = lambda *a, **k: None"), 0.0,
         {"ex1_baseline_tests": "replaces numpy.testing.assert_allclose"}),
    Case("patch_tracebacks", prepend_to_ex2("get_ipython().showtraceback = lambda *a, **k: None"), 0.0,
         {"ex1_baseline_tests": "showtraceback"}),
    Case("patch_in_a_cell_of_its_own", lambda ctx, learner: _write(ctx, learner, _with_cell_after(
        solved(ctx), "ex1_baseline_tests", "import builtins\nbuiltins.abs = lambda x: 0")), 0.0,
        {"ex9_cost_threshold_tests": "replaces builtins.abs"}),
    Case("patch_sys_modules", prepend_to_ex2("import sys\nsys.modules['sklearn.metrics'] = None"), 0.0,
         {"ex1_baseline_tests": "changes sys.modules"}),
    Case("always_equal", with_ex2(
        "class Anything:\n        def __eq__(self, other):\n            return True\n    return Anything()"),
        0.0, {"ex1_baseline_tests": "defines __eq__"}),
    Case("calls_reference_solution", lambda ctx, learner: _write(ctx, learner, solved(
        ctx, ex6_threshold_for_recall="def threshold_for_recall(y_true, scores, target_recall):\n"
                                      "    return ev.threshold_for_recall(y_true, scores, target_recall)")),
        FULL - 2, {"ex6_threshold_for_recall_tests": "mlcourse.evaluation.threshold_for_recall, the library's"}),
    # Noise and exits.
    Case("stderr_noise", with_ex2(
             "import sys\n    print('debug: counting', file=sys.stderr)\n"
             "    y_true = np.asarray(y_true).astype(bool); y_pred = np.asarray(y_pred).astype(bool)\n"
             "    return (int(np.sum(~y_true & ~y_pred)), int(np.sum(~y_true & y_pred)),"
             " int(np.sum(y_true & ~y_pred)), int(np.sum(y_true & y_pred)))"), FULL, {}),
    Case("sys_exit", with_ex2("import sys\n    sys.exit(3)"), FULL - 1, {"ex2_confusion_counts_tests": "SystemExit"}),
    Case("os_exit", lambda ctx, learner: _write(ctx, learner, solved(
        ctx, ex5_roc_auc_rank="def roc_auc_rank(y_true, scores):\n    import os\n    os._exit(1)")),
        5.0, {"ex5_roc_auc_rank_tests": "the kernel died", "ex9_cost_threshold_tests": "the kernel died"}),
    Case("huge_output", lambda ctx, learner: _write(ctx, learner, solved(
        ctx, ex1_baseline="for _i in range(200_000):\n    print('spam', _i)\n"
                          "baseline_accuracy = float(np.mean(tx['is_fraud'].to_numpy() == 0))\nbaseline_recall = 0.0")),
        FULL, {}),
    Case("spy_on_hidden_data", lambda ctx, learner: _write(ctx, learner, _with_spy(solved(ctx))), FULL, {}),
    # Broken files.
    Case("not_json", lambda ctx, learner: _write(ctx, learner, raw="{ this is not a notebook"), 0.0,
         {"ex1_baseline_tests": "not a readable notebook"}),
    Case("empty_file", lambda ctx, learner: _write(ctx, learner, raw=""), 0.0,
         {"ex1_baseline_tests": "not a readable notebook"}),
    Case("format_damage", lambda ctx, learner: _write(ctx, learner, raw='{"nbformat": 4, "nbformat_minor": 5, '
                                                                   '"metadata": {}, "cells": [{"source": "x"}]}'),
         0.0, {"ex1_baseline_tests": "not a readable notebook"}),
    Case("renamed_notebook", lambda ctx, learner: _write(ctx, learner, solved(ctx), name="my_final_version.ipynb"),
         0.0, {"ex1_baseline_tests": "not submitted"}),
]


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    limits = SandboxLimits(memory_mb=3_072, processes=128, cell_timeout_s=6, notebook_timeout_s=240)
    course = Course(root / "course", limits=limits)
    [assignment] = select_assignments(course.notebooks_dir, [ASSIGNMENT])
    release = course.release(assignment)
    import mlcourse

    ctx = {
        "submissions": root / "submissions",
        "released": read_notebook(release / f"{ASSIGNMENT}.ipynb"),
        "source": read_notebook(assignment.folder / f"{ASSIGNMENT}.ipynb"),
    }
    paths = {"source": str(course.root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
             "other": str(course.root / "submitted" / "honest" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
             "gradebook": str(course.root / "gradebook.db"),
             "package": str(Path(mlcourse.__file__).parent)}
    for case in CORPUS:
        _build_with_paths(case.build, ctx, case.learner, paths)
    before = _tree_digest(ctx["submissions"])
    log: list[str] = []
    summary = grade_course(course, ctx["submissions"], [ASSIGNMENT], progress=log.append)
    exercises = [e for e in read_exercises(course.notebooks_dir) if e.assignment == ASSIGNMENT]
    outcomes = {learner: {o.exercise.grade_id: o for o in course.outcomes(learner, exercises)}
                for learner in course.learners()}
    return {"course": course, "summary": summary, "outcomes": outcomes, "log": log,
            "unchanged": before == _tree_digest(ctx["submissions"]), "ctx": ctx}


def _build_with_paths(builder, ctx, learner, paths):
    """Run ``builder``; then fill the grader's paths into the code it wrote (``{source!r}``, ``{gradebook!r}``, ...)."""
    builder(ctx, learner)
    path = ctx["submissions"] / learner / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    if path.is_file():
        text = path.read_text()
        for key, value in paths.items():
            text = text.replace("{" + key + "!r}", repr(value))
        path.write_text(text)


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 25 and len({c.learner for c in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[c.learner for c in CORPUS])
def test_each_case_gets_its_score_and_reason(corpus, case):
    graded = corpus["outcomes"][case.learner]
    total = sum(o.earned for o in graded.values())
    assert total == pytest.approx(case.total), {g: (o.earned, o.reason) for g, o in graded.items()}
    for grade_id, expected in case.reasons.items():
        assert expected in graded[grade_id].reason, (grade_id, graded[grade_id].reason)
    lost = [o for o in graded.values() if not o.complete]
    assert all(o.reason for o in lost), "every lost point needs a reason"


def test_the_run_completes_and_records_every_learner_once(corpus):
    assert set(corpus["outcomes"]) == {c.learner for c in CORPUS}
    unreadable = {"not_json", "empty_file", "format_damage"}
    assert {f.learner for f in corpus["summary"].failures} <= unreadable | {"renamed_notebook"}
    from nbgrader.api import Gradebook

    with Gradebook(corpus["course"].db_url, "mlcourse") as gb:
        submissions = [(s.student.id, s.assignment.name) for s in gb.assignment_submissions(ASSIGNMENT)]
    assert len(submissions) == len(set(submissions))


def test_submissions_are_never_modified(corpus):
    assert corpus["unchanged"]


def test_huge_output_is_truncated(corpus):
    path = corpus["course"].path("autograded", "huge_output", ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
    assert path.stat().st_size < 2_000_000


def _page_text(path: Path) -> str:
    """What a reader of an HTML page sees: tags dropped (syntax highlighting splits code), entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def test_feedback_keeps_hidden_tests_and_data_hidden(corpus, project_root):
    from grader.commands import feedback_course

    course = corpus["course"]
    pages = feedback_course(course, [ASSIGNMENT], ["spy_on_hidden_data", "unsolved", "honest"],
                            progress=lambda line: None)
    assert len(pages) == 3
    source = read_notebook(project_root / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    hidden = [line.strip() for cell in source.cells if "### BEGIN HIDDEN TESTS" in cell.source
              for line in cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0].splitlines()
              if len(line.strip()) > 15]
    # Lines that the released notebook shows anyway (a helper repeated in a visible test) are not secrets.
    released = "\n".join(c.source for c in corpus["ctx"]["released"].cells)
    hidden = [line for line in hidden if line not in released]
    assert len(hidden) > 10
    for page in pages:
        text = _page_text(page)
        assert not [line for line in hidden if line in text], f"hidden test code in {page}"
        # The learner's own code is theirs to see; what it printed inside a hidden test is not.
        assert "SPY-LEAK" not in text and "hand-built frame" not in text
        assert "_expected_worst(tx" in text, "the visible tests stay in the feedback"
    # The spy really ran: the instructor's autograded copy shows what it printed.
    autograded = course.path("autograded", "spy_on_hidden_data", ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
    assert "SPY-LEAK" in autograded.read_text()
