"""Personal data encrypted at rest: wider reporter and TOTP columns, a blind index for phones

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 08:00:00

Values already stored stay readable as they are (a value without the ``v1:`` prefix is read as
plaintext from before encryption); ``jingwu keys rotate`` encrypts them and fills the index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.alter_column("reporter_name", existing_type=sa.String(length=200), type_=sa.Text())
        batch_op.alter_column("reporter_phone", existing_type=sa.String(length=64), type_=sa.Text())
        batch_op.add_column(sa.Column("reporter_phone_index", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_incidents_reporter_phone_index", ["reporter_phone_index"])
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("totp_secret", existing_type=sa.String(length=128), type_=sa.Text())


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("totp_secret", existing_type=sa.Text(), type_=sa.String(length=128))
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_reporter_phone_index")
        batch_op.drop_column("reporter_phone_index")
        batch_op.alter_column("reporter_phone", existing_type=sa.Text(), type_=sa.String(length=64))
        batch_op.alter_column("reporter_name", existing_type=sa.Text(), type_=sa.String(length=200))
