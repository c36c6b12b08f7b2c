"""Jurisdictions on users; device keys that do not idle out

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jurisdiction", sa.String(length=200), nullable=True))
    # Existing accounts keep what they could see before: a user of a station that station (the
    # officers), everyone else the city.
    users = sa.table(
        "users",
        sa.column("station_id", sa.String),
        sa.column("jurisdiction", sa.String),
    )
    op.execute(
        users.update()
        .where(users.c.station_id.is_not(None))
        .values(jurisdiction=sa.literal("station:") + users.c.station_id)
    )
    op.execute(users.update().where(users.c.station_id.is_(None)).values(jurisdiction="city"))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("jurisdiction", existing_type=sa.String(length=200), nullable=False)
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        # A device's key: a token that lives until revoked or replaced and never idles out.
        batch_op.add_column(
            sa.Column("is_device_key", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_column("is_device_key")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("jurisdiction")
