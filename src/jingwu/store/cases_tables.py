"""The cases filed for incidents (立案) and their solving (破案): one row per incident at most.

On the one metadata of :mod:`jingwu.store.tables`, so the migrations test compares them too."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table

from jingwu.store.tables import UtcDateTime, metadata

incident_cases = Table(
    "incident_cases",
    metadata,
    Column("incident_id", String(64), ForeignKey("incidents.id"), primary_key=True),
    Column("case_number", String(40), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("filed_at", UtcDateTime, nullable=False),
    Column("filed_by", String(64), nullable=True),
    Column("solved_at", UtcDateTime, nullable=True),
    Column("solved_by", String(64), nullable=True),
    Index(None, "filed_at"),
    Index(None, "solved_at"),
)

__all__ = ["incident_cases"]
