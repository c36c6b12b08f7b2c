"""A bureau sets up its own city through the API, on a fresh database: a station with its
polygon, a unit, an officer and a shift; the unit is recommended while on duty and not after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jingwu.api.factory import create_app
from jingwu.composition import Services, assemble
from jingwu.routing import RoadNetwork
from jingwu.service.auth import Role
from jingwu.settings import Settings
from jingwu.store.db import make_engine
from tests.conftest import PASSWORD, FakeClock

# A square of Nangang around the test city's centre (45.756, 126.642), closed.
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[126.60, 45.72], [126.68, 45.72], [126.68, 45.79], [126.60, 45.79], [126.60, 45.72]]],
}
EAST_SQUARE = {
    "type": "Polygon",
    "coordinates": [[[126.68, 45.72], [126.75, 45.72], [126.75, 45.79], [126.68, 45.79], [126.68, 45.72]]],
}
SCENE = {"lat": 45.7560, "lon": 126.6420}


@pytest.fixture
def fresh(
    network: RoadNetwork, migrated_database_url: str, clock: FakeClock, tmp_path: Path
) -> Iterator[Services]:
    """Services over a database with nothing in it: no stations, no units, one admin."""
    settings = Settings(data_dir=tmp_path, database_url=migrated_database_url)
    services = assemble(settings, make_engine(migrated_database_url), network, clock=clock)
    services.auth.accounts.create_user("admin", PASSWORD, Role.ADMIN)
    yield services
    services.close()


@pytest.fixture
def client(fresh: Services) -> Iterator[TestClient]:
    with TestClient(create_app(fresh)) as test_client:
        yield test_client


def _login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _setup(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    station = client.post(
        "/api/admin/stations",
        json={
            "name": "南岗分局测试派出所",
            "district": "南岗区",
            "jurisdiction": SQUARE,
            "id": "nangang-test",
        },
        headers=admin,
    )
    assert station.status_code == 201, station.text
    unit = client.post(
        "/api/units",
        json={
            "callsign": "nt01",
            "kind": "patrol_car",
            "station_id": "nangang-test",
            "capabilities": ["traffic"],
        },
        headers=admin,
    )
    assert unit.status_code == 201, unit.text
    officer = client.post(
        "/api/personnel",
        json={"police_number": "230101", "name": "张伟", "rank": "一级警员", "station_id": "nangang-test"},
        headers=admin,
    )
    assert officer.status_code == 201, officer.text
    return {"station": station.json(), "unit": unit.json(), "officer": officer.json()}


def test_a_bureau_sets_up_its_city_and_a_unit_is_recommended_only_while_on_duty(
    client: TestClient, fresh: Services, clock: FakeClock
) -> None:
    admin = _login(client, "admin")
    made = _setup(client, admin)
    unit_id = made["unit"]["id"]
    assert made["unit"]["callsign"] == "NT01" and made["unit"]["status"] == "off_duty"
    # The new station is in force at once: an incident in its square is its incident.
    incident = client.post(
        "/api/incidents",
        json={"type_code": "crim.theft", "location": SCENE, "source": "call_110"},
        headers=admin,
    )
    assert incident.status_code == 201, incident.text
    assert incident.json()["station_id"] == "nangang-test"
    # The unit reports where it is; off duty, it is not recommended.
    placed = client.post(
        "/api/units/positions", json={"positions": [{"unit_id": unit_id, **SCENE}]}, headers=admin
    )
    assert placed.status_code == 204, placed.text
    recommend = f"/api/incidents/{incident.json()['id']}/recommendations"
    assert [r["unit_id"] for r in client.get(recommend, headers=admin).json()] == []

    now = fresh.dispatch.clock()
    shift = client.post(
        "/api/shifts",
        json={
            "station_id": "nangang-test",
            "kind": "custom",
            "starts_at": (now - timedelta(minutes=5)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            "crews": [{"unit": "NT01", "officers": ["230101"]}],
        },
        headers=admin,
    )
    assert shift.status_code == 201, shift.text
    assert client.get(f"/api/units/{unit_id}", headers=admin).json()["status"] == "available"
    assert [r["unit_id"] for r in client.get(recommend, headers=admin).json()] == [unit_id]
    # The officer logs in by police number, bound to the crew's unit for the shift.
    officer = _login(client, "230101", made["officer"]["initial_password"])
    me = client.get("/api/auth/me", headers=officer).json()
    assert me["unit_id"] == unit_id
    crews = client.get("/api/crews", headers=admin).json()
    assert crews == [
        {
            "unit_id": unit_id,
            "callsign": "NT01",
            "station_id": "nangang-test",
            "status": "available",
            "officers": [
                {"id": made["officer"]["id"], "police_number": "230101", "name": "张伟", "rank": "一级警员"}
            ],
        }
    ]

    # The shift ends: the unit goes off duty, is no longer recommended, the officer is unbound.
    clock.advance(3601)
    fresh.admin.roster.sync()
    admin = _login(client, "admin")  # an hour idle ended the sessions
    officer = _login(client, "230101", made["officer"]["initial_password"])
    assert client.get(f"/api/units/{unit_id}", headers=admin).json()["status"] == "off_duty"
    assert client.get(recommend, headers=admin).json() == []
    assert client.get("/api/auth/me", headers=officer).json()["unit_id"] is None


def test_station_edits_take_effect_at_once_and_overlaps_are_refused(client: TestClient) -> None:
    admin = _login(client, "admin")
    _setup(client, admin)
    overlap = client.post(
        "/api/admin/stations",
        json={"name": "重叠派出所", "district": "南岗区", "jurisdiction": SQUARE},
        headers=admin,
    )
    assert overlap.status_code == 409 and overlap.json()["error"]["code"] == "overlapping_jurisdiction"
    # A neighbour sharing the border is fine.
    east = client.post(
        "/api/admin/stations",
        json={"name": "东邻派出所", "district": "道外区", "jurisdiction": EAST_SQUARE},
        headers=admin,
    )
    assert east.status_code == 201, east.text
    stale = client.patch(
        "/api/admin/stations/nangang-test", json={"name": "新名", "version": 0}, headers=admin
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_station"
    renamed = client.patch(
        "/api/admin/stations/nangang-test", json={"name": "新名", "version": 1}, headers=admin
    )
    assert renamed.status_code == 200 and renamed.json()["version"] == 2
    listed = {s["id"]: s["name"] for s in client.get("/api/stations", headers=admin).json()}
    assert listed["nangang-test"] == "新名"
    # Retiring a station with units in it is refused.
    busy = client.post("/api/admin/stations/nangang-test/retire", headers=admin)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "station_in_use"


@pytest.mark.parametrize(
    ("jurisdiction", "code"),
    [
        ({"type": "Point", "coordinates": [126.6, 45.7]}, "invalid_jurisdiction"),
        (
            {"type": "Polygon", "coordinates": [[[126.6, 45.7], [126.7, 45.7], [126.7, 45.8]]]},
            "invalid_jurisdiction",
        ),
        (  # a bow tie crosses itself
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            "invalid_jurisdiction",
        ),
        ({"type": "Polygon", "coordinates": [[[200, 0], [1, 1], [1, 0], [200, 0]]]}, "invalid_jurisdiction"),
    ],
)
def test_a_bad_jurisdiction_is_refused_and_nothing_is_stored(
    client: TestClient, jurisdiction: dict[str, Any], code: str
) -> None:
    admin = _login(client, "admin")
    answer = client.post(
        "/api/admin/stations",
        json={"name": "坏", "district": "区", "jurisdiction": jurisdiction},
        headers=admin,
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == code
    assert client.get("/api/stations", headers=admin).json() == []


def test_units_are_edited_with_events_and_retired_off_every_list(client: TestClient) -> None:
    admin = _login(client, "admin")
    made = _setup(client, admin)
    unit_id = made["unit"]["id"]
    taken = client.post(
        "/api/units", json={"callsign": "NT01", "kind": "foot", "station_id": "nangang-test"}, headers=admin
    )
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "callsign_taken"
    bad_kind = client.post(
        "/api/units", json={"callsign": "NT02", "kind": "tank", "station_id": "nangang-test"}, headers=admin
    )
    assert bad_kind.status_code == 422 and bad_kind.json()["error"]["code"] == "invalid_unit_kind"
    edited = client.patch(
        f"/api/units/{unit_id}",
        json={"capabilities": ["traffic", "armed"], "radio_id": "R-2301", "version": made["unit"]["version"]},
        headers=admin,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["capabilities"] == ["armed", "traffic"] and edited.json()["radio_id"] == "R-2301"
    timeline = client.get(f"/api/units/{unit_id}/timeline", headers=admin).json()
    changed = [e for e in timeline if e["type"] == "unit.updated"]
    assert changed and changed[-1]["data"]["changes"]["capabilities"] == {
        "before": ["traffic"],
        "after": ["armed", "traffic"],
    }
    retired = client.post(f"/api/units/{unit_id}/retire", headers=admin)
    assert retired.status_code == 200 and retired.json()["retired_at"]
    assert unit_id not in {u["id"] for u in client.get("/api/units", headers=admin).json()}
    assert client.get("/api/stats/today", headers=admin).json()["units_total"] == 0  # nor in the figures


def test_only_admins_change_stations_and_commanders_run_only_their_own(
    client: TestClient, fresh: Services
) -> None:
    admin = _login(client, "admin")
    _setup(client, admin)
    east = client.post(
        "/api/admin/stations",
        json={"name": "东邻派出所", "district": "道外区", "jurisdiction": EAST_SQUARE, "id": "east"},
        headers=admin,
    )
    assert east.status_code == 201
    from jingwu.domain.access import Jurisdiction, Level

    fresh.auth.accounts.create_user(
        "nangang-commander", PASSWORD, Role.COMMANDER, jurisdiction=Jurisdiction(Level.DISTRICT, "南岗区")
    )
    fresh.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    commander = _login(client, "nangang-commander")
    dispatcher = _login(client, "dispatcher")
    station = {"name": "x", "district": "y", "jurisdiction": SQUARE}
    assert client.post("/api/admin/stations", json=station, headers=commander).status_code == 403
    unit = {"callsign": "NT09", "kind": "foot", "station_id": "nangang-test"}
    assert client.post("/api/units", json=unit, headers=dispatcher).status_code == 403
    assert client.post("/api/units", json=unit, headers=commander).status_code == 201
    elsewhere = client.post(
        "/api/units", json={**unit, "callsign": "E01", "station_id": "east"}, headers=commander
    )
    assert elsewhere.status_code == 403 and elsewhere.json()["error"]["code"] == "out_of_jurisdiction"


def test_a_commander_gives_only_roles_below_their_own(client: TestClient, fresh: Services) -> None:
    admin = _login(client, "admin")
    _setup(client, admin)
    from jingwu.domain.access import Jurisdiction, Level

    fresh.auth.accounts.create_user(
        "nangang-commander", PASSWORD, Role.COMMANDER, jurisdiction=Jurisdiction(Level.DISTRICT, "南岗区")
    )
    commander = _login(client, "nangang-commander")
    person = {"name": "钱测", "rank": "一级警员", "station_id": "nangang-test"}
    for role in ("admin", "commander"):
        made = client.post(
            "/api/personnel", json={**person, "police_number": "230500", "role": role}, headers=commander
        )
        assert made.status_code == 403 and made.json()["error"]["code"] == "role_not_grantable", made.text
    dispatcher = client.post(
        "/api/personnel", json={**person, "police_number": "230501", "role": "dispatcher"}, headers=commander
    )
    assert dispatcher.status_code == 201
    promote = client.patch("/api/personnel/230501", json={"role": "admin"}, headers=commander)
    assert promote.status_code == 403 and promote.json()["error"]["code"] == "role_not_grantable"
    # An admin of the station is out of the commander's hands, and the admin may do all of it.
    boss = client.post(
        "/api/personnel", json={**person, "police_number": "230502", "role": "admin"}, headers=admin
    )
    assert boss.status_code == 201
    for answer in (
        client.patch("/api/personnel/230502", json={"role": "officer"}, headers=commander),
        client.post("/api/personnel/230502/retire", headers=commander),
    ):
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "role_not_grantable"
    assert client.get("/api/personnel/230502", headers=admin).json()["role"] == "admin"


def test_an_unknown_role_is_refused_as_such_not_as_a_server_error(client: TestClient) -> None:
    admin = _login(client, "admin")
    _setup(client, admin)
    person = {"police_number": "230600", "name": "孙测", "rank": "一级警员", "station_id": "nangang-test"}
    for role in ("", "sheriff"):
        answer = client.post("/api/personnel", json={**person, "role": role}, headers=admin)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_role", answer.text
