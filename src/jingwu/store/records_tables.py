"""Tables of the community registry (实有人口 / 房屋 / 单位) and its field collections.

On the one metadata of :mod:`jingwu.store.tables`, so the migrations test compares them too.
Names, identity numbers and phone numbers are sealed (``v1:…``, store.fieldcrypt) with a keyed
blind index beside each for exact search; a collection's whole payload is sealed, as are the
before / after values of personal fields in the history."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
)

from jingwu.store.tables import BigId, UtcDateTime, metadata

records_houses = Table(
    "records_houses",
    metadata,
    Column("id", String(64), primary_key=True),
    # The station whose jurisdiction holds the point: how reads are cut to a jurisdiction.
    Column("station_id", String(64), nullable=True),
    Column("street_address", String(200), nullable=False),
    Column("community", String(64), nullable=False),
    Column("building", String(32), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("room", String(32), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    # HouseAddress.key: one row per standard address.
    Column("address_key", String(400), nullable=False, unique=True),
    Column("label", String(400), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "station_id"),
)

records_households = Table(
    "records_households",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("house_id", String(64), ForeignKey("records_houses.id"), nullable=False),
    Column("number", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "house_id"),
)

records_residents = Table(
    "records_residents",
    metadata,
    Column("id", String(64), primary_key=True),
    # The actual house (实际居住); the registered one (户籍) is text: it may be anywhere in China.
    Column("house_id", String(64), ForeignKey("records_houses.id"), nullable=False),
    Column("household_id", String(64), ForeignKey("records_households.id"), nullable=True),
    Column("relation", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("name_index", String(64), nullable=False),
    Column("id_number", Text, nullable=False),
    Column("id_index", String(64), nullable=False),
    Column("phone", Text, nullable=True),
    Column("phone_index", String(64), nullable=True),
    Column("registered_address", String(200), nullable=False),
    Column("moved_in", Date, nullable=True),
    Column("moved_out", Date, nullable=True),
    Column("plates", String(200), nullable=False),  # comma-separated; searched in records_plates
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "house_id"),
    Index(None, "household_id"),
    Index(None, "name_index"),
    Index(None, "id_index"),
    Index(None, "phone_index"),
)

records_plates = Table(
    "records_plates",
    metadata,
    Column("plate", String(16), primary_key=True),
    Column("resident_id", String(64), ForeignKey("records_residents.id"), primary_key=True),
    Index(None, "resident_id"),
)

records_businesses = Table(
    "records_businesses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("house_id", String(64), ForeignKey("records_houses.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("licence_number", String(18), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("people_in_charge", Text, nullable=False),  # sealed JSON
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "house_id"),
)

records_collections = Table(
    "records_collections",
    metadata,
    # Made by the client (the terminal), so that a retry of the same submission changes nothing.
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("target_id", String(64), nullable=True),  # the record it changes; null: a new one
    Column("station_id", String(64), nullable=True),
    Column("label", String(400), nullable=False),  # the house's address (no personal data)
    Column("payload", Text, nullable=False),  # sealed JSON of what was collected
    Column("payload_sha256", String(64), nullable=False),  # tells a retry from a reuse of the id
    Column("note", String(500), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("collected_by", String(64), nullable=False),
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("reviewed_by", String(64), nullable=True),
    Column("reviewed_at", UtcDateTime, nullable=True),
    Column("return_reason", String(500), nullable=True),
    Column("record_id", String(64), nullable=True),  # what approving it created or changed
    Index(None, "station_id", "status"),
    Index(None, "collected_by", "status"),
)

records_conflicts = Table(
    "records_conflicts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("collection_id", String(64), ForeignKey("records_collections.id"), nullable=False),
    Column("resident_id", String(64), ForeignKey("records_residents.id"), nullable=False),
    Column("existing_house_id", String(64), ForeignKey("records_houses.id"), nullable=False),
    Column("claimed_house_id", String(64), ForeignKey("records_houses.id"), nullable=False),
    Column("station_id", String(64), nullable=True),  # the claimed house's
    Column("existing_station_id", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("settled_by", String(64), nullable=True),
    Column("settled_at", UtcDateTime, nullable=True),
    Column("resolution", String(32), nullable=True),
    Column("note", String(500), nullable=True),
    Index(None, "status"),
)

records_history = Table(
    "records_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("record_kind", String(16), nullable=False),
    Column("record_id", String(64), nullable=False),
    Column("ts", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("reviewer", String(64), nullable=True),
    Column("channel", String(16), nullable=False),
    Column("collection_id", String(64), nullable=True),
    Column("field", String(32), nullable=False),
    Column("before", Text, nullable=True),  # sealed for personal fields
    Column("after", Text, nullable=True),
    Index(None, "record_kind", "record_id"),
)

records_photos = Table(
    "records_photos",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("collection_id", String(64), ForeignKey("records_collections.id"), nullable=False),
    Column("record_kind", String(16), nullable=False),
    Column("record_id", String(64), nullable=True),  # set when the collection is applied
    Column("content_type", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    # In the database like incidents' photos: one backup holds all, a 2xx means committed.
    Column("data", LargeBinary, nullable=False),
    Index(None, "collection_id"),
    Index(None, "record_kind", "record_id"),
)

__all__ = [
    "records_businesses",
    "records_collections",
    "records_conflicts",
    "records_history",
    "records_households",
    "records_houses",
    "records_photos",
    "records_plates",
    "records_residents",
]
