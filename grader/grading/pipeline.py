"""The grading pipeline: small named steps from a submissions folder to the gradebook.

``grade(course, submissions_dir)`` runs, in order:

1. :func:`discover_submissions` - find ``<learner>/<assignment>/`` folders and
   set aside, with a reason, anything that is not a gradable submission;
2. :func:`ensure_released` - release assignments not yet in the gradebook;
3. :func:`plan_jobs` - skip submissions graded before from the same files and
   source (unless ``force``), fail unreadable notebooks with the reason, and
   order the rest longest first;
4. :func:`grade_and_record` - workers (:mod:`grader.grading.workers`) run nbgrader's
   autograde; this process alone records each result as it arrives
   (:mod:`grader.grading.gradebook`), reporting progress; a failed submission is
   recorded as such and the run goes on;
5. the :class:`GradingSummary`, printed and written to ``<course>/grading-summary.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.catalogue import find_assignments, notebook_problem
from grader.autograde.outcomes import REFUSED
from grader.course import Course
from grader.errors import CourseError
from grader.files import LEARNER_ID_PATTERN, RefusedTree, printable_name, read_tree
from grader.grading.gradebook import has_submission, past_seconds, record, record_failure, recorded_digests
from grader.autograde.variants import UnknownLearner, course_variants
from grader.grading.workers import (
    Job,
    JobResult,
    course_template,
    make_workers,
    source_digest,
    submission_digest,
    unexpected,
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Submission:
    learner: str
    assignment: str
    folder: Path


@dataclass(frozen=True)
class GradeRun:
    """What happened when one submission was autograded."""

    learner: str
    assignment: str
    ok: bool
    message: str = ""  # why it failed, one line; empty when ok
    seconds: float = 0.0
    unchanged: bool = False  # graded before from the same files and source: not graded again
    timings: tuple[dict, ...] = ()  # per executed notebook, seconds by phase (grader.autograde.sandbox.NotebookTiming)
    worker: str = ""                # host:pid of the worker that graded it


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


#: Where grading time goes, in the order a submission meets it (seconds, summed over submissions).
PHASES = {
    "template": "preparing the template course (once per version of the source)",
    "kernel_start": "starting sandboxed kernels",
    "setup": "setup cells: imports and data, before the first exercise",
    "cells": "exercise and test cells",
    "kernel_shutdown": "stopping kernels",
    "nbgrader": "nbgrader's own steps in the worker (copying, sanitizing, its gradebook)",
    "record": "recording results in the course gradebook (this process)",
}


@dataclass
class GradingSummary:
    runs: list[GradeRun] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0          # the whole run
    grading_seconds: float = 0.0  # from the first job handed to a worker to the last result recorded
    workers: str = ""
    phases: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))

    @property
    def failures(self) -> list[GradeRun]:
        return [run for run in self.runs if not run.ok]

    @property
    def graded(self) -> list[GradeRun]:
        return [run for run in self.runs if not run.unchanged]

    @property
    def work_seconds(self) -> float:
        """Seconds of grading work: the sum of each submission's wall clock in its worker."""
        return sum(run.seconds for run in self.graded)

    def lines(self) -> list[str]:
        unchanged = len(self.runs) - len(self.graded)
        counts = (f"{len(self.graded) - len(self.failures)} ok, {len(self.failures)} failed, "
                  f"{unchanged} unchanged since graded, {len(self.skipped)} skipped")
        if not self.graded:
            return [f"nothing to grade: {counts}"] + [f"  skipped {i.path}: {i.reason}" for i in self.skipped]
        lines = [
            f"graded {len(self.graded)} submission(s) in {self.seconds:.0f} s with {self.workers}: {counts}",
            f"  {self.work_seconds:.0f} s of grading work done in {self.grading_seconds:.0f} s "
            f"({self.work_seconds / max(self.grading_seconds, 1e-9):.1f} submissions at a time on average)",
        ]
        lines.append("  time by phase: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in
                                                     self.phases.items()))
        lines += [f"  failed  {run.learner}/{run.assignment}: {run.message}" for run in self.failures]
        lines += [f"  skipped {item.path}: {item.reason}" for item in self.skipped]
        return lines

    def as_dict(self) -> dict:
        return {
            "seconds": self.seconds, "grading_seconds": self.grading_seconds, "workers": self.workers,
            "work_seconds": self.work_seconds,
            "phases": self.phases, "phase_meanings": PHASES,
            "runs": [{"learner": r.learner, "assignment": r.assignment, "ok": r.ok, "unchanged": r.unchanged,
                      "seconds": r.seconds, "message": r.message, "worker": r.worker,
                      "notebooks": list(r.timings)}
                     for r in self.runs],
            "skipped": [{"path": str(item.path), "reason": item.reason} for item in self.skipped],
        }


def discover_submissions(submissions_dir: Path, known: set[str], wanted: set[str] | None = None):
    """Find ``<learner>/<assignment>/*.ipynb`` under ``submissions_dir``.

    Returns
    -------
    (list[Submission], list[Skipped])
        Submissions in learner, assignment order; everything else with a reason.
    """
    if not submissions_dir.is_dir():
        raise CourseError(
            f"submissions folder {submissions_dir} does not exist; expected <learner>/<assignment>/<notebook>.ipynb"
        )
    found, skipped = [], []
    for learner_dir in sorted(p for p in submissions_dir.iterdir() if not p.name.startswith(".")):
        if learner_dir.is_symlink():  # never followed: it could lead to any folder the grader can read
            skipped.append(Skipped(learner_dir, "a symbolic link, not a learner folder"))
        elif not learner_dir.is_dir():
            skipped.append(Skipped(learner_dir, "not a learner folder"))
        elif not LEARNER_ID_PATTERN.match(learner_dir.name):
            skipped.append(Skipped(learner_dir, "learner id must be letters, digits, '.', '_' or '-'"))
        else:
            for folder in sorted(p for p in learner_dir.iterdir() if not p.name.startswith(".")):
                if wanted and folder.name not in wanted:
                    continue
                if folder.name not in known:
                    skipped.append(Skipped(folder, f"unknown assignment (the course has: {', '.join(sorted(known))})"))
                elif folder.is_symlink():
                    found.append(Submission(learner_dir.name, folder.name, folder))  # refused, with the reason, when read
                elif not folder.is_dir() or not any(folder.glob("*.ipynb")):
                    skipped.append(Skipped(folder, "no notebook in the assignment folder"))
                else:
                    found.append(Submission(learner_dir.name, folder.name, folder))
    return found, skipped


def ensure_released(course: Course, assignments: set[str], progress: Progress) -> None:
    catalogue = find_assignments(course.notebooks_dir)
    for assignment in sorted(assignments):
        if not course.is_released(assignment):
            progress(f"releasing {assignment} (not yet in the gradebook)")
            course.release(catalogue[assignment])


def unreadable(staged: Path) -> str:
    """Why a notebook of the staged submission cannot be read ('' when all read).

    nbgrader would fail on such a file with a generic message; this names the file and the reason.
    """
    for path in sorted(staged.glob("*.ipynb")):
        problem = notebook_problem(path)
        if problem:
            return f"{path.name} is {problem}"
    return ""


def _failed(course: Course, sub: Submission, message: str, progress: Progress) -> GradeRun:
    """A submission settled as failed before grading: recorded, so that the learner's report says why."""
    progress(f"{sub.learner}/{sub.assignment}: FAILED: {message}")
    record_failure(course, sub.learner, sub.assignment, message)
    return GradeRun(sub.learner, sub.assignment, False, message)


#: nbgrader's record of when a submission was handed in, read from the submission folder.
TIMESTAMP_FILE = "timestamp.txt"


def check_timestamp(files: dict[str, bytes]) -> None:
    """Refuse a submission whose ``timestamp.txt`` nbgrader could not read (it would fail the whole autograde)."""
    from nbgrader.utils import parse_utc

    if TIMESTAMP_FILE not in files:
        return
    text = files[TIMESTAMP_FILE].decode("utf-8", errors="replace").strip()
    try:
        parse_utc(text) if text else None
    except (ValueError, OverflowError, TypeError):
        raise RefusedTree(f"{TIMESTAMP_FILE} holds '{printable_name(text[:40])}', "
                          f"which is not a date and time (nbgrader writes e.g. 2026-12-07 09:30:00 UTC)") from None


def _plan(course: Course, sub: Submission, source: str, seed, recorded: dict, progress: Progress) -> Job | GradeRun:
    """One submission's :class:`Job`, or the run it was settled as without grading (see :func:`plan_jobs`)."""
    try:
        files = read_tree(sub.folder)
        check_timestamp(files)
    except RefusedTree as exc:
        return _failed(course, sub, f"{REFUSED}: {exc}", progress)
    # A new roster or secret changes the seed, and so what the submission must be graded against.
    salt = "" if seed is None else f"/seed {seed}"
    digest = submission_digest(files, source + salt)
    if recorded.get((sub.learner, sub.assignment)) == digest \
            and course.path("autograded", sub.learner, sub.assignment).is_dir():
        return GradeRun(sub.learner, sub.assignment, True, unchanged=True)
    try:
        staged = course.stage_submission(sub.learner, sub.assignment, files)
    except OSError as exc:
        return _failed(course, sub, f"could not be staged for grading: {exc}", progress)
    problem = str(seed) if isinstance(seed, UnknownLearner) else unreadable(staged)
    if problem:
        return _failed(course, sub, problem, progress)
    return Job(sub.learner, sub.assignment, str(staged), digest, course.limits, course.sandbox, seed=seed)


def plan_jobs(course: Course, submissions: list[Submission], force: bool, progress: Progress):
    """Decide what to grade.

    Each submission is read once, regular files only (:func:`grader.files.read_tree`:
    a link, FIFO, device, hard link to an outside file or oversized tree
    refuses it, with the reason), and staged from those bytes into the
    course's ``submitted/`` folder, which the workers read.

    Returns
    -------
    (list[Job], list[GradeRun])
        Jobs to run, longest expected first (from past runs' seconds per
        assignment), and runs settled without grading: refused submissions and
        unreadable notebooks (failed), and submissions unchanged since they were graded.
    """
    sources = {a: source_digest(course, a) for a in {sub.assignment for sub in submissions}}
    recorded = {} if force else recorded_digests(course)
    variants = course_variants(course.root)
    seeds = variants.seeds((sub.learner, sub.assignment) for sub in submissions) if variants else {}
    jobs, settled = [], []
    for sub in submissions:
        seed = seeds.get((sub.learner, sub.assignment))
        try:
            planned = _plan(course, sub, sources[sub.assignment], seed, recorded, progress)
        except Exception as exc:  # noqa: BLE001 - one submission's failure must never stop the others
            planned = _failed(course, sub, unexpected(exc), progress)
        (jobs if isinstance(planned, Job) else settled).append(planned)
    unchanged = sum(run.unchanged for run in settled)
    if unchanged:
        progress(f"{unchanged} submission(s) unchanged since graded: not graded again (--force grades them anyway)")
    history = past_seconds(course)
    longest = max(history.values(), default=0.0)
    jobs.sort(key=lambda job: -history.get(job.assignment, longest))  # unknown ones count as long
    return jobs, settled


def grade_and_record(course: Course, jobs: list[Job], workers, template, summary: GradingSummary,
                     progress: Progress) -> None:
    """Run ``jobs`` on ``workers``; record each result here, as it arrives, and report done/total and time left."""
    start = time.perf_counter()
    for done, result in enumerate(workers.run(jobs, template, progress), 1):
        run, record_seconds = _record_result(course, result)
        summary.runs.append(run)
        _add_phases(summary.phases, result, record_seconds)
        elapsed = time.perf_counter() - start
        left = elapsed / done * (len(jobs) - done)
        failures = sum(not r.ok for r in summary.graded)
        status = "ok" if run.ok else f"FAILED: {run.message}"
        progress(f"[{done}/{len(jobs)}] {run.learner}/{run.assignment}: {status} ({run.seconds:.1f} s; "
                 f"{failures} failed so far; about {left:.0f} s left)")


def _record_result(course: Course, result: JobResult) -> tuple[GradeRun, float]:
    """Record one worker's result (grades, or the learner and why it failed); the run and seconds spent."""
    start = time.perf_counter()
    message = result.message
    if result.ok:
        try:
            record(course, result.graded)
        except (CourseError, OSError) as exc:
            message = f"could not record the grades: {exc}"
        except Exception as exc:  # noqa: BLE001 - one submission's failure must never stop the others
            message = f"could not record the grades: {unexpected(exc)}"
    if message:
        record_failure(course, result.learner, result.assignment, message)
        if has_submission(course, result.learner, result.assignment):
            message += " (the grades recorded before this run are kept)"
    run = GradeRun(result.learner, result.assignment, not message, message, result.seconds,
                   timings=result.timings, worker=result.worker)
    return run, time.perf_counter() - start


def _add_phases(phases: dict[str, float], result: JobResult, record_seconds: float) -> None:
    executed = 0.0
    for timing in result.timings:
        for name in ("kernel_start", "setup", "cells", "kernel_shutdown"):
            phases[name] += timing[name]
            executed += timing[name]
    phases["nbgrader"] += max(0.0, result.seconds - executed)
    phases["record"] += record_seconds


def grade(
    course: Course, submissions_dir: Path, assignments: list[str] | None = None, progress: Progress = print,
    workers: int | None = None, scheduler: str | None = None, force: bool = False,
) -> GradingSummary:
    """Autograde every submission under ``submissions_dir`` into the course gradebook.

    ``workers`` processes on this machine (default: one per core), or the
    Dask cluster whose scheduler is at ``scheduler``; with ``force``,
    submissions unchanged since they were graded are graded again.
    """
    known = set(find_assignments(course.notebooks_dir))
    wanted = set(assignments or [])
    unknown = wanted - known
    if unknown:
        raise CourseError(f"unknown assignment {', '.join(sorted(unknown))}; the course has: {', '.join(sorted(known))}")
    course.check_sandbox()  # before anything is written
    start = time.perf_counter()
    submissions, skipped = discover_submissions(Path(submissions_dir), known, wanted or None)
    for item in skipped:
        progress(f"skipping {item.path}: {item.reason}")
    if not submissions:
        raise CourseError(f"no submissions to grade under {submissions_dir}")
    backend = make_workers(workers, scheduler)  # a wrong --workers or --scheduler fails before anything is written
    try:
        ensure_released(course, {sub.assignment for sub in submissions}, progress)
        jobs, settled = plan_jobs(course, submissions, force, progress)
        summary = GradingSummary(runs=settled, skipped=skipped)
        if jobs:
            template_start = time.perf_counter()
            template = course_template(course, {job.assignment for job in jobs}, progress)
            summary.phases["template"] = time.perf_counter() - template_start
            sized = backend.sized_for(len(jobs))
            summary.workers = sized.description
            progress(f"grading {len(jobs)} submission(s) with {summary.workers}")
            grading_start = time.perf_counter()
            grade_and_record(course, jobs, sized, template, summary, progress)
            summary.grading_seconds = time.perf_counter() - grading_start
    finally:
        backend.close()
    summary.seconds = time.perf_counter() - start
    (course.root / "grading-summary.json").write_text(json.dumps(summary.as_dict(), indent=2))
    return summary
