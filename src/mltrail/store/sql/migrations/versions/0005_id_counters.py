"""Ids that never come back: ``id_counters`` keeps the highest experiment id handed out, so
SQLite (whose integer keys reuse the largest id once its row is gone) never gives a purged
experiment's id, and its artifact folder, to a new experiment. New table, seeded with the
largest experiment id there is.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    counters = op.create_table(
        "id_counters",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    top = op.get_bind().execute(sa.text("SELECT MAX(experiment_id) FROM experiments")).scalar()
    op.bulk_insert(counters, [{"name": "experiments", "value": int(top or 0)}])


def downgrade() -> None:
    op.drop_table("id_counters")
