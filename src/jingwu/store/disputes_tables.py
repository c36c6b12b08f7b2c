"""Tables of disputes (矛盾纠纷排查).

On the one metadata of :mod:`jingwu.store.tables`, so the migrations test compares them too.
Parties' names, phone numbers and ID numbers are sealed field by field (store.fieldcrypt), with
keyed blind indexes for the phone and the ID number: a new call from a party is one indexed look-up.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from jingwu.store.tables import BigId, UtcDateTime, metadata

disputes = Table(
    "disputes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("address", Text, nullable=False),
    # The address reduced for "the same address" (domain.disputes.address_key).
    Column("address_key", String(400), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("station_id", String(64), nullable=True),
    Column("officer", String(64), nullable=True),  # the community officer who follows it
    Column("status", String(16), nullable=False),
    Column("risk_factors", JSON, nullable=False),
    Column("risk_level", String(16), nullable=False),
    Column("risk_reasons", JSON, nullable=False),
    # What escalations raised it to: the factors' level never takes it below.
    Column("risk_floor", String(16), nullable=True),
    Column("risk_raised_at", UtcDateTime, nullable=True),
    # The earliest follow-up not yet done (a copy, kept with each change, for the work lists).
    Column("next_follow_up_on", Date, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("closed_by", String(64), nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("closing_note", Text, nullable=True),
    Column("version", Integer, nullable=False),
    Index(None, "station_id", "status"),
    Index(None, "officer", "status"),
    Index(None, "status", "lat"),
    Index(None, "address_key"),
)

dispute_parties = Table(
    "dispute_parties",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("dispute_id", String(64), ForeignKey("disputes.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("name", Text, nullable=False),  # sealed
    Column("phone", Text, nullable=True),  # sealed, E.164
    Column("phone_index", String(32), nullable=True),
    Column("id_number", Text, nullable=True),  # sealed
    Column("id_index", String(32), nullable=True),
    # A resident of the community registry, when the party is one (no hard link: its own capability).
    Column("resident_id", String(64), nullable=True),
    Index(None, "dispute_id"),
    Index(None, "phone_index"),
    Index(None, "id_index"),
)

dispute_visits = Table(
    "dispute_visits",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("dispute_id", String(64), ForeignKey("disputes.id"), nullable=False),
    Column("visited_at", UtcDateTime, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Index(None, "dispute_id"),
)

dispute_photos = Table(
    "dispute_photos",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("dispute_id", String(64), ForeignKey("disputes.id"), nullable=False),
    Column("visit_id", String(64), ForeignKey("dispute_visits.id"), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    # In the database, as incidents' photos: one backup holds the whole case file.
    Column("data", LargeBinary, nullable=False),
    Index(None, "visit_id"),
)

dispute_agreements = Table(
    "dispute_agreements",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("dispute_id", String(64), ForeignKey("disputes.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("agreed_on", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Index(None, "dispute_id"),
)

dispute_follow_ups = Table(
    "dispute_follow_ups",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("dispute_id", String(64), ForeignKey("disputes.id"), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("note", Text, nullable=True),
    Column("done_at", UtcDateTime, nullable=True),
    Column("done_by", String(64), nullable=True),
    Column("done_note", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Index(None, "dispute_id"),
)

# Every change of a case: who, when, from where, what (field: [before, after]).
dispute_changes = Table(
    "dispute_changes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("dispute_id", String(64), ForeignKey("disputes.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=True),
    Column("action", String(32), nullable=False),
    Column("changes", JSON, nullable=False),
    Index(None, "dispute_id", "version"),
)

# A call that escalated a dispute: the primary key makes escalation happen once per pair, whichever
# server processes hear the call.
dispute_incident_links = Table(
    "dispute_incident_links",
    metadata,
    Column("dispute_id", String(64), ForeignKey("disputes.id"), primary_key=True),
    Column("incident_id", String(64), primary_key=True),
    Column("matched_by", JSON, nullable=False),
    Column("risk_before", String(16), nullable=False),
    Column("risk_after", String(16), nullable=False),
    Column("linked_at", UtcDateTime, nullable=False),
    Index(None, "incident_id"),
)

__all__ = [
    "dispute_agreements",
    "dispute_changes",
    "dispute_follow_ups",
    "dispute_incident_links",
    "dispute_parties",
    "dispute_photos",
    "dispute_visits",
    "disputes",
    "metadata",
]
