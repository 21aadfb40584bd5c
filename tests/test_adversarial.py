"""The adversarial corpus: hostile and broken submissions of a real course notebook, graded end to end.

Every case below is a learner's submission of ``04_evaluation`` (every
expected total is derived from its graded cells), built from the released
student version. All of them go
through one ``mlcourse grade`` run -- nbgrader's autograde, in the sandbox,
into one SQLite gradebook -- and each must end with its expected score and a
reason a human can read. The run itself must complete (a case that broke a
worker would stop it), the honest learners must keep full marks, and no
submission may be modified.

The file-system objects a submission or learner code can create are the
class enumerated in the README's security model; each has a case here:
symbolic links (absolute, relative, to a folder, the assignment folder
itself, the learner folder itself), hard links, FIFOs, sockets, device
files, many files, deep trees, huge files and names with control characters
in a submission (refused, with the reason), and the same planted by learner
code in its working folder (harmless: the kernel works in a copy).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import socket
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from grader.catalogue import read_exercises, read_notebook, select_assignments, solution_cells
from grader.commands import grade_course
from grader.course import Course
from grader.grading import gradebook
from grader.grading.gradebook import learner_outcomes
from grader.files import TreeLimits, kind_of
from grader.paths import NOTEBOOKS_DIR
from grader.autograde.limits import SandboxLimits
from grader.authoring.simulate import Profile, solve

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="the corpus is graded in the sandbox")

ASSIGNMENT = "04_evaluation"
#: The assignment's graded cells in notebook order, from the catalogue: every expected total is derived from them.
EXERCISES = read_exercises(NOTEBOOKS_DIR, [ASSIGNMENT])
FULL = sum(e.points for e in EXERCISES)
TREE = TreeLimits()  # what read_tree refuses beyond


def without(*grade_ids: str) -> float:
    """Full marks less the points of the test cells ``grade_ids``."""
    points = {e.grade_id: e.points for e in EXERCISES}
    return FULL - sum(points[grade_id] for grade_id in grade_ids)


def cells_of(exercise: str) -> tuple[str, ...]:
    """The graded cells of one exercise (named by its solution cell), in notebook order."""
    return tuple(e.grade_id for e in EXERCISES if e.exercise_id == exercise)


def before(grade_id: str) -> float:
    """The points of the test cells before ``grade_id``: what is kept when that cell and every later one fail."""
    order = [e.grade_id for e in EXERCISES]
    return sum(e.points for e in EXERCISES[:order.index(grade_id)])
EVERYTHING = Profile("all", frozenset({1, 2, 3, 4, 5}), "every tier")
NOTHING = Profile("none", frozenset(), "nothing")

#: ex2's graded cells: a hostile confusion_counts fails every one of them.
EX2_CELLS = cells_of("ex2_confusion_counts")
EX2_TESTS = EX2_CELLS[0]
EX5_CELLS = cells_of("ex5_roc_auc_rank")
#: The last graded cell: where a notebook-wide zero or a dead kernel shows last.
LAST_TESTS = EXERCISES[-1].grade_id
#: ex5 answered with the library's own function, which its forbid list names.
EX5_BY_LIBRARY = "def roc_auc_rank(y_true, scores):\n    return ev.roc_auc(y_true, scores)"
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
    """ex10's correct solution, which also prints the hidden test's hand-built frame (only it has a 'region')."""
    cell = _cells(nb, "ex10_failing_slices")
    head, rest = cell.source.split("\n", 1)
    cell.source = head + "\n    if 'region' in frame.columns:\n        print('SPY' + '-LEAK', frame.to_string()[:400])\n" + rest
    return nb


TAMPER = "tampering: "
REFUSED = "submission refused: "
#: Placed in the grader's environment while the corpus is graded: it must reach no learner kernel.
SECRET = "hunter2-" + "do-not-leak"


def _folder(ctx, learner) -> Path:
    return ctx["submissions"] / learner / ASSIGNMENT


def solved_with(make: Callable[[Path, dict], None]):
    """A solved submission, then ``make(folder, ctx)`` adds or replaces something in its folder."""
    def build(ctx, learner):
        _write(ctx, learner, solved(ctx))
        make(_folder(ctx, learner), ctx)
    return build


def _replace_notebook(folder: Path, make_link: Callable[[Path], None]):
    notebook = folder / f"{ASSIGNMENT}.ipynb"
    notebook.unlink()
    make_link(notebook)


def _socket_file(path: Path) -> None:
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.close()  # the socket file stays


def _many_files(folder: Path, count: int) -> None:
    for i in range(count):
        (folder / f"note{i}.txt").write_text("")


def _deep_tree(folder: Path, depth: int) -> None:
    (folder.joinpath(*(["d"] * depth))).mkdir(parents=True)


def _huge_file(path: Path, mib: int) -> None:
    with open(path, "wb") as out:
        out.truncate(mib * 2**20)  # sparse: large to read, cheap to make


def _assignment_folder_link(ctx, learner):
    (ctx["submissions"] / learner).mkdir(parents=True)
    (ctx["submissions"] / learner / ASSIGNMENT).symlink_to(ctx["submissions"] / "honest" / ASSIGNMENT)


# What learner code can do to the folder it runs in (every name it plants is in the kernel's copy only).
PLANT_LINKS = (
    "import os\n"
    "for name, target in (('{notebook}', {victim!r}), ('data.csv', '../../../gradebook.db'), "
    "('{notebook}.bak', {gradebook!r}), ('source.ipynb', {source!r})):\n"
    "    if not os.path.lexists(name):\n"
    "        os.symlink(target, name)\n"
).replace("{notebook}", f"{ASSIGNMENT}.ipynb")
LITTER = (
    "import os, socket\n"
    "if not os.path.exists('litter'):\n"
    "    os.mkdir('litter')\n"
    "    os.mkfifo('litter/fifo'); socket.socket(socket.AF_UNIX).bind('litter/sock')\n"
    "    os.makedirs('litter/' + '/'.join(['d'] * 30))\n"
    "    for _i in range(3000):\n"
    "        open(f'litter/f{_i}', 'w').close()\n"
    "    os.link('litter/f0', 'litter/hard'); os.symlink('/etc', 'litter/etc')\n"
    "    open('litter/big.bin', 'wb').truncate(48 * 2**20)\n"
)


def _forge_metadata(nb):
    """Every kind of metadata damage a learner can hand in at once; each is undone or set aside."""
    meta = lambda grade_id: _cells(nb, grade_id).metadata  # noqa: E731
    meta("ex1_baseline_tests")["nbgrader"]["points"] = 100                      # more points
    meta("ex2_confusion_counts")["nbgrader"].update(grade=True, points=50)      # a solution made a graded cell
    del meta("ex2a_read_confusion_tests")["nbgrader"]["grade_id"]               # a test without its id
    meta("ex5_roc_auc_rank")["nbgrader"]["grade_id"] = 7                        # an id that is not text
    meta("ex10_failing_slices")["nbgrader"]["schema_version"] = 99             # a newer nbgrader's
    meta("ex7_threshold_for_precision_tests")["nbgrader"] = "graded"            # not a mapping
    nb.cells.append(nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {  # a graded cell of one's own
        "grade": True, "grade_id": "bonus", "points": 1000, "solution": False, "locked": False, "schema_version": 3}}))
    copy = nbformat.from_dict(_cells(nb, "ex1_baseline_tests"))                # the same id twice
    copy.id, copy.source = "mine", "pass"
    nb.cells.insert(0, copy)


def _strip_metadata(nb):
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)

CORPUS = [
    Case("honest", lambda ctx, learner: _write(ctx, learner, solved(ctx)), FULL, {}),
    Case("unsolved", lambda ctx, learner: _write(ctx, learner, stub(ctx)), 0.0,
         {"ex2_confusion_counts_tests": "not implemented"}),
    # Runaway and resource-hungry code.
    Case("infinite_loop", with_ex2("while True:\n        pass"), without(*EX2_CELLS), {"ex2_confusion_counts_tests": "timed out"}),
    Case("loop_ignoring_interrupts", with_ex2(
        "import signal\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    while True:\n        pass"),
        before(EX2_TESTS), {"ex2_confusion_counts_tests": "timed out", LAST_TESTS: "timed out"}),
    Case("memory_bomb", with_ex2("hog = bytearray(64 * 2**30)"), without(*EX2_CELLS),
         {"ex2_confusion_counts_tests": "ran out of memory"}),
    Case("fork_bomb", with_ex2(
        "import os, time\n    while True:\n        if os.fork() == 0:\n            time.sleep(20)\n            os._exit(0)"),
        without(*EX2_CELLS), {"ex2_confusion_counts_tests": "error: BlockingIOError"}),
    Case("network", with_ex2("import urllib.request\n    return urllib.request.urlopen('http://example.com', timeout=3)"),
         without(*EX2_CELLS), {"ex2_confusion_counts_tests": "error: URLError"}),
    Case("fill_the_disk", with_ex2("open('big.bin', 'wb').write(b'0' * 100 * 2**20)"), without(*EX2_CELLS),
         {"ex2_confusion_counts_tests": "error: OSError"}),
    # Reaching for what the grader must keep away.
    Case("read_hidden_tests", with_ex2("return open({source!r}).read()"), without(*EX2_CELLS),
         {"ex2_confusion_counts_tests": "error: FileNotFoundError"}),
    Case("read_other_learner", with_ex2("return open({other!r}).read()"), without(*EX2_CELLS),
         {"ex2_confusion_counts_tests": "error: FileNotFoundError"}),
    Case("write_gradebook", with_ex2(
        "import sqlite3\n    sqlite3.connect({gradebook!r}).execute('UPDATE grade SET manual_score = 99')"),
        without(*EX2_CELLS), {"ex2_confusion_counts_tests": "error: OperationalError"}),
    Case("write_library", with_ex2("open({package!r} + '/evaluation.py', 'w').write('')"), without(*EX2_CELLS),
         {"ex2_confusion_counts_tests": "error: OSError"}),
    # Test cells deleted, edited or re-typed come back from the gradebook and run.
    Case("deleted_test_unsolved", stub_with(_delete_test), 0.0, {"ex2_confusion_counts_tests": "not implemented"}),
    Case("deleted_test_solved", lambda ctx, learner: _write(ctx, learner, (lambda nb: (_delete_test(nb), nb)[1])(
        solved(ctx))), FULL, {}),
    Case("edited_tests", stub_with(_edit_tests), 0.0, {"ex5_roc_auc_rank_tests": "not implemented"}),
    Case("retyped_test", stub_with(_retype_test), 0.0, {"ex1_baseline_tests": "not implemented"}),
    # Gaming the tests: zero, with the reason.
    Case("patch_builtins", prepend_to_ex2("import builtins\nbuiltins.abs = lambda x: 0"), 0.0,
         {LAST_TESTS: TAMPER + "ex2_confusion_counts, line 2: replaces builtins.abs"}),
    Case("patch_numpy_testing", prepend_to_ex2("np.testing.assert_allclose = lambda *a, **k: None"), 0.0,
         {"ex1_baseline_tests": "replaces numpy.testing.assert_allclose"}),
    Case("patch_tracebacks", prepend_to_ex2("get_ipython().showtraceback = lambda *a, **k: None"), 0.0,
         {"ex1_baseline_tests": "showtraceback"}),
    Case("patch_in_a_cell_of_its_own", lambda ctx, learner: _write(ctx, learner, _with_cell_after(
        solved(ctx), "ex1_baseline_tests", "import builtins\nbuiltins.abs = lambda x: 0")), 0.0,
        {LAST_TESTS: "replaces builtins.abs"}),
    Case("patch_sys_modules", prepend_to_ex2("import sys\nsys.modules['sklearn.metrics'] = None"), 0.0,
         {"ex1_baseline_tests": "changes sys.modules"}),
    Case("always_equal", with_ex2(
        "class Anything:\n        def __eq__(self, other):\n            return True\n    return Anything()"),
        0.0, {"ex1_baseline_tests": "defines __eq__"}),
    Case("calls_reference_solution", lambda ctx, learner: _write(ctx, learner, solved(
        ctx, ex5_roc_auc_rank=EX5_BY_LIBRARY)), without(*EX5_CELLS),
        {cell: "mlcourse.evaluation.roc_auc, which this exercise forbids" for cell in EX5_CELLS}),
    Case("reference_through_a_helper_cell", lambda ctx, learner: _write(ctx, learner, _with_cell_after(
        solved(ctx, ex5_roc_auc_rank="def roc_auc_rank(y_true, scores):\n    return my_auc(y_true, scores)"),
        "ex1_baseline_tests", "import mlcourse.evaluation as mine\nmy_auc = mine.roc_auc")), without(*EX5_CELLS),
        {EX5_CELLS[0]: "uses mlcourse.evaluation.roc_auc, which this exercise forbids"}),
    # Noise and exits.
    Case("stderr_noise", with_ex2(
             "import sys\n    print('debug: counting', file=sys.stderr)\n"
             "    y_true = np.asarray(y_true).astype(bool); y_pred = np.asarray(y_pred).astype(bool)\n"
             "    return (int(np.sum(~y_true & ~y_pred)), int(np.sum(~y_true & y_pred)),"
             " int(np.sum(y_true & ~y_pred)), int(np.sum(y_true & y_pred)))"), FULL, {}),
    Case("sys_exit", with_ex2("import sys\n    sys.exit(3)"), without(*EX2_CELLS), {"ex2_confusion_counts_tests": "SystemExit"}),
    Case("os_exit", lambda ctx, learner: _write(ctx, learner, solved(
        ctx, ex5_roc_auc_rank="def roc_auc_rank(y_true, scores):\n    import os\n    os._exit(1)")),
        before("ex5_roc_auc_rank_tests"),
        {"ex5_roc_auc_rank_tests": "the kernel died", LAST_TESTS: "the kernel died"}),
    Case("huge_output", lambda ctx, learner: _write(ctx, learner, (lambda nb: (_cells(nb, "ex1_baseline").update(
        source="for _i in range(200_000):\n    print('spam', _i)\n" + _cells(nb, "ex1_baseline").source), nb)[1])(
        solved(ctx))), FULL, {}),
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
    # Damaged or forged nbgrader metadata: undone from the source, or a reason that names the damage.
    Case("forged_metadata", lambda ctx, learner: _write(ctx, learner, (lambda nb: (_forge_metadata(nb), nb)[1])(
        solved(ctx))), FULL, {}),
    Case("stripped_metadata", lambda ctx, learner: _write(ctx, learner, (lambda nb: (_strip_metadata(nb), nb)[1])(
        solved(ctx))), FULL, {}),
    Case("stripped_and_calls_reference", lambda ctx, learner: _write(ctx, learner, (
        lambda nb: (_strip_metadata(nb), nb)[1])(solved(
            ctx, ex5_roc_auc_rank=EX5_BY_LIBRARY))), without(*EX5_CELLS),
        {EX5_CELLS[0]: "which this exercise forbids"}),
    Case("metadata_not_a_mapping", lambda ctx, learner: _write(ctx, learner, raw=json.dumps(
        (lambda nb: (_cells(nb, "ex2_confusion_counts").__setitem__("metadata", []), nb)[1])(solved(ctx)))),
         0.0, {"ex1_baseline_tests": "metadata is not a JSON object"}),
    # What a submission holds that is not a regular file of its own: refused whole, naming it.
    Case("notebook_links_to_the_source", solved_with(lambda folder, ctx: _replace_notebook(
        folder, lambda nb: nb.symlink_to(ctx["paths"]["source"]))), 0.0,
        {"ex1_baseline_tests": REFUSED + f"{ASSIGNMENT}.ipynb is a symbolic link, not a regular file"}),
    Case("notebook_links_relatively", solved_with(lambda folder, ctx: _replace_notebook(
        folder, lambda nb: nb.symlink_to(f"../../../course/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"))), 0.0,
        {"ex1_baseline_tests": REFUSED + f"{ASSIGNMENT}.ipynb is a symbolic link"}),
    Case("folder_links_to_the_course", solved_with(lambda folder, ctx: (folder / "course").symlink_to(
        ctx["paths"]["course"])), 0.0, {"ex1_baseline_tests": REFUSED + "course is a symbolic link"}),
    Case("assignment_folder_is_a_link", _assignment_folder_link, 0.0,
         {"ex1_baseline_tests": REFUSED + f"{ASSIGNMENT} is a symbolic link, not a folder"}),
    Case("hard_link_to_the_source", solved_with(lambda folder, ctx: _replace_notebook(
        folder, lambda nb: os.link(ctx["paths"]["source"], nb))), 0.0,
        {"ex1_baseline_tests": REFUSED + f"{ASSIGNMENT}.ipynb is a hard link to a file outside the folder"}),
    Case("fifo", solved_with(lambda folder, ctx: os.mkfifo(folder / "answers")), 0.0,
         {"ex1_baseline_tests": REFUSED + "answers is a FIFO, not a regular file"}),
    Case("socket", solved_with(lambda folder, ctx: _socket_file(folder / "ipc")), 0.0,
         {"ex1_baseline_tests": REFUSED + "ipc is a socket, not a regular file"}),
    Case("device_file", solved_with(lambda folder, ctx: os.mknod(folder / "zero", stat.S_IFCHR | 0o600,
                                                                 os.makedev(1, 5))), 0.0,
         {"ex1_baseline_tests": REFUSED + "zero is a character device, not a regular file"}),
    Case("block_device", solved_with(lambda folder, ctx: os.mknod(folder / "disk", stat.S_IFBLK | 0o600,
                                                                  os.makedev(7, 0))), 0.0,
         {"ex1_baseline_tests": REFUSED + "disk is a block device, not a regular file"}),
    # One past each of read_tree's limits (the notebook itself is one of the files).
    Case("many_files", solved_with(lambda folder, ctx: _many_files(folder, TREE.files)), 0.0,
         {"ex1_baseline_tests": REFUSED + f"it holds more than {TREE.files} files"}),
    Case("deep_tree", solved_with(lambda folder, ctx: _deep_tree(folder, TREE.depth + 1)), 0.0,
         {"ex1_baseline_tests": REFUSED + "d/" * (TREE.depth + 1) + f" is nested more than {TREE.depth} folders deep"}),
    Case("huge_file", solved_with(lambda folder, ctx: _huge_file(folder / "weights.bin", TREE.total_mb + 1)), 0.0,
         {"ex1_baseline_tests": REFUSED + f"it holds more than {TREE.total_mb} MiB"}),
    Case("unreadable_timestamp", solved_with(lambda folder, ctx: (folder / "timestamp.txt").write_text("soon")), 0.0,
         {"ex1_baseline_tests": REFUSED + "timestamp.txt holds 'soon', which is not a date and time"}),
    Case("json_nested_too_deep", lambda ctx, learner: _write(ctx, learner, raw='{"cells": ' + "[" * 100_000 + "]" * 100_000
                                                             + "}"), 0.0, {"ex1_baseline_tests": "nested too deeply"}),
    Case("name_with_a_newline", solved_with(lambda folder, ctx: (folder / "notes\n.txt").write_text("")), 0.0,
         {"ex1_baseline_tests": REFUSED + "the name 'notes\\n.txt' holds control characters"}),
    # The same, made by learner code in the folder it runs in: they stay in the kernel's own copy.
    Case("plants_links", prepend_to_ex2(PLANT_LINKS), FULL, {}),
    Case("litters_its_folder", prepend_to_ex2(LITTER), FULL, {}),
    Case("reads_its_own_notebook", with_ex2(f"return open({ASSIGNMENT + '.ipynb'!r}).read().count('HIDDEN')"),
         without(*EX2_CELLS), {"ex2_confusion_counts_tests": "error: FileNotFoundError"}),
    Case("prints_the_environment", prepend_to_ex2("import os\nprint(sorted(os.environ.items()))"), FULL, {}),
]


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    limits = SandboxLimits(memory_mb=3_072, processes=128, file_size_mb=64, cell_timeout_s=10, notebook_timeout_s=240)
    course = Course(root / "course", limits=limits)
    [assignment] = select_assignments(course.notebooks_dir, [ASSIGNMENT])
    release = course.release(assignment)
    import mlcourse

    victim = root / "victim.txt"  # a file of the grader's, outside the sandbox, that learner code names by link
    victim.write_text("the grader's own file")
    paths = {"source": str(course.root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
             "other": str(course.root / "submitted" / "honest" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
             "gradebook": str(course.root / "gradebook.db"),
             "package": str(Path(mlcourse.__file__).parent),
             "course": str(course.root),
             "victim": str(victim)}
    ctx = {
        "submissions": root / "submissions",
        "released": read_notebook(release / f"{ASSIGNMENT}.ipynb"),
        "source": read_notebook(assignment.folder / f"{ASSIGNMENT}.ipynb"),
        "paths": paths,
    }
    for case in CORPUS:
        _build_with_paths(case.build, ctx, case.learner, paths)
    # A learner folder that is a link to another learner's: never followed, so never graded.
    (ctx["submissions"] / "mallory").symlink_to(ctx["submissions"] / "honest")
    before = _tree_digest(ctx["submissions"])
    # (The course gradebook is written by the run itself: that every learner's grades are in it is checked below.)
    protected = {path: _file_digest(Path(path)) for path in (paths["source"], str(victim))}
    log: list[str] = []
    os.environ["MLCOURSE_CORPUS_SECRET"] = SECRET
    try:
        summary = grade_course(course, ctx["submissions"], [ASSIGNMENT], progress=log.append)
    finally:
        del os.environ["MLCOURSE_CORPUS_SECRET"]
    exercises = [e for e in read_exercises(course.notebooks_dir) if e.assignment == ASSIGNMENT]
    outcomes = {learner: {o.exercise.grade_id: o for o in learner_outcomes(course, learner, exercises)}
                for learner in gradebook.learners(course)}
    return {"course": course, "summary": summary, "outcomes": outcomes, "log": log, "exercises": exercises,
            "unchanged": before == _tree_digest(ctx["submissions"]), "ctx": ctx, "protected": protected,
            "root": root}


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _build_with_paths(builder, ctx, learner, paths):
    """Run ``builder``; then fill the grader's paths into the code it wrote (``{source!r}``, ``{gradebook!r}``, ...).

    Only a notebook that is the learner's own file is filled in: writing through a
    case's link (or hard link) would change the very file the case points at.
    """
    builder(ctx, learner)
    path = ctx["submissions"] / learner / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    if not path.parent.is_symlink() and path.is_file() and not path.is_symlink() and path.stat().st_nlink == 1:
        text = path.read_text()
        for key, value in paths.items():
            text = text.replace("{" + key + "!r}", repr(value))
        path.write_text(text)


def test_each_case_has_a_learner_of_its_own():
    assert len({c.learner for c in CORPUS}) == len(CORPUS)


def test_the_corpus_holds_every_kind_of_file_the_grader_refuses():
    kinds = [kind_of(mode) for mode in (stat.S_IFLNK, stat.S_IFIFO, stat.S_IFSOCK, stat.S_IFCHR, stat.S_IFBLK)]
    refusals = " ".join(r for c in CORPUS for r in c.reasons.values() if r.startswith(REFUSED))
    assert [kind for kind in kinds if f"is {kind}" not in refusals] == []
    assert all(f"more than {value}" in refusals for value in (TREE.files, TREE.depth, TREE.total_mb))


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
    unreadable = {"not_json", "empty_file", "format_damage", "metadata_not_a_mapping", "json_nested_too_deep"}
    refused = {c.learner for c in CORPUS if any(r.startswith(REFUSED) for r in c.reasons.values())}
    assert {f.learner for f in corpus["summary"].failures} <= unreadable | refused | {"renamed_notebook"}
    assert refused <= {f.learner for f in corpus["summary"].failures}, "a refused submission counts as failed"
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
    # Nor is the learner's own code: a solution line that a hidden reference happens to repeat is theirs to see.
    solutions = "\n".join(cell.source for cell in solution_cells(source).values())
    hidden = [line for line in hidden if line not in released and line not in solutions]
    assert len(hidden) > 10
    for page in pages:
        text = _page_text(page)
        assert not [line for line in hidden if line in text], f"hidden test code in {page}"
        # The learner's own code is theirs to see; what it printed inside a hidden test is not.
        assert "SPY-LEAK" not in text and "hand-built frame" not in text
        assert "_got = failing_slices(tx" in text, "the visible tests stay in the feedback"
    # The spy really ran: the instructor's autograded copy shows what it printed.
    autograded = course.path("autograded", "spy_on_hidden_data", ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
    assert "SPY-LEAK" in autograded.read_text()


def test_a_learner_folder_that_is_a_link_is_never_followed(corpus):
    [skipped] = [item for item in corpus["summary"].skipped if item.path.name == "mallory"]
    assert skipped.reason == "a symbolic link, not a learner folder"
    assert "mallory" not in corpus["outcomes"]
    assert any("skipped" in line and "mallory" in line for line in corpus["log"]), "the summary says so"


def test_files_learner_code_names_by_link_are_byte_for_byte_unchanged(corpus):
    for path, digest in corpus["protected"].items():
        assert _file_digest(Path(path)) == digest, path
    # Its executed notebook was written where nbgrader put it, not through the link the learner planted there.
    folder = corpus["course"].path("autograded", "plants_links", ASSIGNMENT)
    assert not any(p.is_symlink() for p in folder.rglob("*"))
    assert read_notebook(folder / f"{ASSIGNMENT}.ipynb").cells


def test_what_learner_code_leaves_in_its_folder_stays_out_of_the_course(corpus):
    course = corpus["course"]
    for learner in ("litters_its_folder", "plants_links"):
        folder = course.path("autograded", learner, ASSIGNMENT)
        assert sorted(p.name for p in folder.iterdir()) == [f"{ASSIGNMENT}.ipynb"], learner


def test_a_secret_in_the_graders_environment_reaches_no_notebook_feedback_or_report(corpus, tmp_path):
    from grader.commands import feedback_course
    from grader.assessment.proficiency import assess
    from grader.reporting.learner import write_learner_reports
    from grader.assessment.rubric import load_rubric

    course, learner = corpus["course"], "prints_the_environment"
    autograded = course.path("autograded", learner, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
    assert "('PATH', " in autograded.read_text(), "the learner's print of the environment ran"
    pages = feedback_course(course, [ASSIGNMENT], [learner], progress=lambda line: None)
    result = assess(learner, list(corpus["outcomes"][learner].values()), load_rubric())
    reports = write_learner_reports([result], tmp_path, workers=1)
    written = [*course.root.rglob("*.ipynb"), *pages, reports[learner], reports[learner].with_suffix(".json")]
    assert len(written) > 40
    assert not [path for path in written if SECRET in path.read_text(errors="replace")]
    assert "MLCOURSE_CORPUS_SECRET" not in autograded.read_text()


def test_forged_or_stripped_metadata_is_undone_from_the_source(corpus):
    course = corpus["course"]
    for learner in ("forged_metadata", "stripped_metadata"):
        nb = read_notebook(course.path("autograded", learner, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb")
        graded = [c.metadata["nbgrader"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert sorted(g["grade_id"] for g in graded) == sorted(e.grade_id for e in corpus["exercises"]), learner
        assert {g["grade_id"]: g["points"] for g in graded} == {e.grade_id: e.points for e in corpus["exercises"]}
