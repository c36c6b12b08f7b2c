"""The input rules wired at the API edge: the reporter's phone, and GCJ-02 locations."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from jingwu.composition import Services
from jingwu.domain.gcj02 import wgs84_to_gcj02
from jingwu.domain.geo import GeoPoint, haversine_m
from tests.api.conftest import CENTRE, create, login

RIVER = (45.7860, 126.5340)  # WGS-84, in the Songhua (see test_api's off_road case)


def _stored_reporter(services: Services, incident_id: str) -> tuple[str | None, str | None]:
    reporter = services.personal.read_reporter(
        incident_id, actor="test", reason="checking intake", full=True, source=None
    )
    return reporter.name, reporter.phone


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("138 1234 5678", "+8613812345678"),
        ("+86-138-1234-5678", "+8613812345678"),
        ("0451-87654321", "+8645187654321"),
        ("0451-87654321 转 123", "+8645187654321;ext=123"),
    ],
)
def test_the_reporters_phone_is_stored_in_e164(
    client: TestClient, services: Services, given: str, stored: str
) -> None:
    headers = login(client, "dispatcher")
    response = create(client, headers, reporter={"name": "王先生", "phone": given})
    assert response.status_code == 201, response.text
    assert _stored_reporter(services, response.json()["id"]) == ("王先生", stored)


@pytest.mark.parametrize("phone", ["110", "12345", "95588", "400-810-8888", "87654321", "12812345678", "abc"])
def test_a_bad_reporter_phone_is_422_bad_phone_and_stores_nothing(
    client: TestClient, services: Services, phone: str
) -> None:
    headers = login(client, "dispatcher")
    response = create(client, headers, reporter={"name": "王先生", "phone": phone})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "bad_phone" and error["message"]
    assert client.get("/api/incidents", headers=headers).json() == []
    assert services.dispatch.list_incidents() == []


def test_a_refused_phone_leaves_the_idempotency_key_unused(client: TestClient) -> None:
    headers = login(client, "dispatcher") | {"Idempotency-Key": "intake-phone-1"}
    bad = create(client, headers, reporter={"phone": "110"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_phone"
    good = create(client, headers, reporter={"phone": "13812345678"})
    assert good.status_code == 201, good.text


@pytest.mark.parametrize("reporter", [{"name": "王先生"}, {"name": "王先生", "phone": "  "}, {"phone": None}])
def test_a_reporter_without_a_phone_is_still_accepted(
    client: TestClient, services: Services, reporter: dict[str, Any]
) -> None:
    headers = login(client, "dispatcher")
    response = create(client, headers, reporter=reporter)
    assert response.status_code == 201, response.text
    stored = _stored_reporter(services, response.json()["id"])
    assert stored == (("王先生", None) if reporter.get("name") else (None, None))


def test_a_gcj02_location_is_stored_as_wgs84(client: TestClient, services: Services) -> None:
    headers = login(client, "dispatcher")
    g_lat, g_lon = wgs84_to_gcj02(CENTRE["lat"], CENTRE["lon"])
    response = create(client, headers, location={"lat": g_lat, "lon": g_lon, "crs": "gcj02"})
    assert response.status_code == 201, response.text
    answered = response.json()["location"]
    stored = services.dispatch.get_incident(response.json()["id"]).location
    centre = GeoPoint(CENTRE["lat"], CENTRE["lon"])
    assert haversine_m(stored, centre) < 0.01
    assert haversine_m(GeoPoint(answered["lat"], answered["lon"]), centre) < 0.01
    # The same numbers taken as WGS-84 are a different place, hundreds of metres away.
    assert haversine_m(GeoPoint(g_lat, g_lon), centre) > 300


def test_wgs84_is_the_default_and_may_be_named(client: TestClient, services: Services) -> None:
    headers = login(client, "dispatcher")
    for location in (CENTRE, CENTRE | {"crs": "wgs84"}):
        response = create(client, headers, location=location)
        assert response.status_code == 201, response.text
        stored = services.dispatch.get_incident(response.json()["id"]).location
        assert (stored.lat, stored.lon) == (CENTRE["lat"], CENTRE["lon"])


def test_gcj02_is_converted_before_the_road_check(client: TestClient) -> None:
    # A GCJ-02 point whose WGS-84 position is in the river: refused off_road, reported in WGS-84.
    headers = login(client, "dispatcher")
    g_lat, g_lon = wgs84_to_gcj02(*RIVER)
    response = create(client, headers, location={"lat": g_lat, "lon": g_lon, "crs": "gcj02"})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "off_road"
    assert haversine_m(GeoPoint(error["params"]["lat"], error["params"]["lon"]), GeoPoint(*RIVER)) < 0.5
    assert client.get("/api/incidents", headers=headers).json() == []


@pytest.mark.parametrize(
    "location",
    [
        CENTRE | {"crs": "bd09"},
        CENTRE | {"crs": "GCJ02"},
        CENTRE | {"crs": None},
        {"lat": 95.0, "lon": 126.6, "crs": "gcj02"},
    ],
)
def test_an_unknown_crs_or_a_bad_range_is_refused(client: TestClient, location: dict[str, Any]) -> None:
    headers = login(client, "dispatcher")
    response = create(client, headers, location=location)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_failed"
    assert client.get("/api/incidents", headers=headers).json() == []


def test_the_openapi_document_describes_crs(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    crs = schemas["LocationIn"]["properties"]["crs"]
    assert crs["enum"] == ["wgs84", "gcj02"] and crs["default"] == "wgs84"
    assert "WGS-84" in crs["description"]
