"""Units: list, read, route to their incident, change status, report positions."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Query

from jingwu.api.deps import PositionReporter, ServicesDep, UnitReader, UnitStatusSetter, guard
from jingwu.api.idempotency import answer_with
from jingwu.api.routers.positions import source_of, utc
from jingwu.api.schemas.requests import PositionBatch, UnitStatusRequest
from jingwu.api.schemas.responses import EventOut, UnitOut, UnitRouteOut
from jingwu.dispatch.recommend import travel_time
from jingwu.domain.access import Role
from jingwu.domain.gps import Fix
from jingwu.domain.status import UnitStatus
from jingwu.errors import ValidationFailed
from jingwu.service.views import unit_view

router = APIRouter(prefix="/api/units", tags=["units"])

MAX_CLOCK_SKEW = timedelta(seconds=60)


@router.get("", response_model=list[UnitOut])
def list_units(principal: UnitReader, services: ServicesDep) -> list[UnitOut]:
    """The units of the caller's jurisdiction."""
    units = services.dispatch.list_units(station_ids=guard(principal, services).station_ids)
    return [UnitOut.model_validate(unit_view(u)) for u in units]


@router.get("/{unit_id}", response_model=UnitOut)
def get_unit(unit_id: str, principal: UnitReader, services: ServicesDep) -> UnitOut:
    return UnitOut.model_validate(unit_view(guard(principal, services).unit(unit_id)))


@router.get("/{unit_id}/timeline", response_model=list[EventOut])
def timeline(
    unit_id: str, principal: UnitReader, services: ServicesDep, limit: int = Query(default=200, ge=1, le=5000)
) -> list[EventOut]:
    """The unit's status changes and dispatches, oldest first (the most recent ``limit``)."""
    guard(principal, services).unit(unit_id)
    return [EventOut.model_validate(m.payload) for m in services.dispatch.unit_timeline(unit_id, limit=limit)]


@router.get("/{unit_id}/route", response_model=UnitRouteOut)
def route(unit_id: str, principal: UnitReader, services: ServicesDep) -> UnitRouteOut:
    """The road route from the unit's last position to its incident. 409 ``unit_not_assigned``
    without an incident, 409 ``unit_has_no_position`` before its first position report."""
    guard(principal, services).own_unit(unit_id)
    found = services.dispatch.unit_route(unit_id)
    road = found.route
    feature = None
    # A foot patrol walks the route: its time, not a car's.
    eta_s = None if road is None else round(travel_time(found.unit, road.eta_s, road.distance_m), 1)
    if road is not None:
        feature = {
            "type": "Feature",
            "geometry": road.to_geojson(),
            "properties": {"eta_s": eta_s, "distance_m": round(road.distance_m, 1)},
        }
    return UnitRouteOut(
        unit_id=found.unit.id,
        incident_id=found.incident.id,
        eta_s=eta_s,
        distance_m=None if road is None else round(road.distance_m, 1),
        straight_line_m=round(found.straight_line_m, 1),
        route=feature,
    )


@router.post("/{unit_id}/status", response_model=UnitOut)
def set_status(
    unit_id: str, body: UnitStatusRequest, principal: UnitStatusSetter, services: ServicesDep
) -> UnitOut:
    """An arrival (on_scene) that the unit's last position puts farther from the scene than
    JINGWU_ARRIVAL_RADIUS_M is refused (409 ``far_from_scene``, with ``distance_m``) until the
    request confirms it; an officer clearing (cleared) must say how it ended (``disposition``)."""
    guard(principal, services).own_unit(unit_id)
    disposition = (body.disposition or "").strip() or None
    if principal.role is Role.OFFICER and body.status is UnitStatus.CLEARED and disposition is None:
        raise ValidationFailed("say how the incident ended (disposition)", code="disposition_required")
    answer_with(200, lambda d: UnitOut.model_validate(unit_view(d.units[0])))
    unit = services.dispatch.set_unit_status(
        unit_id,
        body.status,
        actor=principal.username,
        may_recall=principal.role is not Role.OFFICER,
        occurred_at=body.occurred_at,
        confirm_far=body.confirm_far,
        disposition=disposition,
    )
    return UnitOut.model_validate(unit_view(unit))


@router.post("/positions", status_code=204)
def report_positions(body: PositionBatch, principal: PositionReporter, services: ServicesDep) -> None:
    """Fixes from a terminal or a car's AVL box (its own unit only), or a dispatcher placing a
    unit by hand from a radio report (units of their jurisdiction). 204 once stored. Every fix
    goes through the GPS filter: one it rejects is kept off the map and the board without a word
    (``POST /api/units/positions/batch`` answers with each fix's verdict). A fix more than 60 s
    ahead refuses the whole batch (422 ``future_position``), so that a terminal whose clock is
    ahead learns to leave the time to the server."""
    now = services.positions.clock()
    reports = []
    guard(principal, services).own_units({p.unit_id for p in body.positions})
    for p in body.positions:
        ts = utc(p.ts) if p.ts else now
        if ts > now + MAX_CLOCK_SKEW:
            # A fix from the future would outrank every real one that follows it.
            raise ValidationFailed(
                f"position time {ts.isoformat()} is in the future", code="future_position", unit_id=p.unit_id
            )
        fix = Fix(
            ts=ts,
            lat=p.lat,
            lon=p.lon,
            heading=p.heading,
            speed=p.speed,
            altitude=p.altitude,
            accuracy=p.accuracy,
            battery=p.battery,
        )
        reports.append((p.unit_id, fix))
    answer_with(204, lambda _d: None)
    services.positions.ingest(reports, source=source_of(principal))
