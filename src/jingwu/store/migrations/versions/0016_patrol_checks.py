"""Patrol checks (巡逻盘查): watch lists and their entries, and every check made

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401  (used once the tables are written)
from alembic import op  # noqa: F401

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
