"""SQLAlchemy Core tables. The Alembic revisions in ``migrations/`` create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
    func,
    text,
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite keeps no zone, so it is stored naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: Jingwu stores UTC instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Stable constraint names so migrations are the same on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger ids that still autoincrement on SQLite (which only does so for INTEGER PRIMARY KEY).
BigId = BigInteger().with_variant(Integer(), "sqlite")

stations = Table(
    "stations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("district", String(200), nullable=False),
    # A GeoJSON MultiPolygon, checked before it is written (domain.areas).
    Column("jurisdiction", JSON, nullable=False),
    Column("address", Text, nullable=True),
    Column("retired_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False, server_default="1"),
)

units = Table(
    "units",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("callsign", String(64), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("station_id", String(64), ForeignKey("stations.id"), nullable=False),
    Column("capabilities", JSON, nullable=False),
    Column("status", String(32), nullable=False),
    Column("incident_id", String(64), nullable=True),
    Column("status_changed_at", UtcDateTime, nullable=True),
    Column("pos_lat", Float, nullable=True),
    Column("pos_lon", Float, nullable=True),
    Column("pos_heading", Float, nullable=True),
    Column("pos_speed", Float, nullable=True),
    Column("pos_ts", UtcDateTime, nullable=True),
    # The last accepted fix's accuracy radius and altitude: the GPS filter's anchor (domain.gps)
    # judges the next fix with them. Written only with the position history (store.positions);
    # a position placed without them (the demo's simulator) leaves them unknown (NULL).
    Column("pos_accuracy", Float, nullable=True),
    Column("pos_altitude", Float, nullable=True),
    Column("version", Integer, nullable=False),
    Column("radio_id", String(64), nullable=True),
    Column("terminal_id", String(64), nullable=True),
    Column("retired_at", UtcDateTime, nullable=True),
)

# The people of the bureau (domain.roster.Person): each logs in as themselves, the user name being
# their police number (警号). The account (users) holds the role and the password; this holds
# who they are in the force.
personnel = Table(
    "personnel",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("police_number", String(32), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("rank", String(32), nullable=False),
    Column("station_id", String(64), ForeignKey("stations.id"), nullable=False),
    Column("user_id", String(64), ForeignKey("users.id"), nullable=False, unique=True),
    Column("retired_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
)

# The roster: shifts of a station (domain.roster.Shift) with their crews, who rides which unit.
shifts = Table(
    "shifts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("station_id", String(64), ForeignKey("stations.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=True),
    Index(None, "ends_at"),
    Index(None, "station_id", "starts_at"),
)

crews = Table(
    "crews",
    metadata,
    Column("shift_id", String(64), ForeignKey("shifts.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", String(64), ForeignKey("personnel.id"), primary_key=True),
    Column("unit_id", String(64), ForeignKey("units.id"), nullable=False),
    Index(None, "unit_id"),
)

# Where every unit has been: each fix reported for it, judged by the GPS filter (domain.gps), with
# the verdict. (unit_id, ts) is the key: a unit is in one place at one time, so a repeat of a
# stored fix (a retried upload) is dropped by the key, and a unit's track for a time range is one
# range of it. On PostgreSQL the table is range-partitioned by ts into UTC days, made ahead and
# dropped whole when they pass the retention (store.positions), so that keeping months of history
# neither bloats the table nor slows inserts; the partitions live in their own schema
# (position_parts), out of the way of the model. On SQLite it is one table (WITHOUT ROWID,
# clustered by unit and time), trimmed in batches. No foreign key to units: the history is a log,
# checked at ingest, and inserts stay cheap.
positions = Table(
    "positions",
    metadata,
    Column("unit_id", String(64), primary_key=True),
    Column("ts", UtcDateTime, primary_key=True),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("speed", Float, nullable=True),  # metres per second
    Column("heading", Float, nullable=True),  # degrees from north
    Column("altitude", Float, nullable=True),  # metres
    Column("accuracy", Float, nullable=True),  # metres, horizontal
    Column("battery", Float, nullable=True),  # percent
    Column("source", String(16), nullable=False),  # osmand, terminal, gateway, manual
    Column("verdict", String(16), nullable=False),  # current, history, rejected (domain.gps.Verdict)
    Column("reason", String(32), nullable=True),  # domain.gps.Reason
    Column("received_at", UtcDateTime, nullable=False),
    postgresql_partition_by="RANGE (ts)",
    sqlite_with_rowid=False,
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("type_code", String(64), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("address", Text, nullable=True),
    Column("description", Text, nullable=True),
    Column("source", String(32), nullable=False),
    # Personal data, encrypted field by field (store.fieldcrypt): a stolen database or backup
    # does not show who called. The phone's keyed blind index finds a caller's incidents.
    Column("reporter_name", Text, nullable=True),
    Column("reporter_phone", Text, nullable=True),
    Column("reporter_phone_index", String(32), nullable=True),
    Column("reporter_id_number", Text, nullable=True),
    Column("reporter_id_index", String(32), nullable=True),
    Column("station_id", String(64), nullable=True),
    Column("status", String(32), nullable=False),
    Column("created_by", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("stage_times", JSON, nullable=False),
    Column("merged_into", String(64), nullable=True),
    Column("linked_ids", JSON, nullable=False),
    Column("disposition", Text, nullable=True),
    Column("version", Integer, nullable=False),
    Index(None, "status"),
    Index(None, "created_at"),
    Index(None, "reporter_phone_index"),
    Index(None, "reporter_id_index"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", String(64), ForeignKey("incidents.id"), nullable=False),
    Column("unit_id", String(64), ForeignKey("units.id"), nullable=False),
    Column("dispatched_at", UtcDateTime, nullable=False),
    Column("ack_deadline", UtcDateTime, nullable=False),
    Column("dispatched_by", String(64), nullable=True),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("released_at", UtcDateTime, nullable=True),
    Column("escalated", Boolean, nullable=False),
    Index(None, "incident_id"),
    Index(None, "unit_id", "released_at"),
)

events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ts", UtcDateTime, nullable=False),
    Column("type", String(64), nullable=False),
    Column("incident_id", String(64), nullable=True),
    Column("unit_id", String(64), nullable=True),
    Column("actor", String(64), nullable=True),
    Column("data", JSON, nullable=False),
    Index(None, "incident_id"),
)

notes = Table(
    "notes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", String(64), ForeignKey("incidents.id"), nullable=False),
    Column("author", String(64), nullable=False),
    Column("ts", UtcDateTime, nullable=False),
    Column("text", Text, nullable=False),
    Index(None, "incident_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(32), nullable=False),
    Column("station_id", String(64), nullable=True),
    Column("unit_id", String(64), nullable=True),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # Consecutive failed log-ins since the last success or lock; at 5 the account locks.
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", UtcDateTime, nullable=True),
    # The TOTP key (base32), encrypted with the field keys (store.fieldcrypt). Null: not enrolled.
    Column("totp_secret", Text, nullable=True),
    # The time step of the last accepted code: that step and earlier ones are refused (replay).
    # Null with a secret: enrolment pending, made active by the first accepted code.
    Column("totp_last_step", BigInteger, nullable=True),
    # Where the user may see and act: city, district:NAME, station:ID or own (domain.access).
    Column("jurisdiction", String(200), nullable=False),
    # Names match case-insensitively (BJ01 is bj01): the database, not only the code, keeps them
    # apart, so that two concurrent creations of one name cannot both succeed.
    Index("ix_users_username_lower", func.lower(text("username")), unique=True),
)

login_throttle = Table(
    "login_throttle",
    metadata,
    # Failed log-ins per account and source address: an attacker's guesses slow down only the
    # attacker's own address, and the owner is told of them at the next log-in.
    Column("user_id", String(64), ForeignKey("users.id"), primary_key=True),
    # The client's address as the API sees it ("" when unknown, as from the command line).
    Column("source", String(64), primary_key=True),
    # Consecutive failures from this source since its last success: the back-off grows with it.
    Column("failures", Integer, nullable=False, server_default="0"),
    # Failures from this source the owner has not been told of yet (reset at any success).
    Column("unseen", Integer, nullable=False, server_default="0"),
    Column("last_failed_at", UtcDateTime, nullable=True),
    # No try from this source is checked before this instant.
    Column("blocked_until", UtcDateTime, nullable=True),
    # The last successful log-in from this source: a known address is spared the account's ceiling.
    Column("last_success_at", UtcDateTime, nullable=True),
)

tokens = Table(
    "tokens",
    metadata,
    # Only a hash of the token is kept: a leaked database does not leak live sessions.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(64), ForeignKey("users.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    # Last authenticated REST request (written at most once a minute); null: never since log-in.
    Column("last_used_at", UtcDateTime, nullable=True),
    # A device account's key: valid until revoked or replaced, and never ended for idleness.
    Column("is_device_key", Boolean, nullable=False, server_default=false()),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("incident_id", String(64), ForeignKey("incidents.id"), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    # Photos live in the database so that one backup holds the whole case file, and a 2xx on
    # upload means the same thing as for every other command: committed.
    Column("data", LargeBinary, nullable=False),
    Index(None, "incident_id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    # Keys are chosen by clients, so they are scoped per user: two terminals cannot collide.
    Column("username", String(64), primary_key=True),
    Column("key", String(200), primary_key=True),
    # SHA-256 of method, path and body: the same key with another request is a client bug.
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # The answer to replay. Written with the command in its own transaction where the route can
    # render it from the decision, then replaced by the exact bytes that were sent.
    Column("response_status", Integer, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Index(None, "created_at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    # Assigned under the append lock as the previous id + 1: the chain order, without gaps.
    Column("id", BigId, primary_key=True, autoincrement=False),
    Column("ts", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=True),
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("source", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("details", JSON, nullable=False),
    # SHA-256 of the previous record (64 zeros for the first) and of this one's canonical form.
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index(None, "ts"),
    Index(None, "actor"),
)

audit_head = Table(
    "audit_head",
    metadata,
    # One row (id 1), updated in the same transaction as every append: the newest record's id and
    # hash. A chain alone cannot show that its newest records were cut off; the head can (unless it
    # is rewritten too, which is what printing it for off-site anchoring is for). It is also the
    # row appenders lock on PostgreSQL.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_id", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
    # The base: the last record removed by retention pruning (0 and 64 zeros until the first
    # prune). The remaining chain must start at base_id + 1 with prev_hash = base_hash.
    Column("base_id", BigInteger, nullable=False, server_default="0"),
    Column("base_hash", String(64), nullable=False, server_default="0" * 64),
)

community_devices = Table(
    "community_devices",
    metadata,
    # Community devices that report over MQTT (domain.devices, docs/devices.md).
    Column("id", String(48), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("community", String(100), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("address", Text, nullable=True),
    # The station whose jurisdiction holds the place (null: outside every station, the city's).
    Column("station_id", String(64), nullable=True),
    Column("heartbeat_s", Integer, nullable=False),
    # The key of the messages' signatures, sealed with the field keys (store.fieldcrypt) and
    # bound to this row: a copied database does not let anyone speak for a device.
    Column("secret", Text, nullable=False),
    Column("online", Boolean, nullable=False, server_default=false()),
    Column("last_seen", UtcDateTime, nullable=True),
    # The highest message counter accepted and the window of those just below it that were
    # (domain.devices.accept_seq): a counter seen before is a replay. Reset when a new secret is
    # issued, since old messages no longer verify.
    Column("last_seq", BigInteger, nullable=True),
    Column("seq_window", BigInteger, nullable=False, server_default="0"),
    Column("alarm_incident_id", String(64), nullable=True),
    Column("alarm_pressed_at", UtcDateTime, nullable=True),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("registered_by", String(64), nullable=True),
    Index(None, "station_id"),
    Index(None, "online", "last_seen"),
)

access_events = Table(
    "access_events",
    metadata,
    # Who or what passed a community's doors and gates, kept for the community records. The
    # credential and the plate are personal data: kept as keyed blind indexes (to find the same
    # card or car again), masked for display, and the plate sealed for the records to come.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("device_id", String(48), ForeignKey("community_devices.id"), nullable=False),
    Column("ts", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("credential_type", String(16), nullable=False),
    Column("credential_index", String(32), nullable=True),
    Column("credential_masked", String(64), nullable=True),
    Column("plate", Text, nullable=True),
    Column("plate_index", String(32), nullable=True),
    Column("plate_masked", String(16), nullable=True),
    Column("result", String(8), nullable=False),
    Index(None, "device_id", "ts"),
    Index(None, "credential_index"),
    Index(None, "plate_index"),
)

__all__ = [
    "UtcDateTime",
    "access_events",
    "assignments",
    "attachments",
    "audit_head",
    "audit_log",
    "community_devices",
    "crews",
    "events",
    "idempotency_keys",
    "incidents",
    "login_throttle",
    "metadata",
    "notes",
    "personnel",
    "positions",
    "shifts",
    "stations",
    "tokens",
    "units",
    "users",
]

# The community-policing tables live beside these, one module per capability, on the same metadata:
# importing them here registers them wherever the schema is compared or created.
from jingwu.store import (  # noqa: E402, F401  (imported for their tables)
    cases_tables,
    checks_tables,
    disputes_tables,
    records_tables,
    self_service_tables,
    video_tables,
    warning_models_tables,
)
