"""Cases filed for incidents (立案) and their solving (破案)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 04:20:00

One row per incident at most: the case number, criminal or administrative, when it was filed and
by whom, when it was solved and by whom. CompStat counts cases by these two moments.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jingwu.store.tables import UtcDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_cases",
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("case_number", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("filed_at", UtcDateTime(), nullable=False),
        sa.Column("filed_by", sa.String(64), nullable=True),
        sa.Column("solved_at", UtcDateTime(), nullable=True),
        sa.Column("solved_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("incident_id", name="pk_incident_cases"),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_incident_cases_incident_id_incidents"
        ),
        sa.UniqueConstraint("case_number", name="uq_incident_cases_case_number"),
    )
    op.create_index("ix_incident_cases_filed_at", "incident_cases", ["filed_at"])
    op.create_index("ix_incident_cases_solved_at", "incident_cases", ["solved_at"])


def downgrade() -> None:
    op.drop_index("ix_incident_cases_solved_at", table_name="incident_cases")
    op.drop_index("ix_incident_cases_filed_at", table_name="incident_cases")
    op.drop_table("incident_cases")
