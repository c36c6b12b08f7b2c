"""Community devices (alarm columns, door readers, vehicle gates) and their access events

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jingwu.store.tables import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "community_devices",
        sa.Column("id", sa.String(length=48), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("community", sa.String(length=100), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("station_id", sa.String(length=64), nullable=True),
        sa.Column("heartbeat_s", sa.Integer(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("last_seen", UtcDateTime(), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=True),
        sa.Column("seq_window", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("alarm_incident_id", sa.String(length=64), nullable=True),
        sa.Column("alarm_pressed_at", UtcDateTime(), nullable=True),
        sa.Column("registered_at", UtcDateTime(), nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_devices")),
    )
    with op.batch_alter_table("community_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_devices_station_id"), ["station_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_community_devices_online_last_seen"), ["online", "last_seen"], unique=False
        )

    op.create_table(
        "access_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("device_id", sa.String(length=48), nullable=False),
        sa.Column("ts", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("credential_type", sa.String(length=16), nullable=False),
        sa.Column("credential_index", sa.String(length=32), nullable=True),
        sa.Column("credential_masked", sa.String(length=64), nullable=True),
        sa.Column("plate", sa.Text(), nullable=True),
        sa.Column("plate_index", sa.String(length=32), nullable=True),
        sa.Column("plate_masked", sa.String(length=16), nullable=True),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["community_devices.id"], name=op.f("fk_access_events_device_id_community_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_events")),
    )
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_events_device_id_ts"), ["device_id", "ts"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_access_events_credential_index"), ["credential_index"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_access_events_plate_index"), ["plate_index"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_events_plate_index"))
        batch_op.drop_index(batch_op.f("ix_access_events_credential_index"))
        batch_op.drop_index(batch_op.f("ix_access_events_device_id_ts"))
    op.drop_table("access_events")
    with op.batch_alter_table("community_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_devices_online_last_seen"))
        batch_op.drop_index(batch_op.f("ix_community_devices_station_id"))
    op.drop_table("community_devices")
