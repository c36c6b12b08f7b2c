"""The shared event log as the cluster bus reads it, to fill gaps and catch up (bus.ordering)."""

from __future__ import annotations

from sqlalchemy import Engine

from jingwu.bus import BusMessage
from jingwu.service.commands import stored_event_message
from jingwu.store import events as stored_events
from jingwu.store.db import read_transaction


class StoredEventLog:
    """The ``events`` table, read back in the shape the live stream shows."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def last_event_id(self) -> int:
        with read_transaction(self.engine) as conn:
            return stored_events.last_event_id(conn)

    def events_after(self, after_id: int, limit: int) -> list[BusMessage]:
        with read_transaction(self.engine) as conn:
            return [stored_event_message(r) for r in stored_events.events_after(conn, after_id, limit)]


__all__ = ["StoredEventLog"]
