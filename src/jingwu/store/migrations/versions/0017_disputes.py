"""Disputes (矛盾纠纷排查): cases, parties, visits, agreements and follow-ups

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401  (used once the tables are written)
from alembic import op  # noqa: F401

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
