"""The live board of units: every unit's current state in memory, and recommendation from it.

The store stays the truth (a dispatch re-reads and locks its units); the board is what lets a
recommendation for 2,000 units take well under a millisecond instead of a database read and a
Python loop per unit. It is updated after every commit this process makes and every position
report, and reloaded from the store periodically so that it heals from anything it missed.

The roster handed to the router (road points plus coded status / kind / capabilities) is rebuilt
when a status changes, but for position moves at most once per ``POSITION_REFRESH_S``: a
recommendation may use positions up to a second old, which is far fresher than the reports
themselves. Positions are snapped to the roads when the roster is rebuilt, all the units that
moved since in one vectorised pass: a fleet reporting several times a second between two
recommendations is snapped once, not once per report.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from jingwu.dispatch import EtaEntry, Recommendation, rank
from jingwu.dispatch.eligibility import PRIMARY_CODE, WhyNot, eligible_mask, why_not
from jingwu.dispatch.recommend import air_entry
from jingwu.domain.geo import GeoPoint, haversine_m
from jingwu.domain.gps import Fix
from jingwu.domain.incident_types import get_incident_type
from jingwu.domain.model import Incident, Position, Unit
from jingwu.domain.status import PRIMARY_OF, PrimaryUnitStatus, UnitKind
from jingwu.errors import OffRoadError
from jingwu.routing import RoadNetwork, RoadPoint

# A unit's GPS may sit in a courtyard or a car park; it still drives off along the nearest road.
UNIT_SNAP_DISTANCE_M = 1_000.0
POSITION_REFRESH_S = 1.0
# Incidents whose road point is kept (snapped once, when the incident is opened).
INCIDENT_POINT_CACHE = 10_000

KIND_CODES: dict[str, int] = {str(kind): code for code, kind in enumerate(UnitKind)}


@dataclass(frozen=True, slots=True, eq=False)
class Roster:
    """Units with a routable position, as the router and the vectorised eligibility need them."""

    units: tuple[Unit, ...]
    points: tuple[RoadPoint, ...]
    primary: NDArray[np.int8]
    kind: NDArray[np.int8]
    capabilities: NDArray[np.int64]
    capability_bits: dict[str, int]
    index: dict[str, int]

    def eligible(self, incident: Incident) -> NDArray[np.bool_]:
        """Which of these units may take the incident (before any road is looked at)."""
        return eligible_mask(
            primary=self.primary,
            kind=self.kind,
            capabilities=self.capabilities,
            kind_codes=KIND_CODES,
            capability_bits=self.capability_bits,
            incident=incident,
            incident_type=get_incident_type(incident.type_code),
        )

    @classmethod
    def build(cls, entries: Sequence[tuple[Unit, RoadPoint]]) -> Roster:
        bits: dict[str, int] = {}
        for unit, _ in entries:
            for capability in sorted(unit.capabilities):
                bits.setdefault(capability, 1 << len(bits))
        return cls(
            units=tuple(u for u, _ in entries),
            points=tuple(p for _, p in entries),
            primary=np.array([PRIMARY_CODE[PRIMARY_OF[u.status]] for u, _ in entries], dtype=np.int8),
            kind=np.array([KIND_CODES[str(u.kind)] for u, _ in entries], dtype=np.int8),
            capabilities=np.array([sum(bits[c] for c in u.capabilities) for u, _ in entries], dtype=np.int64),
            capability_bits=bits,
            index={u.id: i for i, (u, _) in enumerate(entries)},
        )


@dataclass(frozen=True, slots=True)
class UnitVerdict:
    """A unit near an incident and why it is not recommended (``reason`` None: it is, at
    ``rank``); ``eta_s`` by road when it is eligible and can reach the scene."""

    unit: Unit
    straight_line_m: float
    reason: WhyNot | None
    rank: int | None
    eta_s: float | None


class UnitBoard:
    def __init__(self, network: RoadNetwork) -> None:
        self.network = network
        self._units: dict[str, Unit] = {}
        self._points: dict[str, RoadPoint | None] = {}  # of the units not in _unsnapped
        self._unsnapped: set[str] = set()  # moved since their point was worked out
        # Positions reported since the unit's record here was last rebuilt: folded in when the
        # unit is read (copying a Unit for each of thousands of reports a second cost more than
        # the rest of the board's work on them). A GPS fix is kept as it came, and made a
        # Position only then: most are superseded before anyone reads them.
        self._moved: dict[str, Position | Fix] = {}
        self._lock = threading.Lock()
        self._roster: Roster | None = None
        self._statuses_changed = True
        self._positions_changed = False
        self._built_at = 0.0
        self._incident_points: OrderedDict[str, tuple[GeoPoint, RoadPoint]] = OrderedDict()

    # ------------------------------------------------------------ keeping it current

    def load(self, units: Iterable[Unit]) -> None:
        """Replace the whole board (start-up and periodic self-healing). A unit that changed
        here since the store was read (a newer version, or a newer position, heard from another
        server process meanwhile) keeps what is newer."""
        fresh = {u.id: u for u in units}
        with self._lock:
            self._fold(list(self._moved))
            for unit_id, unit in fresh.items():
                current = self._units.get(unit_id)
                if current is None:
                    continue
                if current.version > unit.version:
                    unit = replace(current, position=unit.position)
                if _newer(current.position, unit.position):
                    unit = replace(unit, position=current.position)
                fresh[unit_id] = unit
            # A unit keeps its road point only while its position is the one it was worked out for.
            unsnapped = {
                unit_id
                for unit_id, unit in fresh.items()
                if unit_id in self._unsnapped
                or unit_id not in self._points
                or (before := self._units.get(unit_id)) is None
                or before.position != unit.position
            }
            self._points = {u: p for u, p in self._points.items() if u in fresh and u not in unsnapped}
            self._units = fresh
            self._unsnapped = unsnapped
            self._statuses_changed = True

    def update(self, units: Iterable[Unit], *, remote: bool = False, new: bool = False) -> None:
        """Units as a committed decision left them; a newer position already here is kept, and
        so is a newer version (two server processes' updates may arrive in either order). A
        retired unit leaves the board.

        ``remote``: the units come from another process's event (unit snapshots carry no
        position): only a strictly newer version is taken, and the position here is kept.
        ``new``: units just created (another process's ``unit.created``): taken even though
        this board has not seen them."""
        with self._lock:
            changed = False
            for unit in units:
                self._fold([unit.id])
                current = self._units.get(unit.id)
                if current is not None and (
                    current.version > unit.version or (remote and current.version == unit.version)
                ):
                    continue
                if unit.retired_at is not None:
                    # Out of the fleet: off the board, so never recommended or drawn again.
                    self._units.pop(unit.id, None)
                    self._points.pop(unit.id, None)
                    self._unsnapped.discard(unit.id)
                    changed = True
                    continue
                if remote and current is None and not new:
                    continue  # a unit not on this board yet: the periodic reload brings it
                if current is not None and (remote or _newer(current.position, unit.position)):
                    unit = replace(unit, position=current.position)
                elif current is None or current.position != unit.position:
                    self._unsnapped.add(unit.id)
                self._units[unit.id] = unit
                changed = True
            if changed:
                self._statuses_changed = True

    def move(self, reports: Iterable[tuple[str, Position | Fix]]) -> None:
        """Committed position reports (snapped to the roads when the roster next needs them)."""
        with self._lock:
            for unit_id, position in reports:
                unit = self._units.get(unit_id)
                if unit is None or _newer(self._moved.get(unit_id) or unit.position, position):
                    continue
                self._moved[unit_id] = position
                self._unsnapped.add(unit_id)
            self._positions_changed = True

    def _fold(self, unit_ids: Iterable[str]) -> None:
        """Bring the reported positions of these units into their records (lock held)."""
        for unit_id in unit_ids:
            position = self._moved.pop(unit_id, None)
            unit = self._units.get(unit_id)
            if position is not None and unit is not None:
                self._units[unit_id] = replace(unit, position=_as_position(position))

    def position_of(self, unit_id: str) -> Position | None:
        """The unit's newest position on the board (None: unknown unit, or never placed)."""
        with self._lock:
            unit = self._units.get(unit_id)
            if unit is None:
                return None
            moved = self._moved.get(unit_id)
            return unit.position if moved is None else _as_position(moved)

    def unit_ids(self) -> frozenset[str]:
        """The units on the board (in service)."""
        with self._lock:
            return frozenset(self._units)

    def station_of(self, unit_id: str) -> str | None:
        """The unit's station, from memory (the live stream asks this for every position)."""
        unit = self._units.get(unit_id)
        return None if unit is None else unit.station_id

    def incident_of(self, unit_id: str) -> str | None:
        """The incident the unit is working, from memory."""
        unit = self._units.get(unit_id)
        return None if unit is None else unit.incident_id

    def remember_incident(self, incident_id: str, location: GeoPoint, point: RoadPoint) -> None:
        """The road point an incident was snapped to when it was opened, so that recommending
        for it (again and again, as units free up) does not snap it again."""
        with self._lock:
            self._incident_points[incident_id] = (location, point)
            self._incident_points.move_to_end(incident_id)
            while len(self._incident_points) > INCIDENT_POINT_CACHE:
                self._incident_points.popitem(last=False)

    def incident_point(self, incident: Incident) -> RoadPoint:
        """The road point a unit drives to for ``incident`` (snapped once, then remembered)."""
        with self._lock:
            hit = self._incident_points.get(incident.id)
        if hit is not None and hit[0] == incident.location:
            return hit[1]
        # Incidents are checked against the roads when opened; the generous bound here keeps old
        # incidents routable if the graph is rebuilt with slightly different roads.
        point = self.network.snap(incident.location.lat, incident.location.lon, UNIT_SNAP_DISTANCE_M)
        self.remember_incident(incident.id, incident.location, point)
        return point

    def snap_position(self, position: Position | None) -> RoadPoint | None:
        """Where a unit at ``position`` joins the road graph; None without a position or when it
        is off every road (it is then not routable until it reports again)."""
        if position is None:
            return None
        try:
            return self.network.snap(
                position.lat, position.lon, UNIT_SNAP_DISTANCE_M, position.heading, position.speed
            )
        except OffRoadError:
            return None  # off every road: not routable until it reports again

    def roster(self) -> Roster:
        with self._lock:
            stale = self._statuses_changed or (
                self._positions_changed and time.monotonic() - self._built_at >= POSITION_REFRESH_S
            )
            if self._roster is not None and not stale:
                return self._roster
            self._fold(list(self._moved))
            self._snap_moved()
            entries = []
            for unit_id in sorted(self._units):
                point = self._points.get(unit_id)
                if point is not None:
                    entries.append((self._units[unit_id], point))
            self._roster = Roster.build(entries)
            self._statuses_changed = self._positions_changed = False
            self._built_at = time.monotonic()
            return self._roster

    def _snap_moved(self) -> None:
        """Work out the road points of the units that moved since the last roster (lock held)."""
        placed = [
            (unit_id, unit.position)
            for unit_id in sorted(self._unsnapped)
            if (unit := self._units.get(unit_id)) is not None and unit.position is not None
        ]
        # With heading and speed: a moving unit starts in its direction of travel.
        motions = [(p.heading, p.speed) for _, p in placed]
        points = self.network.snap_many([(p.lat, p.lon) for _, p in placed], UNIT_SNAP_DISTANCE_M, motions)
        for unit_id in self._unsnapped:
            self._points[unit_id] = None  # no position: not routable
        self._points.update((unit_id, point) for (unit_id, _), point in zip(placed, points, strict=True))
        self._unsnapped.clear()

    # ------------------------------------------------------------ recommendation

    def recommend(
        self,
        incident: Incident,
        *,
        limit: int,
        exclude: Sequence[str] = (),
        baseline: bool = False,
        station_ids: Collection[str] | None = None,
    ) -> list[Recommendation]:
        """Top ``limit`` eligible units by road ETA to the incident, with their routes.

        ``baseline`` runs the same path with one full one-to-all Dijkstra (for the benchmark).
        """
        if not incident.is_open:
            return []
        roster = self.roster()
        if not roster.units:
            return []
        mask = roster.eligible(incident)
        for unit_id in exclude:
            i = roster.index.get(unit_id)
            if i is not None:
                mask[i] = False
        if station_ids is not None:
            mask &= np.array([u.station_id in station_ids for u in roster.units], dtype=bool)
        target = self.incident_point(incident)
        search = self.network.baseline_nearest_by_time if baseline else self.network.nearest_by_time
        # Free units first: a cleared or busy unit (eligible only for urgent work) is searched
        # for only when fewer than ``limit`` free ones can come, and ranks after all of them.
        free = roster.primary == PRIMARY_CODE[PrimaryUnitStatus.AVAILABLE]
        # A foot patrol walks (rank takes its slower time): search as many more as could fall
        # behind, so that the top ``limit`` after ranking is still exact.
        walkers = roster.kind == KIND_CODES[str(UnitKind.FOOT)]
        # Drones fly the air line: they are not searched on the roads (see dispatch.recommend).
        drones = roster.kind == KIND_CODES[str(UnitKind.DRONE)]
        fliers = [
            entry
            for i in np.flatnonzero(mask & drones)
            if (entry := air_entry(int(i), roster.units[i], incident.location)) is not None
        ]
        mask &= ~drones
        wanted = limit + int((mask & free & walkers).sum())
        reaches = list(search(target, roster.points, wanted, with_routes=True, allowed=mask & free))
        if len(reaches) < limit and (mask & ~free).any():
            more = limit - len(reaches) + int((mask & ~free & walkers).sum())
            reaches += search(target, roster.points, more, with_routes=True, allowed=mask & ~free)
        table = [
            EtaEntry(r.index, r.eta_s, r.distance_m, r.route.to_geojson() if r.route else None)
            for r in reaches
        ]
        return rank(roster.units, table + fliers, incident.location, limit)

    def explain(
        self,
        incident: Incident,
        *,
        limit: int,
        radius_m: float,
        station_ids: Collection[str] | None = None,
    ) -> list[UnitVerdict]:
        """Every unit within ``radius_m`` (straight line) of the incident that the caller may
        send, nearest first, each with why it is not on the list of ``limit`` (None: it is),
        so that a unit left out is never left out silently."""
        recommended = self.recommend(incident, limit=limit, station_ids=station_ids)
        listed = {r.unit.id: i for i, r in enumerate(recommended)}
        roster = self.roster()
        with self._lock:
            self._fold(list(self._moved))
            units = list(self._units.values())
        incident_type = get_incident_type(incident.type_code)
        near: list[tuple[Unit, float, WhyNot | None]] = []
        for unit in units:
            if unit.position is None or (station_ids is not None and unit.station_id not in station_ids):
                continue
            metres = haversine_m(GeoPoint(unit.position.lat, unit.position.lon), incident.location)
            if metres > radius_m:
                continue
            reason = why_not(unit, incident, incident_type)
            if reason is None and unit.id not in listed:
                reason = WhyNot.OFF_ROAD if unit.id not in roster.index else WhyNot.OUTRANKED
            near.append((unit, metres, reason))
        # An eligible unit not listed either cannot reach the scene by road or was outranked:
        # one bounded search over just those units tells which, with its ETA.
        outranked = [roster.index[u.id] for u, _, r in near if r is WhyNot.OUTRANKED]
        etas: dict[str, float] = {}
        if outranked:
            allowed = np.zeros(len(roster.units), dtype=bool)
            allowed[outranked] = True
            target = self.incident_point(incident)
            for reach in self.network.nearest_by_time(
                target, roster.points, len(outranked), with_routes=False, allowed=allowed
            ):
                etas[roster.units[reach.index].id] = reach.eta_s
        for r in recommended:
            etas[r.unit.id] = r.eta_s
        verdicts = [
            UnitVerdict(
                unit=unit,
                straight_line_m=metres,
                reason=WhyNot.UNREACHABLE if reason is WhyNot.OUTRANKED and unit.id not in etas else reason,
                rank=listed.get(unit.id),
                eta_s=etas.get(unit.id),
            )
            for unit, metres, reason in near
        ]
        return sorted(verdicts, key=lambda v: (v.straight_line_m, v.unit.callsign))


def _as_position(report: Position | Fix) -> Position:
    if isinstance(report, Position):
        return report
    return Position(report.lat, report.lon, report.ts, report.heading, report.speed)


def _newer(a: Position | Fix | None, b: Position | Fix | None) -> bool:
    """Whether ``a`` is a strictly newer fix than ``b``."""
    return a is not None and (b is None or a.ts > b.ts)


__all__ = [
    "KIND_CODES",
    "POSITION_REFRESH_S",
    "UNIT_SNAP_DISTANCE_M",
    "Roster",
    "UnitBoard",
    "UnitVerdict",
]
