"""Tables of the residents' self-service: sign-in codes, residents' phones, applications, their
documents, certificates.

On the one metadata of :mod:`jingwu.store.tables`, so the migrations test compares them too.
Names, ID numbers, phone numbers and home addresses are sealed (``v1:…``, store.fieldcrypt); a
phone and an ID number also get a keyed blind index for exact lookups.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, String, Table, Text

from jingwu.store.tables import UtcDateTime, metadata

# One-time sign-in codes: only their hash is kept (a copy of the database signs no one in).
service_sign_in_codes = Table(
    "service_sign_in_codes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("phone_index", String(64), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("source", String(64), nullable=False),  # the asking address, for the per-address limit
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Index(None, "phone_index", "created_at"),
    Index(None, "source", "created_at"),
)

# A resident's account (users.role = resident) tied to the phone it signs in with.
service_residents = Table(
    "service_residents",
    metadata,
    Column("user_id", String(64), ForeignKey("users.id"), primary_key=True),
    Column("phone", Text, nullable=False),  # sealed
    Column("phone_index", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)

service_applications = Table(
    "service_applications",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("status", String(24), nullable=False),
    Column("user_id", String(64), ForeignKey("users.id"), nullable=False),
    Column("station_id", String(64), ForeignKey("stations.id"), nullable=False),
    Column("applicant_name", Text, nullable=False),  # sealed
    Column("applicant_id_number", Text, nullable=False),  # sealed
    Column("id_number_index", String(64), nullable=False),
    Column("address", Text, nullable=False),  # sealed: where the applicant lives
    Column("purpose", Text, nullable=True),
    # The officer's last verdict: [{"document", "ok", "reason"}], and when it was given.
    Column("checklist", JSON, nullable=True),
    Column("verified_by", String(64), nullable=True),
    Column("verified_at", UtcDateTime, nullable=True),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("refusal_reason", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Index(None, "user_id"),
    Index(None, "station_id", "status"),
)

# The documents' files, kept like incidents' photos (store.attachments): bytes in the database,
# so that one backup holds the whole application and a 2xx means committed.
service_documents = Table(
    "service_documents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("application_id", String(64), ForeignKey("service_applications.id"), nullable=False),
    Column("document", String(40), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Index(None, "application_id"),
)

service_certificates = Table(
    "service_certificates",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("application_id", String(64), ForeignKey("service_applications.id"), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("station_id", String(64), ForeignKey("stations.id"), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoked_by", String(64), nullable=True),
    Column("revoked_reason", Text, nullable=True),
    Column("pdf", LargeBinary, nullable=False),
)

__all__ = [
    "metadata",
    "service_applications",
    "service_certificates",
    "service_documents",
    "service_residents",
    "service_sign_in_codes",
]
