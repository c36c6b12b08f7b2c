"""Cameras, the workers' leases on them, and evidence clips

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 07:00:00

The camera registry (fixed, body and drone cameras; credentials sealed), one lease per camera
naming the video worker that reads it, and the clips cut from a camera's buffer for an incident
(the file lies in the evidence folder, named by its SHA-256).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jingwu.store.tables import UtcDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cameras",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(16), nullable=False),
        sa.Column("stream_url", sa.Text(), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("heading_deg", sa.Float(), nullable=True),
        sa.Column("fov_deg", sa.Float(), nullable=True),
        sa.Column("range_m", sa.Float(), nullable=True),
        sa.Column("height_m", sa.Float(), nullable=True),
        sa.Column("tilt_deg", sa.Float(), nullable=True),
        sa.Column("unit_id", sa.String(64), nullable=True),
        sa.Column("community", sa.String(120), nullable=True),
        sa.Column("station_id", sa.String(64), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("retired_at", UtcDateTime(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_since", UtcDateTime(), nullable=True),
        sa.Column("state_detail", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cameras"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_cameras_unit_id_units"),
    )
    op.create_index("ix_cameras_station_id", "cameras", ["station_id"])
    op.create_index("ix_cameras_unit_id", "cameras", ["unit_id"])
    op.create_table(
        "camera_leases",
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(120), nullable=False),
        sa.Column("relay_url", sa.String(200), nullable=True),
        sa.Column("relay_token", sa.String(100), nullable=True),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name="pk_camera_leases"),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], name="fk_camera_leases_camera_id_cameras"),
    )
    op.create_table(
        "video_clips",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("from_at", UtcDateTime(), nullable=False),
        sa.Column("to_at", UtcDateTime(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_video_clips"),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_video_clips_incident_id_incidents"
        ),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], name="fk_video_clips_camera_id_cameras"),
    )
    op.create_index("ix_video_clips_incident_id", "video_clips", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_video_clips_incident_id", table_name="video_clips")
    op.drop_table("video_clips")
    op.drop_table("camera_leases")
    op.drop_index("ix_cameras_unit_id", table_name="cameras")
    op.drop_index("ix_cameras_station_id", table_name="cameras")
    op.drop_table("cameras")
