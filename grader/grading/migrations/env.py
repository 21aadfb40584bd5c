"""Alembic's environment for mlcourse's own gradebook tables (run by grader.grading.gradebook.upgrade).

It only ever runs on a connection the grader hands it, and keeps its version
in ``mlcourse_alembic_version``, so nbgrader's tables and nbgrader's own
``alembic_version`` are never touched. To write a new revision:
``alembic -x url=sqlite:///course/gradebook.db -c grader/grading/migrations/alembic.ini revision -m "..."``.
"""

from alembic import context

from grader.grading.gradebook import LEDGER, VERSION_TABLE


def _ours(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate compares only our tables: nbgrader's are nbgrader's to migrate."""
    return type_ != "table" or (name.startswith("mlcourse_") and name != VERSION_TABLE)


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        connection = create_engine(context.get_x_argument(as_dictionary=True)["url"]).connect()
    context.configure(connection=connection, target_metadata=LEDGER.metadata, version_table=VERSION_TABLE,
                      include_object=_ours, render_as_batch=True)  # batch: SQLite cannot ALTER most things
    with context.begin_transaction():
        context.run_migrations()


run()
