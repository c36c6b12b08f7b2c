"""Dispatch use cases: incidents, attachments, recommendation and dispatch, units, the
acknowledgment timers. Each command reads and locks what its rules need (domain.rules decides)
and goes down the one write path (service.commands): committed in one transaction, then
published."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import IntegrityError

from jingwu.bus import Bus, BusMessage
from jingwu.dispatch import Recommendation
from jingwu.domain import rules
from jingwu.domain.arrivals import check_arrival
from jingwu.domain.attachments import AttachmentInfo, check_image
from jingwu.domain.duplicates import DUPLICATE_WINDOW, DuplicateCandidate, likely_duplicates
from jingwu.domain.events import DomainEvent, EventType
from jingwu.domain.geo import GeoPoint, haversine_m
from jingwu.domain.incident_types import get_incident_type
from jingwu.domain.model import Assignment, Incident, Reporter, Station, Unit, station_containing
from jingwu.domain.rules import Decision
from jingwu.domain.status import OPEN_INCIDENT_STATUSES, SourceChannel, UnitStatus
from jingwu.errors import Conflict, Forbidden, SystemFault, ValidationFailed
from jingwu.routing import RoadNetwork, Route
from jingwu.service.arrivals import arrival_evidence
from jingwu.service.commands import CommandPath, Decide, event_message, stored_event_message
from jingwu.service.ids import INCIDENT_ID_ATTEMPTS, IncidentIdTaken, new_id, new_incident_id
from jingwu.service.incident_photos import store_photo
from jingwu.service.incident_records import IncidentRecords
from jingwu.service.road_searches import (
    DispatchEtas,
    Offer,
    commit_searched,
    offer_for,
    search_etas,
    search_offers,
)
from jingwu.service.unit_board import UnitBoard
from jingwu.service.views import position_from_view, unit_from_view, unit_view
from jingwu.store import attachments, incident_search
from jingwu.store import events as stored_events
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.db import read_transaction

log = logging.getLogger(__name__)

_RECALLABLE = frozenset({UnitStatus.DISPATCHED, UnitStatus.ACKNOWLEDGED, UnitStatus.EN_ROUTE})


@dataclass(frozen=True, slots=True)
class UnitRoute:
    """A unit's way to its incident; ``route`` is None when the unit is off every road."""

    unit: Unit
    incident: Incident
    straight_line_m: float
    route: Route | None


@dataclass(frozen=True, slots=True)
class NewIncident:
    type_code: str
    location: GeoPoint
    source: SourceChannel
    priority: int | None = None  # None: the type's default priority
    address: str | None = None
    description: str | None = None
    reporter: Reporter | None = None


class DispatchService:
    def __init__(
        self,
        engine: Engine,
        bus: Bus,
        network: RoadNetwork,
        *,
        ack_timeout_s: float = 30.0,
        max_snap_distance_m: float = 250.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        seal_reporter: Callable[[Reporter | None], Mapping[str, Any]] | None = None,
        zone: tzinfo = UTC,
        incident_ids: Callable[[datetime], str] | None = None,
        arrival_radius_m: float = 200.0,
    ) -> None:
        """``seal_reporter`` encrypts a reporter into its incident columns (see
        service.personal_data); without it, an intake that names a reporter is refused rather
        than stored in the clear. ``zone``: the bureau's, whose day dates incident ids;
        ``incident_ids`` draws them (a test's own, to force a collision). ``arrival_radius_m``:
        an arrival reported farther from the scene is flagged (domain.arrivals)."""
        self.engine = engine
        self.arrival_radius_m = arrival_radius_m
        self.seal_reporter = seal_reporter
        self.bus = bus
        self.network = network
        self.ack_timeout_s = ack_timeout_s
        self.max_snap_distance_m = max_snap_distance_m
        self.clock = clock
        self._stations: list[Station] = []
        self._district_of: dict[str, str] = {}
        self.reload_stations()
        self.board = UnitBoard(network)
        self._board_loaded = False
        self.commands = CommandPath(engine, bus, self.board, clock=clock)
        self._draw_incident_id = incident_ids or (lambda now: new_incident_id(now, zone))
        # Corrections, reopening and search of the record, down the same write path.
        self.records = IncidentRecords(
            engine,
            self.commands,
            network,
            station_for=self.station_for,
            max_snap_distance_m=max_snap_distance_m,
        )
        self.refresh_board()
        # Other server processes' commits (a cluster bus) reach this board here; our own
        # reach it from the command path. The subscription lasts as long as the bus.
        self._stop_hearing = bus.subscribe(self._hear_remote)

    # ------------------------------------------------------------ plumbing

    def refresh_board(self) -> None:
        """Reload the live unit board from the store (start-up, and now and then to self-heal).
        Units that came or went meanwhile without this process hearing of it (an import from the
        command line beside a single server) are announced on the bus, so that open consoles
        add or drop them as if they had heard the event."""
        before = self.board.unit_ids() if self._board_loaded else None
        self.commands.reload_board()
        self._board_loaded = True
        if before is None:
            return
        after = self.board.unit_ids()
        came, went = after - before, before - after
        if not came and not went:
            return
        with read_transaction(self.engine) as conn:
            changed = repo.list_units(conn, ids=sorted(came | went), include_retired=True)
        now = self.clock()
        for unit in changed:
            kind = EventType.UNIT_CREATED if unit.id in came else EventType.UNIT_RETIRED
            view = unit_view(unit)
            # Not a new event (the log has the import's own): a snapshot, like positions, no id.
            self.bus.publish(
                event_message(None, DomainEvent(kind, now, unit_id=unit.id, data={"unit": view}))
            )

    def _hear_remote(self, message: BusMessage) -> None:
        """Bring the board up to another server process's commit, so that recommendations
        here reflect dispatches and moves made there. Unit snapshots carry their version: one
        older than (or as old as) what the board holds is ignored, so an event heard twice, or
        late, or read back from the log after this process applied its own commit, changes
        nothing. Called on the bus's delivery thread."""
        if message.origin is None:
            return  # this process's own commit: the command path has applied it already
        try:
            if message.type == EventType.UNIT_POSITIONS:
                reports = [
                    (str(p["unit_id"]), position)
                    for p in message.payload.get("positions") or ()
                    if (position := position_from_view(p)) is not None
                ]
                self.board.move(reports)
                return
            if message.type == EventType.STATION_CHANGED:
                self.reload_stations()
                return
            unit = (message.payload.get("data") or {}).get("unit")
            if isinstance(unit, dict) and "version" in unit:
                created = message.type == EventType.UNIT_CREATED
                self.board.update([unit_from_view(unit)], remote=True, new=created)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("ignored a malformed %s from %s: %s", message.type, message.origin, exc)

    def reload_stations(self) -> None:
        """Read the stations again: at start-up, and after any process changed one (station.changed)."""
        with read_transaction(self.engine) as conn:
            stations = repo.list_stations(conn)
        self._stations = [s for s in stations if s.retired_at is None]
        # Retired stations keep their district: their old incidents are still judged by it.
        self._district_of = {s.id: s.district for s in stations}

    @property
    def stations(self) -> list[Station]:
        return list(self._stations)

    @property
    def district_of(self) -> Mapping[str, str]:
        """Each station's district: the hierarchy that jurisdictions are checked against."""
        return self._district_of

    def station_for(self, point: GeoPoint) -> str | None:
        station = station_containing(point, self._stations)
        return station.id if station else None

    def commit(self, decide: Decide, *, new_incident_ids: frozenset[str] = frozenset()) -> Decision:
        """Run another service's command down this one's path (service.commands): one write
        transaction, its events published after the commit, in log order with every other."""
        return self.commands.commit(decide, new_incident_ids=new_incident_ids)

    def commit_with_incident_id(
        self, decide: Callable[[Connection, datetime, str], Decision], *, what: str
    ) -> str:
        """Commit another service's command that may open an incident under a freshly drawn id
        (``decide`` is given it), drawing again when it turns out taken: 30 random bits a day
        can meet, here (``decide`` raises :class:`IncidentIdTaken`) or, on PostgreSQL, in another
        server's insert. The last id drawn; ``what`` names the command in the log."""

        def with_id(drawn: str) -> Decide:
            return lambda conn, now: decide(conn, now, drawn)

        incident_id = self.new_incident_id()
        for _attempt in range(INCIDENT_ID_ATTEMPTS):
            drawn = incident_id
            try:
                self.commit(with_id(drawn), new_incident_ids=frozenset({drawn}))
                return drawn
            except IncidentIdTaken:
                log.info("incident id %s is taken; drawing another for %s", drawn, what)
            except SystemFault as exc:
                if not (isinstance(exc.__cause__, IntegrityError) and self._incident_exists(drawn)):
                    raise
            incident_id = self.new_incident_id()
        raise SystemFault("no free incident id could be drawn; try again", code="incident_id_exhausted")

    # ------------------------------------------------------------ incidents

    def new_incident_id(self) -> str:
        """A fresh incident id, dated in the bureau's local day (see service.ids)."""
        return self._draw_incident_id(self.clock())

    def create_incident(self, request: NewIncident, *, actor: str | None) -> Incident:
        incident_type = get_incident_type(request.type_code)
        priority = incident_type.default_priority if request.priority is None else request.priority
        rules.validate_priority(priority)
        # Refuse places no unit can drive to before anything is stored.
        road_point = self.network.snap(request.location.lat, request.location.lon, self.max_snap_distance_m)
        station_id = self.station_for(request.location)
        if request.reporter is not None and self.seal_reporter is None:
            raise SystemFault(
                "no field-encryption key is configured: a reporter cannot be stored",
                code="field_key_error",
            )
        personal = self.seal_reporter(request.reporter) if self.seal_reporter else None

        def decide_for(incident_id: str) -> Decide:
            def decide(conn: Connection, now: datetime) -> Decision:
                # Inside the write transaction: on SQLite no other can take the id meanwhile; on
                # PostgreSQL one racing ours makes our insert fail instead (handled below).
                if incident_search.incident_exists(conn, incident_id):
                    raise IncidentIdTaken(incident_id)
                return rules.open_incident(
                    incident_id=incident_id,
                    now=now,
                    type_code=incident_type.code,
                    priority=priority,
                    location=request.location,
                    source=request.source,
                    address=request.address,
                    description=request.description,
                    reporter=request.reporter,
                    station_id=station_id,
                    actor=actor,
                )

            return decide

        for _attempt in range(INCIDENT_ID_ATTEMPTS):
            incident_id = self.new_incident_id()
            sealed = {incident_id: personal} if personal is not None else None
            try:
                decision = self.commands.commit(
                    decide_for(incident_id), new_incident_ids=frozenset({incident_id}), sealed=sealed
                )
                break
            except IncidentIdTaken:
                log.info("incident id %s is taken; drawing another", incident_id)
            except SystemFault as exc:
                if not (isinstance(exc.__cause__, IntegrityError) and self._incident_exists(incident_id)):
                    raise
                log.info("incident id %s was taken meanwhile; drawing another", incident_id)
        else:
            raise SystemFault("no free incident id could be drawn; try again", code="incident_id_exhausted")
        self.board.remember_incident(incident_id, request.location, road_point)
        return decision.incidents[0]

    def _incident_exists(self, incident_id: str) -> bool:
        with read_transaction(self.engine) as conn:
            return incident_search.incident_exists(conn, incident_id)

    def get_incident(self, incident_id: str) -> Incident:
        with read_transaction(self.engine) as conn:
            return repo.get_incident(conn, incident_id)

    def list_incidents(
        self,
        *,
        open_only: bool = False,
        limit: int = 500,
        station_ids: Collection[str] | None = None,
        created_by: str | None = None,
    ) -> list[Incident]:
        """Most urgent first, then newest; narrowed to ``station_ids`` (None: all) and to the
        incidents ``created_by`` one user (a resident's own reports)."""
        with read_transaction(self.engine) as conn:
            return repo.list_incidents(
                conn,
                statuses=OPEN_INCIDENT_STATUSES if open_only else None,
                limit=limit,
                station_ids=station_ids,
                created_by=created_by,
            )

    def incident_timeline(self, incident_id: str) -> list[BusMessage]:
        with read_transaction(self.engine) as conn:
            repo.get_incident(conn, incident_id)
            return [stored_event_message(r) for r in stored_events.incident_events(conn, incident_id)]

    def unit_timeline(self, unit_id: str, *, limit: int = 200) -> list[BusMessage]:
        with read_transaction(self.engine) as conn:
            repo.get_unit(conn, unit_id)
            return [stored_event_message(r) for r in stored_events.unit_events(conn, unit_id, limit)]

    def close_incident(self, incident_id: str, *, disposition: str | None, actor: str | None) -> Incident:
        def decide(conn: Connection, now: datetime) -> Decision:
            incident = repo.get_incident(conn, incident_id, for_update=True)
            active = repo.active_assignments(conn, incident_id=incident_id)
            units = repo.lock_units(conn, [a.unit_id for a in active]) if active else []
            return rules.close_incident(
                incident, units, active, now=now, disposition=disposition, actor=actor
            )

        return self.commands.commit(decide).incidents[0]

    def merge_incident(self, duplicate_id: str, into_id: str, *, actor: str | None) -> Incident:
        def decide(conn: Connection, now: datetime) -> Decision:
            duplicate = repo.get_incident(conn, duplicate_id, for_update=True)
            into = repo.get_incident(conn, into_id, for_update=True)
            return rules.merge_incident(duplicate, into, now=now, actor=actor)

        return self.commands.commit(decide).incidents[1]

    def add_note(self, incident_id: str, text: str, *, actor: str) -> None:
        text = text.strip()
        if not text:
            raise ValidationFailed("a note needs some text", code="empty_note")

        def decide(conn: Connection, now: datetime) -> Decision:
            repo.get_incident(conn, incident_id)
            conn.execute(insert(t.notes).values(incident_id=incident_id, author=actor, ts=now, text=text))
            event = DomainEvent(
                EventType.INCIDENT_NOTE_ADDED, now, incident_id=incident_id, actor=actor, data={"text": text}
            )
            return Decision(events=(event,))

        self.commands.commit(decide)

    # ------------------------------------------------------------ attachments

    def add_attachment(
        self, incident_id: str, content_type: str, data: bytes, *, actor: str
    ) -> AttachmentInfo:
        """Store a photo for an incident. The bytes must be a JPEG, PNG or WebP image of the
        declared type; the caller (the API) has already bounded the size."""
        declared = check_image(content_type, data)
        attachment_id = new_id("att")
        added: list[AttachmentInfo] = []

        def decide(conn: Connection, now: datetime) -> Decision:
            repo.get_incident(conn, incident_id)
            info, event = store_photo(
                conn,
                now,
                attachment_id=attachment_id,
                incident_id=incident_id,
                content_type=declared,
                data=data,
                actor=actor,
            )
            added[:] = [info]
            return Decision(events=(event,))

        self.commands.commit(decide)
        return added[0]

    def list_attachments(self, incident_id: str) -> list[AttachmentInfo]:
        with read_transaction(self.engine) as conn:
            repo.get_incident(conn, incident_id)
            return attachments.list_attachments(conn, incident_id)

    def get_attachment(self, attachment_id: str) -> tuple[AttachmentInfo, bytes]:
        with read_transaction(self.engine) as conn:
            return attachments.get_attachment(conn, attachment_id)

    # ------------------------------------------------------------ recommendation and dispatch

    def recommend(
        self,
        incident_id: str,
        *,
        limit: int = 5,
        exclude: Sequence[str] = (),
        station_ids: Collection[str] | None = None,
    ) -> list[Recommendation]:
        """Top ``limit`` units that may take the incident, by road travel time (see UnitBoard);
        only units of ``station_ids`` when given (a station's dispatcher sends its own cars)."""
        incident = self.get_incident(incident_id)
        return self.board.recommend(incident, limit=limit, exclude=exclude, station_ids=station_ids)

    def dispatch(self, incident_id: str, unit_ids: Sequence[str], *, actor: str | None) -> Decision:
        """The ETAs are searched before the transaction, not under the commit lock, and checked
        in it against the places just locked (service.road_searches)."""

        def decide_with(found: DispatchEtas, last: bool) -> Decide:
            def decide(conn: Connection, now: datetime) -> Decision:
                incident = repo.get_incident(conn, incident_id, for_update=True)
                units = repo.lock_units(conn, list(unit_ids))
                etas = found.checked(incident, units, last=last)  # those of the units actually sent
                return rules.dispatch(
                    incident, units, now=now, ack_timeout_s=self.ack_timeout_s, actor=actor, etas=etas
                )

            return decide

        def search() -> DispatchEtas:
            return search_etas(self.engine, self.network, self.board, incident_id, unit_ids)

        return commit_searched(self.commands, search, decide_with)

    def unit_route(self, unit_id: str) -> UnitRoute:
        """The road route from a unit's last position to the incident it is working."""
        with read_transaction(self.engine) as conn:
            unit = repo.get_unit(conn, unit_id)
            if unit.incident_id is None:
                raise Conflict(
                    f"unit {unit.callsign} is not assigned to an incident",
                    code="unit_not_assigned",
                    unit_id=unit_id,
                )
            incident = repo.get_incident(conn, unit.incident_id)
        if unit.position is None:
            raise Conflict(
                f"unit {unit.callsign} has not reported a position",
                code="unit_has_no_position",
                unit_id=unit_id,
            )
        straight_m = haversine_m(GeoPoint(unit.position.lat, unit.position.lon), incident.location)
        source = self.board.snap_position(unit.position)
        route = None
        if source is not None:
            route = self.network.route(source, self.board.incident_point(incident))
        return UnitRoute(unit=unit, incident=incident, straight_line_m=straight_m, route=route)

    def duplicates(self, incident_id: str) -> list[DuplicateCandidate]:
        """Open incidents that are likely repeat reports of this one, nearest first."""
        with read_transaction(self.engine) as conn:
            incident = repo.get_incident(conn, incident_id)
            others = repo.open_incidents_like(
                conn,
                incident.type_code,
                incident.created_at - DUPLICATE_WINDOW,
                incident.created_at + DUPLICATE_WINDOW,
            )
        return likely_duplicates(incident, others)

    def request_backup(
        self, incident_id: str, *, reason: str | None, actor: str | None, unit_id: str | None = None
    ) -> None:
        def decide(conn: Connection, now: datetime) -> Decision:
            incident = repo.get_incident(conn, incident_id)
            return rules.request_backup(incident, now=now, actor=actor, reason=reason, unit_id=unit_id)

        self.commands.commit(decide)

    # ------------------------------------------------------------ units

    def list_units(self, *, station_ids: Collection[str] | None = None) -> list[Unit]:
        with read_transaction(self.engine) as conn:
            return repo.list_units(conn, station_ids=station_ids)

    def get_unit(self, unit_id: str) -> Unit:
        with read_transaction(self.engine) as conn:
            return repo.get_unit(conn, unit_id)

    def unit_stations(self, unit_ids: Collection[str]) -> dict[str, str]:
        """Each existing unit's station: for checking a batch of units in one read."""
        with read_transaction(self.engine) as conn:
            return repo.unit_stations(conn, unit_ids)

    def set_unit_status(
        self,
        unit_id: str,
        status: UnitStatus,
        *,
        actor: str | None,
        may_recall: bool = True,
        occurred_at: datetime | None = None,
        confirm_far: bool = True,
        disposition: str | None = None,
    ) -> Unit:
        """Move a unit. ``may_recall=False`` (an officer's terminal) refuses taking a unit off an
        incident it has not reached: recalling a dispatch is the dispatcher's decision.
        ``occurred_at``: when the officer tapped, if the terminal sent it later (see
        rules.reported_time). An arrival is judged against the unit's position (see
        domain.arrivals) and kept flagged where it is doubtful; ``confirm_far=False`` (a report
        not yet confirmed) refuses one far from the scene instead. ``disposition``: the crew's,
        when clearing."""

        def decide(conn: Connection, received: datetime) -> Decision:
            unit = repo.get_unit(conn, unit_id, for_update=True)
            now = rules.reported_time(occurred_at, now=received, not_before=unit.status_changed_at)
            if not may_recall and status is UnitStatus.AVAILABLE and unit.status in _RECALLABLE:
                raise Forbidden(
                    f"unit {unit.callsign} is {unit.status}; only a dispatcher can recall a dispatch",
                    code="recall_forbidden",
                    unit_id=unit_id,
                )
            incident = None
            assignment = None
            others: list[Unit] = []
            if unit.incident_id is not None:
                incident = repo.get_incident(conn, unit.incident_id, for_update=True)
                active = repo.active_assignments(conn, incident_id=unit.incident_id)
                assignment = next((a for a in active if a.unit_id == unit_id), None)
                other_ids = [a.unit_id for a in active if a.unit_id != unit_id]
                others = repo.list_units(conn, ids=other_ids) if other_ids else []
            arrival = None
            if status is UnitStatus.ON_SCENE and incident is not None:
                evidence = arrival_evidence(conn, self.board, unit, incident, assignment)
                arrival = check_arrival(evidence, at=now, radius_m=self.arrival_radius_m)
            return rules.change_unit_status(
                unit,
                status,
                now=now,
                incident=incident,
                assignment=assignment,
                other_active_units=others,
                actor=actor,
                arrival=arrival,
                confirm_far=confirm_far,
                disposition=disposition,
            )

        return self.commands.commit(decide).units[0]

    # ------------------------------------------------------------ acknowledgment timers

    def escalate_overdue(self) -> int:
        """Raise an escalation for every dispatch not acknowledged in time, offering the next unit.

        Called every second by the timer loop. The deadline lives in the database, so a restart
        loses no timer, and the overdue rows are claimed in the write transaction, so each
        escalation is raised once. The offers are searched before it (service.road_searches).
        """

        def decide_with(offers: dict[str, Offer], last: bool) -> Decide:
            def decide(conn: Connection, now: datetime) -> Decision:
                overdue = repo.overdue_assignments(conn, now)
                if not overdue:
                    return Decision()
                assignments: list[Assignment] = []
                events: list[DomainEvent] = []
                for assignment in overdue:
                    escalation = rules.escalate_unacknowledged(assignment, now=now)
                    incident = repo.get_incident(conn, assignment.incident_id)
                    active = repo.active_assignments(conn, incident_id=incident.id)
                    offer = offer_for(conn, offers, incident, frozenset(a.unit_id for a in active), last=last)
                    for event in escalation.events:
                        data = dict(event.data) | ({"offer": offer} if offer else {})
                        events.append(replace(event, data=data))
                    assignments.extend(escalation.assignments)
                return Decision(assignments=tuple(assignments), events=tuple(events))

            return decide

        def search() -> dict[str, Offer]:
            return search_offers(self.engine, self.board, self.clock())

        return len(commit_searched(self.commands, search, decide_with).events)


__all__ = [
    "DispatchService",
    "NewIncident",
    "UnitRoute",
]
