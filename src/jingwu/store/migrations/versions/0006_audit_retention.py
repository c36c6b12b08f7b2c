"""audit retention: the pruning base (last pruned record's id and hash) on the audit head

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    # Nothing has been pruned yet: the chain starts after record 0, whose "hash" is the genesis.
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base_id", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("base_hash", sa.String(length=64), server_default=GENESIS_HASH, nullable=False)
        )


def downgrade() -> None:
    # After a prune this loses the base: the old code's verify then reports the pruned records
    # as deleted (the chain no longer starts at record 1). Keep the printed base to explain it.
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("base_hash")
        batch_op.drop_column("base_id")
