"""Past incidents written in bulk: a bureau's history brought over from the system before, or the
demo city's synthetic past. They are closed, have no reporter, and log no events (they happened
before this system); the analytical store picks them up at its next full refresh."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert

from jingwu.domain.cases import Case
from jingwu.domain.model import Incident
from jingwu.store import tables as t
from jingwu.store.cases_tables import incident_cases
from jingwu.store.repository import incident_values


def insert_past_incidents(conn: Connection, incidents: Sequence[Incident]) -> int:
    """One INSERT with many rows (SQLite and PostgreSQL both take it as a batch)."""
    if not incidents:
        return 0
    rows = [{"id": i.id, **incident_values(i), "version": max(1, i.version)} for i in incidents]
    conn.execute(insert(t.incidents), rows)
    return len(rows)


def insert_past_cases(conn: Connection, cases: Sequence[Case]) -> int:
    """The cases filed (and solved) for past incidents, in one INSERT."""
    if not cases:
        return 0
    rows = [
        {
            "incident_id": c.incident_id,
            "case_number": c.case_number,
            "kind": str(c.kind),
            "filed_at": c.filed_at,
            "filed_by": c.filed_by,
            "solved_at": c.solved_at,
            "solved_by": c.solved_by,
        }
        for c in cases
    ]
    conn.execute(insert(incident_cases), rows)
    return len(rows)


__all__ = ["insert_past_cases", "insert_past_incidents"]
