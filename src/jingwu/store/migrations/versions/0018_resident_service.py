"""Resident self-service: one-time sign-in codes, applications, their documents, certificates

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 00:30:00

Residents sign in with their phone and a code sent to it (only the code's hash is kept), apply for
a residence permit or a certificate with the documents it asks for, and an approved application's
certificate (the PDF as issued) is kept with its public verification code.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jingwu.store.tables import UtcDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_sign_in_codes",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("phone_index", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service_sign_in_codes"),
    )
    op.create_index(
        "ix_service_sign_in_codes_phone_index_created_at",
        "service_sign_in_codes",
        ["phone_index", "created_at"],
    )
    op.create_index(
        "ix_service_sign_in_codes_source_created_at", "service_sign_in_codes", ["source", "created_at"]
    )
    op.create_table(
        "service_residents",
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("phone_index", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_service_residents"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_service_residents_user_id_users"),
        sa.UniqueConstraint("phone_index", name="uq_service_residents_phone_index"),
    )
    op.create_table(
        "service_applications",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("applicant_name", sa.Text(), nullable=False),
        sa.Column("applicant_id_number", sa.Text(), nullable=False),
        sa.Column("id_number_index", sa.String(64), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("checklist", sa.JSON(), nullable=True),
        sa.Column("verified_by", sa.String(64), nullable=True),
        sa.Column("verified_at", UtcDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_service_applications"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_service_applications_user_id_users"),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name="fk_service_applications_station_id_stations"
        ),
    )
    op.create_index("ix_service_applications_user_id", "service_applications", ["user_id"])
    op.create_index(
        "ix_service_applications_station_id_status", "service_applications", ["station_id", "status"]
    )
    op.create_table(
        "service_documents",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("application_id", sa.String(64), nullable=False),
        sa.Column("document", sa.String(40), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_service_documents"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["service_applications.id"],
            name="fk_service_documents_application_id_service_applications",
        ),
    )
    op.create_index("ix_service_documents_application_id", "service_documents", ["application_id"])
    op.create_table(
        "service_certificates",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("application_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("valid_until", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(64), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_service_certificates"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["service_applications.id"],
            name="fk_service_certificates_application_id_service_applications",
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name="fk_service_certificates_station_id_stations"
        ),
        sa.UniqueConstraint("application_id", name="uq_service_certificates_application_id"),
    )


def downgrade() -> None:
    op.drop_table("service_certificates")
    op.drop_index("ix_service_documents_application_id", table_name="service_documents")
    op.drop_table("service_documents")
    op.drop_index("ix_service_applications_station_id_status", table_name="service_applications")
    op.drop_index("ix_service_applications_user_id", table_name="service_applications")
    op.drop_table("service_applications")
    op.drop_table("service_residents")
    op.drop_index("ix_service_sign_in_codes_source_created_at", table_name="service_sign_in_codes")
    op.drop_index("ix_service_sign_in_codes_phone_index_created_at", table_name="service_sign_in_codes")
    op.drop_table("service_sign_in_codes")
