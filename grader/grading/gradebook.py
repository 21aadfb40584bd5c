"""The course gradebook: the one writer of grades, and the readers of everything reports show.

Workers grade in scratch courses of their own (:mod:`grader.grading.workers`) and send
back what nbgrader's autograde wrote there. :func:`record` copies it into the
course gradebook (SQLite or PostgreSQL) in one transaction per submission,
with the same values nbgrader would have written had it graded in place, and
notes in three small tables beside nbgrader's which files and which source the
grades came from (``mlcourse_graded``: unchanged submissions are skipped next
time), why each cell lost points (``mlcourse_cell_outcomes``: reports read
one table instead of every autograded notebook), and why a submission could
not be graded at all (``mlcourse_grading_failures``). Writes that collide with
another grading process (a PostgreSQL unique key, SQLite's "database is
locked") are retried.

Our tables are versioned with alembic (``migrations/``, version table
``mlcourse_alembic_version``, apart from nbgrader's own ``alembic_version``):
every connection upgrades them to the newest revision first, so a gradebook
written by an older release gains new columns instead of breaking.

:func:`read_gradebook` reads what ``mlcourse report`` needs in one connection
(:class:`GradebookRecord`), and :func:`cohort_outcomes` turns it into each
learner's :class:`~grader.assessment.proficiency.Outcome` per exercise.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Column, DateTime, Float, MetaData, String, Table, Text, and_, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from grader.assessment.proficiency import Exercise, Measurement, Outcome
from grader.autograde.outcomes import NOT_SUBMITTED, REFUSED, CellOutcome, read_cell_outcomes
from grader.autograde.settings import COURSE_ID
from grader.catalogue import notebook_problem
from grader.course import Course
from grader.errors import CourseError
from grader.files import write_tree

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
    Column("measurements", Text, nullable=False),  # JSON list of grader.assessment.proficiency.Measurement fields
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

#: Alembic's record of which revision of ``migrations/`` our tables are at (nbgrader keeps its own).
VERSION_TABLE = "mlcourse_alembic_version"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

WRITE_ATTEMPTS = 6
#: Submissions per transaction in :func:`record_all`.
BATCH = 200


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


# -- writing ------------------------------------------------------------------
def record(course: Course, graded: GradedSubmission) -> None:
    """Write ``graded`` into the course: its autograded folder, then its grades, in one transaction.

    The folder goes first: if the process dies between the two, the ledger
    still holds the old digest and the next run grades the submission again.
    """
    record_all(course, [graded])


def record_all(course: Course, graded: Sequence[GradedSubmission], batch: int = BATCH,
               progress: Callable[[int], None] | None = None) -> None:
    """:func:`record` each of ``graded``: ``batch`` submissions per connection, each in its own transaction.

    ``progress(done)`` is called after each batch.

    A submission with no ``files`` (grades imported from elsewhere) leaves its
    autograded folder as it is.
    """
    for start in range(0, len(graded), batch):
        chunk = graded[start:start + batch]
        for submission in chunk:
            if submission.files:
                write_tree(course.path("autograded", submission.learner, submission.assignment), submission.files)
        _retrying(course, lambda gb: [_write_grades(gb, submission) for submission in chunk])
        if progress:
            progress(start + len(chunk))


def record_failure(course: Course, learner: str, assignment: str, message: str) -> None:
    """Note why grading ``learner``'s ``assignment`` failed; grades recorded before are left as they are."""
    def write(gb):
        gb.update_or_create_student(learner)  # so that they still get a report, with the reason
        gb.db.execute(FAILURES.delete().where(_submission(FAILURES, learner, assignment)))
        gb.db.execute(FAILURES.insert().values(learner=learner, assignment=assignment, message=message,
                                               failed_at=datetime.now()))
        gb.db.commit()

    _retrying(course, write)


def _submission(table: Table, learner: str, assignment: str):
    return and_(table.c.learner == learner, table.c.assignment == assignment)


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
            upgrade(gb.engine)
            try:
                write(gb)
                return
            except (IntegrityError, OperationalError) as exc:
                gb.db.rollback()
                if attempt == WRITE_ATTEMPTS:
                    raise CourseError(f"could not write to the gradebook {course.db_url}: {exc.orig}") from None
        time.sleep(0.05 * 2**attempt)


# -- our tables' revisions ----------------------------------------------------
_upgraded: set[str] = set()


def upgrade(engine, again: bool = False) -> None:
    """Bring our tables in ``engine``'s database to the newest revision of ``migrations/``.

    Once per database and process, unless ``again``.

    A gradebook from a release before the tables were versioned has some or
    all of them and no version table: the first revision creates only the
    missing ones. Another grading process upgrading at the same moment makes
    this one's transaction fail (a table or version row that appeared
    meanwhile): it is run again, and then finds the work done.
    """
    url = str(engine.url)
    if url in _upgraded and not again:
        return
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            _run_migrations(engine)
            break
        except DBAPIError:
            if attempt == WRITE_ATTEMPTS:
                raise
            time.sleep(0.05 * 2**attempt)
    _upgraded.add(url)


def _alembic_config():
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _run_migrations(engine) -> None:
    from alembic import command

    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


# -- reading ------------------------------------------------------------------
def exists(course: Course) -> bool:
    """False only for an SQLite gradebook file not created yet (opening it would create it empty)."""
    url = course.db_url
    return not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///")).is_file()


@contextmanager
def _reading(course: Course) -> Iterator:
    """nbgrader's ``Gradebook`` for ``course``, our tables upgraded; None if there is no gradebook yet."""
    from nbgrader.api import Gradebook

    if not exists(course):
        yield None
        return
    with Gradebook(course.db_url, COURSE_ID) as gb:
        upgrade(gb.engine)
        yield gb


def learners(course: Course) -> list[str]:
    """Every learner in the gradebook, sorted; a :class:`CourseError` if there is no gradebook yet."""
    with _reading(course) as gb:
        if gb is None:
            raise CourseError(f"the gradebook {course.db_url} has no learners yet; run 'mlcourse grade' first")
        return sorted(student.id for student in gb.students)


def has_submission(course: Course, learner: str, assignment: str) -> bool:
    """Whether the gradebook holds a graded (or attempted) submission of ``assignment`` by ``learner``."""
    from nbgrader.api import MissingEntry

    with _reading(course) as gb:
        if gb is None:
            return False
        try:
            gb.find_submission(assignment, learner)
        except MissingEntry:
            return False
        return True


def recorded_digests(course: Course) -> dict[tuple[str, str], str]:
    """``(learner, assignment) -> digest`` of what each recorded submission's grades came from (one query)."""
    with _reading(course) as gb:
        return {} if gb is None else _by_submission(gb, LEDGER.c.digest)


def past_seconds(course: Course) -> dict[str, float]:
    """Mean recorded grading seconds per assignment (to start the longest jobs first); {} before any."""
    with _reading(course) as gb:
        if gb is None:
            return {}
        rows = gb.db.execute(select(LEDGER.c.assignment, func.avg(LEDGER.c.seconds)).group_by(LEDGER.c.assignment))
        return {assignment: float(mean) for assignment, mean in rows if mean is not None}


def _by_submission(gb, column) -> dict[tuple[str, str], object]:
    """``(learner, assignment) -> value`` of ``column`` of one of our tables, read in one query."""
    rows = gb.db.execute(select(column.table.c.learner, column.table.c.assignment, column))
    return {(learner, assignment): value for learner, assignment, value in rows}


def _scores(gb) -> dict[tuple[str, str, str, str], float | None]:
    """Every recorded grade's score (nbgrader's: manual if set, else automatic, plus extra credit), one query.

    Keyed ``(learner, assignment, notebook, grade_id)``.
    """
    from nbgrader.api import Assignment, BaseCell, Grade, Notebook, SubmittedAssignment, SubmittedNotebook

    rows = (gb.db.query(SubmittedAssignment.student_id, Assignment.name, Notebook.name, BaseCell.name, Grade.score)
            .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
            .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
            .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
            .join(BaseCell, Grade.cell_id == BaseCell.id)
            .filter(Assignment.course_id == COURSE_ID))
    return {(learner, assignment, notebook, grade_id): score for learner, assignment, notebook, grade_id, score in rows}


def _cell_outcomes(gb) -> dict[tuple[str, str, str], dict[str, CellOutcome]]:
    """The cell outcomes stored at grading time, ``(learner, assignment, notebook) -> grade_id -> outcome``."""
    found: dict[tuple[str, str, str], dict[str, CellOutcome]] = {}
    for row in gb.db.execute(select(CELL_OUTCOMES)):
        measurements = tuple(Measurement(**m) for m in json.loads(row.measurements))
        found.setdefault((row.learner, row.assignment, row.notebook), {})[row.grade_id] = \
            CellOutcome(row.reason, measurements)
    return found


@dataclass(frozen=True)
class Student:
    id: str
    first_name: str | None
    last_name: str | None
    email: str | None


@dataclass(frozen=True)
class ReleasedAssignment:
    name: str
    duedate: datetime | None
    max_score: float


@dataclass(frozen=True)
class GradebookRecord:
    """Everything ``mlcourse report`` reads from the gradebook, read in one connection by :func:`read_gradebook`."""

    students: tuple[Student, ...]                                   # in nbgrader's order
    assignments: tuple[ReleasedAssignment, ...]                     # in nbgrader's order
    scores: dict[tuple[str, str, str, str], float | None]           # (learner, assignment, notebook, grade_id)
    cells: dict[tuple[str, str, str], dict[str, CellOutcome]]       # (learner, assignment, notebook) -> grade_id
    failures: dict[tuple[str, str], str]                            # (learner, assignment) -> why grading failed
    submissions: dict[tuple[str, str], tuple[datetime | None, float]]  # (assignment, learner) -> timestamp, penalty

    @property
    def learners(self) -> list[str]:
        return sorted(student.id for student in self.students)


def read_gradebook(course: Course) -> GradebookRecord:
    """The :class:`GradebookRecord` of ``course``: five queries in one connection.

    Raises :class:`CourseError` if there is no gradebook yet.
    """
    from nbgrader.api import SubmittedAssignment, SubmittedNotebook

    with _reading(course) as gb:
        if gb is None:
            raise CourseError(f"the gradebook {course.db_url} has no learners yet; run 'mlcourse grade' first")
        students = tuple(Student(s.id, s.first_name, s.last_name, s.email) for s in gb.students)
        released = gb.assignments  # a query each time it is read
        assignments = tuple(ReleasedAssignment(a.name, a.duedate, a.max_score) for a in released)
        names = {a.id: a.name for a in released}
        penalty: dict[str, float] = {}
        for s_id, value in gb.db.query(SubmittedNotebook.assignment_id, SubmittedNotebook.late_submission_penalty):
            penalty[s_id] = penalty.get(s_id, 0.0) + (value or 0.0)
        submissions = {(names.get(a_id), learner): (timestamp, penalty.get(s_id, 0.0))
                       for s_id, a_id, learner, timestamp in
                       gb.db.query(SubmittedAssignment.id, SubmittedAssignment.assignment_id,
                                   SubmittedAssignment.student_id, SubmittedAssignment.timestamp)}
        return GradebookRecord(students, assignments, _scores(gb), _cell_outcomes(gb),
                               _by_submission(gb, FAILURES.c.message), submissions)


def learner_outcomes(course: Course, learner: str, exercises: list[Exercise]) -> list[Outcome]:
    """One learner's :func:`cohort_outcomes`."""
    return cohort_outcomes(course, exercises, [learner])[learner]


def cohort_outcomes(course: Course, exercises: list[Exercise], learners: list[str] | None = None,
                    record: GradebookRecord | None = None) -> dict[str, list[Outcome]]:
    """Points per exercise for each learner (default: all in the gradebook), with a reason where points were lost.

    Read from ``record`` (default: :func:`read_gradebook` now): the scores, and
    the reasons and measured outcomes the grader stored when it graded each
    submission (measurements are what a test cell showed under
    ``mlcourse.capstone.OUTCOME_MIME``, as the capstone's do). For submissions
    graded before reasons were stored, the autograded notebook is read.
    """
    record = record or read_gradebook(course)
    learners = record.learners if learners is None else learners
    read: dict[tuple[str, str, str], dict[str, CellOutcome] | None] = {}
    cohort = {}
    for learner in learners:
        outcomes = []
        for exercise in exercises:
            key = (learner, exercise.assignment, exercise.notebook)
            if (*key, exercise.grade_id) not in record.scores:
                outcomes.append(Outcome(exercise, 0.0, _missing_reason(course, learner, exercise, record.failures)))
                continue
            earned = min(float(record.scores[*key, exercise.grade_id] or 0.0), exercise.points)
            if key in record.cells:
                cells = record.cells[key]
            else:
                if key not in read:
                    read[key] = read_cell_outcomes(course.path("autograded", learner, exercise.assignment)
                                                   / f"{exercise.notebook}.ipynb",
                                                   course.path("source", "", exercise.assignment)
                                                   / f"{exercise.notebook}.ipynb")
                cells = read[key]
            cell = None if cells is None else cells.get(exercise.grade_id)
            reason = "" if earned >= exercise.points else (
                _missing_reason(course, learner, exercise, record.failures) if cells is None else
                cell.reason if cell is not None else "test cell missing from the autograded notebook")
            outcomes.append(Outcome(exercise, earned, reason, cell.measurements if cell else ()))
        cohort[learner] = outcomes
    return cohort


def _missing_reason(course: Course, learner: str, exercise: Exercise, failures: dict[tuple[str, str], str]) -> str:
    submitted = course.path("submitted", learner, exercise.assignment) / f"{exercise.notebook}.ipynb"
    failure = failures.get((learner, exercise.assignment))
    if failure and failure.startswith(REFUSED):
        return failure
    if not submitted.is_file():
        return NOT_SUBMITTED
    why = notebook_problem(submitted) or failure or "see the grading log"
    return f"submitted notebook could not be graded: {why}"
