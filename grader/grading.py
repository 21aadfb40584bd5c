"""The grading pipeline: small named steps from a submissions folder to the gradebook.

``grade(course, submissions_dir)`` runs, in order:

1. :func:`discover_submissions` - find ``<learner>/<assignment>/`` folders and
   set aside, with a reason, anything that is not a gradable submission;
2. :func:`ensure_released` - release assignments not yet in the gradebook;
3. :func:`autograde_all` - stage each submission and run nbgrader's autograde,
   reporting progress; a failed submission is recorded and the run goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.catalogue import find_assignments, notebook_problem
from grader.course import LEARNER_ID_PATTERN, Course, GradeRun
from grader.errors import CourseError

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Submission:
    learner: str
    assignment: str
    folder: Path


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


@dataclass
class GradingSummary:
    runs: list[GradeRun] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[GradeRun]:
        return [run for run in self.runs if not run.ok]

    def lines(self) -> list[str]:
        lines = [
            f"graded {len(self.runs)} submission(s) in {self.seconds:.0f} s: "
            f"{len(self.runs) - len(self.failures)} ok, {len(self.failures)} failed, {len(self.skipped)} skipped"
        ]
        lines += [f"  failed  {run.learner}/{run.assignment}: {run.message}" for run in self.failures]
        lines += [f"  skipped {item.path}: {item.reason}" for item in self.skipped]
        return lines


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
        if not learner_dir.is_dir():
            skipped.append(Skipped(learner_dir, "not a learner folder"))
        elif not LEARNER_ID_PATTERN.match(learner_dir.name):
            skipped.append(Skipped(learner_dir, "learner id must be letters, digits, '.', '_' or '-'"))
        else:
            for folder in sorted(p for p in learner_dir.iterdir() if not p.name.startswith(".")):
                if wanted and folder.name not in wanted:
                    continue
                if folder.name not in known:
                    skipped.append(Skipped(folder, f"unknown assignment (the course has: {', '.join(sorted(known))})"))
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


def check_readable(course: Course, sub: Submission) -> GradeRun | None:
    """A failed run for a submission with an unreadable notebook; None when all read.

    nbgrader would fail on such a file with a generic message; this names the
    file and the reason, and still registers the learner so they get a report.
    """
    for path in sorted(sub.folder.glob("*.ipynb")):
        problem = notebook_problem(path)
        if problem:
            course.register_learner(sub.learner)
            return GradeRun(sub.learner, sub.assignment, False, f"{path.name} is {problem}")
    return None


def autograde_all(course: Course, submissions: list[Submission], progress: Progress) -> list[GradeRun]:
    """Autograde each submission in turn, printing done/total, outcome and time left."""
    runs: list[GradeRun] = []
    start = time.perf_counter()
    for index, sub in enumerate(submissions, 1):
        course.stage_submission(sub.learner, sub.assignment, sub.folder)
        run = check_readable(course, sub) or course.autograde(sub.learner, sub.assignment)
        runs.append(run)
        elapsed = time.perf_counter() - start
        left = elapsed / index * (len(submissions) - index)
        status = "ok" if run.ok else f"FAILED: {run.message}"
        progress(
            f"[{index}/{len(submissions)}] {sub.learner}/{sub.assignment}: {status} "
            f"({run.seconds:.1f} s; about {left:.0f} s left)"
        )
    return runs


def grade(
    course: Course, submissions_dir: Path, assignments: list[str] | None = None, progress: Progress = print
) -> GradingSummary:
    """Autograde every submission under ``submissions_dir`` into the course gradebook."""
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
    ensure_released(course, {sub.assignment for sub in submissions}, progress)
    runs = autograde_all(course, submissions, progress)
    return GradingSummary(runs, skipped, time.perf_counter() - start)
