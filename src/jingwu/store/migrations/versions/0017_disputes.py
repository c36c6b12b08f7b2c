"""Disputes (矛盾纠纷排查): cases, parties, visits, agreements and follow-ups

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jingwu.store.tables import UtcDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disputes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("address_key", sa.String(length=400), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=True),
        sa.Column("officer", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("risk_factors", sa.JSON(), nullable=False),
        sa.Column("risk_level", sa.String(length=16), nullable=False),
        sa.Column("risk_reasons", sa.JSON(), nullable=False),
        sa.Column("risk_floor", sa.String(length=16), nullable=True),
        sa.Column("risk_raised_at", UtcDateTime(), nullable=True),
        sa.Column("next_follow_up_on", sa.Date(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("closing_note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disputes_address_key"), ["address_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_disputes_officer_status"), ["officer", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_disputes_station_id_status"), ["station_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_disputes_status_lat"), ["status", "lat"], unique=False)

    op.create_table(
        "dispute_parties",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("dispute_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("phone_index", sa.String(length=32), nullable=True),
        sa.Column("id_number", sa.Text(), nullable=True),
        sa.Column("id_index", sa.String(length=32), nullable=True),
        sa.Column("resident_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_dispute_parties_dispute_id_disputes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_parties")),
    )
    with op.batch_alter_table("dispute_parties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispute_parties_dispute_id"), ["dispute_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dispute_parties_id_index"), ["id_index"], unique=False)
        batch_op.create_index(batch_op.f("ix_dispute_parties_phone_index"), ["phone_index"], unique=False)

    op.create_table(
        "dispute_visits",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("dispute_id", sa.String(length=64), nullable=False),
        sa.Column("visited_at", UtcDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_dispute_visits_dispute_id_disputes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_visits")),
    )
    with op.batch_alter_table("dispute_visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispute_visits_dispute_id"), ["dispute_id"], unique=False)

    op.create_table(
        "dispute_photos",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("dispute_id", sa.String(length=64), nullable=False),
        sa.Column("visit_id", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["dispute_visits.id"], name=op.f("fk_dispute_photos_visit_id_dispute_visits")
        ),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_dispute_photos_dispute_id_disputes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_photos")),
    )
    with op.batch_alter_table("dispute_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispute_photos_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "dispute_agreements",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("dispute_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_dispute_agreements_dispute_id_disputes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_agreements")),
    )
    with op.batch_alter_table("dispute_agreements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispute_agreements_dispute_id"), ["dispute_id"], unique=False)

    op.create_table(
        "dispute_follow_ups",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("dispute_id", sa.String(length=64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("done_at", UtcDateTime(), nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.Column("done_note", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_dispute_follow_ups_dispute_id_disputes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_follow_ups")),
    )
    with op.batch_alter_table("dispute_follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispute_follow_ups_dispute_id"), ["dispute_id"], unique=False)

    op.create_table(
        "dispute_changes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("dispute_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_dispute_changes_dispute_id_disputes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_changes")),
    )
    with op.batch_alter_table("dispute_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispute_changes_dispute_id_version"), ["dispute_id", "version"], unique=False
        )

    op.create_table(
        "dispute_incident_links",
        sa.Column("dispute_id", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("matched_by", sa.JSON(), nullable=False),
        sa.Column("risk_before", sa.String(length=16), nullable=False),
        sa.Column("risk_after", sa.String(length=16), nullable=False),
        sa.Column("linked_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_dispute_incident_links_dispute_id_disputes")
        ),
        sa.PrimaryKeyConstraint("dispute_id", "incident_id", name=op.f("pk_dispute_incident_links")),
    )
    with op.batch_alter_table("dispute_incident_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispute_incident_links_incident_id"), ["incident_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("dispute_incident_links")
    op.drop_table("dispute_changes")
    op.drop_table("dispute_follow_ups")
    op.drop_table("dispute_agreements")
    op.drop_table("dispute_photos")
    op.drop_table("dispute_visits")
    op.drop_table("dispute_parties")
    op.drop_table("disputes")
