"""Thrown-object detection: each camera's facade calibration, and the throws it detected

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 09:00:00

A fixed camera at the foot of a tower carries the facade it watches (``throw_calibration``, the
checked JSON); each throw its worker detects is a row naming the incident it opened or was noted
on, when it was first seen and when it landed, the floor and window column, the track, the
snapshot attached and the evidence clip cut.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jingwu.store.tables import UtcDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.add_column(sa.Column("throw_calibration", sa.Text(), nullable=True))
    op.create_table(
        "throw_detections",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("detected_at", UtcDateTime(), nullable=False),
        sa.Column("landed_at", UtcDateTime(), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=True),
        sa.Column("column", sa.Integer(), nullable=True),
        sa.Column("floor_uncertainty", sa.Float(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("track", sa.Text(), nullable=False),
        sa.Column("snapshot_attachment_id", sa.String(64), nullable=True),
        sa.Column("clip_id", sa.String(64), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_throw_detections"),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_throw_detections_incident_id_incidents"
        ),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], name="fk_throw_detections_camera_id_cameras"),
    )
    op.create_index("ix_throw_detections_incident_id", "throw_detections", ["incident_id"])
    op.create_index(
        "ix_throw_detections_camera_id_detected_at", "throw_detections", ["camera_id", "detected_at"]
    )
    op.create_index("ix_throw_detections_detected_at", "throw_detections", ["detected_at"])


def downgrade() -> None:
    op.drop_index("ix_throw_detections_detected_at", table_name="throw_detections")
    op.drop_index("ix_throw_detections_camera_id_detected_at", table_name="throw_detections")
    op.drop_index("ix_throw_detections_incident_id", table_name="throw_detections")
    op.drop_table("throw_detections")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_column("throw_calibration")
