"""Units administered: create, edit, retire (admins; commanders for the stations they hold).
What units are doing (statuses, positions, routes) is ``api.routers.units``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from jingwu.api.deps import FleetAdmin, ServicesDep, guard
from jingwu.api.idempotency import answer_with
from jingwu.api.schemas.admin import UnitIn, UnitPatch
from jingwu.api.schemas.responses import UnitOut
from jingwu.service.administration.units import UnitDraft
from jingwu.service.views import unit_view

router = APIRouter(prefix="/api/units", tags=["administration"])


def _out(unit: Any) -> UnitOut:
    return UnitOut.model_validate(unit_view(unit))


@router.post("", response_model=UnitOut, status_code=201)
def create_unit(body: UnitIn, principal: FleetAdmin, services: ServicesDep) -> UnitOut:
    """A new unit of a station, off duty until its shift (or a dispatcher) puts it on. Refused: a
    call sign, radio or terminal already another unit's (409), an unknown kind (422)."""
    guard(principal, services).station(body.station_id)
    draft = UnitDraft(
        callsign=body.callsign,
        kind=body.kind,
        station_id=body.station_id,
        capabilities=body.capabilities,
        radio_id=body.radio_id,
        terminal_id=body.terminal_id,
    )
    answer_with(201, lambda d: _out(d.units[0]))
    return _out(services.admin.units.create(draft, actor=principal.username))


@router.patch("/{unit_id}", response_model=UnitOut)
def edit_unit(unit_id: str, body: UnitPatch, principal: FleetAdmin, services: ServicesDep) -> UnitOut:
    """Change call sign, kind, capabilities, home station, radio or terminal (each change an event)."""
    checks = guard(principal, services)
    checks.station(services.admin.units.get(unit_id).station_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"version"})
    if "station_id" in changes:
        checks.station(changes["station_id"])
    return _out(services.admin.units.update(unit_id, changes, version=body.version, actor=principal.username))


@router.post("/{unit_id}/retire", response_model=UnitOut)
def retire_unit(unit_id: str, principal: FleetAdmin, services: ServicesDep) -> UnitOut:
    """Take a unit out of the fleet (409 unit_busy while it works an incident, unit_rostered while
    a shift not yet over crews it)."""
    guard(principal, services).station(services.admin.units.get(unit_id).station_id)
    answer_with(200, lambda d: _out(d.units[0]))
    return _out(services.admin.units.retire(unit_id, actor=principal.username))
