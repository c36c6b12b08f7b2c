"""The living demo city: units patrol and answer dispatches along real roads, and calls arrive with
the type, priority and timing mix of real police calls.

The simulator acts through the same DispatchService as the REST API (as the users ``simulator``
for crews and ``sim-dispatcher`` for a stand-in dispatcher who takes the first recommendation when
nobody has dispatched an incident for a while). Its units' fixes go through the PositionService,
as a fleet's AVL gateway's would: judged by the GPS filter and kept in the history. A unit whose
own officer changes its status from the terminal is taken over by that human: the simulator stops
deciding for it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from jingwu.bus import BusMessage
from jingwu.composition import Services
from jingwu.domain.events import EventType
from jingwu.domain.geo import GeoPoint
from jingwu.domain.gps import Fix
from jingwu.domain.model import Incident, Unit
from jingwu.domain.status import IncidentStatus, SourceChannel, UnitStatus
from jingwu.errors import JingwuError
from jingwu.routing import Route
from jingwu.service.administration.roster import ROSTER_ACTOR
from jingwu.service.dispatching import NewIncident
from jingwu.service.positions import Source
from jingwu.simulation.call_mix import SimulatedCall, generate_calls, load_call_mix
from jingwu.simulation.city import random_point_in
from jingwu.store import events as stored_events
from jingwu.store.db import read_transaction

log = logging.getLogger(__name__)

CREW_ACTOR = "simulator"
DISPATCHER_ACTOR = "sim-dispatcher"
# Status changes that no person made: the simulated crews, the stand-in dispatcher, the roster.
_MACHINE_ACTORS = frozenset({CREW_ACTOR, DISPATCHER_ACTOR, ROSTER_ACTOR})
TICK_S = 1.0

# Where simulated calls come from (share of each intake channel).
_SOURCES = (
    (SourceChannel.CALL_110, 0.72),
    (SourceChannel.APP, 0.14),
    (SourceChannel.ALARM_DEVICE, 0.05),
    (SourceChannel.SENSOR, 0.04),
    (SourceChannel.WALK_IN, 0.05),
)


@dataclass(slots=True)
class SimConfig:
    call_rate_scale: float = 3.0  # × the real hourly call rate, so a demo has something to do
    auto_dispatch_after_s: float = 45.0  # stand-in dispatcher acts on incidents left this long
    on_scene_scale: float = 1 / 6  # real on-scene times are 30-60 min; a demo shortens them
    min_on_scene_s: float = 60.0
    max_on_scene_s: float = 600.0
    reaction_s: tuple[float, float] = (3.0, 12.0)  # crew's time to sign for a dispatch
    clear_to_available_s: float = 20.0
    auto_close_after_s: float = 30.0


@dataclass(slots=True)
class _Crew:
    route: Route | None = None
    route_started: datetime | None = None
    respond_at: datetime | None = None  # when the crew reacts to its dispatch
    leave_scene_at: datetime | None = None
    available_at: datetime | None = None
    incident_id: str | None = None
    last_status: UnitStatus | None = None  # a status change made elsewhere voids the timers


@dataclass(slots=True)
class _CallQueue:
    calls: list[SimulatedCall] = field(default_factory=list)
    window_start: datetime | None = None


class CitySimulator:
    def __init__(self, services: Services, rng: np.random.Generator, config: SimConfig | None = None) -> None:
        self.services = services
        self.rng = rng
        self.config = config or SimConfig()
        self.mix = load_call_mix()
        self._crews: dict[str, _Crew] = {}
        self._human: set[str] = self._taken_over_before()
        self._lock = threading.Lock()
        self._calls = _CallQueue()
        self._on_scene_s: dict[str, float] = {}
        self._unsubscribe = services.bus.subscribe(self._watch_for_humans)

    # ------------------------------------------------------------ human take-over

    def _watch_for_humans(self, message: BusMessage) -> None:
        if message.type != EventType.UNIT_STATUS_CHANGED:
            return
        actor = message.payload.get("actor") or ""
        unit = message.payload.get("data", {}).get("unit", {})
        if unit and actor not in _MACHINE_ACTORS and actor.upper() in self._riders(str(unit["id"])):
            with self._lock:
                if unit["id"] not in self._human:
                    log.info("unit %s taken over by its officer %s", unit["callsign"], actor)
                self._human.add(unit["id"])

    def _riders(self, unit_id: str) -> set[str]:
        """Who may drive a unit by hand: an officer of its crew on any shift (by police number),
        or an account named by its call sign (the demo's officers before the roster)."""
        with read_transaction(self.services.engine) as conn:
            riders = stored_events.unit_riders(conn, unit_id)
        return {r.upper() for r in riders}

    def _taken_over_before(self) -> set[str]:
        """Units whose officers took them over in an earlier run stay theirs after a restart."""
        with read_transaction(self.services.engine) as conn:
            pairs = stored_events.unit_status_actors(conn)
        return {
            unit_id
            for unit_id, actor in pairs
            if actor not in _MACHINE_ACTORS and actor.upper() in self._riders(unit_id)
        }

    def is_human(self, unit_id: str) -> bool:
        with self._lock:
            return unit_id in self._human

    # ------------------------------------------------------------ the loop

    async def run(self) -> None:
        try:
            while True:
                try:
                    await asyncio.to_thread(self.step, datetime.now(UTC))
                except Exception:  # the demo must keep living through a bad tick
                    log.exception("simulation step failed")
                await asyncio.sleep(TICK_S)
        finally:
            self._unsubscribe()

    def step(self, now: datetime) -> None:
        units = self.services.dispatch.list_units()
        fixes: list[tuple[str, Fix]] = []
        for unit in units:
            crew = self._crews.setdefault(unit.id, _Crew())
            try:
                if not self.is_human(unit.id):
                    self._advance_crew(unit, crew, now)
                fix = self._move(unit, crew, now)
            except JingwuError as exc:  # someone else changed the unit meanwhile: next tick
                log.debug("unit %s: %s", unit.callsign, exc.message)
                continue
            if fix is not None:
                fixes.append((unit.id, fix))
        if fixes:
            # The simulated cars' AVL boxes: one batch for the fleet, as a gateway sends it.
            self.services.positions.ingest(fixes, source=Source.GATEWAY)
        self._new_calls(now)
        self._stand_in_dispatcher(now)

    # ------------------------------------------------------------ crews

    def _advance_crew(self, unit: Unit, crew: _Crew, now: datetime) -> None:
        dispatch = self.services.dispatch
        status = unit.status
        if status is not crew.last_status:
            crew.respond_at = crew.leave_scene_at = crew.available_at = None
            crew.last_status = status
        if status is UnitStatus.DISPATCHED:
            if crew.respond_at is None or crew.incident_id != unit.incident_id:
                low, high = self.config.reaction_s
                crew.respond_at = now + timedelta(seconds=float(self.rng.uniform(low, high)))
                crew.incident_id = unit.incident_id
            elif now >= crew.respond_at:
                dispatch.set_unit_status(unit.id, UnitStatus.ACKNOWLEDGED, actor=CREW_ACTOR)
                dispatch.set_unit_status(unit.id, UnitStatus.EN_ROUTE, actor=CREW_ACTOR)
                crew.route = None  # re-plan towards the incident
        elif status is UnitStatus.ACKNOWLEDGED:
            dispatch.set_unit_status(unit.id, UnitStatus.EN_ROUTE, actor=CREW_ACTOR)
            crew.route = None
        elif status is UnitStatus.EN_ROUTE:
            if (
                crew.route is not None
                and crew.route_started is not None
                and crew.incident_id == unit.incident_id
            ) and (now - crew.route_started).total_seconds() >= crew.route.eta_s:
                dispatch.set_unit_status(unit.id, UnitStatus.ON_SCENE, actor=CREW_ACTOR)
                crew.leave_scene_at = now + timedelta(seconds=self._on_scene_time(unit.incident_id))
        elif status is UnitStatus.ON_SCENE:
            if crew.leave_scene_at is None:
                crew.leave_scene_at = now + timedelta(seconds=self._on_scene_time(unit.incident_id))
            elif now >= crew.leave_scene_at:
                dispatch.set_unit_status(unit.id, UnitStatus.CLEARED, actor=CREW_ACTOR)
                crew.available_at = now + timedelta(seconds=self.config.clear_to_available_s)
                crew.leave_scene_at = None
        elif status is UnitStatus.CLEARED:
            if crew.available_at is None:
                crew.available_at = now + timedelta(seconds=self.config.clear_to_available_s)
            elif now >= crew.available_at:
                dispatch.set_unit_status(unit.id, UnitStatus.AVAILABLE, actor=CREW_ACTOR)
                crew.available_at = None
                crew.route = None

    def _on_scene_time(self, incident_id: str | None) -> float:
        base = self._on_scene_s.get(incident_id or "", 1800.0)
        return float(
            np.clip(base * self.config.on_scene_scale, self.config.min_on_scene_s, self.config.max_on_scene_s)
        )

    def _move(self, unit: Unit, crew: _Crew, now: datetime) -> Fix | None:
        """Where the unit is now: along its route, which is re-planned when its purpose changes."""
        if unit.position is None:
            return None
        moving_to_incident = unit.status is UnitStatus.EN_ROUTE and unit.incident_id is not None
        patrolling = unit.status in (UnitStatus.AVAILABLE, UnitStatus.CLEARED) and not self.is_human(unit.id)
        if not (moving_to_incident or patrolling):
            crew.route = None
            return None
        if (
            crew.route is None
            or (moving_to_incident and crew.incident_id != unit.incident_id)
            or (
                patrolling
                and crew.route_started is not None
                and (now - crew.route_started).total_seconds() >= crew.route.eta_s
            )
        ):
            crew.route = self._plan_route(unit, moving_to_incident)
            crew.route_started = now
            crew.incident_id = unit.incident_id if moving_to_incident else None
            if crew.route is None:
                return None
        assert crew.route_started is not None
        elapsed = (now - crew.route_started).total_seconds()
        lat, lon, heading = crew.route.position_at(elapsed)
        speed = 0.0 if elapsed >= crew.route.eta_s else crew.route.distance_m / max(crew.route.eta_s, 1.0)
        return Fix(ts=now, lat=lat, lon=lon, speed=speed, heading=heading)

    def _plan_route(self, unit: Unit, to_incident: bool) -> Route | None:
        network = self.services.network
        assert unit.position is not None
        try:
            source = network.snap(unit.position.lat, unit.position.lon, 1_000.0)
            if to_incident and unit.incident_id is not None:
                incident = self.services.dispatch.get_incident(unit.incident_id)
                target = network.snap(incident.location.lat, incident.location.lon, 1_000.0)
            else:
                station = next(s for s in self.services.dispatch.stations if s.id == unit.station_id)
                lat, lon = random_point_in(network, station, self.rng)
                target = network.snap(lat, lon)
        except (JingwuError, RuntimeError, StopIteration):
            return None
        return network.route(source, target)

    # ------------------------------------------------------------ calls and the stand-in dispatcher

    def _new_calls(self, now: datetime) -> None:
        queue = self._calls
        if queue.window_start is None or (
            not queue.calls and (now - queue.window_start).total_seconds() >= 3600
        ):
            queue.window_start = now
            hour = now.astimezone(UTC).hour + 8  # Harbin is UTC+8; the call profile is local time
            queue.calls = generate_calls(
                self.mix,
                self.rng,
                start_hour=float(hour % 24),
                duration_s=3600.0,
                rate_scale=self.config.call_rate_scale,
            )
        elapsed = (now - queue.window_start).total_seconds()
        while queue.calls and queue.calls[0].at_s <= elapsed:
            call = queue.calls.pop(0)
            self._open_call(call)

    def _open_call(self, call: SimulatedCall) -> Incident | None:
        network = self.services.network
        point = network.random_road_point(self.rng)
        channels = [s for s, _ in _SOURCES]
        weights = np.array([w for _, w in _SOURCES])
        source = channels[int(self.rng.choice(len(channels), p=weights / weights.sum()))]
        try:
            incident = self.services.dispatch.create_incident(
                NewIncident(
                    type_code=call.type_code,
                    priority=call.priority,
                    location=GeoPoint(point.lat, point.lon),
                    source=source,
                    address=point.road_name,
                    description="模拟警情 (simulated call)",
                ),
                actor=CREW_ACTOR,
            )
        except JingwuError as exc:
            log.warning("simulated call refused: %s", exc.message)
            return None
        self._on_scene_s[incident.id] = call.on_scene_s
        return incident

    def _stand_in_dispatcher(self, now: datetime) -> None:
        dispatch = self.services.dispatch
        for incident in dispatch.list_incidents(open_only=True):
            age = (now - incident.created_at).total_seconds()
            if incident.status is IncidentStatus.PENDING and age >= self.config.auto_dispatch_after_s:
                try:
                    recs = dispatch.recommend(incident.id, limit=1)
                    if recs:
                        dispatch.dispatch(incident.id, [recs[0].unit.id], actor=DISPATCHER_ACTOR)
                except JingwuError as exc:  # one bad incident must not stop the others
                    log.debug("stand-in dispatch of %s refused: %s", incident.id, exc.message)
            elif incident.status is IncidentStatus.CLEARED:
                cleared_at = incident.stage_times.get(IncidentStatus.CLEARED, incident.created_at)
                if (now - cleared_at).total_seconds() >= self.config.auto_close_after_s:
                    try:
                        # Re-read: a human may have sent a unit back since the list was taken.
                        if dispatch.get_incident(incident.id).status is not IncidentStatus.CLEARED:
                            continue
                        dispatch.close_incident(
                            incident.id, disposition="处置完毕 (handled)", actor=DISPATCHER_ACTOR
                        )
                        self._on_scene_s.pop(incident.id, None)
                    except JingwuError as exc:
                        log.debug("closing %s refused: %s", incident.id, exc.message)


__all__ = ["CREW_ACTOR", "DISPATCHER_ACTOR", "CitySimulator", "SimConfig"]
