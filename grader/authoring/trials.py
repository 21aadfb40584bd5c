"""Trying wrong answers fast: a notebook's setup runs once, each trial only its own exercise's cells.

A :class:`Trial` puts other code in one solution cell's place: a hand-written
mistake, a generated mutant, the released stub. What a trial needs to know is
which of its exercise's graded cells fail.

Grading each trial as a submission would run the whole notebook per trial.
Instead one worker process runs the *source* notebook (solutions and hidden
tests, as nbgrader's autograde restores them) cell by cell in an IPython
shell. Just before a solution cell that has trials, the worker forks one child
per trial. The child runs the trial's code in the cell's place, then the cells
up to the exercise's last graded cell, notes the graded cells that raise, and
exits; the parent, untouched by what the child did, runs the real solution and
goes on. A trial therefore costs its exercise's cells, and no trial sees
another's state. The first child of every exercise runs the real solution: if
it fails there, the exercise's trials say nothing and the exercise is
reported as not checkable this way.

A graded cell fails when it raises, as in nbgrader (a test cell never ends
with a numeric expression, so no partial credit is read from one). A child
that exceeds its deadline, or dies, counts as failing every cell it had not
passed: a grader would have timed it out or lost its kernel.

The worker runs trusted code only (the instructor's source and changes made
to it), so it is not sandboxed; it works in a scratch copy of the assignment
folder, one BLAS/OpenMP thread per process (forking is only safe that way),
and each child under an address-space limit.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.autograde.limits import MIB, limit
from grader.catalogue import ExerciseBlock, exercise_blocks, read_notebook, solution_cells

#: Environment of the worker: one thread per process (libgomp is not fork-safe once its pool has started)
#: and a plotting backend that needs no screen.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg",
              "PYTHONHASHSEED": "0"}
#: A trial's deadline: this many times what the real solution took on the same cells, and never below the floor.
DEADLINE_FACTOR, DEADLINE_FLOOR_S = 4.0, 20.0
#: Address space a child may add to what the worker holds when it forks (a mutant that allocates without end).
CHILD_EXTRA_MEMORY_MB = limit("memory_mb").default


@dataclass(frozen=True)
class Trial:
    """Code to run in place of one solution cell (``solution``, a grade_id)."""

    solution: str
    name: str           # "mistake ex5-mistake-ties", "mutant 7:12 Lt>LtE": unique per solution cell
    code: str
    stop_at_first_failure: bool = False  # enough to know it is caught (mutants); mistakes report every cell


@dataclass(frozen=True)
class TrialResult:
    """Which graded cells of the trial's exercise failed, and the points that cost."""

    trial: Trial
    exercise: str
    graded: tuple[str, ...]                 # the exercise's graded cells, in order
    failed: tuple[str, ...]                 # those that raised (or were never reached)
    points_lost: float
    points: float
    seconds: float
    problem: str = ""                       # "timed out after 40 s", "died (signal 9)": failing, with a reason

    @property
    def caught(self) -> bool:
        return bool(self.failed)


@dataclass
class TrialRun:
    """Everything one worker found for one notebook."""

    notebook: str
    results: list[TrialResult] = field(default_factory=list)
    #: Exercises whose own solution failed when forked: their trials cannot be judged (grade_id -> why).
    unreliable: dict[str, str] = field(default_factory=dict)
    #: Solution cells with trials that the notebook does not have.
    unknown: list[str] = field(default_factory=list)
    seconds: float = 0.0


# -- the caller's side -------------------------------------------------------------
def run_trials(notebook: Path, trials: Iterable[Trial], jobs: int | None = None, seed: int | None = None,
               progress: Callable[[str], None] = print) -> TrialRun:
    """Run ``trials`` against the source ``notebook`` in a worker process (see the module docstring).

    ``jobs`` children run at once (default: the CPUs). ``seed`` overrides the
    parameters cell's ``SEED`` as papermill would. Progress lines go to
    ``progress``.
    """
    notebook = Path(notebook)
    trials = list(trials)
    scratch = Path(tempfile.mkdtemp(prefix="mlcourse-trials-"))
    try:
        work = scratch / notebook.parent.name
        shutil.copytree(notebook.parent, work, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        job, out = scratch / "job.json", scratch / "out.json"
        job.write_text(json.dumps({"notebook": str(work / notebook.name), "trials": [asdict(t) for t in trials],
                                   "jobs": jobs or os.cpu_count() or 1, "seed": seed}))
        env = {**os.environ, **WORKER_ENV}
        process = subprocess.Popen([sys.executable, "-m", __name__, str(job), str(out)], cwd=work, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        tail: list[str] = []
        for line in process.stderr:
            line = line.rstrip("\n")
            if line.startswith(_PROGRESS):
                progress(line.removeprefix(_PROGRESS))
            else:
                tail = (tail + [line])[-20:]
        if process.wait() != 0 or not out.is_file():
            raise RuntimeError(f"the trial worker for {notebook} failed (exit {process.returncode}):\n"
                               + "\n".join(tail))
        return _read_run(json.loads(out.read_text()), trials)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _read_run(data: dict, trials: list[Trial]) -> TrialRun:
    by_key = {(t.solution, t.name): t for t in trials}
    run = TrialRun(data["notebook"], unreliable=data["unreliable"], unknown=data["unknown"], seconds=data["seconds"])
    for item in data["results"]:
        trial = by_key[(item.pop("solution"), item.pop("name"))]
        run.results.append(TrialResult(trial, item["exercise"], tuple(item["graded"]), tuple(item["failed"]),
                                       item["points_lost"], item["points"], item["seconds"], item["problem"]))
    return run


# -- the worker --------------------------------------------------------------------
_PROGRESS = "@@progress "


_STDERR = 2  # replaced by a copy of the real stderr once cell output is silenced


def _say(message: str) -> None:
    os.write(_STDERR, f"{_PROGRESS}{message}\n".encode())


def _silence_cell_output() -> None:
    """Send what cells print to /dev/null; keep a descriptor to the caller's stderr for progress."""
    global _STDERR
    _STDERR = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)


def _shell():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance(colors="NoColor")
    shell.showtraceback = lambda *args, **kwargs: None  # a failing cell is a result, not something to print
    return shell


def _runs(shell, source: str) -> bool:
    """Run one cell; True when it raised nothing."""
    return shell.run_cell(source, store_history=False, silent=False).success


def _points(cell) -> float:
    return float(cell.metadata.get("nbgrader", {}).get("points", 0) or 0)


@dataclass
class _Child:
    trial: dict
    pid: int
    pipe: int
    started: float
    deadline: float
    data: bytes = b""

    def verdicts(self) -> dict[str, bool]:
        """What the child reported: graded cell -> passed, in the order it ran them."""
        lines = [json.loads(line) for line in self.data.decode(errors="replace").splitlines() if line]
        return {line["cell"]: line["ok"] for line in lines if "cell" in line}

    def finished(self) -> bool:
        return self.data.rstrip().endswith(_DONE)


_DONE = b'{"done": true}'


def _child_main(shell, nb, block: ExerciseBlock, start: int, trial: dict, pipe: int) -> None:
    """In the forked child: the trial's code in cell ``start``'s place, then the exercise's cells.

    Each graded cell's verdict is written to ``pipe`` as it comes, so a child
    killed at its deadline still says what it had passed.
    """
    os.setpgid(0, 0)  # the parent kills the child's whole group: processes a trial starts go with it
    held = int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    cap = held + CHILD_EXTRA_MEMORY_MB * MIB
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    graded = set(block.graded)
    _runs(shell, trial["code"])
    for index in range(start + 1, block.last + 1):
        cell = nb.cells[index]
        if cell.cell_type != "code":
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        ok = _runs(shell, cell.source)
        if grade_id in graded:
            os.write(pipe, (json.dumps({"cell": grade_id, "ok": ok}) + "\n").encode())
            if not ok and trial["stop_at_first_failure"]:
                break
    os.write(pipe, _DONE + b"\n")


def _fork(shell, nb, block: ExerciseBlock, start: int, trial: dict, deadline_s: float) -> _Child:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        try:
            _child_main(shell, nb, block, start, trial, write)
        finally:
            os._exit(0)
    os.close(write)
    now = time.monotonic()
    return _Child(trial, pid, read, now, now + deadline_s)


def _collect(children: list[_Child], limit_running: int) -> list[tuple[_Child, str]]:
    """Wait until fewer than ``limit_running`` children run (0: until none does); the ones that ended, with
    what went wrong ("" when the child ran all its cells)."""
    ended: list[tuple[_Child, str]] = []
    while children and len(children) >= max(limit_running, 1):
        timeout = max(0.0, min(c.deadline for c in children) - time.monotonic())
        readable, _, _ = select.select([c.pipe for c in children], [], [], min(timeout, 1.0))
        for child in [c for c in children if c.pipe in readable]:
            chunk = os.read(child.pipe, 1 << 16)
            child.data += chunk
            if not chunk:  # the child closed its end: it has ended
                _, status = os.waitpid(child.pid, 0)
                ended.append((child, "" if child.finished() else _death(status)))
                children.remove(child)
                os.close(child.pipe)
        for child in [c for c in children if time.monotonic() > c.deadline]:
            os.killpg(child.pid, signal.SIGKILL)
            os.waitpid(child.pid, 0)
            os.close(child.pipe)
            ended.append((child, f"timed out after {child.deadline - child.started:.0f} s"))
            children.remove(child)
    return ended


def _death(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"died (signal {os.WTERMSIG(status)})"
    return "ended before its cells were done"


def _failed(child: _Child, block: ExerciseBlock) -> list[str]:
    """Graded cells that failed; a cell the child never reported failed too (not reached, or cut short),
    except after the first failure of a trial that stops there."""
    verdicts = child.verdicts()
    if child.trial["stop_at_first_failure"] and child.finished():
        return [g for g in block.graded if verdicts.get(g) is False]
    return [g for g in block.graded if not verdicts.get(g, False)]


def _judge_exercise(shell, nb, block: ExerciseBlock, start: int, trials: list[dict], jobs: int,
                    points: dict[str, float], out: dict) -> None:
    """Every trial of the solution cell at ``start``, after a child that runs the real solution."""
    reference = {"solution": "", "name": "(the solution)", "code": nb.cells[start].source,
                 "stop_at_first_failure": False}
    begun = time.monotonic()
    ((child, problem),) = _collect([_fork(shell, nb, block, start, reference, 600.0)], 0)
    baseline = time.monotonic() - begun
    if problem or _failed(child, block):
        out["unreliable"][block.id] = problem or f"the solution fails {', '.join(_failed(child, block))} when forked"
        return
    deadline = max(DEADLINE_FLOOR_S, DEADLINE_FACTOR * baseline)
    total = sum(points[g] for g in block.graded)
    running: list[_Child] = []
    _say(f"{block.id}: {len(trials)} wrong answer(s)")
    for trial in trials:
        _record(_collect(running, jobs), block, points, total, out)
        running.append(_fork(shell, nb, block, start, trial, deadline))
    _record(_collect(running, 0), block, points, total, out)
    _say(f"{block.id}: done in {time.monotonic() - begun:.1f} s")


def _record(ended: list[tuple[_Child, str]], block: ExerciseBlock, points: dict[str, float], total: float,
            out: dict) -> None:
    for child, problem in ended:
        failed = _failed(child, block)
        out["results"].append({"solution": child.trial["solution"], "name": child.trial["name"],
                               "exercise": block.id, "graded": list(block.graded), "failed": failed,
                               "points_lost": sum(points[g] for g in failed), "points": total,
                               "seconds": round(time.monotonic() - child.started, 3), "problem": problem})


def _inject_seed(nb, seed: int | None) -> None:
    if seed is None:
        return
    for index, cell in enumerate(nb.cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            nb.cells.insert(index + 1, type(cell)(cell_type="code", source=f"SEED = {int(seed)}", metadata={},
                                                  outputs=[], execution_count=None))
            return


def worker(job_path: Path, out_path: Path) -> None:
    """The worker's main: run the notebook of ``job_path`` with its trials and write the results."""
    job = json.loads(Path(job_path).read_text())
    nb = read_notebook(Path(job["notebook"]))
    _inject_seed(nb, job.get("seed"))
    trials: dict[str, list[dict]] = {}
    for trial in job["trials"]:
        trials.setdefault(trial["solution"], []).append(trial)
    known = solution_cells(nb)
    out = {"notebook": job["notebook"], "results": [], "unreliable": {}, "unknown": sorted(set(trials) - set(known)),
           "seconds": 0.0}
    blocks = {g: b for b in exercise_blocks(nb) for g in b.solutions}
    points = {c.metadata["nbgrader"]["grade_id"]: _points(c) for c in nb.cells
              if c.get("metadata", {}).get("nbgrader", {}).get("grade")}
    last = max((blocks[g].last for g in trials if g in blocks), default=-1)
    begun = time.monotonic()
    _silence_cell_output()
    shell = _shell()
    for index, cell in enumerate(nb.cells[: last + 1]):
        if cell.cell_type != "code":
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in trials and grade_id in blocks:
            _judge_exercise(shell, nb, blocks[grade_id], index, trials[grade_id], job["jobs"], points, out)
        _runs(shell, cell.source)
    out["seconds"] = round(time.monotonic() - begun, 3)
    Path(out_path).write_text(json.dumps(out))


if __name__ == "__main__":
    worker(Path(sys.argv[1]), Path(sys.argv[2]))
