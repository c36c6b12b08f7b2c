"""The dispatch rules as pure functions: state + command → new state + events, or a refusal.

Nothing here reads a clock, draws a random number or touches a database: ``now``, ids and the
current records are handed in by the service layer, which commits the result in one transaction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from jingwu.domain.arrivals import ArrivalCheck, refuse_unconfirmed
from jingwu.domain.events import DomainEvent, EventType
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Assignment, Incident, Reporter, Unit
from jingwu.domain.status import (
    INCIDENT_STAGE_RANK,
    INCIDENT_TRANSITIONS,
    PRIMARY_OF,
    UNIT_TRANSITIONS,
    IncidentStatus,
    PrimaryUnitStatus,
    SourceChannel,
    UnitStatus,
)
from jingwu.errors import Conflict, ValidationFailed

PRIORITIES = (1, 2, 3, 4)

# A unit status that an incident stage follows.
_STAGE_OF_UNIT_STATUS: dict[UnitStatus, IncidentStatus] = {
    UnitStatus.DISPATCHED: IncidentStatus.DISPATCHED,
    UnitStatus.ACKNOWLEDGED: IncidentStatus.ACKNOWLEDGED,
    UnitStatus.EN_ROUTE: IncidentStatus.EN_ROUTE,
    UnitStatus.ON_SCENE: IncidentStatus.ON_SCENE,
}


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of a command: records to write and events to publish, in order."""

    incidents: tuple[Incident, ...] = ()
    units: tuple[Unit, ...] = ()
    assignments: tuple[Assignment, ...] = ()
    events: tuple[DomainEvent, ...] = ()


def _rounded_eta(eta_s: float | None) -> float | None:
    if eta_s is None or not math.isfinite(eta_s):
        return None
    return round(eta_s, 1)


def check_incident_transition(incident: Incident, to: IncidentStatus) -> None:
    if to not in INCIDENT_TRANSITIONS[incident.status]:
        raise Conflict(
            f"incident {incident.id} cannot go from {incident.status} to {to}",
            code="illegal_incident_transition",
            incident_id=incident.id,
            from_status=str(incident.status),
            to_status=str(to),
        )


def check_unit_transition(unit: Unit, to: UnitStatus) -> None:
    if to not in UNIT_TRANSITIONS[unit.status]:
        raise Conflict(
            f"unit {unit.callsign} cannot go from {unit.status} to {to}",
            code="illegal_unit_transition",
            unit_id=unit.id,
            from_status=str(unit.status),
            to_status=str(to),
        )


def validate_priority(priority: int) -> int:
    if isinstance(priority, bool) or not isinstance(priority, int) or priority not in PRIORITIES:
        raise ValidationFailed(
            f"priority {priority!r} is not one of 1 (most urgent) … 4",
            code="invalid_priority",
            priority=priority,
        )
    return priority


def open_incident(
    *,
    incident_id: str,
    now: datetime,
    type_code: str,
    priority: int,
    location: GeoPoint,
    source: SourceChannel,
    address: str | None = None,
    description: str | None = None,
    reporter: Reporter | None = None,
    station_id: str | None = None,
    actor: str | None = None,
) -> Decision:
    validate_priority(priority)
    incident = Incident(
        id=incident_id,
        type_code=type_code,
        priority=priority,
        location=location,
        source=source,
        status=IncidentStatus.PENDING,
        created_at=now,
        address=address,
        description=description,
        reporter=reporter,
        station_id=station_id,
        created_by=actor,
        stage_times={IncidentStatus.PENDING: now},
    )
    event = DomainEvent(EventType.INCIDENT_CREATED, now, incident_id=incident_id, actor=actor)
    return Decision(incidents=(incident,), events=(event,))


def _move_incident(
    incident: Incident, to: IncidentStatus, now: datetime, actor: str | None
) -> tuple[Incident, DomainEvent]:
    check_incident_transition(incident, to)
    times = dict(incident.stage_times)
    times.setdefault(to, now)
    moved = replace(incident, status=to, stage_times=times)
    event = DomainEvent(
        EventType.INCIDENT_STATUS_CHANGED,
        now,
        incident_id=incident.id,
        actor=actor,
        data={"from": str(incident.status), "to": str(to)},
    )
    return moved, event


# A terminal reports when the officer tapped; a phone's clock may run a little ahead of ours.
REPORTED_TIME_SKEW = timedelta(seconds=60)
# A tap queued offline for longer than a shift is not a status report any more.
REPORTED_TIME_MAX_AGE = timedelta(hours=12)


def reported_time(reported: datetime | None, *, now: datetime, not_before: datetime | None) -> datetime:
    """When a reported change took effect: the time the officer tapped (sent later by a terminal
    that was offline), so that an arrival reported from a dead zone counts when it happened.

    It is refused if it lies in the future beyond clock skew or more than a shift ago; a slightly
    fast clock is read as now, and a change never predates the unit's previous one."""
    if reported is None:
        return now
    if reported.tzinfo is None:
        raise ValidationFailed("occurred_at needs a time zone", code="naive_time")
    if reported > now + REPORTED_TIME_SKEW:
        raise ValidationFailed(
            f"occurred_at {reported.isoformat()} is in the future",
            code="future_time",
            occurred_at=reported.isoformat(),
        )
    if reported < now - REPORTED_TIME_MAX_AGE:
        raise ValidationFailed(
            f"occurred_at {reported.isoformat()} is more than {REPORTED_TIME_MAX_AGE} ago",
            code="stale_time",
            occurred_at=reported.isoformat(),
        )
    at = min(reported, now)
    if not_before is not None and at < not_before:
        at = not_before
    return at


def _move_unit(
    unit: Unit, to: UnitStatus, now: datetime, actor: str | None, incident_id: str | None
) -> tuple[Unit, DomainEvent]:
    check_unit_transition(unit, to)
    moved = replace(unit, status=to, incident_id=incident_id, status_changed_at=now)
    event = DomainEvent(
        EventType.UNIT_STATUS_CHANGED,
        now,
        incident_id=incident_id or unit.incident_id,
        unit_id=unit.id,
        actor=actor,
        data={"from": str(unit.status), "to": str(to)},
    )
    return moved, event


def dispatch(
    incident: Incident,
    units: Sequence[Unit],
    *,
    now: datetime,
    ack_timeout_s: float,
    actor: str | None = None,
    etas: Mapping[str, float | None] | None = None,
) -> Decision:
    """Send ``units`` to ``incident``. Validates the dispatcher's choice; does not make it.

    ``etas`` (unit id → road travel time in seconds, None where unknown) goes into each
    ``unit.dispatched`` event, so that every console can show the predicted arrival.
    """
    if not units:
        raise ValidationFailed("choose at least one unit to dispatch", code="no_units")
    if len({u.id for u in units}) != len(units):
        raise ValidationFailed("a unit is listed twice", code="duplicate_units")
    if not incident.is_open:
        raise Conflict(
            f"incident {incident.id} is {incident.status}; it cannot take units",
            code="incident_not_open",
            incident_id=incident.id,
            status=str(incident.status),
        )
    for unit in units:
        if unit.incident_id == incident.id:
            raise Conflict(
                f"unit {unit.callsign} is already on incident {incident.id}",
                code="unit_already_assigned",
                unit_id=unit.id,
            )
        if PRIMARY_OF[unit.status] is PrimaryUnitStatus.NOT_AVAILABLE:
            raise Conflict(
                f"unit {unit.callsign} is {unit.status} and cannot be dispatched",
                code="unit_not_available",
                unit_id=unit.id,
                status=str(unit.status),
            )
    events: list[DomainEvent] = []
    moved_units: list[Unit] = []
    assignments: list[Assignment] = []
    deadline = now + timedelta(seconds=ack_timeout_s)
    for unit in units:
        moved, status_event = _move_unit(unit, UnitStatus.DISPATCHED, now, actor, incident.id)
        moved_units.append(moved)
        assignments.append(
            Assignment(
                incident_id=incident.id,
                unit_id=unit.id,
                dispatched_at=now,
                ack_deadline=deadline,
                dispatched_by=actor,
            )
        )
        events.append(
            DomainEvent(
                EventType.UNIT_DISPATCHED,
                now,
                incident_id=incident.id,
                unit_id=unit.id,
                actor=actor,
                data={"ack_deadline": deadline.isoformat(), "eta_s": _rounded_eta((etas or {}).get(unit.id))},
            )
        )
        events.append(status_event)
    incidents: tuple[Incident, ...] = ()
    if incident.status in (IncidentStatus.PENDING, IncidentStatus.CLEARED):
        moved_incident, incident_event = _move_incident(incident, IncidentStatus.DISPATCHED, now, actor)
        incidents = (moved_incident,)
        events.append(incident_event)
    return Decision(
        incidents=incidents, units=tuple(moved_units), assignments=tuple(assignments), events=tuple(events)
    )


def change_unit_status(
    unit: Unit,
    to: UnitStatus,
    *,
    now: datetime,
    incident: Incident | None,
    assignment: Assignment | None,
    other_active_units: Sequence[Unit] = (),
    actor: str | None = None,
    arrival: ArrivalCheck | None = None,
    confirm_far: bool = False,
    disposition: str | None = None,
) -> Decision:
    """A crew or dispatcher moves a unit; the unit's incident follows its most advanced unit.

    ``other_active_units`` are the other units still assigned to the same incident: they decide
    whether recalling or clearing this unit sends the incident back to pending or on to cleared.
    ``arrival``: how an arrival (on scene) was judged; kept with the event, and a far one is
    refused unless ``confirm_far``. ``disposition``: how the crew ended it, only when clearing;
    it becomes the incident's disposition (the dispatcher's closing may still word it anew).
    """
    if to is UnitStatus.DISPATCHED:
        raise ValidationFailed(
            "a unit becomes dispatched only through a dispatch", code="dispatch_required", unit_id=unit.id
        )
    disposition = disposition.strip() if disposition else None
    if disposition and to is not UnitStatus.CLEARED:
        raise ValidationFailed(
            "a disposition goes only with clearing a unit",
            code="disposition_not_expected",
            unit_id=unit.id,
            status=str(to),
        )
    leaving_incident = to in (UnitStatus.AVAILABLE, UnitStatus.CLEARED) and unit.incident_id is not None
    keep_incident = None if leaving_incident else unit.incident_id
    if to in (UnitStatus.BUSY, UnitStatus.OUT_OF_SERVICE, UnitStatus.OFF_DUTY):
        keep_incident = None
    moved_unit, unit_event = _move_unit(unit, to, now, actor, keep_incident)
    extra: dict[str, object] = {}
    if arrival is not None and to is UnitStatus.ON_SCENE:
        refuse_unconfirmed(arrival, unit_id=unit.id, confirmed=confirm_far)
        extra["arrival"] = arrival.as_data(confirmed=confirm_far)
    if disposition:
        extra["disposition"] = disposition
    if extra:
        unit_event = replace(unit_event, data={**unit_event.data, **extra})
    events: list[DomainEvent] = [unit_event]
    assignments: list[Assignment] = []
    incidents: list[Incident] = []

    if assignment is not None:
        updated = assignment
        if to in (UnitStatus.ACKNOWLEDGED, UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE) and not (
            assignment.acknowledged_at
        ):
            # Any reaction of the crew counts as acknowledging the dispatch.
            updated = replace(updated, acknowledged_at=now)
        if leaving_incident:
            updated = replace(updated, released_at=now)
        if updated is not assignment:
            assignments.append(updated)

    if incident is not None and incident.is_open:
        # The crew's account of how it ended is the incident's, the latest crew's if several.
        told = replace(incident, disposition=disposition) if disposition else incident
        stage = _STAGE_OF_UNIT_STATUS.get(to)
        if stage is not None and INCIDENT_STAGE_RANK[stage] > INCIDENT_STAGE_RANK[incident.status]:
            moved_incident, event = _move_incident(told, stage, now, actor)
            incidents.append(moved_incident)
            events.append(event)
        elif leaving_incident and not other_active_units:
            # Once police have been on scene the incident has been handled: the last unit leaving
            # clears it, even a recalled backup. Before that, a recall puts it back in the queue.
            handled = to is UnitStatus.CLEARED or IncidentStatus.ON_SCENE in incident.stage_times
            target = IncidentStatus.CLEARED if handled else IncidentStatus.PENDING
            if incident.status is not target:
                moved_incident, event = _move_incident(told, target, now, actor)
                incidents.append(moved_incident)
                events.append(event)
        if told is not incident and not incidents:
            incidents.append(told)
    return Decision(
        incidents=tuple(incidents), units=(moved_unit,), assignments=tuple(assignments), events=tuple(events)
    )


def close_incident(
    incident: Incident,
    active_units: Sequence[Unit],
    active_assignments: Sequence[Assignment],
    *,
    now: datetime,
    disposition: str | None,
    actor: str | None = None,
) -> Decision:
    """Close an incident; units still on it are freed (on scene → cleared, otherwise recalled)."""
    closed, event = _move_incident(incident, IncidentStatus.CLOSED, now, actor)
    # Without a word of the dispatcher's, the crew's disposition (given on clearing) stands.
    closed = replace(closed, disposition=disposition or incident.disposition)
    events = [event]
    units: list[Unit] = []
    for unit in active_units:
        to = UnitStatus.CLEARED if unit.status is UnitStatus.ON_SCENE else UnitStatus.AVAILABLE
        moved, unit_event = _move_unit(unit, to, now, actor, None)
        units.append(moved)
        events.append(unit_event)
    assignments = tuple(replace(a, released_at=now) for a in active_assignments)
    return Decision(incidents=(closed,), units=tuple(units), assignments=assignments, events=tuple(events))


def merge_incident(
    duplicate: Incident, into: Incident, *, now: datetime, actor: str | None = None
) -> Decision:
    """Fold a duplicate report into the incident it repeats. Only a report no unit works yet."""
    if duplicate.id == into.id:
        raise ValidationFailed("an incident cannot be merged into itself", code="merge_into_self")
    if duplicate.status is not IncidentStatus.PENDING:
        raise Conflict(
            f"incident {duplicate.id} is {duplicate.status}; only a pending report can be merged",
            code="merge_source_not_pending",
            incident_id=duplicate.id,
        )
    if not into.is_open:
        raise Conflict(f"incident {into.id} is {into.status}", code="incident_not_open", incident_id=into.id)
    merged, status_event = _move_incident(duplicate, IncidentStatus.MERGED, now, actor)
    merged = replace(merged, merged_into=into.id)
    target = replace(into, linked_ids=(*into.linked_ids, duplicate.id))
    event = DomainEvent(
        EventType.INCIDENT_MERGED, now, incident_id=into.id, actor=actor, data={"merged": duplicate.id}
    )
    return Decision(incidents=(merged, target), events=(status_event, event))


def request_backup(
    incident: Incident, *, now: datetime, actor: str | None, reason: str | None, unit_id: str | None = None
) -> Decision:
    if not incident.is_open:
        raise Conflict(
            f"incident {incident.id} is {incident.status}", code="incident_not_open", incident_id=incident.id
        )
    event = DomainEvent(
        EventType.BACKUP_REQUESTED,
        now,
        incident_id=incident.id,
        unit_id=unit_id,
        actor=actor,
        data={"reason": reason},
    )
    return Decision(events=(event,))


def escalate_unacknowledged(assignment: Assignment, *, now: datetime) -> Decision:
    """A dispatch nobody signed for in time raises an escalation, once."""
    if assignment.acknowledged_at or assignment.released_at or assignment.escalated:
        return Decision()
    if now < assignment.ack_deadline:
        return Decision()
    overdue_s = (now - assignment.dispatched_at).total_seconds()
    return Decision(
        assignments=(replace(assignment, escalated=True),),
        events=(
            DomainEvent(
                EventType.ACK_OVERDUE,
                now,
                incident_id=assignment.incident_id,
                unit_id=assignment.unit_id,
                data={"waited_s": round(overdue_s, 1)},
            ),
        ),
    )


__all__ = [
    "PRIORITIES",
    "Decision",
    "change_unit_status",
    "check_incident_transition",
    "check_unit_transition",
    "close_incident",
    "dispatch",
    "escalate_unacknowledged",
    "merge_incident",
    "open_incident",
    "reported_time",
    "request_backup",
    "validate_priority",
]
