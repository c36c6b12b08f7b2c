"""Where an account belongs and what it may see: its station, unit and jurisdiction, checked
against the stations and units that exist, for a new account and for a changed one alike."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, select

from jingwu.domain.access import Jurisdiction, Level, Role, default_jurisdiction, jurisdiction_problem
from jingwu.errors import NotFound, ValidationFailed
from jingwu.store import tables as t


def following_jurisdiction(
    old: Jurisdiction, old_role: Role, old_station: str | None, new_role: Role, new_station: str | None
) -> Jurisdiction:
    """The jurisdiction of an account whose role or station changes and that is given none:
    the new default when the old one was the default, or when the role moves into or out of
    a resident's own-reports-only view; otherwise the old one (it was set on purpose)."""
    was_default = old == default_jurisdiction(old_role, old_station)
    crosses_own = (old_role is Role.RESIDENT) != (new_role is Role.RESIDENT)
    if was_default or crosses_own:
        return default_jurisdiction(new_role, new_station)
    return old


def districts_by_station(conn: Connection) -> dict[str, str]:
    """Every station's district, by station id."""
    return {row.id: row.district for row in conn.execute(select(t.stations.c.id, t.stations.c.district))}


def unit_station(conn: Connection, unit_id: str) -> str:
    """The station of a unit (``unit_not_found`` when there is no such unit)."""
    station: str | None = conn.execute(select(t.units.c.station_id).where(t.units.c.id == unit_id)).scalar()
    if station is None:
        raise NotFound(f"no unit {unit_id!r}", code="unit_not_found", unit_id=unit_id)
    return station


def check_station(station_id: str, district_of: Mapping[str, str]) -> None:
    if station_id not in district_of:
        raise NotFound(f"no station {station_id!r}", code="station_not_found", station_id=station_id)


def check_jurisdiction(role: Role, scope: Jurisdiction, district_of: Mapping[str, str]) -> None:
    """Refuse (422 ``bad_jurisdiction``) a jurisdiction the role may not hold
    (:func:`jingwu.domain.access.jurisdiction_problem`), or one naming a station or district
    that does not exist (a typo would give an account that sees nothing, and never says so)."""
    problem = jurisdiction_problem(role, scope)
    if problem is None and scope.level is Level.STATION and scope.name not in district_of:
        problem = f"jurisdiction {scope}: there is no station {scope.name!r}"
    if problem is None and scope.level is Level.DISTRICT and scope.name not in district_of.values():
        known = ", ".join(sorted(set(district_of.values()))) or "none yet"
        problem = f"jurisdiction {scope}: no station lies in a district {scope.name!r} (districts: {known})"
    if problem is not None:
        raise ValidationFailed(problem, code="bad_jurisdiction", role=str(role), jurisdiction=str(scope))


def new_account_place(
    conn: Connection,
    role: Role,
    jurisdiction: Jurisdiction | None,
    station_id: str | None,
    unit_id: str | None,
) -> tuple[str | None, Jurisdiction]:
    """The station and jurisdiction of a new account, checked: the unit and station must exist,
    a unit given without a station brings its own, and the jurisdiction (given, or the role's
    default) must suit the role and name a station or district that exists."""
    district_of = districts_by_station(conn)
    if unit_id is not None:
        station_id = station_id or unit_station(conn, unit_id)
    if station_id is not None:
        check_station(station_id, district_of)
    scope = jurisdiction or default_jurisdiction(role, station_id)
    check_jurisdiction(role, scope, district_of)
    return station_id, scope
