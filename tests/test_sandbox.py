"""The grading sandbox on its own: what a confined kernel can and cannot do.

Each test runs real code in a real kernel started by
:class:`grader.autograde.sandbox.SandboxedKernelManager` (bubblewrap + setpriv +
prlimit) through :class:`grader.autograde.sandbox.GuardedExecute`, the step nbgrader's
autograde runs. (The adversarial corpus against the course's own notebooks,
graded end to end, is in test_adversarial.py.)
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from grader.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from grader.autograde.limits import SandboxLimits
from grader.autograde.outcomes import KERNEL_DIED, NOTEBOOK_TIME_LIMIT
from grader.autograde.sandbox import (
    GuardedExecute,
    SandboxedKernelManager,
    find_bwrap,
    processes_of,
    sandbox_command,
    worker_sandbox_uid,
)

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None or os.geteuid() != 0,
                                reason="the sandbox needs bubblewrap and root (.ci/run installs bubblewrap)")


def run_cells(tmp_path, *sources, cell_timeout=30, notebook_timeout=120, **limits):
    """Execute ``sources`` as one notebook in a sandboxed kernel; return the executed cells."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(textwrap.dedent(s)) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    config = Config()
    config.GuardedExecute.kernel_manager_class = SandboxedKernelManager
    config.GuardedExecute.timeout = cell_timeout
    config.GuardedExecute.notebook_timeout = notebook_timeout
    config.GuardedExecute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]
    for name, value in limits.items():
        setattr(config.SandboxedKernelManager, name, value)
    work = tmp_path / "work"
    work.mkdir(parents=True, exist_ok=True)
    executed, _ = GuardedExecute(config=config).preprocess(nb, {"metadata": {"path": str(work)}})
    return executed.cells


def text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def error(cell) -> tuple[str, str] | None:
    errors = [(o.ename, o.evalue) for o in cell.outputs if o.output_type == "error"]
    return errors[-1] if errors else None


def test_the_kernel_sees_only_what_it_needs(tmp_path):
    cells = run_cells(
        tmp_path,
        "import os; print(os.getuid(), os.getcwd())",
        f"print(sorted(os.listdir({str(PROJECT_ROOT)!r})))",
        f"print(os.path.exists({str(NOTEBOOKS_DIR)!r}), os.path.exists({str(tmp_path.parent)!r} + '/other'))",
        "import mlcourse.world; print('imports fine')",
    )
    uid, cwd = text(cells[0]).split()
    assert int(uid) != 0 and cwd == str((tmp_path / "work").resolve())
    visible = eval(text(cells[1]))  # a printed list of names
    assert "notebooks" not in visible and "tests" not in visible and "mlcourse" in visible
    assert text(cells[2]).split() == ["False", "False"]
    assert text(cells[3]).strip() == "imports fine"


def test_no_network_not_even_loopback(tmp_path):
    cells = run_cells(tmp_path, "import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=2)",
                      "socket.create_connection(('93.184.216.34', 80), timeout=2)")
    assert error(cells[0])[0] in ("ConnectionRefusedError", "OSError")
    assert error(cells[1])[0] in ("OSError", "TimeoutError")


def test_the_file_system_is_read_only_but_for_a_copy_of_the_working_folder(tmp_path):
    import mlcourse

    package = os.path.dirname(mlcourse.__file__)
    work = tmp_path / "work"
    work.mkdir()
    (work / "data.csv").write_text("a,b\n")
    (work / "work.ipynb").write_text("sanitized, with its hidden tests")
    private_tmp = f"/tmp/mlcourse-private-{os.getpid()}-{tmp_path.name}"  # a name nothing else on the host uses
    cells = run_cells(tmp_path, f"open({package + '/evil.py'!r}, 'w')", "open('mine.txt', 'w').write('ok')",
                      f"open({private_tmp!r}, 'w').write('private tmp')",
                      "import os; print(sorted(os.listdir('.')), open('mine.txt').read(), open('data.csv').read().strip())")
    assert error(cells[0])[0] in ("OSError", "PermissionError")
    assert error(cells[1]) is None and error(cells[2]) is None and not os.path.exists(private_tmp)
    # The kernel works in a copy of the folder's data files (no notebook: the one being run holds hidden tests) ...
    listed, *read = text(cells[3]).rsplit("]", 1)[0] + "]", *text(cells[3]).rsplit("]", 1)[1].split()
    assert [n for n in eval(listed) if not n.startswith(".")] == ["data.csv", "mine.txt"] and read == ["ok", "a,b"]
    # ... and the folder itself, where nbgrader writes the results, is untouched and still the grader's.
    assert sorted(p.name for p in work.iterdir()) == ["data.csv", "work.ipynb"]
    assert all(p.stat().st_uid == os.geteuid() for p in [work, *work.iterdir()])


def test_what_learner_code_plants_in_its_folder_never_reaches_the_grader(tmp_path):
    victim = tmp_path / "victim.db"
    victim.write_bytes(b"the course gradebook")
    cells = run_cells(
        tmp_path,
        "import os, socket\n"
        f"os.symlink({str(victim)!r}, 'work.ipynb'); os.symlink('../victim.db', 'relative.ipynb')\n"
        "os.mkfifo('fifo'); socket.socket(socket.AF_UNIX).bind('sock')\n"
        "os.makedirs('/'.join(['d'] * 40)); [open(f'f{i}', 'w').close() for i in range(2000)]\n"
        "os.link('f0', 'hard')",
        "print(os.path.islink('work.ipynb'), len([n for n in os.listdir('.') if not n.startswith('.')]))")
    assert error(cells[0]) is None and text(cells[1]).split() == ["True", "2006"]
    work = tmp_path / "work"
    assert list(work.iterdir()) == [] and victim.read_bytes() == b"the course gradebook"
    assert not list(Path(tempfile.gettempdir()).glob("mlk-*/work/f1999")), "the kernel's copy is removed with it"


def test_a_secret_in_the_graders_environment_never_reaches_learner_code(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://grader:hunter2@db/mlcourse")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter2-aws")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    [cell] = run_cells(tmp_path, "import os; print(sorted(os.environ.items()))")
    seen = text(cell)
    assert "hunter2" not in seen and "DATABASE_URL" not in seen
    assert "('OMP_NUM_THREADS', '1')" in seen and "('PATH'," in seen, "what the kernel needs still reaches it"


def test_a_course_can_let_more_variables_through(tmp_path, monkeypatch):
    from grader.autograde.sandbox import kernel_environment

    environment = {"PATH": "/usr/bin", "COURSE_DATA": "x", "COURSE_DATA_DIR": "y", "TOKEN": "z", "LC_ALL": "C"}
    assert kernel_environment(environment) == {"PATH": "/usr/bin", "LC_ALL": "C"}
    assert kernel_environment(environment, ["COURSE_DATA"]) == {"PATH": "/usr/bin", "LC_ALL": "C", "COURSE_DATA": "x"}
    assert set(kernel_environment(environment, ["COURSE_*"])) == {"PATH", "LC_ALL", "COURSE_DATA", "COURSE_DATA_DIR"}


def test_a_memory_bomb_gets_a_memory_error(tmp_path):
    cells = run_cells(tmp_path, "b = bytearray(8 * 2**30)", "print('still alive')", memory_mb=2048)
    assert error(cells[0])[0] == "MemoryError"
    assert text(cells[1]).strip() == "still alive"


def test_a_fork_bomb_hits_the_process_limit(tmp_path):
    bomb = """
    import os, time
    children = 0
    try:
        for _ in range(10_000):
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            children += 1
    except OSError as exc:
        print("stopped after", children, type(exc).__name__)
    """
    cells = run_cells(tmp_path, bomb, processes=64)
    printed = text(cells[0]).split()
    assert printed[:2] == ["stopped", "after"] and int(printed[2]) < 64


FORK_BOMB_FOREVER = """
import os, time
try:
    while True:
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
except OSError as exc:
    print('stopped:', type(exc).__name__)
"""


def test_a_kernel_at_its_process_limit_still_sends_large_outputs(tmp_path):
    # The bomb's children outlive the cell, so every later cell runs with no process to spare.
    cells = run_cells(tmp_path, FORK_BOMB_FOREVER, "print('x' * 300_000)", "print('next')", processes=48)
    assert text(cells[0]).strip() == "stopped: BlockingIOError"
    assert len(text(cells[1]).strip()) == 300_000 and text(cells[2]).strip() == "next"


def test_what_a_learner_leaves_running_is_stopped_before_the_next_kernel(tmp_path):
    uid = worker_sandbox_uid()  # this thread's: both notebooks below run as it
    run_cells(tmp_path / "first", FORK_BOMB_FOREVER, processes=48)
    assert processes_of(uid) == [], "the bomb's children outlived grading"
    cells = run_cells(tmp_path / "second", "print('fresh', len(__import__('os').sched_getaffinity(0)) > 0)",
                      processes=48)
    assert text(cells[0]).strip() == "fresh True"


def test_a_kernel_that_exits_is_recorded_and_later_cells_are_marked(tmp_path):
    cells = run_cells(tmp_path, "x = 1", "import os; os._exit(3)", "print(x)")
    assert error(cells[0]) is None
    assert error(cells[1])[0] == KERNEL_DIED and error(cells[2])[0] == KERNEL_DIED
    assert error(cells[2])[1].startswith("not run")


def test_an_endless_cell_times_out_and_the_notebook_budget_holds(tmp_path):
    cells = run_cells(tmp_path, "while True: pass", "print('next')", "import time; time.sleep(60)", "print('never')",
                      cell_timeout=3, notebook_timeout=4)
    assert error(cells[0])[0] == "CellTimeoutError"
    assert text(cells[1]).strip() == "next"
    assert error(cells[3])[0] == NOTEBOOK_TIME_LIMIT


def test_sandbox_command_binds_no_project_folder_but_the_package(tmp_path):
    import numpy

    command = sandbox_command(["true"], tmp_path, SandboxLimits(), 61_001, bwrap=find_bwrap())
    binds = [command[i + 1] for i, arg in enumerate(command) if arg == "--ro-bind"]

    def visible(path) -> bool:
        path = str(Path(path).resolve())
        return any(path == bind or path.startswith(bind.rstrip("/") + "/") for bind in binds)

    needed = ["/usr/lib", sys.executable, Path(numpy.__file__).parent, PROJECT_ROOT / "mlcourse" / "__init__.py"]
    assert [path for path in needed if not visible(path)] == []
    kept_out = [PROJECT_ROOT / "notebooks", PROJECT_ROOT / "tests", PROJECT_ROOT / "grader", PROJECT_ROOT / "rubrics",
                tmp_path, Path.home()]
    assert [path for path in kept_out if visible(path)] == []
    assert "--unshare-net" in command and "--reuid=61001" in command and "--no-new-privs" in command

