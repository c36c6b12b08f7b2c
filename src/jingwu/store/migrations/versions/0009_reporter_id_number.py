"""The reporter's resident identity number, encrypted, with its blind index

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reporter_id_number", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reporter_id_index", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_incidents_reporter_id_index", ["reporter_id_index"])


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_reporter_id_index")
        batch_op.drop_column("reporter_id_index")
        batch_op.drop_column("reporter_id_number")
