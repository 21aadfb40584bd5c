"""The instructor's operations, one function per ``mlcourse`` sub-command.

Each takes plain arguments and a ``progress`` callback, so the command line,
the demo and the tests drive exactly the same code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from grader.catalogue import read_exercises, select_assignments
from grader.reporting.cohort import write_cohort_report
from grader.course import Course
from grader.reporting.exports import write_exports
from grader.errors import CourseError
from grader.grading import gradebook
from grader.grading.gradebook import GradebookRecord, cohort_outcomes, read_gradebook
from grader.grading.pipeline import GradingSummary, Progress, grade
from grader.assessment.proficiency import Proficiency, assess
from grader.reporting.learner import write_learner_reports
from grader.assessment.rubric import Rubric, load_rubric
from grader.authoring.simulate import DEMO_COHORT, write_submission
from grader.autograde.variants import learner_seed, read_roster, read_secret, record_variants, write_variant


def release_course(course: Course, assignments: list[str] | None = None, progress: Progress = print,
                   roster: Path | None = None, secret_file: Path | None = None) -> list[Path]:
    """Generate the student version of each assignment; return the release folders.

    With a ``roster`` and a ``secret_file``, also write each learner's own
    variant of each assignment, with their seed injected by papermill, to
    ``<course>/variants/<learner>/<assignment>/`` (see :mod:`grader.autograde.variants`).
    """
    if (roster is None) != (secret_file is None):
        raise CourseError("per-learner variants need both a roster (--per-learner) and a secret (--secret-file)")
    if roster is not None:  # read both before anything is written: a bad file is an error, not half a release
        learners, secret = read_roster(roster), read_secret(secret_file)
    selected = select_assignments(course.notebooks_dir, assignments)
    released = []
    for assignment in selected:
        start = time.perf_counter()
        released.append(course.release(assignment))
        progress(f"released {assignment.id} -> {released[-1]} ({time.perf_counter() - start:.1f} s)")
    if roster is not None:
        record_variants(course.root, learners, secret_file, [a.id for a in selected])
        for assignment, folder in zip(selected, released):
            for done, learner in enumerate(learners, 1):
                write_variant(folder, course.root / "variants" / learner / assignment.id,
                              learner_seed(secret, learner, assignment.id))
                if done % 25 == 0 or done == len(learners):
                    progress(f"{assignment.id}: {done}/{len(learners)} learners' variants written")
        progress(f"per-learner variants in {course.root / 'variants'}: hand each learner their own folder")
    return released


def grade_course(
    course: Course, submissions_dir: Path, assignments: list[str] | None = None, progress: Progress = print,
    workers: int | None = None, scheduler: str | None = None, force: bool = False,
) -> GradingSummary:
    summary = grade(course, submissions_dir, assignments, progress, workers, scheduler, force)
    for line in summary.lines():
        progress(line)
    return summary


def assess_cohort(course: Course, rubric: Rubric, record: GradebookRecord | None = None) -> list[Proficiency]:
    """Assess every learner in the gradebook (or its ``record``, read once) against the whole course catalogue."""
    exercises = read_exercises(course.notebooks_dir)
    outcomes = cohort_outcomes(course, exercises, record=record)
    return [assess(learner, found, rubric) for learner, found in outcomes.items()]


def feedback_course(course: Course, assignments: list[str] | None = None, learners: list[str] | None = None,
                    progress: Progress = print) -> list[Path]:
    """nbgrader's feedback pages for graded submissions, hidden tests removed; returns the HTML paths."""
    known = gradebook.learners(course)
    unknown = sorted(set(learners or ()) - set(known))
    if unknown:
        raise CourseError(f"unknown learner(s) {', '.join(unknown)}; the gradebook has: {', '.join(known)}")
    written = []
    for assignment in select_assignments(course.notebooks_dir, assignments):
        for learner in learners or known:
            pages = course.feedback(learner, assignment.id)
            written += pages
            if pages:
                progress(f"feedback {learner}/{assignment.id}: {len(pages)} page(s)")
    return written


@dataclass(frozen=True)
class ReportSet:
    learner_pages: dict[str, Path]
    cohort_page: Path
    exports: list[Path]

    @property
    def cohort_csv(self) -> Path:
        return next(path for path in self.exports if path.name == "cohort.csv")


def report_course(course: Course, rubric: Rubric, out_dir: Path, progress: Progress = print) -> ReportSet:
    """Write each learner's HTML+JSON report, the cohort report and the exports into ``out_dir``.

    The gradebook is read once, for all of them.
    """
    record = read_gradebook(course)
    results = assess_cohort(course, rubric, record)
    if not results:
        raise CourseError(f"the gradebook {course.db_url} has no learners yet; run 'mlcourse grade' first")
    progress(f"assessed {len(results)} learner(s) from the gradebook")
    pages = write_learner_reports(results, out_dir)
    progress(f"learner reports: {len(pages)} pages in {out_dir}")
    for result in results:
        verdict = result.verdict.title if result.verdict else "none"
        levels = " ".join(f"{stage}={level}" for stage, level in result.levels.items() if level)
        progress(f"report {result.learner}: verdict {verdict}; levels {levels or 'all 0'}")
    cohort_page = write_cohort_report(results, rubric, out_dir)
    progress(f"cohort report: {cohort_page}")
    exports = write_exports(results, rubric, record, out_dir / "exports")
    progress(f"exports: {', '.join(path.name for path in exports)} in {out_dir / 'exports'}")
    return ReportSet(pages, cohort_page, exports)


def run_demo(out_dir: Path, rubric_path: Path | None = None, progress: Progress = print,
             sandbox: bool = True) -> ReportSet:
    """Release the course, simulate a small cohort, autograde it (sandboxed), and write reports."""
    rubric = load_rubric(rubric_path)
    course = Course(out_dir / "course", sandbox=sandbox)
    submissions_dir = out_dir / "submissions"
    progress(f"[1/4] releasing the course into {course.root}")
    release_course(course, progress=progress)
    progress(f"[2/4] simulating {len(DEMO_COHORT)} learners into {submissions_dir}")
    for assignment in select_assignments(course.notebooks_dir, None):
        for profile in DEMO_COHORT:
            write_submission(course.path("release", "", assignment.id), assignment, profile, submissions_dir)
            progress(f"  {profile.learner}/{assignment.id}: {profile.description}")
    progress("[3/4] autograding with nbgrader")
    grade_course(course, submissions_dir, progress=progress)
    progress("[4/4] writing proficiency reports")
    return report_course(course, rubric, out_dir / "reports", progress)
