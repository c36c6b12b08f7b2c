"""Analysts' early-warning models: the models, their runs, the warnings raised, back-tests

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 04:00:00

A model is a saved rule with its owner, purpose, sources and schedule; each run is kept (when, by
whom, records read, warnings raised) beside the audit record; each warning is kept per station
concerned with its evidence and status; each back-test with the version it measured.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jingwu.store.tables import UtcDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "warning_models",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("every_minutes", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("last_run_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_warning_models"),
    )
    op.create_index("ix_warning_models_enabled", "warning_models", ["enabled"])
    op.create_table(
        "warning_model_runs",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("model_id", sa.String(40), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("records_read", sa.JSON(), nullable=False),
        sa.Column("warnings_found", sa.Integer(), nullable=False),
        sa.Column("warnings_raised", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_warning_model_runs"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["warning_models.id"], name="fk_warning_model_runs_model_id_warning_models"
        ),
    )
    op.create_index(
        "ix_warning_model_runs_model_id_started_at", "warning_model_runs", ["model_id", "started_at"]
    )
    op.create_table(
        "model_warnings",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("model_id", sa.String(40), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=True),
        sa.Column("place_key", sa.String(200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("window_start", UtcDateTime(), nullable=False),
        sa.Column("window_end", UtcDateTime(), nullable=False),
        sa.Column("title_zh", sa.Text(), nullable=False),
        sa.Column("title_en", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("raised_at", UtcDateTime(), nullable=False),
        sa.Column("acted_by", sa.String(64), nullable=True),
        sa.Column("acted_at", UtcDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_model_warnings"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["warning_models.id"], name="fk_model_warnings_model_id_warning_models"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["warning_model_runs.id"], name="fk_model_warnings_run_id_warning_model_runs"
        ),
    )
    op.create_index(
        "ix_model_warnings_station_id_status_raised_at",
        "model_warnings",
        ["station_id", "status", "raised_at"],
    )
    op.create_index("ix_model_warnings_model_id_window_end", "model_warnings", ["model_id", "window_end"])
    op.create_table(
        "warning_model_backtests",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("model_id", sa.String(40), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("period_start", UtcDateTime(), nullable=False),
        sa.Column("period_end", UtcDateTime(), nullable=False),
        sa.Column("follow_up_days", sa.Float(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("judged", sa.Integer(), nullable=False),
        sa.Column("followed", sa.Integer(), nullable=False),
        sa.Column("precision", sa.Float(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("records_read", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_warning_model_backtests"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["warning_models.id"], name="fk_warning_model_backtests_model_id_warning_models"
        ),
    )
    op.create_index(
        "ix_warning_model_backtests_model_id_model_version",
        "warning_model_backtests",
        ["model_id", "model_version"],
    )


def downgrade() -> None:
    op.drop_index("ix_warning_model_backtests_model_id_model_version", table_name="warning_model_backtests")
    op.drop_table("warning_model_backtests")
    op.drop_index("ix_model_warnings_model_id_window_end", table_name="model_warnings")
    op.drop_index("ix_model_warnings_station_id_status_raised_at", table_name="model_warnings")
    op.drop_table("model_warnings")
    op.drop_index("ix_warning_model_runs_model_id_started_at", table_name="warning_model_runs")
    op.drop_table("warning_model_runs")
    op.drop_index("ix_warning_models_enabled", table_name="warning_models")
    op.drop_table("warning_models")
