"""The one write path of commands: decide inside a write transaction, commit, then publish.

Every command of every service goes down it (dispatching's own, and community devices' through
``DispatchService.commit``). The rules decide on rows read and locked in the transaction; the
decision is stored with its events in the log and the command's idempotency key; only after the
commit is the live unit board moved and each event published, so a live client never sees a
change that a crash could take back, and every 2xx the API gives follows a commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from jingwu.bus import Bus, BusMessage
from jingwu.domain.events import DomainEvent
from jingwu.domain.rules import Decision
from jingwu.errors import SystemFault
from jingwu.service.idempotency import record_claim
from jingwu.service.unit_board import UnitBoard
from jingwu.service.views import incident_view, unit_view
from jingwu.store import repository as repo
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.faults import rolled_back_by_conflict

log = logging.getLogger(__name__)

COMMIT_ATTEMPTS = 3

#: A command's rules: given the open write transaction and the time, what changes (or raise).
Decide = Callable[[Connection, datetime], Decision]


def _message(
    event_id: int | None,
    event_type: str,
    ts: datetime,
    incident_id: str | None,
    unit_id: str | None,
    actor: str | None,
    data: dict[str, Any],
) -> BusMessage:
    payload = {
        "id": event_id,
        "type": event_type,
        "ts": ts.isoformat(),
        "incident_id": incident_id,
        "unit_id": unit_id,
        "actor": actor,
        "data": data,
    }
    return BusMessage(id=event_id, type=event_type, payload=payload)


def event_message(event_id: int | None, event: DomainEvent) -> BusMessage:
    """A just-committed event as the live stream shows it."""
    return _message(
        event_id, str(event.type), event.at, event.incident_id, event.unit_id, event.actor, dict(event.data)
    )


def stored_event_message(row: Any) -> BusMessage:
    """An event read back from the log, in the same shape as when it went out live."""
    return _message(row.id, row.type, row.ts, row.incident_id, row.unit_id, row.actor, row.data)


def _as_stored(decision: Decision) -> Decision:
    """The store holds each changed record one version up from what the rules saw."""
    return replace(
        decision,
        incidents=tuple(replace(i, version=i.version + 1) for i in decision.incidents),
        units=tuple(replace(u, version=u.version + 1) for u in decision.units),
    )


class CommandPath:
    """Commits commands one at a time per process and keeps ``board`` up to them."""

    def __init__(self, engine: Engine, bus: Bus, board: UnitBoard, *, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.bus = bus
        self.board = board
        self.clock = clock
        # Commit and publish under one lock, so this process publishes events in log-id order and
        # a live client's "last id seen" is a safe place to resume from.
        self._lock = threading.Lock()

    def reload_board(self) -> None:
        """Reload the live unit board from the store. Under the commit lock, so that no commit of
        this process lands between the read and the load and is then undone on the board."""
        with self._lock, read_transaction(self.engine) as conn:
            self.board.load(repo.list_units(conn))

    def commit(
        self,
        decide: Decide,
        *,
        new_incident_ids: frozenset[str] = frozenset(),
        sealed: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Decision:
        """Run ``decide`` in one write transaction (retried on a transient conflict) and store
        its decision, events and idempotency key; then update the board and publish the events.
        ``decide`` may write rows of its own through the connection; raising from it changes
        nothing. Returns the decision with the versions as stored."""
        with self._lock:
            for attempt in range(1, COMMIT_ATTEMPTS + 1):
                now = self.clock()
                try:
                    with write_transaction(self.engine) as conn:
                        decision = decide(conn, now)
                        decision = self._with_snapshots(conn, decision)
                        stored = repo.apply_decision(
                            conn, decision, new_incident_ids=new_incident_ids, sealed=sealed
                        )
                        # The idempotency key commits with the command, rendered from its result.
                        claim = record_claim(conn, now, _as_stored(decision))
                    if claim is not None:
                        claim.recorded = True
                    break
                except DBAPIError as exc:
                    # Two server processes may lock the same incident and unit in opposite orders;
                    # the database breaks the tie by failing one, which simply runs again.
                    if rolled_back_by_conflict(exc) and attempt < COMMIT_ATTEMPTS:
                        log.info("command retried after a transient database conflict (%s)", type(exc.orig))
                        continue
                    raise SystemFault(
                        "the database could not complete the command; try again", code="store_unavailable"
                    ) from exc
            decision = _as_stored(decision)
            if decision.units:
                self.board.update(decision.units)
            for event_id, event in stored:
                self.bus.publish(event_message(event_id, event))
        return decision

    def _with_snapshots(self, conn: Connection, decision: Decision) -> Decision:
        """Attach the after-state of the incident/unit to each event, so that a live client (or
        a replay from the log) can show the change without asking again."""
        # Stored versions are one ahead of the records the rules returned.
        incidents = {i.id: replace(i, version=i.version + 1) for i in decision.incidents}
        units = {u.id: replace(u, version=u.version + 1) for u in decision.units}
        events = []
        for event in decision.events:
            data = dict(event.data)
            if event.incident_id is not None:
                incident = incidents.get(event.incident_id)
                if incident is None:
                    incident = repo.get_incident(conn, event.incident_id)
                    incidents[incident.id] = incident
                data["incident"] = incident_view(incident)
            if event.unit_id is not None:
                unit = units.get(event.unit_id)
                if unit is None:
                    unit = repo.get_unit(conn, event.unit_id)
                    units[unit.id] = unit
                data["unit"] = unit_view(unit, with_position=False)
            events.append(replace(event, data=data))
        return replace(decision, events=tuple(events))


__all__ = ["COMMIT_ATTEMPTS", "CommandPath", "Decide", "event_message", "stored_event_message"]
