"""The roster: shifts and their crews (admins, commanders), and who rides which unit now (anyone
who may see units)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from jingwu.api.deps import RosterAdmin, ServicesDep, UnitReader, guard
from jingwu.api.schemas.admin import OnDutyPerson, ShiftIn, ShiftOut, UnitCrewOut
from jingwu.domain.access import station_ids_within
from jingwu.errors import ValidationFailed
from jingwu.service.administration.roster import ShiftDraft, shift_view

router = APIRouter(prefix="/api", tags=["administration"])


@router.get("/shifts", response_model=list[ShiftOut])
def list_shifts(
    principal: RosterAdmin,
    services: ServicesDep,
    station: str | None = Query(default=None, max_length=64),
    start: Annotated[datetime | None, Query(alias="from", description="default: a day ago")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="default: a week ahead")] = None,
) -> list[ShiftOut]:
    """Shifts overlapping the period, by start, of the stations in reach."""
    now = services.dispatch.clock()
    start, end = start or now - timedelta(days=1), end or now + timedelta(days=7)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed("from and to need a time zone (e.g. +08:00 or Z)", code="naive_time")
    within = station_ids_within(principal.jurisdiction, services.dispatch.district_of)
    if station is not None:
        guard(principal, services).station(station)
        within = frozenset({station})
    found = services.admin.roster.list_shifts(station_ids=within, starts_from=start, starts_to=end)
    return [ShiftOut.model_validate(shift_view(s, seats)) for s, seats in found]


@router.post("/shifts", response_model=ShiftOut, status_code=201)
def add_shift(body: ShiftIn, principal: RosterAdmin, services: ServicesDep) -> ShiftOut:
    """A shift of a station with its crews. Its units go on duty when it starts and off when it
    ends; each officer is bound to their unit for the shift. Refused: an officer on two units or
    two overlapping shifts (422 double_booked), a unit or officer not in service."""
    guard(principal, services).station(body.station_id)
    units = services.dispatch.list_units()
    by_name = {u.callsign.upper(): u.id for u in units} | {u.id: u.id for u in units}
    people = {p.police_number: p.id for p, _, _ in services.admin.personnel.list()}
    crews = []
    for crew in body.crews:
        unit_id = by_name.get(crew.unit.upper()) or by_name.get(crew.unit)
        if unit_id is None:
            raise ValidationFailed(f"no unit {crew.unit!r} in service", code="unit_not_found")
        crews.append((unit_id, [people.get(o.strip().upper(), o) for o in crew.officers]))
    starts = body.starts_at
    ends = body.ends_at
    for name, value in (("starts_at", starts), ("ends_at", ends)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed(f"{name} needs a time zone (e.g. +08:00 or Z)", code="naive_time")
    draft = ShiftDraft(
        station_id=body.station_id,
        kind=body.kind,
        day=body.day,
        starts_at=starts.astimezone(UTC) if starts else None,
        ends_at=ends.astimezone(UTC) if ends else None,
        crews=crews,
    )
    shift, seats = services.admin.roster.add_shift(draft, actor=principal.username)
    return ShiftOut.model_validate(shift_view(shift, seats))


@router.delete("/shifts/{shift_id}", status_code=204)
def remove_shift(shift_id: str, principal: RosterAdmin, services: ServicesDep) -> Response:
    """Take a shift not yet over off the roster; its units go off duty if no other shift has them."""
    shift, _ = services.admin.roster.get_shift(shift_id)
    guard(principal, services).station(shift.station_id)
    services.admin.roster.remove_shift(shift_id, actor=principal.username)
    return Response(status_code=204)


@router.get("/crews", response_model=list[UnitCrewOut])
def current_crews(principal: UnitReader, services: ServicesDep) -> list[UnitCrewOut]:
    """Who rides which unit now, for the units in reach (units that no shift crews now are left out)."""
    checks = guard(principal, services)
    units = {u.id: u for u in services.dispatch.list_units() if checks.sees_unit(u)}
    riders: dict[str, list[OnDutyPerson]] = {}
    for person, _, unit_id in services.admin.personnel.list():
        if unit_id in units:
            riders.setdefault(unit_id, []).append(
                OnDutyPerson(
                    id=person.id, police_number=person.police_number, name=person.name, rank=person.rank
                )
            )
    return [
        UnitCrewOut(
            unit_id=unit_id,
            callsign=units[unit_id].callsign,
            station_id=units[unit_id].station_id,
            status=str(units[unit_id].status),
            officers=people,
        )
        for unit_id, people in sorted(riders.items(), key=lambda kv: units[kv[0]].callsign)
    ]
