"""The community registry (实有人口 / 房屋 / 单位): houses on standard addresses, households,
residents, businesses, their photos, their history, field collections and their review

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 00:30:00

Names, identity numbers and phone numbers are stored sealed with a keyed blind index beside each;
a collection's payload is sealed whole. Houses carry the station whose jurisdiction holds them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jingwu.store.tables import UtcDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TABLES = (
    "records_plates",
    "records_conflicts",
    "records_photos",
    "records_history",
    "records_residents",
    "records_households",
    "records_businesses",
    "records_collections",
    "records_houses",
)


def upgrade() -> None:
    op.create_table(
        "records_collections",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("station_id", sa.String(length=64), nullable=True),
        sa.Column("label", sa.String(length=400), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("collected_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", UtcDateTime(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", UtcDateTime(), nullable=True),
        sa.Column("return_reason", sa.String(length=500), nullable=True),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records_collections")),
    )
    op.create_index(
        op.f("ix_records_collections_collected_by_status"),
        "records_collections",
        ["collected_by", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_records_collections_station_id_status"),
        "records_collections",
        ["station_id", "status"],
        unique=False,
    )
    op.create_table(
        "records_history",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("record_kind", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("ts", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("collection_id", sa.String(length=64), nullable=True),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records_history")),
    )
    op.create_index(
        op.f("ix_records_history_record_kind_record_id"),
        "records_history",
        ["record_kind", "record_id"],
        unique=False,
    )
    op.create_table(
        "records_houses",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=True),
        sa.Column("street_address", sa.String(length=200), nullable=False),
        sa.Column("community", sa.String(length=64), nullable=False),
        sa.Column("building", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("room", sa.String(length=32), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("address_key", sa.String(length=400), nullable=False),
        sa.Column("label", sa.String(length=400), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records_houses")),
        sa.UniqueConstraint("address_key", name=op.f("uq_records_houses_address_key")),
    )
    op.create_index(op.f("ix_records_houses_station_id"), "records_houses", ["station_id"], unique=False)
    op.create_table(
        "records_businesses",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("house_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("licence_number", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("people_in_charge", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["house_id"], ["records_houses.id"], name=op.f("fk_records_businesses_house_id_records_houses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records_businesses")),
        sa.UniqueConstraint("licence_number", name=op.f("uq_records_businesses_licence_number")),
    )
    op.create_index(op.f("ix_records_businesses_house_id"), "records_businesses", ["house_id"], unique=False)
    op.create_table(
        "records_households",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("house_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["house_id"], ["records_houses.id"], name=op.f("fk_records_households_house_id_records_houses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records_households")),
    )
    op.create_index(op.f("ix_records_households_house_id"), "records_households", ["house_id"], unique=False)
    op.create_table(
        "records_photos",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("collection_id", sa.String(length=64), nullable=False),
        sa.Column("record_kind", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["records_collections.id"],
            name=op.f("fk_records_photos_collection_id_records_collections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records_photos")),
    )
    op.create_index(
        op.f("ix_records_photos_collection_id"), "records_photos", ["collection_id"], unique=False
    )
    op.create_index(
        op.f("ix_records_photos_record_kind_record_id"),
        "records_photos",
        ["record_kind", "record_id"],
        unique=False,
    )
    op.create_table(
        "records_residents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("house_id", sa.String(length=64), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=True),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_index", sa.String(length=64), nullable=False),
        sa.Column("id_number", sa.Text(), nullable=False),
        sa.Column("id_index", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("phone_index", sa.String(length=64), nullable=True),
        sa.Column("registered_address", sa.String(length=200), nullable=False),
        sa.Column("moved_in", sa.Date(), nullable=True),
        sa.Column("moved_out", sa.Date(), nullable=True),
        sa.Column("plates", sa.String(length=200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["house_id"], ["records_houses.id"], name=op.f("fk_records_residents_house_id_records_houses")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["records_households.id"],
            name=op.f("fk_records_residents_household_id_records_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records_residents")),
    )
    op.create_index(op.f("ix_records_residents_house_id"), "records_residents", ["house_id"], unique=False)
    op.create_index(
        op.f("ix_records_residents_household_id"), "records_residents", ["household_id"], unique=False
    )
    op.create_index(op.f("ix_records_residents_id_index"), "records_residents", ["id_index"], unique=False)
    op.create_index(
        op.f("ix_records_residents_name_index"), "records_residents", ["name_index"], unique=False
    )
    op.create_index(
        op.f("ix_records_residents_phone_index"), "records_residents", ["phone_index"], unique=False
    )
    op.create_table(
        "records_conflicts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("collection_id", sa.String(length=64), nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("existing_house_id", sa.String(length=64), nullable=False),
        sa.Column("claimed_house_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=True),
        sa.Column("existing_station_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("settled_by", sa.String(length=64), nullable=True),
        sa.Column("settled_at", UtcDateTime(), nullable=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["claimed_house_id"],
            ["records_houses.id"],
            name=op.f("fk_records_conflicts_claimed_house_id_records_houses"),
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["records_collections.id"],
            name=op.f("fk_records_conflicts_collection_id_records_collections"),
        ),
        sa.ForeignKeyConstraint(
            ["existing_house_id"],
            ["records_houses.id"],
            name=op.f("fk_records_conflicts_existing_house_id_records_houses"),
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["records_residents.id"],
            name=op.f("fk_records_conflicts_resident_id_records_residents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records_conflicts")),
    )
    op.create_index(op.f("ix_records_conflicts_status"), "records_conflicts", ["status"], unique=False)
    op.create_table(
        "records_plates",
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["records_residents.id"],
            name=op.f("fk_records_plates_resident_id_records_residents"),
        ),
        sa.PrimaryKeyConstraint("plate", "resident_id", name=op.f("pk_records_plates")),
    )
    op.create_index(op.f("ix_records_plates_resident_id"), "records_plates", ["resident_id"], unique=False)


def downgrade() -> None:
    for table in _TABLES:
        op.drop_table(table)
