"""Roles and jurisdictions as pure policy (domain.access): parsing a jurisdiction, what each level
covers, and who may see an incident or a unit."""

from __future__ import annotations

import pytest

from jingwu.domain.access import (
    CITY,
    OWN,
    ROLE_PERMISSIONS,
    Jurisdiction,
    Level,
    Permission,
    Principal,
    Role,
    default_jurisdiction,
    jurisdiction_problem,
    may_see_incident,
    may_see_unit,
    roles_with,
    station_ids_within,
)

# Two districts: 南岗区 with two stations, 松北区 with one.
DISTRICT_OF = {"nangang-a": "南岗区", "nangang-b": "南岗区", "songbei": "松北区"}


def principal(
    jurisdiction: str,
    *,
    role: Role = Role.DISPATCHER,
    username: str = "someone",
    unit_id: str | None = None,
) -> Principal:
    return Principal("usr_1", username, role, None, unit_id, Jurisdiction.parse(jurisdiction))


# ----------------------------------------------------------------------------------- parse


@pytest.mark.parametrize(
    ("text", "level", "name"),
    [
        ("city", Level.CITY, None),
        ("own", Level.OWN, None),
        ("district:南岗区", Level.DISTRICT, "南岗区"),
        ("station:nangang-baojianlu", Level.STATION, "nangang-baojianlu"),
        ("station:" + "s" * 64, Level.STATION, "s" * 64),
    ],
)
def test_jurisdiction_parses_each_level_and_prints_back_the_same_text(
    text: str, level: Level, name: str | None
) -> None:
    parsed = Jurisdiction.parse(text)
    assert (parsed.level, parsed.name) == (level, name)
    assert str(parsed) == text
    assert Jurisdiction.parse(str(parsed)) == parsed


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("bureau", "unknown jurisdiction"),
        ("", "unknown jurisdiction"),
        ("City", "unknown jurisdiction"),  # levels are lower case, as stored
        ("county:双城区", "unknown jurisdiction"),
        ("district", "name the district or station"),
        ("district:", "name the district or station"),
        ("station:", "name the district or station"),
        ("station:two words", "name the district or station"),
        ("station:a:b", "name the district or station"),  # the name may hold no colon
        ("station:" + "s" * 65, "name the district or station"),
        ("city:哈尔滨", "takes no name"),
        ("own:resident", "takes no name"),
    ],
)
def test_jurisdiction_parse_refuses_malformed_text(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        Jurisdiction.parse(text)


# ------------------------------------------------------------------------- covers_station


@pytest.mark.parametrize(
    ("jurisdiction", "covered"),
    [
        ("city", {"nangang-a", "nangang-b", "songbei", "elsewhere", None}),
        ("district:南岗区", {"nangang-a", "nangang-b"}),
        ("district:松北区", {"songbei"}),
        ("district:道里区", set()),  # a district with no stations holds nothing
        ("station:nangang-a", {"nangang-a"}),
        ("station:elsewhere", {"elsewhere"}),  # a station id is compared, not looked up
        ("own", set()),
    ],
)
def test_covers_station_for_each_level(jurisdiction: str, covered: set[str | None]) -> None:
    scope = Jurisdiction.parse(jurisdiction)
    for station_id in ("nangang-a", "nangang-b", "songbei", "elsewhere", None):
        assert scope.covers_station(station_id, DISTRICT_OF) is (station_id in covered), station_id


def test_a_record_outside_every_station_belongs_to_the_city_alone() -> None:
    holders = [str(j) for j in _every_kind_of_jurisdiction() if j.covers_station(None, DISTRICT_OF)]
    assert holders == ["city"]


def _every_kind_of_jurisdiction() -> list[Jurisdiction]:
    return [
        CITY,
        Jurisdiction(Level.DISTRICT, "南岗区"),
        Jurisdiction(Level.STATION, "nangang-a"),
        OWN,
    ]


@pytest.mark.parametrize(
    ("jurisdiction", "stations"),
    [
        ("district:南岗区", {"nangang-a", "nangang-b"}),
        ("district:道里区", set()),
        ("station:songbei", {"songbei"}),
        ("station:elsewhere", set()),  # only stations that exist are listed
        ("own", set()),
    ],
)
def test_station_ids_within_lists_the_stations_a_jurisdiction_holds(
    jurisdiction: str, stations: set[str]
) -> None:
    assert station_ids_within(Jurisdiction.parse(jurisdiction), DISTRICT_OF) == frozenset(stations)


def test_station_ids_within_the_city_is_none_meaning_everything() -> None:
    # None, not the set of all stations: the city also holds records outside every station.
    assert station_ids_within(CITY, DISTRICT_OF) is None


# ----------------------------------------------------------------------- may_see_incident


def _sees(
    who: Principal,
    *,
    station_id: str | None,
    created_by: str | None = "dispatcher",
    own_incident_id: str | None = None,
    incident_id: str = "J1",
) -> bool:
    return may_see_incident(
        who,
        station_id=station_id,
        created_by=created_by,
        own_incident_id=own_incident_id,
        incident_id=incident_id,
        district_of=DISTRICT_OF,
    )


@pytest.mark.parametrize(
    ("jurisdiction", "station_id", "sees"),
    [
        ("city", "songbei", True),
        ("city", None, True),
        ("district:南岗区", "nangang-b", True),
        ("district:南岗区", "songbei", False),
        ("district:南岗区", None, False),
        ("station:nangang-a", "nangang-a", True),
        ("station:nangang-a", "nangang-b", False),
        ("station:nangang-a", None, False),
    ],
)
def test_may_see_incident_within_the_callers_own_level(
    jurisdiction: str, station_id: str | None, sees: bool
) -> None:
    assert _sees(principal(jurisdiction), station_id=station_id) is sees


def test_a_resident_sees_only_the_incidents_they_reported_wherever_they_are() -> None:
    resident = principal("own", role=Role.RESIDENT, username="zhang")
    assert _sees(resident, station_id="nangang-a", created_by="zhang")
    assert _sees(resident, station_id=None, created_by="zhang")
    assert not _sees(resident, station_id="nangang-a", created_by="li")
    assert not _sees(resident, station_id="nangang-a", created_by=None)


def test_an_own_level_account_gains_nothing_from_a_bound_unit() -> None:
    # A device bound to a unit still sees only what it reported itself.
    device = principal("own", role=Role.DEVICE, username="alarm-7", unit_id="u1")
    assert not _sees(device, station_id="nangang-a", own_incident_id="J1", incident_id="J1")


def test_an_officer_sent_across_the_boundary_sees_the_call_they_were_sent_to() -> None:
    officer = principal("station:nangang-a", role=Role.OFFICER, username="BJ01", unit_id="u1")
    assert _sees(officer, station_id="songbei", own_incident_id="J7", incident_id="J7")
    # ... and nothing else across it.
    assert not _sees(officer, station_id="songbei", own_incident_id="J7", incident_id="J8")
    assert not _sees(officer, station_id="songbei", own_incident_id=None, incident_id="J7")
    # Their own station's queue, whether or not they are on a call.
    assert _sees(officer, station_id="nangang-a", own_incident_id="J7", incident_id="J9")


# --------------------------------------------------------------------------- may_see_unit


def test_may_see_unit_of_the_callers_stations_and_always_their_own() -> None:
    station = principal("station:nangang-a")
    assert may_see_unit(station, unit_id="u1", station_id="nangang-a", district_of=DISTRICT_OF)
    assert not may_see_unit(station, unit_id="u2", station_id="songbei", district_of=DISTRICT_OF)
    district = principal("district:南岗区")
    assert may_see_unit(district, unit_id="u3", station_id="nangang-b", district_of=DISTRICT_OF)
    device = principal("own", role=Role.DEVICE, unit_id="u2")
    assert may_see_unit(device, unit_id="u2", station_id="songbei", district_of=DISTRICT_OF)
    assert not may_see_unit(device, unit_id="u1", station_id="nangang-a", district_of=DISTRICT_OF)


# -------------------------------------------------------------------- default_jurisdiction


@pytest.mark.parametrize(
    ("role", "station_id", "expected"),
    [
        (Role.RESIDENT, None, "own"),
        (Role.RESIDENT, "nangang-a", "own"),
        (Role.DEVICE, None, "own"),
        (Role.DEVICE, "nangang-a", "own"),
        (Role.OFFICER, "nangang-a", "station:nangang-a"),
        (Role.DISPATCHER, "songbei", "station:songbei"),
        (Role.DISPATCHER, None, "city"),
        (Role.COMMANDER, None, "city"),
        (Role.ADMIN, None, "city"),
        (Role.ANALYST, None, "city"),
    ],
)
def test_default_jurisdiction(role: Role, station_id: str | None, expected: str) -> None:
    assert str(default_jurisdiction(role, station_id)) == expected


# ---------------------------------------------------------------------------------- roles


def test_every_role_has_a_permission_set_and_admin_holds_them_all() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    # Every permission is held by someone besides the admin, except reading the audit log,
    # accounts, and the map of stations (a commander runs stations, does not draw them).
    assert {p for p in Permission if roles_with(p) == {Role.ADMIN}} == {
        Permission.AUDIT_READ,
        Permission.USER_ADMIN,
        Permission.STATION_ADMIN,
    }


def test_a_device_has_no_session_and_no_reading_powers() -> None:
    assert ROLE_PERMISSIONS[Role.DEVICE] == {Permission.INCIDENT_CREATE, Permission.POSITION_REPORT}
    assert not principal("own", role=Role.DEVICE).may(Permission.SELF)


# ------------------------------------------------------------- which role may hold which place


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.DEVICE])
def test_residents_and_devices_are_always_own(role: Role) -> None:
    assert jurisdiction_problem(role, OWN) is None
    for text in ("city", "district:南岗区", "station:nangang-a"):
        problem = jurisdiction_problem(role, Jurisdiction.parse(text))
        assert problem is not None and "own" in problem and text in problem


@pytest.mark.parametrize("role", sorted(set(Role) - {Role.RESIDENT, Role.DEVICE}))
def test_no_other_role_is_own(role: Role) -> None:
    problem = jurisdiction_problem(role, OWN)
    assert problem is not None and "only residents and devices" in problem
    for text in ("district:南岗区", "station:nangang-a"):
        assert jurisdiction_problem(role, Jurisdiction.parse(text)) is None


def test_an_officer_has_a_station_or_a_district_never_the_city() -> None:
    problem = jurisdiction_problem(Role.OFFICER, CITY)
    assert problem is not None and "not the city" in problem and "unit or a station" in problem
    # The city is the default of a role without a station: for an officer it is refused.
    assert jurisdiction_problem(Role.OFFICER, default_jurisdiction(Role.OFFICER, None)) is not None
    assert jurisdiction_problem(Role.OFFICER, default_jurisdiction(Role.OFFICER, "nangang-a")) is None
    for role in sorted(set(Role) - {Role.OFFICER, Role.RESIDENT, Role.DEVICE}):
        assert jurisdiction_problem(role, CITY) is None, role
