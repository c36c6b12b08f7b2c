"""Past incidents written in bulk: a bureau's history brought over from the system before, or the
demo city's synthetic past. They are closed, have no reporter, and log no events (they happened
before this system); the analytical store picks them up at its next full refresh."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert

from jingwu.domain.model import Incident
from jingwu.store import tables as t
from jingwu.store.repository import incident_values


def insert_past_incidents(conn: Connection, incidents: Sequence[Incident]) -> int:
    """One INSERT with many rows (SQLite and PostgreSQL both take it as a batch)."""
    if not incidents:
        return 0
    rows = [{"id": i.id, **incident_values(i), "version": max(1, i.version)} for i in incidents]
    conn.execute(insert(t.incidents), rows)
    return len(rows)


__all__ = ["insert_past_incidents"]
