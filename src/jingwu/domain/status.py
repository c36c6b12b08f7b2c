"""Incident and unit statuses, and the tables of legal transitions between them.

Unit statuses follow NENA EIDO: a *secondary* status says what the unit is doing, and each maps to
one *primary* status (available / conditionally available / not available) that decides whether
the unit may be sent somewhere else. The tables list every legal next status explicitly — there is
no wildcard — so an illegal move is refused with the exact "from → to" that was attempted.
"""

from __future__ import annotations

from enum import StrEnum


class IncidentStatus(StrEnum):
    PENDING = "pending"  # received, waiting for a unit
    DISPATCHED = "dispatched"
    ACKNOWLEDGED = "acknowledged"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    CLEARED = "cleared"  # every unit has left the scene; waiting for the dispatcher to close
    CLOSED = "closed"
    MERGED = "merged"  # a duplicate report folded into another incident


class PrimaryUnitStatus(StrEnum):
    AVAILABLE = "available"
    CONDITIONALLY_AVAILABLE = "conditionally_available"
    NOT_AVAILABLE = "not_available"


class UnitStatus(StrEnum):
    AVAILABLE = "available"  # in service and free (patrolling)
    DISPATCHED = "dispatched"  # sent to an incident, not yet acknowledged by the crew
    ACKNOWLEDGED = "acknowledged"  # crew signed for the dispatch (签收)
    EN_ROUTE = "en_route"  # 出警
    ON_SCENE = "on_scene"  # 到达
    CLEARED = "cleared"  # 处置完毕: left the scene, wrapping up; can take urgent work
    BUSY = "busy"  # on self-initiated or administrative work; can be pulled for urgent work
    OUT_OF_SERVICE = "out_of_service"  # vehicle fault, meal, at the station
    OFF_DUTY = "off_duty"


PRIMARY_OF: dict[UnitStatus, PrimaryUnitStatus] = {
    UnitStatus.AVAILABLE: PrimaryUnitStatus.AVAILABLE,
    UnitStatus.DISPATCHED: PrimaryUnitStatus.NOT_AVAILABLE,
    UnitStatus.ACKNOWLEDGED: PrimaryUnitStatus.NOT_AVAILABLE,
    UnitStatus.EN_ROUTE: PrimaryUnitStatus.NOT_AVAILABLE,
    UnitStatus.ON_SCENE: PrimaryUnitStatus.NOT_AVAILABLE,
    UnitStatus.CLEARED: PrimaryUnitStatus.CONDITIONALLY_AVAILABLE,
    UnitStatus.BUSY: PrimaryUnitStatus.CONDITIONALLY_AVAILABLE,
    UnitStatus.OUT_OF_SERVICE: PrimaryUnitStatus.NOT_AVAILABLE,
    UnitStatus.OFF_DUTY: PrimaryUnitStatus.NOT_AVAILABLE,
}

UNIT_TRANSITIONS: dict[UnitStatus, frozenset[UnitStatus]] = {
    UnitStatus.AVAILABLE: frozenset(
        {UnitStatus.DISPATCHED, UnitStatus.BUSY, UnitStatus.OUT_OF_SERVICE, UnitStatus.OFF_DUTY}
    ),
    # A crew may go straight to "en route" or even "on scene" without tapping "received" first;
    # a dispatch can be recalled (back to available) until the unit arrives.
    UnitStatus.DISPATCHED: frozenset(
        {UnitStatus.ACKNOWLEDGED, UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE, UnitStatus.AVAILABLE}
    ),
    UnitStatus.ACKNOWLEDGED: frozenset({UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE, UnitStatus.AVAILABLE}),
    UnitStatus.EN_ROUTE: frozenset({UnitStatus.ON_SCENE, UnitStatus.AVAILABLE}),
    UnitStatus.ON_SCENE: frozenset({UnitStatus.CLEARED}),
    UnitStatus.CLEARED: frozenset(
        {UnitStatus.AVAILABLE, UnitStatus.DISPATCHED, UnitStatus.BUSY, UnitStatus.OUT_OF_SERVICE}
    ),
    UnitStatus.BUSY: frozenset({UnitStatus.AVAILABLE, UnitStatus.DISPATCHED, UnitStatus.OUT_OF_SERVICE}),
    UnitStatus.OUT_OF_SERVICE: frozenset({UnitStatus.AVAILABLE, UnitStatus.OFF_DUTY}),
    UnitStatus.OFF_DUTY: frozenset({UnitStatus.AVAILABLE}),
}

# Statuses in which a unit is working an incident (it holds an assignment).
ASSIGNED_STATUSES: frozenset[UnitStatus] = frozenset(
    {UnitStatus.DISPATCHED, UnitStatus.ACKNOWLEDGED, UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE}
)

INCIDENT_TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.PENDING: frozenset(
        {IncidentStatus.DISPATCHED, IncidentStatus.CLOSED, IncidentStatus.MERGED}
    ),
    # Every assigned unit recalled → back to pending; the stages can be skipped forwards because
    # the incident follows the most advanced of its units.
    IncidentStatus.DISPATCHED: frozenset(
        {
            IncidentStatus.ACKNOWLEDGED,
            IncidentStatus.EN_ROUTE,
            IncidentStatus.ON_SCENE,
            IncidentStatus.PENDING,
            IncidentStatus.CLEARED,  # a backup sent to a handled incident was recalled
            IncidentStatus.CLOSED,
        }
    ),
    IncidentStatus.ACKNOWLEDGED: frozenset(
        {
            IncidentStatus.EN_ROUTE,
            IncidentStatus.ON_SCENE,
            IncidentStatus.PENDING,
            IncidentStatus.CLEARED,
            IncidentStatus.CLOSED,
        }
    ),
    IncidentStatus.EN_ROUTE: frozenset(
        {IncidentStatus.ON_SCENE, IncidentStatus.PENDING, IncidentStatus.CLEARED, IncidentStatus.CLOSED}
    ),
    IncidentStatus.ON_SCENE: frozenset({IncidentStatus.CLEARED, IncidentStatus.CLOSED}),
    IncidentStatus.CLEARED: frozenset({IncidentStatus.CLOSED, IncidentStatus.DISPATCHED}),
    # A closed incident may be reopened, with a reason, into the queue again (rules.reopen_incident).
    IncidentStatus.CLOSED: frozenset({IncidentStatus.PENDING}),
    IncidentStatus.MERGED: frozenset(),
}

# Stage order, for "the incident follows the most advanced of its units".
INCIDENT_STAGE_RANK: dict[IncidentStatus, int] = {
    IncidentStatus.PENDING: 0,
    IncidentStatus.DISPATCHED: 1,
    IncidentStatus.ACKNOWLEDGED: 2,
    IncidentStatus.EN_ROUTE: 3,
    IncidentStatus.ON_SCENE: 4,
    IncidentStatus.CLEARED: 5,
    IncidentStatus.CLOSED: 6,
    IncidentStatus.MERGED: 6,
}

OPEN_INCIDENT_STATUSES: frozenset[IncidentStatus] = frozenset(
    s for s in IncidentStatus if s not in (IncidentStatus.CLOSED, IncidentStatus.MERGED)
)


class SourceChannel(StrEnum):
    CALL_110 = "call_110"
    APP = "app"
    ALARM_DEVICE = "alarm_device"
    SENSOR = "sensor"
    WALK_IN = "walk_in"
    OFFICER = "officer"


class UnitKind(StrEnum):
    PATROL_CAR = "patrol_car"
    MOTORCYCLE = "motorcycle"
    FOOT = "foot"
    DRONE = "drone"


__all__ = [
    "ASSIGNED_STATUSES",
    "INCIDENT_STAGE_RANK",
    "INCIDENT_TRANSITIONS",
    "OPEN_INCIDENT_STATUSES",
    "PRIMARY_OF",
    "UNIT_TRANSITIONS",
    "IncidentStatus",
    "PrimaryUnitStatus",
    "SourceChannel",
    "UnitKind",
    "UnitStatus",
]
