"""The community registry (实有人口 / 房屋 / 单位): houses on standard addresses, households,
residents, businesses, their photos, their history, field collections and their review

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401  (used once the tables are written)
from alembic import op  # noqa: F401

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
