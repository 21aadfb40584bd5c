"""mlcourse's tables as release 0.1 created them (with create_all, unversioned).

A gradebook from that release has some or all of these tables and no
version table: each is created only if missing, so upgrading it keeps every
row, and a new gradebook gets all three.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _tables() -> dict[str, list[sa.Column]]:
    return {
        "mlcourse_graded": [
            sa.Column("learner", sa.String(128), primary_key=True),
            sa.Column("assignment", sa.String(128), primary_key=True),
            sa.Column("digest", sa.String(64), nullable=False),
            sa.Column("seconds", sa.Float),
            sa.Column("graded_at", sa.DateTime),
        ],
        "mlcourse_cell_outcomes": [
            sa.Column("learner", sa.String(128), primary_key=True),
            sa.Column("assignment", sa.String(128), primary_key=True),
            sa.Column("notebook", sa.String(128), primary_key=True),
            sa.Column("grade_id", sa.String(128), primary_key=True),
            sa.Column("reason", sa.Text, nullable=False),
            sa.Column("measurements", sa.Text, nullable=False),
        ],
        "mlcourse_grading_failures": [
            sa.Column("learner", sa.String(128), primary_key=True),
            sa.Column("assignment", sa.String(128), primary_key=True),
            sa.Column("message", sa.Text, nullable=False),
            sa.Column("failed_at", sa.DateTime),
        ],
    }


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns in _tables().items():
        if name not in existing:
            op.create_table(name, *columns)


def downgrade() -> None:
    for name in _tables():
        op.drop_table(name)
