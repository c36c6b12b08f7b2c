"""Patrol checks (巡逻盘查): watch lists and their entries, and every check made

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jingwu.store.tables import UtcDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watchlist_entries",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("list", sa.String(32), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("subject_index", sa.String(32), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=True),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("removed_at", UtcDateTime(), nullable=True),
        sa.Column("removed_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_watchlist_entries"),
    )
    op.create_index("ix_watchlist_entries_subject_index", "watchlist_entries", ["subject_index"])
    op.create_index("ix_watchlist_entries_list_added_at", "watchlist_entries", ["list", "added_at"])
    op.create_table(
        "patrol_checks",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("subject_index", sa.String(32), nullable=False),
        sa.Column("subject_masked", sa.String(32), nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=True),
        sa.Column("station_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("result", sa.String(8), nullable=False),
        sa.Column("hits", sa.JSON(), nullable=False),
        sa.Column("checked_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patrol_checks"),
    )
    op.create_index("ix_patrol_checks_station_id_checked_at", "patrol_checks", ["station_id", "checked_at"])
    op.create_index("ix_patrol_checks_checked_at", "patrol_checks", ["checked_at"])
    op.create_index("ix_patrol_checks_subject_index", "patrol_checks", ["subject_index"])


def downgrade() -> None:
    op.drop_table("patrol_checks")
    op.drop_table("watchlist_entries")
