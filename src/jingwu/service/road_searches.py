"""Road searches for commands: worked out before the write transaction, checked inside it.

A search may take tens of milliseconds. Run inside a command's transaction it held the process's
commit lock (service.commands), the rows it had locked and, on SQLite, the database's one write
lock all that time, so every other command and position report waited on it. A command now
searches first, from a read; its decide checks that what the search was worked from (the units'
positions, the incident's place and kind, the units already taken) is still what it has locked,
and if anything moved, the search runs again outside, a bounded number of times.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from jingwu.dispatch.recommend import travel_time
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Incident, Position, Unit
from jingwu.domain.rules import Decision
from jingwu.errors import JingwuError
from jingwu.routing import RoadNetwork, RoadPoint
from jingwu.service.commands import CommandPath, Decide
from jingwu.service.unit_board import UnitBoard
from jingwu.store import repository as repo
from jingwu.store.db import read_transaction

log = logging.getLogger(__name__)

#: Searches per command. A unit reports its position every few seconds and a search takes
#: milliseconds, so a second search almost always holds; the last attempt leaves out what moved
#: again (an ETA or an offer unknown, never stale) rather than search under the lock.
SEARCH_ATTEMPTS = 3

S = TypeVar("S")


class SearchMoved(Exception):
    """Raised from a decide: what its road search was worked from has changed; search again."""


def commit_searched(
    commands: CommandPath, search: Callable[[], S], decide_with: Callable[[S, bool], Decide]
) -> Decision:
    """Search outside the transaction, then commit the decide made from what was found.
    ``decide_with(found, last)`` raises SearchMoved when ``found`` no longer holds, except on the
    ``last`` attempt, where it must leave out what moved."""
    for attempt in range(1, SEARCH_ATTEMPTS):
        found = search()
        try:
            return commands.commit(decide_with(found, False))
        except SearchMoved:
            log.info("what a road search was worked from moved before the commit (attempt %d)", attempt)
    return commands.commit(decide_with(search(), True))


# ------------------------------------------------------------ a dispatch's ETAs


def road_etas(
    network: RoadNetwork, board: UnitBoard, incident: Incident, units: Sequence[Unit]
) -> dict[str, float | None]:
    """Road travel time of each unit to the incident, in seconds; None where a unit has no
    routable position. One bounded search for all of them. Never refuses: a dispatch
    goes out even when its ETA cannot be worked out."""
    etas: dict[str, float | None] = {u.id: None for u in units}
    sources: list[RoadPoint] = []
    ids: list[str] = []
    for unit in units:
        point = board.snap_position(unit.position)
        if point is not None:
            sources.append(point)
            ids.append(unit.id)
    if not sources:
        return etas
    try:
        target = board.incident_point(incident)
        reaches = network.nearest_by_time(target, sources, len(sources), with_routes=False)
    except JingwuError as exc:
        log.warning("no ETA for dispatch to %s: %s", incident.id, exc.message)
        return etas
    kinds = {u.id: u for u in units}
    for reach in reaches:
        unit_id = ids[reach.index]
        etas[unit_id] = travel_time(kinds[unit_id], reach.eta_s, reach.distance_m)
    return etas


@dataclass(frozen=True, slots=True)
class DispatchEtas:
    """Units' road ETAs to an incident, with the places they were worked out from."""

    location: GeoPoint
    positions: Mapping[str, Position | None]
    etas: Mapping[str, float | None]

    def checked(self, incident: Incident, units: Sequence[Unit], *, last: bool) -> dict[str, float | None]:
        """The ETAs of ``units`` as just locked. A unit's position report does not change its
        version, so the positions themselves are compared."""
        moved = {
            u.id
            for u in units
            if incident.location != self.location
            or u.id not in self.positions
            or u.position != self.positions[u.id]
        }
        if moved and not last:
            raise SearchMoved(sorted(moved))
        return {u.id: None if u.id in moved else self.etas.get(u.id) for u in units}


def search_etas(
    engine: Engine, network: RoadNetwork, board: UnitBoard, incident_id: str, unit_ids: Sequence[str]
) -> DispatchEtas:
    """The ETAs of the units to the incident as the store holds them now (a read, no lock).
    Units or an incident that do not exist are left to the decide to refuse."""
    with read_transaction(engine) as conn:
        incident = repo.get_incident(conn, incident_id)
        units = repo.list_units(conn, ids=list(unit_ids), include_retired=True)
    return DispatchEtas(
        location=incident.location,
        positions={u.id: u.position for u in units},
        etas=road_etas(network, board, incident, units),
    )


# ------------------------------------------------------------ an escalation's offer


def _offer_basis(incident: Incident) -> tuple[Any, ...]:
    """What a recommendation for the incident depends on, of the incident."""
    return (incident.is_open, incident.location, incident.type_code, incident.priority)


def _unit_basis(unit: Unit) -> tuple[Any, ...]:
    """What a unit's eligibility depends on (its position only ranks it; see UnitBoard)."""
    return (unit.status, unit.incident_id, unit.kind, unit.capabilities, unit.retired_at)


@dataclass(frozen=True, slots=True)
class Offer:
    """The unit to offer for an incident whose dispatch went unacknowledged (None: none can
    come), and what it was worked out from."""

    basis: tuple[Any, ...]
    taken: frozenset[str]
    unit: Unit | None
    eta_s: float | None

    def checked(
        self, conn: Connection, incident: Incident, taken: frozenset[str], *, last: bool
    ) -> dict[str, Any] | None:
        """The offer as an escalation event carries it, if it still holds in the transaction."""
        holds = self.basis == _offer_basis(incident) and self.taken == taken
        if holds and self.unit is not None:
            rows = repo.list_units(conn, ids=[self.unit.id])
            holds = bool(rows) and _unit_basis(rows[0]) == _unit_basis(self.unit)
        if not holds:
            if not last:
                raise SearchMoved(incident.id)
            return None
        if self.unit is None or self.eta_s is None:
            return None
        return {"unit_id": self.unit.id, "callsign": self.unit.callsign, "eta_s": round(self.eta_s, 1)}


def offer_for(
    conn: Connection, offers: Mapping[str, Offer], incident: Incident, taken: frozenset[str], *, last: bool
) -> dict[str, Any] | None:
    """The offer searched for ``incident``, if it still holds (an incident overdue only since the
    search has none yet: searched again, or none on the last attempt)."""
    offer = offers.get(incident.id)
    if offer is None:
        if not last:
            raise SearchMoved(incident.id)
        return None
    return offer.checked(conn, incident, taken, last=last)


def search_offers(engine: Engine, board: UnitBoard, now: datetime) -> dict[str, Offer]:
    """For every incident with a dispatch overdue at ``now``, the next unit to offer (a read of
    the store, then the board's recommendation outside any transaction)."""
    with read_transaction(engine) as conn:
        overdue = repo.overdue_assignments(conn, now, claim=False)
        incidents = {a.incident_id: repo.get_incident(conn, a.incident_id) for a in overdue}
        taken = {
            i: frozenset(a.unit_id for a in repo.active_assignments(conn, incident_id=i)) for i in incidents
        }
    offers: dict[str, Offer] = {}
    for incident_id, incident in incidents.items():
        try:
            best = board.recommend(incident, limit=1, exclude=sorted(taken[incident_id]))
        except JingwuError as exc:  # the escalation matters more than the offer
            log.warning("no offer for overdue dispatch on %s: %s", incident_id, exc.message)
            best = []
        unit, eta_s = (best[0].unit, best[0].eta_s) if best else (None, None)
        offers[incident_id] = Offer(_offer_basis(incident), taken[incident_id], unit, eta_s)
    return offers


__all__ = [
    "SEARCH_ATTEMPTS",
    "DispatchEtas",
    "Offer",
    "SearchMoved",
    "commit_searched",
    "offer_for",
    "road_etas",
    "search_etas",
    "search_offers",
]
