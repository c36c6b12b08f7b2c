"""The last-known position keeps its accuracy and altitude; units' pages leave room for updates

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 09:00:00

The GPS filter judges each fix against the unit's last accepted one, accuracy radius included.
That radius used to be read from the fix's history row, a join into the (partitioned) history
for every fix ingested; it now sits in the unit's row beside the rest of the last-known position,
filled in here from the history for units that have one.

On PostgreSQL the ``units`` table gets a fill factor of 50: every position batch rewrites its
units' rows, and with free room on the page the new row version is a heap-only (HOT) update,
which writes no index entries (a third of the WAL and half the time of a full-page update).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("pos_accuracy", sa.Float(), nullable=True))
        batch.add_column(sa.Column("pos_altitude", sa.Float(), nullable=True))
    for column, source in (("pos_accuracy", "accuracy"), ("pos_altitude", "altitude")):
        op.execute(
            sa.text(
                f"UPDATE units SET {column} = (SELECT p.{source} FROM positions p "
                "WHERE p.unit_id = units.id AND p.ts = units.pos_ts) WHERE pos_ts IS NOT NULL"
            )
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("ALTER TABLE units SET (fillfactor = 50)"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("ALTER TABLE units RESET (fillfactor)"))
    with op.batch_alter_table("units") as batch:
        batch.drop_column("pos_altitude")
        batch.drop_column("pos_accuracy")
