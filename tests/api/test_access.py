"""Who may call what, and where, over HTTP and the live stream.

The requirement: every route declares what it needs, and a walk over every route in the OpenAPI
document proves that each refuses an anonymous caller (401) and a caller of the wrong role or
jurisdiction (403). The walks below read the operations from ``/openapi.json`` itself, never
from a hand-written list, so a new route is walked the day it is added.

The test city has its own stations (not tests.conftest's two), because jurisdictions need a
district with two stations and a stretch of road outside every station:

* 南岗区: ``nangang-west`` (units w1, w2, w3) and ``nangang-east`` (unit e1), the south bank up to
  longitude 126.70;
* 松北区: ``north`` (units n1, n2), the north bank;
* the south bank east of 126.70 belongs to no station: an incident there is the city's alone.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from jingwu.api import routers
from jingwu.api.deps import route_permission
from jingwu.api.factory import create_app
from jingwu.composition import Services
from jingwu.domain.access import Jurisdiction, Permission, Role, roles_with
from jingwu.domain.areas import Area
from jingwu.domain.devices import DeviceKind
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Station, station_containing
from jingwu.domain.status import SourceChannel
from jingwu.routing import RoadNetwork
from jingwu.service.community_devices import NewDevice
from jingwu.service.dispatching import NewIncident
from jingwu.store import repository as repo
from jingwu.store.db import make_engine, upgrade_schema, write_transaction
from tests.api.access_examples import (
    analytics,
    cameras,
    checks,
    disputes,
    records,
    self_service,
    warning_models,
)
from tests.conftest import NORTH, FakeClock, ServicesFactory, make_unit

PASSWORD = "correct-horse-battery-staple-9"
# Each capability's module in tests/api/access_examples adds its own examples and open routes.
EXAMPLES = (records, checks, disputes, self_service, analytics, warning_models, cameras)
OPEN = {("GET", "/healthz"), ("POST", "/api/auth/login")}.union(*(m.OPEN for m in EXAMPLES))
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# Only the leading bytes are checked (see tests/api/test_attachments.py).
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x01" * 200

# The river line of tests.conftest (45.765 at 126.50 to 45.785 at 126.80), cut at 126.62 and 126.70.
WEST = Station(
    "nangang-west",
    "南岗分局保健路派出所",
    "南岗区",
    Area.ring((126.50, 45.65), (126.62, 45.65), (126.62, 45.773), (126.50, 45.765)),
)
EAST = Station(
    "nangang-east",
    "南岗分局和兴路派出所",
    "南岗区",
    Area.ring((126.62, 45.65), (126.70, 45.65), (126.70, 45.778333), (126.62, 45.773)),
)
STATIONS = (WEST, EAST, NORTH)
UNIT_STATIONS = {"w1": WEST.id, "w2": WEST.id, "w3": WEST.id, "e1": EAST.id, "n1": NORTH.id, "n2": NORTH.id}
# The incidents every test starts with: where each lies (None: outside every station).
PLACES: dict[str, str | None] = {
    "west": WEST.id,
    "west2": WEST.id,
    "east": EAST.id,
    "north": NORTH.id,
    "outside": None,
}

DEVICE = "alarm-w2"  # a device account bound to unit w2
WEST_COLUMN = "col-west"  # a community alarm column (MQTT) in nangang-west
USERS: dict[str, tuple[Role, dict[str, Any]]] = {
    "admin": (Role.ADMIN, {}),
    "dispatcher": (Role.DISPATCHER, {}),  # no station: the city
    "west-dispatcher": (Role.DISPATCHER, {"station_id": WEST.id}),  # by default: station:nangang-west
    "north-dispatcher": (Role.DISPATCHER, {"jurisdiction": Jurisdiction.parse(f"station:{NORTH.id}")}),
    "commander": (Role.COMMANDER, {"jurisdiction": Jurisdiction.parse("district:南岗区")}),
    "w1": (Role.OFFICER, {"unit_id": "w1", "station_id": WEST.id}),
    "community": (Role.COMMUNITY_OFFICER, {"station_id": WEST.id}),
    "analyst": (Role.ANALYST, {}),
    "resident": (Role.RESIDENT, {}),
    "resident2": (Role.RESIDENT, {}),
}
# One caller of each role, for the role walk; a new role must be given one here.
ROLE_CALLER = {
    Role.ADMIN: "admin",
    Role.COMMANDER: "commander",
    Role.DISPATCHER: "west-dispatcher",
    Role.OFFICER: "w1",
    Role.COMMUNITY_OFFICER: "community",
    Role.ANALYST: "analyst",
    Role.RESIDENT: "resident",
    Role.DEVICE: DEVICE,
}


# ------------------------------------------------------------------------------- the city


@pytest.fixture(scope="module")
def road_points(network: RoadNetwork) -> dict[str | None, list[GeoPoint]]:
    """Six points on real roads in each station, and six outside every station (seeded)."""
    rng = np.random.default_rng(7)
    found: dict[str | None, list[GeoPoint]] = {s.id: [] for s in STATIONS} | {None: []}
    while any(len(points) < 6 for points in found.values()):
        p = network.random_road_point(rng)
        point = GeoPoint(p.lat, p.lon)
        station = station_containing(point, STATIONS)
        bucket = found[station.id if station else None]
        if len(bucket) < 6:
            bucket.append(point)
    return found


@dataclass
class City:
    app: FastAPI
    client: TestClient
    services: Services
    points: dict[str | None, list[GeoPoint]]
    incidents: dict[str, str]  # PLACES key → incident id
    attachment_id: str
    device_key: str
    _headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def headers(self, username: str) -> dict[str, str]:
        """The caller's bearer header: a device's key, or a person's token from a real log-in
        (once per test: the log-in rate limit allows 20 at once from one address)."""
        if username == DEVICE:
            return bearer(self.device_key)
        if username not in self._headers:
            answer = self.client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            self._headers[username] = bearer(answer.json()["access_token"])
        return self._headers[username]

    def token(self, username: str) -> str:
        return self.headers(username)["Authorization"].removeprefix("Bearer ")

    def location(self, station_id: str | None, index: int = 5) -> dict[str, float]:
        point = self.points[station_id][index]
        return {"lat": point.lat, "lon": point.lon}

    def create(self, username: str, station_id: str | None, **overrides: Any) -> httpx.Response:
        body = {
            "type_code": "crim.robbery",
            "priority": 1,
            "location": self.location(station_id),
            "source": "call_110",
        } | overrides
        return self.client.post("/api/incidents", json=body, headers=self.headers(username))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def city(
    make_services: ServicesFactory,
    migrated_database_url: str,
    road_points: dict[str | None, list[GeoPoint]],
) -> Iterator[City]:
    # The stations go in first: make_services adds tests.conftest's two only to an empty table.
    engine = make_engine(migrated_database_url)
    upgrade_schema(engine)
    with write_transaction(engine) as conn:
        for station in STATIONS:
            repo.insert_station(conn, station)
    engine.dispose()
    units = []
    for i, (unit_id, station_id) in enumerate(UNIT_STATIONS.items()):
        p = road_points[station_id][i % 3]
        units.append(make_unit(unit_id, p.lat, p.lon, station=station_id))
    services = make_services(units)  # on the test's FakeClock (``clock``)
    for username, (role, extra) in USERS.items():
        services.auth.accounts.create_user(username, PASSWORD, role, **extra)
    _, device_key = services.auth.accounts.create_device_account(DEVICE, unit_id="w2", station_id=WEST.id)
    column = NewDevice(WEST_COLUMN, DeviceKind.ALARM_COLUMN, "保健路社区", road_points[WEST.id][2])
    services.community_devices.register(column, actor="admin", source="test")
    incidents = {}
    for n, (place, station_id) in enumerate(PLACES.items()):
        point = road_points[station_id][3 + n % 2]
        incident = services.dispatch.create_incident(
            NewIncident("crim.robbery", point, SourceChannel.CALL_110, priority=1), actor="dispatcher"
        )
        assert incident.station_id == station_id, place
        incidents[place] = incident.id
    attachment = services.dispatch.add_attachment(incidents["west"], "image/png", PNG, actor="dispatcher")
    app = create_app(services)
    with TestClient(app) as client:
        yield City(app, client, services, road_points, incidents, attachment.id, device_key)


# ------------------------------------------------------------------- walking the document

Body = Callable[[City], Any]
# A valid body for every operation that takes one, so that each call in the walks is refused for
# who is calling and for nothing else. (FastAPI runs the dependencies, and with them the log-in
# and permission checks, before it validates the body; only a body that is not JSON at all is
# refused first: test_auth_and_role_are_checked_before_the_body_is_validated.)
BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/api/auth/totp/confirm"): lambda c: {"code": "123456"},
    ("POST", "/api/incidents"): lambda c: {
        "type_code": "crim.robbery",
        "priority": 1,
        "location": c.location(WEST.id),
        "source": "call_110",
    },
    ("POST", "/api/incidents/{incident_id}/dispatch"): lambda c: {"unit_ids": ["w3"]},
    ("POST", "/api/incidents/{incident_id}/backup"): lambda c: {"reason": "嫌疑人持刀"},
    ("POST", "/api/incidents/{incident_id}/close"): lambda c: {"disposition": "已处置"},
    ("POST", "/api/incidents/{incident_id}/merge"): lambda c: {"into": c.incidents["west2"]},
    ("POST", "/api/incidents/{incident_id}/notes"): lambda c: {"text": "现场已控制"},
    ("PATCH", "/api/incidents/{incident_id}"): lambda c: {"version": 1, "priority": 2},
    ("POST", "/api/incidents/{incident_id}/reopen"): lambda c: {"reason": "当事人再次报警"},
    ("POST", "/api/incidents/{incident_id}/attachments"): lambda c: PNG,
    ("POST", "/api/units/{unit_id}/status"): lambda c: {"status": "busy"},
    ("POST", "/api/units/positions"): lambda c: {"positions": [{"unit_id": "w1"} | c.location(WEST.id, 0)]},
    ("POST", "/api/units/positions/batch"): lambda c: {
        "positions": [{"unit_id": "w1"} | c.location(WEST.id, 0)]
    },
    # The OsmAnd protocol's JSON form without device_id: the key then comes as the bearer header.
    ("POST", "/api/osmand"): lambda c: {
        "location": {
            "coords": {"latitude": c.location(WEST.id, 0)["lat"], "longitude": c.location(WEST.id, 0)["lon"]}
        }
    },
    ("POST", "/api/people/incidents/search"): lambda c: {"phone": "13812345678", "reason": "重复报警核查"},
    ("PATCH", "/api/users/{username}"): lambda c: {"role": "analyst"},
    ("POST", "/api/users/{username}/password"): lambda c: {"password": "another-long-password-7"},
    ("POST", "/api/devices"): lambda c: {
        "id": "col-west-2",
        "kind": "alarm_column",
        "community": "保健路社区",
        "location": c.location(WEST.id, 1),
    },
    ("POST", "/api/admin/stations"): lambda c: {
        "name": "测试派出所",
        "district": "测试区",
        "jurisdiction": {
            "type": "Polygon",
            "coordinates": [[[0, 0], [0.1, 0], [0.1, 0.1], [0, 0.1], [0, 0]]],
        },
    },
    ("PATCH", "/api/admin/stations/{station_id}"): lambda c: {"address": "保健路1号"},
    ("POST", "/api/units"): lambda c: {"callsign": "W9", "kind": "foot", "station_id": WEST.id},
    ("PATCH", "/api/units/{unit_id}"): lambda c: {"radio_id": "R-0001"},
    ("POST", "/api/personnel"): lambda c: {
        "police_number": "230199",
        "name": "李明",
        "rank": "一级警员",
        "station_id": WEST.id,
    },
    ("PATCH", "/api/personnel/{person_id}"): lambda c: {"rank": "二级警司"},
    ("POST", "/api/shifts"): lambda c: {"station_id": WEST.id, "kind": "day", "day": "2026-12-07"},
}
for _module in EXAMPLES:
    BODIES |= _module.BODIES

# Administration's permissions and a case's filing: a station's dispatcher holds none of them, so
# the walk of records of another station leaves their routes out (tests/api/test_administration.py
# and tests/api/test_cases.py check their places with a commander).
ADMINISTRATION = {"station.admin", "fleet.admin", "personnel.admin", "roster.admin", "case.write"}

# A valid value for every required query parameter, by name.
QUERY = {
    "reason": "回拨报警人核实情况",
    "from": "2026-01-01",
    "to": "2026-12-31",
    "q": "红军街",  # the address search's text, and the point of a reverse look-up
    "lat": 45.75,
    "lon": 126.64,
}
for _module in EXAMPLES:
    QUERY |= _module.QUERY


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path


def operations(client: TestClient) -> list[Operation]:
    document = client.get("/openapi.json").json()
    found = [
        Operation(method.upper(), path, spec)
        for path, item in document["paths"].items()
        for method, spec in item.items()
        if method in HTTP_METHODS
    ]
    assert len(found) > 25  # the whole document, not an accidentally filtered sliver
    return found


def guarded(client: TestClient) -> list[Operation]:
    return [op for op in operations(client) if op.key not in OPEN]


def call(city: City, op: Operation, headers: dict[str, str]) -> httpx.Response:
    """Call ``op`` on records of nangang-west: the west incident, unit w1, the west photo, the
    account of w1's officer."""
    url = op.path.format(
        incident_id=city.incidents["west"],
        unit_id="w1",
        attachment_id=city.attachment_id,
        username="w1",
        device_id=WEST_COLUMN,
        station_id=WEST.id,
        person_id="per_none",
        shift_id="shf_none",
        **{k: v for m in EXAMPLES for k, v in m.PATH_IDS.items()},
    )
    params = {}
    for parameter in op.spec.get("parameters", []):
        if parameter["in"] == "query" and parameter.get("required"):
            assert parameter["name"] in QUERY, f"give {op.label}'s {parameter['name']} a value in QUERY"
            params[parameter["name"]] = QUERY[parameter["name"]]
    if "requestBody" not in op.spec:
        return city.client.request(op.method, url, params=params, headers=headers)
    assert op.key in BODIES, f"give {op.label} a valid body in BODIES"
    body = BODIES[op.key](city)
    if isinstance(body, bytes):
        return city.client.request(
            op.method, url, params=params, content=body, headers=headers | {"Content-Type": "image/png"}
        )
    return city.client.request(op.method, url, params=params, json=body, headers=headers)


def declared_permissions(app: FastAPI) -> dict[tuple[str, str], Permission | None]:
    """What each route's dependencies declare (``Needs``), read from the routes themselves: the
    app's own and those of every module in jingwu.api.routers."""
    routes = list(app.routes)
    for module in pkgutil.iter_modules(routers.__path__):
        loaded = importlib.import_module(f"{routers.__name__}.{module.name}")
        # A module may hold a second router for routes under another prefix (disputes by incident).
        for value in vars(loaded).values():
            if isinstance(value, APIRouter):
                routes += value.routes
    return {
        (method, route.path): route_permission(route.dependant)
        for route in routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }


def error_code(answer: httpx.Response) -> str:
    code: str = answer.json()["error"]["code"]
    return code


def refused(answer: httpx.Response, status: int, code: str) -> bool:
    return answer.status_code == status and error_code(answer) == code


# --------------------------------------------------------------- every route declares a need


def test_every_operation_but_health_and_login_declares_a_permission(city: City) -> None:
    declared = declared_permissions(city.app)
    ops = operations(city.client)
    missing = {op.label for op in ops if op.key not in declared}
    assert not missing, f"operations whose route was not found: {missing}"
    undeclared = {op.key for op in ops if declared[op.key] is None}
    assert undeclared == OPEN
    # Every operation with a body has a valid one in BODIES, and BODIES names no stale operation.
    assert set(BODIES) == {op.key for op in ops if "requestBody" in op.spec} - OPEN


def test_openapi_document_names_each_operations_permission_and_roles(city: City) -> None:
    declared = declared_permissions(city.app)
    ops = operations(city.client)
    assert {op.key for op in ops if "x-permission" not in op.spec} == OPEN
    for op in ops:
        if op.key in OPEN:
            continue
        permission = declared[op.key]
        assert permission is not None
        assert op.spec["x-permission"] == str(permission), op.label
        assert op.spec["x-roles"] == sorted(str(r) for r in roles_with(permission)), op.label


def test_every_operation_refuses_an_anonymous_caller_and_a_bad_token(
    city: City, subtests: pytest.Subtests
) -> None:
    for op in guarded(city.client):
        with subtests.test(msg=op.label):
            anonymous = call(city, op, {})
            assert refused(anonymous, 401, "no_token"), anonymous.text
            not_bearer = call(city, op, {"Authorization": "Basic YWRtaW46YWRtaW4="})
            assert refused(not_bearer, 401, "no_token"), not_bearer.text
            garbage = call(city, op, bearer("not-a-token-at-all"))
            assert refused(garbage, 401, "bad_token"), garbage.text
    # Nothing was changed by the refused calls: the west incident is as it was.
    west = city.client.get(f"/api/incidents/{city.incidents['west']}", headers=city.headers("dispatcher"))
    assert west.json()["status"] == "pending" and west.json()["version"] == 1


def test_every_operation_refuses_each_role_without_its_permission(
    city: City, subtests: pytest.Subtests
) -> None:
    assert set(ROLE_CALLER) == set(Role), "give every role a caller in ROLE_CALLER"
    declared = declared_permissions(city.app)
    refused_roles: set[Role] = set()
    for op in guarded(city.client):
        # The document's x-permission when it has one, else the route's own.
        permission = Permission(op.spec.get("x-permission") or declared[op.key])
        allowed = roles_with(permission)
        for role in sorted(set(Role) - allowed):
            with subtests.test(msg=f"{op.label} as {role}"):
                answer = call(city, op, city.headers(ROLE_CALLER[role]))
                assert refused(answer, 403, "role_forbidden"), answer.text
                params = answer.json()["error"]["params"]
                assert params["role"] == role and params["permission"] == permission
                assert params["allowed"] == sorted(str(r) for r in allowed)
                refused_roles.add(role)
    # Every role is refused somewhere, but the admin, who holds every permission.
    assert refused_roles == set(Role) - {Role.ADMIN}
    west = city.client.get(f"/api/incidents/{city.incidents['west']}", headers=city.headers("dispatcher"))
    assert west.json()["status"] == "pending" and west.json()["version"] == 1


def test_auth_and_role_are_checked_before_the_body_is_validated(city: City) -> None:
    invalid = {"type_code": 7, "colour": "red"}
    assert refused(city.client.post("/api/incidents", json=invalid), 401, "no_token")
    analyst = city.headers("analyst")
    dispatch = f"/api/incidents/{city.incidents['west']}/dispatch"
    assert refused(city.client.post(dispatch, json={"unit_ids": []}, headers=analyst), 403, "role_forbidden")
    assert refused(city.client.post(dispatch, headers=analyst), 403, "role_forbidden")  # no body at all
    # Only a body that is not JSON at all is refused before anything else.
    malformed = city.client.post("/api/incidents", content=b"{", headers={"Content-Type": "application/json"})
    assert refused(malformed, 422, "validation_failed")


# ------------------------------------------------------------------------ the wrong place


def record_operations(city: City) -> list[Operation]:
    """The operations on one incident, unit or photo, and the positions batches (which name units)."""
    return [
        op
        for op in guarded(city.client)
        if (
            any(f"{{{p}}}" in op.path for p in ("incident_id", "unit_id", "attachment_id"))
            or op.path in ("/api/units/positions", "/api/units/positions/batch")
        )
        and op.spec.get("x-permission") not in ADMINISTRATION
    ]


def test_every_record_operation_refuses_a_caller_of_another_station(
    city: City, subtests: pytest.Subtests
) -> None:
    # The north station's dispatcher holds every permission these operations need, so each
    # refusal below is about the place. Guard.own_incident and Guard.own_unit narrow only officers
    # and devices (not_own_incident / not_own_unit); for a dispatcher they come down to
    # Guard.incident and Guard.unit, so every operation answers out_of_jurisdiction.
    north = city.headers("north-dispatcher")
    ops = record_operations(city)
    assert len(ops) >= 15
    for op in ops:
        with subtests.test(msg=op.label):
            answer = call(city, op, north)
            assert refused(answer, 403, "out_of_jurisdiction"), answer.text
            assert answer.json()["error"]["params"]["jurisdiction"] == f"station:{NORTH.id}"
    # Nothing changed; and the west station's own dispatcher passes every one of these checks
    # (some answer 409 on the way, e.g. merging a closed incident, but none 401 or 403).
    west = city.client.get(f"/api/incidents/{city.incidents['west']}", headers=city.headers("dispatcher"))
    assert west.json()["status"] == "pending" and west.json()["version"] == 1
    for op in ops:
        with subtests.test(msg=f"{op.label} in reach"):
            answer = call(city, op, city.headers("west-dispatcher"))
            assert answer.status_code not in (401, 403), answer.text


def test_a_dispatcher_may_not_send_another_stations_unit_nor_merge_into_another_stations_incident(
    city: City,
) -> None:
    west = city.headers("west-dispatcher")
    own = city.incidents["west"]
    sent = city.client.post(f"/api/incidents/{own}/dispatch", json={"unit_ids": ["w3", "n1"]}, headers=west)
    assert refused(sent, 403, "out_of_jurisdiction") and sent.json()["error"]["params"]["unit_id"] == "n1"
    merged = city.client.post(
        f"/api/incidents/{own}/merge", json={"into": city.incidents["north"]}, headers=west
    )
    assert refused(merged, 403, "out_of_jurisdiction")
    placed = [{"unit_id": "w1"} | city.location(WEST.id, 0), {"unit_id": "n1"} | city.location(NORTH.id, 0)]
    moved = city.client.post("/api/units/positions", json={"positions": placed}, headers=west)
    assert refused(moved, 403, "out_of_jurisdiction")
    # Nothing of the refused commands happened.
    assert city.client.get("/api/units/w3", headers=west).json()["status"] == "available"
    assert city.client.get(f"/api/incidents/{own}", headers=west).json()["status"] == "pending"


def test_a_district_commander_reaches_every_station_of_the_district_and_no_other(city: City) -> None:
    commander = city.headers("commander")
    for place in ("west", "east"):
        assert (
            city.client.get(f"/api/incidents/{city.incidents[place]}", headers=commander).status_code == 200
        )
    for place in ("north", "outside"):
        answer = city.client.get(f"/api/incidents/{city.incidents[place]}", headers=commander)
        assert refused(answer, 403, "out_of_jurisdiction")
    assert city.client.get("/api/units/e1", headers=commander).status_code == 200
    assert refused(city.client.get("/api/units/n1", headers=commander), 403, "out_of_jurisdiction")


def test_an_officer_acts_only_for_their_own_unit(city: City) -> None:
    officer = city.headers("w1")
    # w3 is of the officer's own station: readable, but not theirs to act for.
    assert city.client.get("/api/units/w3", headers=officer).status_code == 200
    status = city.client.post("/api/units/w3/status", json={"status": "busy"}, headers=officer)
    assert refused(status, 403, "not_own_unit")
    assert refused(city.client.get("/api/units/w3/route", headers=officer), 403, "not_own_unit")
    batch = [{"unit_id": "w1"} | city.location(WEST.id, 0), {"unit_id": "w3"} | city.location(WEST.id, 2)]
    moved = city.client.post("/api/units/positions", json={"positions": batch}, headers=officer)
    assert refused(moved, 403, "not_own_unit") and moved.json()["error"]["params"]["unit_id"] == "w3"
    own = city.client.post("/api/units/w1/status", json={"status": "busy"}, headers=officer)
    assert own.status_code == 200, own.text


def test_an_officer_acts_only_on_the_incident_their_unit_is_on(city: City) -> None:
    officer = city.headers("w1")
    west = city.incidents["west"]
    # The station's queue is readable ...
    assert city.client.get(f"/api/incidents/{west}", headers=officer).status_code == 200
    # ... but notes, backup and photos only on their own call (not_own_incident).
    for answer in (
        city.client.post(f"/api/incidents/{west}/notes", json={"text": "到了"}, headers=officer),
        city.client.post(f"/api/incidents/{west}/backup", json={}, headers=officer),
        city.client.get(f"/api/incidents/{west}/attachments", headers=officer),
        city.client.get(f"/api/attachments/{city.attachment_id}", headers=officer),
        city.client.post(
            f"/api/incidents/{west}/attachments", content=PNG, headers=officer | {"Content-Type": "image/png"}
        ),
    ):
        assert refused(answer, 403, "not_own_incident"), answer.text
    dispatched = city.client.post(
        f"/api/incidents/{west}/dispatch", json={"unit_ids": ["w1"]}, headers=city.headers("dispatcher")
    )
    assert dispatched.status_code == 200, dispatched.text
    assert city.client.get(f"/api/attachments/{city.attachment_id}", headers=officer).content == PNG
    noted = city.client.post(f"/api/incidents/{west}/notes", json={"text": "到了"}, headers=officer)
    assert noted.status_code == 204


def test_an_officer_sent_across_the_boundary_sees_and_works_that_call(city: City) -> None:
    officer = city.headers("w1")
    east = city.incidents["east"]
    assert refused(city.client.get(f"/api/incidents/{east}", headers=officer), 403, "out_of_jurisdiction")
    dispatched = city.client.post(
        f"/api/incidents/{east}/dispatch", json={"unit_ids": ["w1"]}, headers=city.headers("dispatcher")
    )
    assert dispatched.status_code == 200, dispatched.text
    assert city.client.get(f"/api/incidents/{east}", headers=officer).status_code == 200
    noted = city.client.post(f"/api/incidents/{east}/notes", json={"text": "已到场"}, headers=officer)
    assert noted.status_code == 204, noted.text
    # Only that call: the rest of the east station stays out of reach.
    assert refused(city.client.get("/api/units/e1", headers=officer), 403, "out_of_jurisdiction")


# ------------------------------------------------------------------------------------ lists


def listed(city: City, path: str, username: str) -> set[str]:
    answer = city.client.get(path, headers=city.headers(username))
    assert answer.status_code == 200, answer.text
    return {record["id"] for record in answer.json()}


def test_lists_are_cut_to_the_callers_jurisdiction(city: City) -> None:
    ids = city.incidents
    # A station: its own incidents and units.
    assert listed(city, "/api/incidents", "west-dispatcher") == {ids["west"], ids["west2"]}
    assert listed(city, "/api/units", "west-dispatcher") == {"w1", "w2", "w3"}
    assert listed(city, "/api/incidents", "north-dispatcher") == {ids["north"]}
    assert listed(city, "/api/units", "north-dispatcher") == {"n1", "n2"}
    # A district: every station of it, nothing outside it.
    assert listed(city, "/api/incidents", "commander") == {ids["west"], ids["west2"], ids["east"]}
    assert listed(city, "/api/units", "commander") == {"w1", "w2", "w3", "e1"}
    # The city: everything, the incident outside every station included.
    assert listed(city, "/api/incidents", "dispatcher") == set(ids.values())
    assert listed(city, "/api/units", "dispatcher") == set(UNIT_STATIONS)
    assert listed(city, "/api/incidents", "analyst") == set(ids.values())
    # The day's figures too.
    stats = {u: city.client.get("/api/stats/today", headers=city.headers(u)).json() for u in USERS}
    assert stats["west-dispatcher"]["units_total"] == 3 and stats["west-dispatcher"]["open_incidents"] == 2
    assert stats["commander"]["units_total"] == 4 and stats["commander"]["open_incidents"] == 3
    assert stats["dispatcher"]["units_total"] == 6 and stats["dispatcher"]["open_incidents"] == 5


def test_recommendations_offer_only_units_the_caller_may_send(city: City) -> None:
    west = city.incidents["west"]
    path = f"/api/incidents/{west}/recommendations?limit=10"
    assert listed_units(city, path, "west-dispatcher") == {"w1", "w2", "w3"}
    assert listed_units(city, path, "commander") == {"w1", "w2", "w3", "e1"}
    assert listed_units(city, path, "dispatcher") == set(UNIT_STATIONS)


def listed_units(city: City, path: str, username: str) -> set[str]:
    answer = city.client.get(path, headers=city.headers(username))
    assert answer.status_code == 200, answer.text
    return {r["unit_id"] for r in answer.json()}


def test_duplicates_list_only_incidents_in_reach(city: City) -> None:
    # Two reports of one robbery at one spot: the station that holds it sees the pair; another
    # station may not even ask.
    first = city.create("dispatcher", WEST.id, address="西大直街").json()["id"]
    second = city.create("dispatcher", WEST.id, address="西大直街 重复").json()["id"]
    west_view = city.client.get(
        f"/api/incidents/{second}/duplicates", headers=city.headers("west-dispatcher")
    )
    assert first in {i["id"] for i in west_view.json()}
    north_view = city.client.get(
        f"/api/incidents/{second}/duplicates", headers=city.headers("north-dispatcher")
    )
    assert refused(north_view, 403, "out_of_jurisdiction")


# --------------------------------------------------------------------------------- residents


def test_a_resident_reports_through_the_app_whatever_the_body_says(city: City) -> None:
    created = city.create("resident", WEST.id, source="call_110", description="有人砸车")
    assert created.status_code == 201, created.text
    incident = created.json()
    assert incident["source"] == "app" and incident["created_by"] == "resident"
    stored = city.client.get(f"/api/incidents/{incident['id']}", headers=city.headers("dispatcher")).json()
    assert stored["source"] == "app"


def test_a_resident_sees_only_their_own_reports(city: City) -> None:
    mine = city.create("resident", WEST.id).json()["id"]
    theirs = city.create("resident2", WEST.id).json()["id"]
    assert listed(city, "/api/incidents", "resident") == {mine}
    assert listed(city, "/api/incidents", "resident2") == {theirs}
    resident = city.headers("resident")
    assert city.client.get(f"/api/incidents/{mine}", headers=resident).status_code == 200
    assert city.client.get(f"/api/incidents/{mine}/timeline", headers=resident).status_code == 200
    for other in (theirs, city.incidents["west"], city.incidents["outside"]):
        for suffix in ("", "/timeline", "/duplicates"):
            answer = city.client.get(f"/api/incidents/{other}{suffix}", headers=resident)
            assert refused(answer, 403, "out_of_jurisdiction"), (other, suffix, answer.text)
    # The station that holds the place sees the resident's report like any other.
    assert mine in listed(city, "/api/incidents", "west-dispatcher")


# ---------------------------------------------------------------------------------- analysts


def test_an_analyst_reads_incidents_and_figures_but_does_not_command(city: City) -> None:
    analyst = city.headers("analyst")
    west = city.incidents["west"]
    assert city.client.get("/api/incidents", headers=analyst).status_code == 200
    assert city.client.get(f"/api/incidents/{west}/timeline", headers=analyst).status_code == 200
    assert city.client.get("/api/stats/today", headers=analyst).status_code == 200
    for answer in (
        city.client.post(f"/api/incidents/{west}/dispatch", json={"unit_ids": ["w3"]}, headers=analyst),
        city.client.get(f"/api/incidents/{west}/recommendations", headers=analyst),
        city.client.post(f"/api/incidents/{west}/close", json={}, headers=analyst),
        city.create("analyst", WEST.id),
    ):
        assert refused(answer, 403, "role_forbidden"), answer.text
    # The live stream: whatever ROLE_PERMISSIONS grants analysts (see the live-stream walk below).


# ----------------------------------------------------------------------------------- devices


def test_a_device_key_authenticates_and_reports_only_through_a_device_channel(city: City) -> None:
    for source in ("alarm_device", "sensor"):
        created = city.create(DEVICE, WEST.id, source=source)
        assert created.status_code == 201, created.text
        assert created.json()["source"] == source and created.json()["created_by"] == DEVICE
    for source in ("call_110", "app", "walk_in", "officer"):
        answer = city.create(DEVICE, WEST.id, source=source)
        assert refused(answer, 403, "device_channel_forbidden"), answer.text
        assert answer.json()["error"]["params"]["source"] == source


def test_a_device_posts_positions_only_for_its_bound_unit(city: City) -> None:
    device = city.headers(DEVICE)
    own = city.client.post(
        "/api/units/positions",
        json={"positions": [{"unit_id": "w2"} | city.location(WEST.id, 1)]},
        headers=device,
    )
    assert own.status_code == 204, own.text
    for unit_id in ("w1", "n1"):
        other = city.client.post(
            "/api/units/positions",
            json={"positions": [{"unit_id": unit_id} | city.location(WEST.id, 0)]},
            headers=device,
        )
        assert refused(other, 403, "not_own_unit"), other.text


def test_a_device_key_never_idles_out_and_rotation_ends_the_old_key(city: City, clock: FakeClock) -> None:
    person = city.headers("west-dispatcher")
    old_key = city.device_key
    position = {"positions": [{"unit_id": "w2"} | city.location(WEST.id, 1)]}
    clock.advance(city.services.settings.idle_timeout_s + 60)
    assert refused(city.client.get("/api/auth/me", headers=person), 401, "session_idle")
    clock.advance(90 * 24 * 3600)  # a quiet quarter of a year
    assert city.client.post("/api/units/positions", json=position, headers=bearer(old_key)).status_code == 204
    new_key = city.services.auth.accounts.issue_device_key(DEVICE, actor="admin")
    assert new_key != old_key
    stale = city.client.post("/api/units/positions", json=position, headers=bearer(old_key))
    assert refused(stale, 401, "bad_token")
    assert city.client.post("/api/units/positions", json=position, headers=bearer(new_key)).status_code == 204


def test_a_device_cannot_log_in_with_a_password(city: City) -> None:
    answer = city.client.post("/api/auth/login", json={"username": DEVICE, "password": PASSWORD})
    assert refused(answer, 401, "bad_credentials")


# ------------------------------------------------------------------------------ live stream


def live_refusal(city: City, token: str) -> int:
    """The close code the live stream answers this token with (it must close at once)."""
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        city.client.websocket_connect(f"/api/events?access_token={token}") as ws,
    ):
        ws.receive_json()
    return closed.value.code


def test_the_live_stream_refuses_anonymous_callers_and_roles_without_it(city: City) -> None:
    assert live_refusal(city, "") == 4401
    assert live_refusal(city, "not-a-token-at-all") == 4401
    allowed = roles_with(Permission.LIVE_READ)
    assert {Role.RESIDENT, Role.DEVICE}.isdisjoint(allowed)
    for role in sorted(set(Role) - allowed):
        assert live_refusal(city, city.token(ROLE_CALLER[role])) == 4403, role
    refusals = [r for r in city.services.audit.page(limit=500) if r.action == "access.refused"]
    assert {r.actor for r in refusals if r.target == "WS /api/events"} == {
        ROLE_CALLER[role] for role in set(Role) - allowed
    }
    for role in sorted(allowed):
        with city.client.websocket_connect(f"/api/events?access_token={city.token(ROLE_CALLER[role])}") as ws:
            assert ws.receive_json()["type"] == "hello", role


def next_event(ws: Any) -> dict[str, Any]:
    """The next message that is not a position batch (none are sent here: no simulator runs)."""
    while (message := ws.receive_json())["type"] == "unit.positions":
        pass
    event: dict[str, Any] = message
    return event


def test_a_station_dispatchers_live_stream_carries_only_their_stations_incidents(city: City) -> None:
    # Bounded: the other station's incident is created first; had it been let through, it would
    # be the first event to arrive, before the station's own.
    with city.client.websocket_connect(f"/api/events?access_token={city.token('west-dispatcher')}") as ws:
        assert ws.receive_json()["type"] == "hello"
        north = city.create("dispatcher", NORTH.id).json()["id"]
        outside = city.create("dispatcher", None).json()["id"]
        east = city.create("dispatcher", EAST.id).json()["id"]
        west = city.create("dispatcher", WEST.id).json()["id"]
        first = next_event(ws)
        assert (first["type"], first["incident_id"]) == ("incident.created", west)
    # The district's commander gets both of its stations' incidents, and still not the others.
    with city.client.websocket_connect(f"/api/events?access_token={city.token('commander')}") as ws:
        assert ws.receive_json()["type"] == "hello"
        city.create("dispatcher", NORTH.id)
        east2 = city.create("dispatcher", EAST.id).json()["id"]
        west2 = city.create("dispatcher", WEST.id).json()["id"]
        assert [next_event(ws)["incident_id"] for _ in range(2)] == [east2, west2]
    # The city sees all of them, the one outside every station included.
    with city.client.websocket_connect(f"/api/events?access_token={city.token('dispatcher')}&after=0") as ws:
        assert ws.receive_json()["type"] == "hello"
        seen = []
        while (event := next_event(ws))["incident_id"] != west2:
            seen.append(event["incident_id"])
    assert {north, outside, east, west, east2} <= set(seen)


def test_a_station_dispatchers_replay_is_cut_like_the_live_feed(city: City) -> None:
    in_reach = {city.incidents["west"], city.incidents["west2"]}
    with city.client.websocket_connect(
        f"/api/events?access_token={city.token('west-dispatcher')}&after=0"
    ) as ws:
        assert ws.receive_json()["type"] == "hello"
        # The replay comes first; then a sentinel bounds the wait.
        sentinel = city.create("dispatcher", WEST.id).json()["id"]
        seen = []
        while (event := next_event(ws))["incident_id"] != sentinel:
            seen.append((event["type"], event["incident_id"]))
    assert {incident for _, incident in seen} == in_reach
    # The photo added to the west incident is part of what the station sees.
    assert ("incident.attachment_added", city.incidents["west"]) in seen


def test_an_officer_sent_across_the_boundary_hears_their_calls_events_live(city: City) -> None:
    east = city.incidents["east"]
    dispatcher = city.headers("dispatcher")
    sent = city.client.post(f"/api/incidents/{east}/dispatch", json={"unit_ids": ["w1"]}, headers=dispatcher)
    assert sent.status_code == 200, sent.text
    with city.client.websocket_connect(f"/api/events?access_token={city.token('w1')}") as ws:
        assert ws.receive_json()["type"] == "hello"
        note = city.client.post(
            f"/api/incidents/{east}/notes", json={"text": "嫌疑人向北逃跑"}, headers=dispatcher
        )
        assert note.status_code == 204
        # A sentinel the officer receives in any case (their own station's incident): bounds the wait.
        sentinel = city.create("dispatcher", WEST.id).json()["id"]
        event = next_event(ws)
        assert event["incident_id"] != sentinel, "the note on the officer's own call never arrived"
        assert (event["type"], event["incident_id"]) == ("incident.note_added", east)
