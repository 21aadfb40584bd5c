"""Grading many submissions at once: worker processes on this machine, or the workers of a Dask cluster.

A *job* is one submission. A worker grades it with nbgrader's own autograde
(sanitize, execute in the sandbox, save grades) in a scratch course of its
own: a copy of the *template*, which holds the released assignments' source
and a private SQLite gradebook made by nbgrader's ``generate_assignment``. The
worker sends back what nbgrader recorded there and the autograded notebooks;
the grading process alone writes them into the course gradebook
(:func:`grader.grading.gradebook.record`). So the course gradebook has one writer, a
job can be run again anywhere, and a worker that dies costs only its jobs'
time: they are graded again.

Backends, all with ``run(jobs, template, notify) -> iterator of JobResult``:

* :class:`InlineWorker` - one job after another in this process;
* :class:`ProcessWorkers` - a pool of worker processes on this machine;
* :class:`DaskWorkers` - the workers of a running ``dask.distributed`` cluster.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import io
import os
import shutil
import signal
import socket
import tarfile
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

from grader.autograde.limits import SandboxLimits
from grader.autograde.outcomes import read_cell_outcomes
from grader.autograde.settings import COURSE_ID
from grader.course import Course
from grader.errors import CourseError, nbgrader_error
from grader.files import read_tree, write_tree
from grader.grading.gradebook import GradedNotebook, GradedSubmission
from grader.autograde.sandbox import take_timings
from grader.paths import ensure_venv_on_path

#: How many times a job is started before a worker that keeps dying is reported as its failure.
MAX_ATTEMPTS = 3
#: Jobs handed to the workers ahead of need, per worker: enough to keep every worker busy, few
#: enough that a large cohort's files are never all in memory.
IN_FLIGHT_PER_WORKER = 2
Notify = Callable[[str], None]


# ---------------------------------------------------------------------------
# What travels to a worker and back
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """The released assignments as a scratch course (source folders and an SQLite gradebook), as a tar archive."""

    key: str
    archive: bytes


@dataclass(frozen=True)
class Job:
    learner: str
    assignment: str
    folder: str              # the submission as staged in the course's submitted/ folder, on the grading machine
    digest: str              # of its files and the assignment's source (see submission_digest)
    limits: SandboxLimits
    sandbox: bool
    attempt: int = 1
    seed: int | None = None  # the learner's variant seed, where the assignment has per-learner variants
    files: dict[str, bytes] = field(default_factory=dict, repr=False)  # filled in by loaded()
    unloadable: str = ""     # why loaded() could not read the files (the worker reports it as the job's failure)

    def loaded(self) -> Job:
        """This job with its submission's files read in, to travel to a worker that may be on another machine.

        Jobs are loaded only as they are handed out, so a large cohort is
        never all in memory at once. Only regular files are read, and no link
        is followed (:func:`grader.files.read_tree`). Never raises: a folder
        that cannot be read travels as ``unloadable``, so that every backend
        reports it as this job's failure.
        """
        try:
            return replace(self, files=read_tree(Path(self.folder)))
        except Exception as exc:  # noqa: BLE001 - one submission's failure must never stop the others
            return replace(self, unloadable=str(exc) if isinstance(exc, CourseError) else unexpected(exc))


@dataclass(frozen=True)
class JobResult:
    learner: str
    assignment: str
    ok: bool
    message: str = ""                 # why it failed; empty when ok
    seconds: float = 0.0              # the worker's wall clock for the job
    timings: tuple[dict, ...] = ()    # per executed notebook: grader.autograde.sandbox.NotebookTiming.as_dict()
    graded: GradedSubmission | None = None
    worker: str = ""                  # host:pid


def failed(job: Job, message: str, worker: str = "") -> JobResult:
    return JobResult(job.learner, job.assignment, False, message, worker=worker)


# ---------------------------------------------------------------------------
# The template: built once per version of the released source, cached in the course folder
# ---------------------------------------------------------------------------


def files_digest(files: dict[str, bytes]) -> str:
    """sha256 of a file tree read by :func:`grader.files.read_tree` (names and contents, in name order)."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + files[path] + b"\0")
    return digest.hexdigest()


def source_digest(course: Course, assignment: str) -> str:
    """sha256 of an assignment's released source folder (what its grades are computed against)."""
    return files_digest(read_tree(course.path("source", "", assignment), outside_links=True))


def submission_digest(files: dict[str, bytes], source: str) -> str:
    """sha256 of a submission's files and its assignment's :func:`source_digest`: equal means same grades."""
    return hashlib.sha256((source + files_digest(files)).encode()).hexdigest()


def course_template(course: Course, assignments: Iterable[str], progress: Notify = print) -> Template:
    """The template for ``assignments``, from the cache in ``<course>/.mlcourse/templates`` or built now."""
    import nbgrader

    names = sorted(set(assignments))
    key = hashlib.sha256(" ".join([nbgrader.__version__, *(f"{a}={source_digest(course, a)}" for a in names)])
                         .encode()).hexdigest()[:32]
    cache = course.root / ".mlcourse" / "templates" / f"{key}.tar"
    if cache.is_file():
        return Template(key, cache.read_bytes())
    progress(f"preparing the grading template for {len(names)} assignment(s)")
    with tempfile.TemporaryDirectory(prefix="mlcourse-template-") as scratch:
        template = Course(Path(scratch) / "course", sandbox=False)  # runs no learner code
        for assignment in names:
            template.generate(assignment, course.path("source", "", assignment))
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            tar.add(template.root / "source", arcname="source")
            tar.add(template.root / "gradebook.db", arcname="gradebook.db")
    cache.parent.mkdir(parents=True, exist_ok=True)
    for old in cache.parent.glob("*.tar"):
        old.unlink(missing_ok=True)
    partial = cache.with_name(f".{key}-{uuid.uuid4().hex}")
    partial.write_bytes(archive.getvalue())
    os.replace(partial, cache)  # atomic: another grading process may be writing the same template
    return Template(key, archive.getvalue())


_unpacked: dict[str, Path] = {}
_unpack_lock = threading.Lock()


def _template_folder(template: Template) -> Path:
    """The template unpacked once per worker process (removed when the process exits)."""
    with _unpack_lock:
        folder = _unpacked.get(template.key)
        if folder is None or not folder.is_dir():
            folder = Path(tempfile.mkdtemp(prefix="mlcourse-template-"))
            with tarfile.open(fileobj=io.BytesIO(template.archive)) as tar:
                tar.extractall(folder, filter="data")
            _unpacked[template.key] = folder
            atexit.register(shutil.rmtree, folder, True)
        return folder


# ---------------------------------------------------------------------------
# One job, in a worker
# ---------------------------------------------------------------------------


def grade_job(job: Job, template: Template) -> JobResult:
    """Grade one submission with nbgrader's autograde in a scratch course.

    Never raises: whatever goes wrong, in nbgrader, in the grader's own code
    or in the scratch course, is this job's failed result, with the reason.
    """
    worker = f"{socket.gethostname()}:{os.getpid()}"
    start = time.perf_counter()
    if job.unloadable:
        return failed(job, f"the staged submission could not be read: {job.unloadable}", worker)
    root = Path(tempfile.mkdtemp(prefix="mlcourse-job-"))
    try:
        shutil.copytree(_template_folder(template), root, dirs_exist_ok=True)
        write_tree(root / "submitted" / job.learner / job.assignment, job.files)
        course = Course(root, limits=job.limits, sandbox=job.sandbox, learner_seed=job.seed)
        course.check_sandbox()
        take_timings()
        result = course.api.autograde(job.assignment, job.learner, force=True, create=True)
        timings = tuple(t.as_dict() for t in take_timings())
        seconds = time.perf_counter() - start
        if not result["success"]:
            return JobResult(job.learner, job.assignment, False, f"nbgrader's autograde failed: {nbgrader_error(result)}",
                             seconds, timings, worker=worker)
        graded = _read_graded(course, job, seconds)
        return JobResult(job.learner, job.assignment, True, "", seconds, timings, graded, worker)
    except CourseError as exc:
        return failed(job, f"{exc} (worker {worker})", worker)
    except Exception as exc:  # noqa: BLE001 - one submission's failure must never stop the others
        return failed(job, f"{unexpected(exc)} (worker {worker})", worker)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def unexpected(exc: BaseException) -> str:
    """A one-line reason for an error the grader did not foresee, naming it as the grader's own."""
    text = " ".join(str(exc).split())[:300]
    return f"the grader failed on this submission ({type(exc).__name__}{': ' + text if text else ''})"


def _read_graded(course: Course, job: Job, seconds: float) -> GradedSubmission:
    from nbgrader.api import Gradebook

    submitted = course.path("submitted", job.learner, job.assignment)
    with Gradebook(course.db_url, COURSE_ID) as gb:
        submission = gb.find_submission(job.assignment, job.learner)
        notebooks = tuple(
            GradedNotebook(
                name=nb.name,
                submitted=(submitted / f"{nb.name}.ipynb").is_file(),
                late_penalty=nb.late_submission_penalty,
                grades={g.name: (g.auto_score, bool(g.needs_manual_grade)) for g in nb.grades},
                comments={c.name: c.auto_comment for c in nb.comments},
            )
            for nb in submission.notebooks
        )
        timestamp = submission.timestamp
    autograded, source = course.path("autograded", job.learner, job.assignment), course.path("source", "", job.assignment)
    cells = {nb.name: read_cell_outcomes(autograded / f"{nb.name}.ipynb", source / f"{nb.name}.ipynb")
             for nb in notebooks if nb.submitted}
    return GradedSubmission(job.learner, job.assignment, job.digest, timestamp, notebooks,
                            _autograded_files(course, job), seconds, {name: c for name, c in cells.items() if c})


def _autograded_files(course: Course, job: Job) -> dict[str, bytes]:
    """The autograded folder: what nbgrader wrote there (the executed notebooks, the submitted and source files).

    Learner code never saw this folder (the sandbox gives the kernel a copy),
    and it is read without following links all the same.
    """
    return read_tree(course.path("autograded", job.learner, job.assignment))


# ---------------------------------------------------------------------------
# Backends
# ---------------------------------------------------------------------------


class InlineWorker:
    """Every job in this process, one after another."""

    description = "1 worker (this process)"

    def sized_for(self, jobs: int) -> InlineWorker:
        return self

    def run(self, jobs: list[Job], template: Template, notify: Notify) -> Iterator[JobResult]:
        for job in jobs:
            yield grade_job(job.loaded(), template)

    def close(self) -> None:
        pass


_pool_template: Template | None = None


def _start_pool_worker(template: Template, kernel_threads: int) -> None:
    global _pool_template
    _pool_template = template
    # Die with the grading process, even on kill -9: the sandboxed kernels then die with this worker.
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # One kernel per core: BLAS and torch threads beyond that only fight over the cores.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(kernel_threads))
    ensure_venv_on_path()


def _grade_in_pool(job: Job) -> JobResult:
    assert _pool_template is not None, "worker started without a template"
    return grade_job(job, _pool_template)


@dataclass
class ProcessWorkers:
    """A pool of worker processes on this machine; when one dies, its unfinished jobs are graded again."""

    count: int

    @property
    def description(self) -> str:
        return f"{self.count} worker processes"

    def sized_for(self, jobs: int):
        """No more workers than jobs: each would cost a process start for nothing."""
        return InlineWorker() if min(self.count, jobs) == 1 else ProcessWorkers(min(self.count, jobs))

    def run(self, jobs: list[Job], template: Template, notify: Notify) -> Iterator[JobResult]:
        kernel_threads = max(1, available_cores() // self.count)
        queue = list(jobs)
        while queue:
            pool = ProcessPoolExecutor(self.count, mp_context=get_context("spawn"),
                                       initializer=_start_pool_worker, initargs=(template, kernel_threads))
            waiting, queue, pending = queue, [], {}
            try:
                while waiting or pending:
                    while waiting and len(pending) < IN_FLIGHT_PER_WORKER * self.count:
                        job = waiting.pop(0)
                        pending[pool.submit(_grade_in_pool, job.loaded())] = job
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        job = pending.pop(future)
                        try:
                            result = future.result()
                        except BrokenProcessPool:
                            queue.append(job)
                            continue
                        except Exception as exc:  # noqa: BLE001 - e.g. a result that could not be sent back
                            result = failed(job, unexpected(exc))
                        yield result
                    if queue:  # the pool is broken: every job not done goes round again
                        queue += [*pending.values(), *waiting]
                        waiting, pending = [], {}
            finally:
                pool.shutdown(wait=not queue, cancel_futures=True)
            if queue:
                retry = [replace(job, attempt=job.attempt + 1) for job in queue if job.attempt < MAX_ATTEMPTS]
                for job in queue:
                    if job.attempt >= MAX_ATTEMPTS:
                        yield failed(job, f"the grading worker died {MAX_ATTEMPTS} times while grading it")
                notify(f"a grading worker died; {len(retry)} unfinished submission(s) will be graded again")
                queue = retry

    def close(self) -> None:
        pass


class DaskWorkers:
    """The workers of a running Dask distributed cluster (``dask scheduler`` / ``dask worker``).

    Each worker needs this project installed, bubblewrap, and root (as for
    grading on one machine); start workers with ``--nthreads 1`` so that each
    grades one submission at a time. Dask runs a job again elsewhere if its
    worker dies, up to the scheduler's ``allowed-failures``; a job that still
    fails is that submission's failed result, as on the other backends.
    """

    def __init__(self, address: str):
        from distributed import Client

        try:
            self.client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise CourseError(f"no Dask scheduler answers at {address}: {exc}") from None
        self.address = address

    @property
    def description(self) -> str:
        return f"{self._worker_count()} Dask workers at {self.address}"

    def _worker_count(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def sized_for(self, jobs: int) -> DaskWorkers:
        return self

    def run(self, jobs: list[Job], template: Template, notify: Notify) -> Iterator[JobResult]:
        from distributed import as_completed

        workers = self._worker_count()
        if not workers:
            raise CourseError(f"the Dask scheduler at {self.address} has no workers")
        shared = self.client.scatter(template, broadcast=True)
        run_id = uuid.uuid4().hex[:8]
        waiting, pending = list(jobs), {}

        def hand_out():
            job = waiting.pop(0)
            future = self.client.submit(grade_job, job.loaded(), shared, pure=False,
                                        key=f"mlcourse-grade-{job.learner}-{job.assignment}-{run_id}")
            pending[future] = job
            return future

        running = as_completed([hand_out() for _ in range(min(len(waiting), IN_FLIGHT_PER_WORKER * workers))])
        for future in running:
            job = pending.pop(future)
            if waiting:
                running.add(hand_out())
            try:
                result = future.result()
            except Exception as exc:  # a worker died too often (KilledWorker), or lacks this project
                result = failed(job, f"the Dask cluster could not grade it: {type(exc).__name__}: {exc}")
            yield result

    def close(self) -> None:
        self.client.close()


def available_cores() -> int:
    return len(os.sched_getaffinity(0))


def make_workers(count: int | None = None, scheduler: str | None = None):
    """The backend for ``--workers``/``--scheduler``: Dask if a scheduler is given, else processes (or inline for 1).

    ``count`` defaults to one worker per core. Connecting to the scheduler
    happens here, so a wrong address fails before anything is graded.
    """
    if scheduler:
        return DaskWorkers(scheduler)
    count = available_cores() if count is None else count
    if count < 1:
        raise CourseError(f"--workers must be at least 1, got {count}")
    return InlineWorker() if count == 1 else ProcessWorkers(count)
