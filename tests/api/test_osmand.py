"""``/api/osmand`` with requests recorded in the formats the real apps send (Traccar Client for
Android and iOS, its newer JSON-posting versions, the OsmAnd app), over the real app: who may
report, what is answered, and what is stored.

The requests are written as the apps send them, with the device key where the app puts the
device identifier. The test city runs on the FakeClock (2026-11-25 08:00 UTC, then 10 minutes
on), so the recorded times are literal: 1795594190 is 08:09:50 UTC.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jingwu.api.factory import create_app
from jingwu.composition import Services
from jingwu.store import tables as t
from jingwu.store.db import read_transaction
from tests.api.conftest import login
from tests.conftest import FakeClock

FIX_TIME = datetime(2026, 11, 25, 8, 9, 50, tzinfo=UTC)  # 1795594190


@pytest.fixture
def city(clocked_services: Services, clock: FakeClock) -> Services:
    clock.advance(600)  # 08:10; the units were last seen at 08:00
    return clocked_services


@pytest.fixture
def client(city: Services) -> Iterator[TestClient]:
    with TestClient(create_app(city)) as test_client:
        yield test_client


@pytest.fixture
def key(city: Services) -> str:
    """The key of a device account bound to unit u1: the app's device identifier."""
    _, device_key = city.auth.accounts.create_device_account("phone-u1", unit_id="u1", station_id="south")
    return device_key


def unit_position(client: TestClient, unit_id: str = "u1") -> dict[str, Any] | None:
    headers = login(client, "dispatcher")
    position: dict[str, Any] | None = client.get(f"/api/units/{unit_id}", headers=headers).json()["position"]
    return position


def history(city: Services, unit_id: str = "u1") -> list[Any]:
    p = t.positions.c
    with read_transaction(city.engine) as conn:
        return list(conn.execute(select(p).where(p.unit_id == unit_id).order_by(p.ts)))


def send(client: TestClient, line: str, **kwargs: Any) -> httpx.Response:
    """Send a recorded request line ('METHOD TARGET')."""
    method, target = line.split(" ", 1)
    return client.request(method, target, **kwargs)


def error_code(answer: httpx.Response) -> str:
    code: str = answer.json()["error"]["code"]
    return code


# --------------------------------------------------------------------- the recorded requests


def test_traccar_client_android_posts_the_query_with_an_empty_body(
    client: TestClient, city: Services, key: str
) -> None:
    line = (
        f"POST /api/osmand?id={key}&timestamp=1795594190&lat=45.7562183&lon=126.6418833&speed=23.3261"
        "&bearing=87.5&altitude=152.3000030517578&accuracy=8.0&batt=87.0&charge=true"
    )
    answer = send(client, line, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200, answer.text
    assert answer.content == b"" and answer.headers["Jingwu-Verdict"] == "current"
    position = unit_position(client)
    assert position is not None
    assert (position["lat"], position["lon"], position["ts"]) == (
        45.7562183,
        126.6418833,
        FIX_TIME.isoformat(),
    )
    assert position["speed"] == pytest.approx(12.0, abs=0.01)  # 23.3261 knots
    (row,) = history(city)
    assert (row.source, row.verdict, row.accuracy, row.battery, row.heading) == (
        "osmand",
        "current",
        8.0,
        87.0,
        87.5,
    )


def test_traccar_client_ios_and_the_osmand_app_send_a_get(
    client: TestClient, city: Services, key: str
) -> None:
    ios = (
        f"GET /api/osmand?id={key}&timestamp=1795594190&lat=45.7563&lon=126.6429&speed=-1.94384"
        "&bearing=-1&altitude=148&accuracy=65&batt=42"
    )
    assert send(client, ios).status_code == 200
    # The OsmAnd app: milliseconds, hdop, no accuracy.
    osmand = (
        f"GET /api/osmand?id={key}&lat=45.7565&lon=126.6431&timestamp=1795594195000&hdop=6.0"
        "&altitude=224.0&speed=0.0"
    )
    assert send(client, osmand).status_code == 200
    rows = history(city)
    assert [(r.verdict, r.speed, r.heading) for r in rows] == [
        ("current", None, None),
        ("current", 0.0, None),
    ]


def test_a_form_body_is_read_when_the_url_has_no_parameters(
    client: TestClient, city: Services, key: str
) -> None:
    body = (
        f"id={key}&timestamp=1795594190&lat=45.7562&lon=126.6419&speed=0.0&bearing=0.0&altitude=150"
        "&accuracy=12&batt=55"
    )
    answer = client.post(
        "/api/osmand", content=body.encode(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 200, answer.text
    assert [r.accuracy for r in history(city)] == [12.0]


def test_the_newer_traccar_client_posts_json(client: TestClient, city: Services, key: str) -> None:
    body = (
        '{"location":{"timestamp":"2026-11-25T08:09:50.862Z","coords":{"latitude":45.7562183,'
        '"longitude":126.6418833,"accuracy":4.9,"speed":12.04,"heading":87.5,"altitude":152.3},'
        '"is_moving":true,"odometer":1520.4,"event":"motionchange","battery":{"level":0.87,'
        '"is_charging":false},"activity":{"type":"in_vehicle"},"extras":{}},"device_id":"' + key + '"}'
    )
    answer = client.post("/api/osmand", content=body.encode(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    (row,) = history(city)
    assert (row.speed, row.accuracy, row.battery) == (12.04, 4.9, pytest.approx(87.0))
    assert row.ts == datetime(2026, 11, 25, 8, 9, 50, 862000, tzinfo=UTC)


def test_a_heartbeat_without_coordinates_is_answered_and_stores_nothing(
    client: TestClient, city: Services, key: str
) -> None:
    answer = send(client, f"GET /api/osmand?id={key}&timestamp=1795594190&batt=50")
    assert answer.status_code == 200 and answer.headers["Jingwu-Verdict"] == "none"
    assert history(city) == []


# ------------------------------------------------------------------- the filter's verdicts


def test_a_fix_the_filter_rejects_is_answered_200_and_never_moves_the_unit(
    client: TestClient, city: Services, key: str
) -> None:
    before = unit_position(client)
    send(client, f"GET /api/osmand?id={key}&timestamp=1795594190&lat=45.7562&lon=126.6419&accuracy=5")
    moved = unit_position(client)
    # Ten seconds later, 30 km north: a glitch. The app must not resend it: 200.
    answer = send(
        client, f"GET /api/osmand?id={key}&timestamp=1795594200&lat=46.0262&lon=126.6419&accuracy=5"
    )
    assert answer.status_code == 200
    assert answer.headers["Jingwu-Verdict"] == "rejected; reason=impossible_jump"
    assert unit_position(client) == moved != before
    # A phone whose location is faked, and a fix an hour ahead: likewise.
    mock = send(client, f"GET /api/osmand?id={key}&timestamp=1795594201&lat=45.7563&lon=126.6419&mock=true")
    assert mock.headers["Jingwu-Verdict"] == "rejected; reason=invalid_fix"
    ahead = send(client, f"GET /api/osmand?id={key}&timestamp=1795597790&lat=45.7563&lon=126.6419")
    assert ahead.headers["Jingwu-Verdict"] == "rejected; reason=future"
    assert unit_position(client) == moved
    assert [(r.verdict, r.reason) for r in history(city)] == [
        ("current", None),
        ("rejected", "impossible_jump"),
        ("rejected", "invalid_fix"),
    ]


def test_a_retry_of_a_stored_fix_is_answered_200_as_a_duplicate(
    client: TestClient, city: Services, key: str
) -> None:
    line = f"GET /api/osmand?id={key}&timestamp=1795594190&lat=45.7562&lon=126.6419"
    assert send(client, line).headers["Jingwu-Verdict"] == "current"
    again = send(client, line)
    assert again.status_code == 200 and again.headers["Jingwu-Verdict"] == "rejected; reason=duplicate"
    assert len(history(city)) == 1


# ----------------------------------------------------------------------- who may report


def test_no_key_and_a_wrong_key_are_401(client: TestClient, city: Services, key: str) -> None:
    anonymous = send(client, "GET /api/osmand?timestamp=1795594190&lat=45.7562&lon=126.6419")
    assert anonymous.status_code == 401 and error_code(anonymous) == "no_token"
    wrong = send(client, "GET /api/osmand?id=dev_not-a-key&timestamp=1795594190&lat=45.7562&lon=126.6419")
    assert wrong.status_code == 401 and error_code(wrong) == "bad_token"
    json_wrong = client.post(
        "/api/osmand",
        content=b'{"device_id":"123456","location":{"coords":{"latitude":45.75,"longitude":126.64}}}',
        headers={"Content-Type": "application/json"},
    )
    assert json_wrong.status_code == 401 and error_code(json_wrong) == "bad_token"
    assert history(city) == []


def test_a_rotated_key_stops_working(client: TestClient, city: Services, key: str) -> None:
    city.auth.accounts.issue_device_key("phone-u1")
    answer = send(client, f"GET /api/osmand?id={key}&lat=45.7562&lon=126.6419")
    assert answer.status_code == 401 and error_code(answer) == "bad_token"


def test_a_persons_token_is_refused_even_with_the_permission(client: TestClient, city: Services) -> None:
    # The officer of u0 may report u0's position through the terminal, not pose as a device.
    token = login(client, "u0")["Authorization"].removeprefix("Bearer ")
    as_id = send(client, f"GET /api/osmand?id={token}&lat=45.7562&lon=126.6419")
    assert as_id.status_code == 403 and error_code(as_id) == "device_only"
    as_header = client.get(
        "/api/osmand?lat=45.7562&lon=126.6419", headers={"Authorization": f"Bearer {token}"}
    )
    assert as_header.status_code == 403 and error_code(as_header) == "device_only"
    assert history(city, "u0") == []


def test_a_device_bound_to_no_unit_is_refused(client: TestClient, city: Services) -> None:
    _, loose = city.auth.accounts.create_device_account("alarm-box", station_id="south")
    answer = send(client, f"GET /api/osmand?id={loose}&lat=45.7562&lon=126.6419")
    assert answer.status_code == 403 and error_code(answer) == "device_not_bound"


def test_the_key_may_come_as_a_bearer_header(client: TestClient, city: Services, key: str) -> None:
    answer = client.get(
        "/api/osmand?timestamp=1795594190&lat=45.7562&lon=126.6419",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200 and len(history(city)) == 1


def test_a_malformed_request_is_422_naming_the_field(client: TestClient, key: str) -> None:
    answer = send(client, f"GET /api/osmand?id={key}&lat=north&lon=126.6419")
    assert answer.status_code == 422 and error_code(answer) == "bad_osmand_request"
    assert answer.json()["error"]["params"]["field"] == "lat"


def test_the_device_key_is_kept_out_of_the_access_log(key: str) -> None:
    from jingwu.api.log_redaction import RedactTokens

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.7:50000", "POST", f"/api/osmand?id={key}&timestamp=1795594190&lat=45.75", "1.1", 200),
        None,
    )
    RedactTokens().filter(record)
    assert key not in record.getMessage()
    assert "/api/osmand?id=***&timestamp=1795594190" in record.getMessage()
