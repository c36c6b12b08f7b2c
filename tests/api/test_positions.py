"""The JSON position routes over the real app: the batch with per-fix verdicts, the terminal's
original route (204, compatible), and a unit's track as GeoJSON."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jingwu.api.factory import create_app
from jingwu.composition import Services
from tests.api.conftest import login
from tests.conftest import FakeClock

T0 = datetime(2026, 11, 25, 8, 10, tzinfo=UTC)  # the clock, once the fixtures have moved it


@pytest.fixture
def city(clocked_services: Services, clock: FakeClock) -> Services:
    clock.advance(600)  # the units were last seen at 08:00
    return clocked_services


@pytest.fixture
def client(city: Services) -> Iterator[TestClient]:
    with TestClient(create_app(city)) as test_client:
        yield test_client


@pytest.fixture
def gateway(city: Services) -> dict[str, str]:
    _, key = city.auth.accounts.create_device_account("avl-u1", unit_id="u1", station_id="south")
    return {"Authorization": f"Bearer {key}"}


def fix(seconds: float, lat: float = 45.7562, lon: float = 126.6419, **extra: Any) -> dict[str, Any]:
    return {
        "unit_id": "u1",
        "lat": lat,
        "lon": lon,
        "ts": (T0 + timedelta(seconds=seconds)).isoformat(),
    } | extra


def unit_position(client: TestClient, unit_id: str = "u1") -> dict[str, Any] | None:
    position: dict[str, Any] | None = client.get(
        f"/api/units/{unit_id}", headers=login(client, "dispatcher")
    ).json()["position"]
    return position


# ----------------------------------------------------------------------------- the batch


def test_the_batch_answers_each_fixs_verdict_and_stores_the_good_ones(
    client: TestClient, gateway: dict[str, str]
) -> None:
    body = {
        "positions": [
            fix(-30, accuracy=5.0, speed=10.0, heading=90.0, altitude=150.0, battery=80.0),
            fix(-20, lon=126.6431, accuracy=5.0),  # 93 m in 10 s
            fix(-15, lat=46.5, accuracy=5.0),  # 83 km in 5 s: a glitch
            fix(-10, lat=float("nan")),  # what a broken gateway sends as 'no fix'
            fix(-40, lon=126.6412, accuracy=5.0),  # older: judged first (a batch is judged in time order)
            fix(-5, accuracy=3500.0),  # a cell-tower guess
            fix(600),  # ten minutes ahead
        ]
    }
    # NaN is not JSON; a gateway written in Python sends it anyway (json.dumps allows it).
    import json

    answer = client.post(
        "/api/units/positions/batch",
        content=json.dumps(body).encode(),
        headers=gateway | {"Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "accepted": 3,
        "rejected": [
            {"index": 2, "unit_id": "u1", "reason": "impossible_jump"},
            {"index": 3, "unit_id": "u1", "reason": "invalid_coordinates"},
            {"index": 5, "unit_id": "u1", "reason": "inaccurate"},
            {"index": 6, "unit_id": "u1", "reason": "future"},
        ],
        "flagged": [],
    }
    position = unit_position(client)
    assert position is not None and (position["lat"], position["lon"]) == (45.7562, 126.6431)
    # A fix older than the unit's position, sent later (a buffered upload): into the track only.
    late = client.post(
        "/api/units/positions/batch", json={"positions": [fix(-35, lon=126.6415)]}, headers=gateway
    )
    assert late.json() == {
        "accepted": 1,
        "rejected": [],
        "flagged": [{"index": 0, "unit_id": "u1", "reason": "late"}],
    }
    assert unit_position(client) == position


def test_the_batch_is_idempotent_with_a_key(client: TestClient, gateway: dict[str, str]) -> None:
    body = {"positions": [fix(-30), fix(-20, lat=46.5)]}
    headers = gateway | {"Idempotency-Key": "gw-batch-1"}
    first = client.post("/api/units/positions/batch", json=body, headers=headers)
    again = client.post("/api/units/positions/batch", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json() and first.json()["accepted"] == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"positions": [{"unit_id": "u1", "lat": 45.7', "not valid JSON"),
        (b'{"positions": [{"unit_id": "u1", "lat": "north", "lon": 126.64}]}', "positions.lat"),
        (b'{"positions": [{"unit_id": "u1", "lat": 45.7, "lon": 126.64, "colour": 1}]}', "positions.colour"),
        (b'{"positions": []}', "positions"),
        (b"", "not valid JSON"),
    ],
)
def test_a_malformed_batch_is_422_naming_the_fault_and_stores_nothing(
    client: TestClient, gateway: dict[str, str], body: bytes, message: str
) -> None:
    before = unit_position(client)
    answer = client.post(
        "/api/units/positions/batch", content=body, headers=gateway | {"Content-Type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_failed" and message in error["message"]
    assert error["params"]["errors"][0]["loc"][0] == "body"
    assert unit_position(client) == before


def test_the_openapi_document_describes_the_batch_body(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/units/positions/batch"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    fix_schema = schema["properties"]["positions"]["items"]
    assert {"unit_id", "lat", "lon", "ts", "accuracy", "valid"} <= set(fix_schema["properties"])
    assert set(fix_schema["required"]) == {"unit_id", "lat", "lon"}
    assert "$ref" not in str(schema)  # written in place: the document has no such component


def test_a_device_may_report_only_its_own_unit_and_an_unknown_unit_refuses_the_batch(
    client: TestClient, gateway: dict[str, str]
) -> None:
    other = client.post(
        "/api/units/positions/batch", json={"positions": [fix(0) | {"unit_id": "u2"}]}, headers=gateway
    )
    assert other.status_code == 403 and other.json()["error"]["code"] == "not_own_unit"
    dispatcher = login(client, "dispatcher")
    ghost = client.post(
        "/api/units/positions/batch", json={"positions": [fix(0) | {"unit_id": "ghost"}]}, headers=dispatcher
    )
    assert ghost.status_code == 404 and ghost.json()["error"]["code"] == "unit_not_found"


def test_a_station_dispatcher_reports_only_for_the_stations_units(client: TestClient, city: Services) -> None:
    from jingwu.domain.access import Jurisdiction, Role

    for name, station in (("south-dispatcher", "south"), ("north-dispatcher", "north")):
        city.auth.accounts.create_user(
            name,
            "correct-horse-battery",
            Role.DISPATCHER,
            jurisdiction=Jurisdiction.parse(f"station:{station}"),
        )
    before = unit_position(client)
    body = {"positions": [fix(0) | {"unit_id": "u2"}, fix(0)]}
    north = client.post("/api/units/positions/batch", json=body, headers=login(client, "north-dispatcher"))
    error = north.json()["error"]
    assert north.status_code == 403 and error["code"] == "out_of_jurisdiction"
    assert "u1" in str(error)  # the first in id order decides, as one by one would
    assert unit_position(client) == before  # nothing of the batch was stored
    south = login(client, "south-dispatcher")
    ghost = client.post(
        "/api/units/positions/batch",
        json={"positions": [fix(0), fix(0) | {"unit_id": "ghost"}]},
        headers=south,
    )
    assert ghost.status_code == 404 and ghost.json()["error"]["code"] == "unit_not_found"
    assert client.post("/api/units/positions/batch", json=body, headers=south).json()["accepted"] == 2
    assert unit_position(client) != before


def test_a_dispatcher_places_a_unit_by_hand_without_the_jump_check(client: TestClient) -> None:
    dispatcher = login(client, "dispatcher")
    answer = client.post(
        "/api/units/positions/batch", json={"positions": [fix(0, lat=45.80)]}, headers=dispatcher
    )
    assert answer.json() == {"accepted": 1, "rejected": [], "flagged": []}


# ----------------------------------------------------------- the terminal's original route


def test_the_original_route_still_answers_204_and_keeps_a_rejected_fix_off_the_map(
    client: TestClient, city: Services
) -> None:
    officer = login(client, "u0")
    base = {"unit_id": "u0", "lat": 45.7562, "lon": 126.6419}
    ok = client.post(
        "/api/units/positions",
        json={
            "positions": [
                base | {"ts": (T0 - timedelta(seconds=10)).isoformat(), "accuracy": 8.0, "battery": 60.0}
            ]
        },
        headers=officer,
    )
    assert ok.status_code == 204
    moved = unit_position(client, "u0")
    assert moved is not None and moved["lat"] == 45.7562
    glitch = base | {"lat": 46.4, "ts": (T0 + timedelta(seconds=5)).isoformat()}
    assert (
        client.post("/api/units/positions", json={"positions": [glitch]}, headers=officer).status_code == 204
    )
    assert unit_position(client, "u0") == moved
    # Still 422 future_position for a clock ahead: the terminal then stops sending its time.
    ahead = base | {"ts": (T0 + timedelta(minutes=5)).isoformat()}
    refused = client.post("/api/units/positions", json={"positions": [ahead]}, headers=officer)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "future_position"
    # Without a time, the server's.
    assert (
        client.post(
            "/api/units/positions", json={"positions": [base | {"lon": 126.6425}]}, headers=officer
        ).status_code
        == 204
    )
    latest = unit_position(client, "u0")
    assert latest is not None and latest["lon"] == 126.6425 and latest["ts"] == T0.isoformat()


@pytest.mark.parametrize("route", ["/api/units/positions/batch", "/api/units/positions"])
def test_a_fix_time_without_a_zone_is_422_naive_time_and_stores_nothing(
    client: TestClient, gateway: dict[str, str], route: str
) -> None:
    """The one rule for times in JSON (docs/api.md): a time must carry its zone. 08:05 without
    one is 00:05 UTC to a person in Harbin and 08:05 UTC to a gateway on UTC: neither is guessed."""
    before = unit_position(client)
    good = fix(-5)
    naive = fix(-3) | {"ts": (T0 - timedelta(seconds=3)).replace(tzinfo=None).isoformat()}
    answer = client.post(route, json={"positions": [good, naive]}, headers=gateway)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "naive_time"
    assert unit_position(client) == before


# ----------------------------------------------------------------------------- the track


def test_the_track_is_geojson_with_times_and_the_rejected_fixes_on_request(
    client: TestClient, gateway: dict[str, str]
) -> None:
    body = {
        "positions": [fix(-30 + 10 * i, lon=126.6419 + 0.0005 * i, accuracy=5.0, speed=6.0) for i in range(3)]
        + [fix(-25, lat=46.5, accuracy=5.0)]
    }
    assert client.post("/api/units/positions/batch", json=body, headers=gateway).status_code == 200
    dispatcher = login(client, "dispatcher")
    params = {"from": (T0 - timedelta(hours=1)).isoformat(), "to": (T0 + timedelta(hours=1)).isoformat()}
    track = client.get("/api/units/u1/track", params=params, headers=dispatcher)
    assert track.status_code == 200, track.text
    document = track.json()
    assert document["type"] == "FeatureCollection"
    assert (document["unit_id"], document["count"], document["truncated"], document["next_from"]) == (
        "u1",
        3,
        False,
        None,
    )
    (line,) = document["features"]
    assert line["geometry"] == {
        "type": "LineString",
        "coordinates": [[126.6419, 45.7562], [126.6424, 45.7562], [126.6429, 45.7562]],
    }
    assert line["properties"]["times"] == [
        (T0 + timedelta(seconds=-30 + 10 * i)).isoformat() for i in range(3)
    ]
    assert line["properties"]["speeds"] == [6.0] * 3 and line["properties"]["accuracies"] == [5.0] * 3
    with_rejected = client.get(
        "/api/units/u1/track", params=params | {"include_rejected": "true"}, headers=dispatcher
    )
    rejected = with_rejected.json()["features"][1]
    assert rejected["geometry"] == {"type": "Point", "coordinates": [126.6419, 46.5]}
    assert rejected["properties"]["reason"] == "impossible_jump"
    # Paging: two points at a time, read on from next_from.
    first = client.get("/api/units/u1/track", params=params | {"limit": 2}, headers=dispatcher).json()
    assert first["truncated"] and first["count"] == 2
    rest = client.get(
        "/api/units/u1/track", params=params | {"from": first["next_from"]}, headers=dispatcher
    ).json()
    assert rest["count"] == 1 and rest["features"][0]["geometry"]["type"] == "Point"


def test_an_empty_track_has_no_geometry(client: TestClient) -> None:
    params = {"from": "2026-11-25T00:00:00Z", "to": "2026-11-25T06:00:00Z"}
    answer = client.get("/api/units/u2/track", params=params, headers=login(client, "dispatcher"))
    assert answer.status_code == 200
    assert answer.json()["features"][0]["geometry"] is None and answer.json()["count"] == 0


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        ("2026-11-25T08:00:00Z", "2026-11-26T08:00:01Z", "bad_track_range"),
        ("2026-11-25T09:00:00Z", "2026-11-25T08:00:00Z", "bad_track_range"),
        ("2026-11-25T08:00:00", "2026-11-25T09:00:00Z", "naive_time"),
        ("2026-11-25T08:00:00Z", "2026-11-25T09:00:00", "naive_time"),
    ],
)
def test_a_track_range_over_a_day_reversed_or_without_a_zone_is_422(
    client: TestClient, start: str, end: str, code: str
) -> None:
    answer = client.get(
        "/api/units/u1/track", params={"from": start, "to": end}, headers=login(client, "dispatcher")
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == code


def test_a_track_outside_the_callers_jurisdiction_is_refused(client: TestClient, city: Services) -> None:
    from jingwu.domain.access import Jurisdiction, Role

    city.auth.accounts.create_user(
        "north-dispatcher",
        "correct-horse-battery",
        Role.DISPATCHER,
        jurisdiction=Jurisdiction.parse("station:north"),
    )
    params = {"from": "2026-11-25T07:00:00Z", "to": "2026-11-25T09:00:00Z"}
    answer = client.get("/api/units/u1/track", params=params, headers=login(client, "north-dispatcher"))
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "out_of_jurisdiction"
