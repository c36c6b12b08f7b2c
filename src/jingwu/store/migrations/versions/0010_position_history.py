"""Position history: every fix of every unit with the GPS filter's verdict, time-partitioned

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 08:00:00

On PostgreSQL ``positions`` is a range-partitioned table (by ``ts``); its daily partitions live in
the schema ``position_parts`` and are made (ahead, and on demand for late fixes) and dropped (past
the retention) by store.positions, not here. On SQLite it is one WITHOUT ROWID table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jingwu.store.tables import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PARTITION_SCHEMA = "position_parts"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {PARTITION_SCHEMA}"))
    op.create_table(
        "positions",
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("ts", UtcDateTime(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("speed", sa.Float(), nullable=True),
        sa.Column("heading", sa.Float(), nullable=True),
        sa.Column("altitude", sa.Float(), nullable=True),
        sa.Column("accuracy", sa.Float(), nullable=True),
        sa.Column("battery", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", "ts", name="pk_positions"),
        postgresql_partition_by="RANGE (ts)",
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    # Dropping a partitioned table drops its partitions with it.
    op.drop_table("positions")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(f"DROP SCHEMA IF EXISTS {PARTITION_SCHEMA} CASCADE"))
