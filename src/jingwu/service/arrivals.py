"""What the server knows when a unit reports itself on scene (domain.arrivals judges it): the
scene, the unit's newest position, its dispatch and the road ETA worked out then."""

from __future__ import annotations

import logging

from sqlalchemy import Connection

from jingwu.domain.arrivals import ArrivalEvidence
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Assignment, Incident, Position, Unit
from jingwu.errors import JingwuError
from jingwu.service.unit_board import UnitBoard
from jingwu.store import events as stored_events

log = logging.getLogger(__name__)


def newest(a: Position | None, b: Position | None) -> Position | None:
    if a is None or b is None:
        return a or b
    return a if a.ts >= b.ts else b


def arrival_evidence(
    conn: Connection, board: UnitBoard, unit: Unit, incident: Incident, assignment: Assignment | None
) -> ArrivalEvidence:
    """The board holds the freshest position (reports reach it before the store's row); the
    scene is the incident's place and where its road reaches it, when it can be snapped."""
    scene = [incident.location]
    try:
        point = board.incident_point(incident)
        scene.append(GeoPoint(point.lat, point.lon))
    except JingwuError as exc:  # off every road now: the place itself is the scene
        log.info("no road point for incident %s: %s", incident.id, exc.message)
    eta_s = stored_events.dispatch_eta_s(conn, incident.id, unit.id) if assignment is not None else None
    return ArrivalEvidence(
        scene=tuple(scene),
        position=newest(board.position_of(unit.id), unit.position),
        dispatched_at=assignment.dispatched_at if assignment is not None else None,
        eta_s=eta_s,
    )


__all__ = ["arrival_evidence", "newest"]
