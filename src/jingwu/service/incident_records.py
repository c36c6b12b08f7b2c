"""Incidents as records: corrections (type, priority, place, address, description), reopening a
closed incident, and search with cursor paging.

Corrections and reopening go down the commands' one write path (service.commands) like every
other change: decided by domain.incident_edits on the row locked in the transaction, written
with a version check, audited in the same transaction, published after the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import Connection, Engine

from jingwu.domain.geo import GeoPoint
from jingwu.domain.incident_edits import IncidentEdit, edit_incident, reopen_incident
from jingwu.domain.incident_query import IncidentFilter, decode_cursor, encode_cursor
from jingwu.domain.model import Incident
from jingwu.domain.rules import Decision
from jingwu.routing import RoadNetwork
from jingwu.service import audit
from jingwu.service.commands import CommandPath
from jingwu.store import incident_search
from jingwu.store import repository as repo
from jingwu.store.db import read_transaction


class IncidentRecords:
    def __init__(
        self,
        engine: Engine,
        commands: CommandPath,
        network: RoadNetwork,
        *,
        station_for: Callable[[GeoPoint], str | None],
        max_snap_distance_m: float,
    ) -> None:
        self.engine = engine
        self.commands = commands
        self.network = network
        self.station_for = station_for
        self.max_snap_distance_m = max_snap_distance_m

    # ------------------------------------------------------------ corrections

    def edit(
        self,
        incident_id: str,
        edit: IncidentEdit,
        *,
        actor: str | None,
        expected_version: int | None,
        reason: str | None = None,
        source: str | None = None,
    ) -> Incident:
        """Correct an incident; the incident as stored after (unchanged when nothing differed).

        A new place is checked against the roads as at intake (422 ``off_road``: nothing
        changes) and gives the incident the station whose jurisdiction holds it."""
        road_point = None
        station_id = None
        if isinstance(edit.location, GeoPoint):
            road_point = self.network.snap(edit.location.lat, edit.location.lon, self.max_snap_distance_m)
            station_id = self.station_for(edit.location)

        def decide(conn: Connection, now: datetime) -> Decision:
            incident = repo.get_incident(conn, incident_id, for_update=True)
            decision = edit_incident(
                incident,
                edit,
                now=now,
                actor=actor,
                expected_version=expected_version,
                station_id=station_id,
                reason=reason,
            )
            for event in decision.events:
                audit.append(
                    conn,
                    ts=now,
                    action=str(event.type),
                    actor=actor,
                    target=f"incident:{incident_id}",
                    source=source,
                    reason=event.data.get("reason"),
                    details={"fields": sorted(event.data["changes"]), "version": incident.version + 1},
                )
            return decision

        decision = self.commands.commit(decide)
        if not decision.incidents:
            return self.get(incident_id)
        updated = decision.incidents[0]
        if road_point is not None:
            # Recommendations route to the corrected place from now on, without snapping it again.
            self.commands.board.remember_incident(incident_id, updated.location, road_point)
        return updated

    def reopen(
        self,
        incident_id: str,
        *,
        reason: str,
        actor: str | None,
        expected_version: int | None = None,
        source: str | None = None,
    ) -> Incident:
        """Put a closed incident back in the queue (pending), with the reason why."""

        def decide(conn: Connection, now: datetime) -> Decision:
            incident = repo.get_incident(conn, incident_id, for_update=True)
            decision = reopen_incident(
                incident, now=now, actor=actor, reason=reason, expected_version=expected_version
            )
            audit.append(
                conn,
                ts=now,
                action=str(decision.events[0].type),
                actor=actor,
                target=f"incident:{incident_id}",
                source=source,
                reason=decision.events[0].data["reason"],
                details={"version": incident.version + 1},
            )
            return decision

        return self.commands.commit(decide).incidents[0]

    def get(self, incident_id: str) -> Incident:
        with read_transaction(self.engine) as conn:
            return repo.get_incident(conn, incident_id)

    # ------------------------------------------------------------ search

    def queue(
        self,
        found: IncidentFilter,
        *,
        limit: int,
        station_ids: Collection[str] | None = None,
        created_by: str | None = None,
    ) -> list[Incident]:
        """The matching incidents most urgent first, then newest: at most ``limit``."""
        with read_transaction(self.engine) as conn:
            return incident_search.queue(
                conn, found, limit=limit, station_ids=station_ids, created_by=created_by
            )

    def page(
        self,
        found: IncidentFilter,
        *,
        limit: int,
        cursor: str | None = None,
        station_ids: Collection[str] | None = None,
        created_by: str | None = None,
    ) -> tuple[list[Incident], str | None]:
        """One page newest first after ``cursor`` (None or "": the first), and the cursor of the
        next page (None after the last). ``station_ids``: the caller's reach (None: the city)."""
        after = decode_cursor(cursor) if cursor else None
        with read_transaction(self.engine) as conn:
            rows, more = incident_search.page(
                conn, found, limit=limit, after=after, station_ids=station_ids, created_by=created_by
            )
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
        return rows, next_cursor


__all__ = ["IncidentRecords"]
