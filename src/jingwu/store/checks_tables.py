"""Tables of patrol checks (巡逻盘查) and the watch lists.

On the one metadata of :mod:`jingwu.store.tables`, so the migrations test compares them too.
Subjects (identity numbers, plates) and names are personal data: sealed with the field keys
(store.fieldcrypt) and found by their keyed blind index, never stored or searched in the clear."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, String, Table, Text

from jingwu.store.tables import UtcDateTime, metadata

watchlist_entries = Table(
    "watchlist_entries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("list", String(32), nullable=False),  # domain.watchlists.WatchList
    # The identity number or plate, sealed; its blind index is what a check looks up (one
    # indexed equality, however long the lists).
    Column("subject", Text, nullable=False),
    Column("subject_index", String(32), nullable=False),
    Column("label", Text, nullable=True),  # a name or a description, sealed
    Column("reason", Text, nullable=False),
    Column("added_by", String(64), nullable=False),
    Column("station_id", String(64), nullable=True),  # the adder's station (null: the city's)
    Column("added_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    # Removal keeps the row (who removed it, when): a past hit still shows what it hit.
    Column("removed_at", UtcDateTime, nullable=True),
    Column("removed_by", String(64), nullable=True),
    Index(None, "subject_index"),
    Index(None, "list", "added_at"),
)

patrol_checks = Table(
    "patrol_checks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(8), nullable=False),  # person | vehicle
    Column("subject", Text, nullable=False),  # sealed
    Column("subject_index", String(32), nullable=False),
    Column("subject_masked", String(32), nullable=False),
    Column("officer", String(64), nullable=False),
    Column("unit_id", String(64), nullable=True),
    # The station whose jurisdiction holds the place (or the unit's, without a place).
    Column("station_id", String(64), nullable=True),
    Column("reason", Text, nullable=False),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("result", String(8), nullable=False),  # clear | hit
    Column("hits", JSON, nullable=False),  # [{"entry_id", "list"}]
    Column("checked_at", UtcDateTime, nullable=False),
    Index(None, "station_id", "checked_at"),
    Index(None, "checked_at"),
    Index(None, "subject_index"),
)

__all__ = ["metadata", "patrol_checks", "watchlist_entries"]
