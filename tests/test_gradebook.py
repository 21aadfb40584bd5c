"""The course gradebook: bulk recording, and our tables versioned with alembic.

A gradebook from an older release upgrades with its rows kept.

"Release 0.1" below is the schema that release created, written out here as
it was (``create_all`` of three unversioned tables), not taken from the code
under test.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Column, DateTime, Float, MetaData, String, Table, Text, create_engine, inspect, text

from grader.autograde.settings import COURSE_ID
from grader.course import Course
from grader.grading import gradebook
from grader.grading.gradebook import MIGRATIONS_DIR, VERSION_TABLE, upgrade
from grader.paths import ensure_venv_on_path

OURS = {"mlcourse_graded", "mlcourse_cell_outcomes", "mlcourse_grading_failures"}


def release_0_1_tables(names: set[str]) -> MetaData:
    """The tables release 0.1 created, those of ``names`` only."""
    meta = MetaData()
    if "mlcourse_graded" in names:
        Table("mlcourse_graded", meta, Column("learner", String(128), primary_key=True),
              Column("assignment", String(128), primary_key=True), Column("digest", String(64), nullable=False),
              Column("seconds", Float), Column("graded_at", DateTime))
    if "mlcourse_cell_outcomes" in names:
        Table("mlcourse_cell_outcomes", meta, *(Column(name, String(128), primary_key=True) for name in
              ("learner", "assignment", "notebook", "grade_id")),
              Column("reason", Text, nullable=False), Column("measurements", Text, nullable=False))
    if "mlcourse_grading_failures" in names:
        Table("mlcourse_grading_failures", meta, Column("learner", String(128), primary_key=True),
              Column("assignment", String(128), primary_key=True), Column("message", Text, nullable=False),
              Column("failed_at", DateTime))
    return meta


def old_gradebook(tmp_path, names=frozenset(OURS)) -> Course:
    """A course whose gradebook nbgrader made and release 0.1 added ``names`` to, with a row in each."""
    from nbgrader.api import Gradebook

    ensure_venv_on_path()  # nbgrader's Gradebook runs alembic from PATH
    course = Course(tmp_path / "course", sandbox=False)
    course.root.mkdir(parents=True)
    with Gradebook(course.db_url, COURSE_ID) as gb:
        gb.update_or_create_student("ada")
    engine = create_engine(course.db_url)
    release_0_1_tables(set(names)).create_all(engine)
    with engine.begin() as connection:
        if "mlcourse_graded" in names:
            connection.execute(text("INSERT INTO mlcourse_graded VALUES ('ada', '04_evaluation', 'abc', 3.5, :t)"),
                               {"t": datetime(2026, 1, 2)})
        if "mlcourse_grading_failures" in names:
            connection.execute(text("INSERT INTO mlcourse_grading_failures VALUES ('ada', '05_calibration', "
                                    "'submission refused: x is a FIFO', NULL)"))
    engine.dispose()
    return course


def test_a_release_0_1_gradebook_upgrades_and_keeps_its_rows(tmp_path):
    course = old_gradebook(tmp_path)
    engine = create_engine(course.db_url)
    assert current_revision(engine) is None
    nbgrader_version = _nbgrader_revision(engine)
    assert gradebook.recorded_digests(course) == {("ada", "04_evaluation"): "abc"}
    assert gradebook.read_gradebook(course).failures == {("ada", "05_calibration"): "submission refused: x is a FIFO"}
    assert current_revision(engine) == head_revision()
    assert _nbgrader_revision(engine) == nbgrader_version, "nbgrader's own alembic version is nbgrader's"


@pytest.mark.parametrize("had", [set(), {"mlcourse_graded"}, {"mlcourse_graded", "mlcourse_cell_outcomes"}])
def test_a_gradebook_with_some_of_the_tables_gains_the_others(tmp_path, had):
    course = old_gradebook(tmp_path, had)
    gradebook.past_seconds(course)
    assert OURS <= set(inspect(create_engine(course.db_url)).get_table_names())


def test_upgrading_twice_changes_nothing(tmp_path):
    course = old_gradebook(tmp_path)
    engine = create_engine(course.db_url)
    upgrade(engine)
    upgrade(engine, again=True)
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar() == 1
    assert gradebook.recorded_digests(course) == {("ada", "04_evaluation"): "abc"}


def test_the_migrations_build_exactly_the_tables_the_code_declares(tmp_path):
    """A column added to a table in gradebook.py without a revision in migrations/ fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_object": lambda obj, name, kind, reflected, compare_to: kind != "table" or name in OURS})
        assert compare_metadata(context, gradebook.LEDGER.metadata) == []
        grown = MetaData()
        for table in gradebook.LEDGER.metadata.tables.values():
            table.to_metadata(grown)
        Table("mlcourse_graded", grown, Column("worker", String(64)), extend_existing=True)
        assert [diff[0] for diff in compare_metadata(context, grown)] == ["add_column"]


def _nbgrader_revision(engine) -> str | None:
    with engine.connect() as connection:
        if "alembic_version" not in inspect(engine).get_table_names():
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str:
    """The newest revision file in migrations/, read with alembic's own script directory."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine) -> str | None:
    with engine.connect() as connection:
        if VERSION_TABLE not in inspect(engine).get_table_names():
            return None
        return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def test_record_all_writes_every_submission_in_batches_and_reports_progress(tmp_path):
    from grader.catalogue import read_exercises, select_assignments
    from grader.grading.gradebook import GradedNotebook, GradedSubmission, read_gradebook, record_all

    course = Course(tmp_path / "course", sandbox=False)
    [assignment] = select_assignments(course.notebooks_dir, ["09_feedback"])
    course.release(assignment)
    exercises = read_exercises(course.notebooks_dir, ["09_feedback"])
    graded = [GradedSubmission(learner, "09_feedback", "made-up", None, (GradedNotebook(
        "09_feedback", True, 0.0, {e.grade_id: (e.points * share, False) for e in exercises}, {}),), {}, 0.0)
        for learner, share in (("ann", 1.0), ("bo", 0.5), ("cy", 0.0))]
    done: list[int] = []
    record_all(course, graded, batch=2, progress=done.append)
    assert done == [2, 3]
    record = read_gradebook(course)
    assert record.learners == ["ann", "bo", "cy"]
    for learner, share in (("ann", 1.0), ("bo", 0.5), ("cy", 0.0)):
        assert sum(score for (who, *_), score in record.scores.items() if who == learner) == \
            pytest.approx(share * sum(e.points for e in exercises))
    assert not course.path("autograded", "ann", "09_feedback").exists(), "no files: no autograded folder"
