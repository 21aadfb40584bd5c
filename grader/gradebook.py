"""The one writer of the course gradebook: grades that workers computed, recorded one submission at a time.

Workers grade in scratch courses of their own (:mod:`grader.workers`) and send
back what nbgrader's autograde wrote there. :func:`record` copies it into the
course gradebook (SQLite or PostgreSQL) in one transaction per submission,
with the same values nbgrader would have written had it graded in place, and
notes in two small tables beside nbgrader's which files and which source the
grades came from (``mlcourse_graded``: unchanged submissions are skipped next
time), why each cell lost points (``mlcourse_cell_outcomes``: reports read
one table instead of every autograded notebook), and why a submission could
not be graded at all (``mlcourse_grading_failures``). Writes that collide with another grading process (a
PostgreSQL unique key, SQLite's "database is locked") are retried.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Column, DateTime, Float, MetaData, String, Table, Text, and_, inspect, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from grader.course import COURSE_ID, CellOutcome, Course
from grader.errors import CourseError
from grader.files import write_tree
from grader.proficiency import Measurement

#: Which submission files and which released source each recorded grade came from.
LEDGER = Table(
    "mlcourse_graded", MetaData(),
    Column("learner", String(128), primary_key=True),
    Column("assignment", String(128), primary_key=True),
    Column("digest", String(64), nullable=False),  # sha256 of the submission's files and the assignment's source
    Column("seconds", Float),                      # wall-clock seconds the worker spent grading it
    Column("graded_at", DateTime),
)

#: Why each graded cell would lose points, and what it measured, read from the autograded notebook at
#: grading time (so that reports for a large cohort need not read every notebook again).
CELL_OUTCOMES = Table(
    "mlcourse_cell_outcomes", LEDGER.metadata,
    Column("learner", String(128), primary_key=True),
    Column("assignment", String(128), primary_key=True),
    Column("notebook", String(128), primary_key=True),
    Column("grade_id", String(128), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("measurements", Text, nullable=False),  # JSON list of grader.proficiency.Measurement fields
)

#: Why the last grading of a submission failed as a whole (the kernel never started, nbgrader raised), so
#: that its report can say so; removed when the submission is next graded.
FAILURES = Table(
    "mlcourse_grading_failures", LEDGER.metadata,
    Column("learner", String(128), primary_key=True),
    Column("assignment", String(128), primary_key=True),
    Column("message", Text, nullable=False),
    Column("failed_at", DateTime),
)

WRITE_ATTEMPTS = 6


@dataclass(frozen=True)
class GradedNotebook:
    """What nbgrader's autograde recorded for one notebook of a submission."""

    name: str
    submitted: bool                                    # False: missing from the submission, so scored zero
    late_penalty: float | None
    grades: dict[str, tuple[float | None, bool]]      # grade_id -> (auto_score, needs_manual_grade)
    comments: dict[str, str | None]                    # grade_id -> auto_comment


@dataclass(frozen=True)
class GradedSubmission:
    """One submission as graded by a worker, ready for :func:`record`."""

    learner: str
    assignment: str
    digest: str
    timestamp: datetime | None
    notebooks: tuple[GradedNotebook, ...]
    files: dict[str, bytes]   # the autograded folder: relative path -> content
    seconds: float
    cells: dict[str, dict[str, CellOutcome]] = field(default_factory=dict)  # notebook -> grade_id -> outcome


def record(course: Course, graded: GradedSubmission) -> None:
    """Write ``graded`` into the course: its autograded folder, then its grades, in one transaction.

    The folder goes first: if the process dies between the two, the ledger
    still holds the old digest and the next run grades the submission again.
    """
    write_tree(course.path("autograded", graded.learner, graded.assignment), graded.files)
    _retrying(course, lambda gb: _write_grades(gb, graded))


def record_failure(course: Course, learner: str, assignment: str, message: str) -> None:
    """Note why grading ``learner``'s ``assignment`` failed; grades recorded before are left as they are."""
    def write(gb):
        gb.update_or_create_student(learner)  # so that they still get a report, with the reason
        gb.db.execute(FAILURES.delete().where(_submission(FAILURES, learner, assignment)))
        gb.db.execute(FAILURES.insert().values(learner=learner, assignment=assignment, message=message,
                                               failed_at=datetime.now()))
        gb.db.commit()

    _retrying(course, write)


def grading_failures(course: Course) -> dict[tuple[str, str], str]:
    """``(learner, assignment) -> message`` for each submission whose last grading failed (one query)."""
    return _by_submission(course, FAILURES.c.message)


def _by_submission(course: Course, column) -> dict[tuple[str, str], object]:
    """``(learner, assignment) -> value`` of ``column`` of one of our tables, read in one query."""
    from nbgrader.api import Gradebook

    if not course._has_gradebook():
        return {}
    with Gradebook(course.db_url, COURSE_ID) as gb:
        _ensure_ledger(gb)
        rows = gb.db.execute(select(column.table.c.learner, column.table.c.assignment, column))
        return {(learner, assignment): value for learner, assignment, value in rows}


def _submission(table: Table, learner: str, assignment: str):
    return and_(table.c.learner == learner, table.c.assignment == assignment)


def recorded_digests(course: Course) -> dict[tuple[str, str], str]:
    """``(learner, assignment) -> digest`` of what each recorded submission's grades came from (one query)."""
    return _by_submission(course, LEDGER.c.digest)


def all_scores(course: Course) -> dict[tuple[str, str, str, str], float | None]:
    """Every recorded grade's score (nbgrader's: manual if set, else automatic, plus extra credit), one query.

    Keyed ``(learner, assignment, notebook, grade_id)``.
    """
    from nbgrader.api import Assignment, BaseCell, Grade, Gradebook, Notebook, SubmittedAssignment, SubmittedNotebook

    if not course._has_gradebook():
        return {}
    with Gradebook(course.db_url, COURSE_ID) as gb:
        rows = (gb.db.query(SubmittedAssignment.student_id, Assignment.name, Notebook.name, BaseCell.name, Grade.score)
                .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
                .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
                .join(BaseCell, Grade.cell_id == BaseCell.id)
                .filter(Assignment.course_id == COURSE_ID))
        return {(learner, assignment, notebook, grade_id): score
                for learner, assignment, notebook, grade_id, score in rows}


def stored_cell_outcomes(course: Course) -> dict[tuple[str, str, str], dict[str, CellOutcome]]:
    """The cell outcomes stored at grading time, ``(learner, assignment, notebook) -> grade_id -> outcome``."""
    from nbgrader.api import Gradebook

    if not course._has_gradebook():
        return {}
    found: dict[tuple[str, str, str], dict[str, CellOutcome]] = {}
    with Gradebook(course.db_url, COURSE_ID) as gb:
        _ensure_ledger(gb)
        for row in gb.db.execute(select(CELL_OUTCOMES)):
            measurements = tuple(Measurement(**m) for m in json.loads(row.measurements))
            found.setdefault((row.learner, row.assignment, row.notebook), {})[row.grade_id] = \
                CellOutcome(row.reason, measurements)
    return found


def past_seconds(course: Course) -> dict[str, float]:
    """Mean recorded grading seconds per assignment (to start the longest jobs first); {} before any."""
    from nbgrader.api import Gradebook
    from sqlalchemy import func

    if not course._has_gradebook():
        return {}
    with Gradebook(course.db_url, COURSE_ID) as gb:
        _ensure_ledger(gb)
        rows = gb.db.execute(select(LEDGER.c.assignment, func.avg(LEDGER.c.seconds)).group_by(LEDGER.c.assignment))
        return {assignment: float(mean) for assignment, mean in rows if mean is not None}


def _write_grades(gb, graded: GradedSubmission) -> None:
    # nbgrader's helpers commit on their own: student and submission rows first (as its autograde does).
    gb.update_or_create_student(graded.learner)
    when = {"timestamp": graded.timestamp} if graded.timestamp else {}
    submission = gb.update_or_create_submission(graded.assignment, graded.learner, **when)
    ours = {nb.name: nb for nb in submission.notebooks}
    for notebook in graded.notebooks:
        row = ours.get(notebook.name)
        if row is None:
            raise CourseError(f"the gradebook has no notebook {notebook.name} in {graded.assignment}; release it again")
        row.late_submission_penalty = notebook.late_penalty
        for grade in row.grades:
            auto_score, needs_review = notebook.grades.get(grade.name, (None, True))
            grade.auto_score = auto_score
            # nbgrader's SaveAutoGrades rule: a grade a person already set must be looked at again.
            grade.needs_manual_grade = needs_review or (notebook.submitted and grade.manual_score is not None)
        for comment in row.comments:
            comment.auto_comment = notebook.comments.get(comment.name)
    for table in (LEDGER, CELL_OUTCOMES, FAILURES):
        gb.db.execute(table.delete().where(_submission(table, graded.learner, graded.assignment)))
    gb.db.execute(LEDGER.insert().values(learner=graded.learner, assignment=graded.assignment, digest=graded.digest,
                                         seconds=graded.seconds, graded_at=datetime.now()))
    rows = [{"learner": graded.learner, "assignment": graded.assignment, "notebook": notebook, "grade_id": grade_id,
             "reason": cell.reason, "measurements": json.dumps([dataclasses.asdict(m) for m in cell.measurements])}
            for notebook, cells in graded.cells.items() for grade_id, cell in cells.items()]
    if rows:
        gb.db.execute(CELL_OUTCOMES.insert(), rows)
    gb.db.commit()


def _retrying(course: Course, write) -> None:
    """Run ``write(gradebook)``; on a write collision with another process, roll back and run it again."""
    from nbgrader.api import Gradebook

    for attempt in range(1, WRITE_ATTEMPTS + 1):
        with Gradebook(course.db_url, COURSE_ID) as gb:
            _ensure_ledger(gb)
            try:
                write(gb)
                return
            except (IntegrityError, OperationalError) as exc:
                gb.db.rollback()
                if attempt == WRITE_ATTEMPTS:
                    raise CourseError(f"could not write to the gradebook {course.db_url}: {exc.orig}") from None
        time.sleep(0.05 * 2**attempt)


_ledgers: set[str] = set()


def _ensure_ledger(gb) -> None:
    url = str(gb.engine.url)
    if url in _ledgers:
        return
    try:
        LEDGER.metadata.create_all(gb.engine, checkfirst=True)
    except DBAPIError:
        # Another grading process created it between the check and the CREATE.
        if not inspect(gb.engine).has_table(LEDGER.name):
            raise
    _ledgers.add(url)
