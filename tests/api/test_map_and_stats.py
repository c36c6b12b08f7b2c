"""The console's map, dashboard figures, duplicate hints, a unit's route and dispatch ETAs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from jingwu.composition import Services
from jingwu.store import tables as t
from jingwu.store.db import write_transaction
from tests.api.conftest import CENTRE, create, login
from tests.conftest import FakeClock

MAP_CLASSES = {"motorway", "trunk", "primary", "secondary", "tertiary", "minor"}
# The map and compression read no table: one database is enough for them.
sqlite_only = pytest.mark.parametrize("migrated_database_url", ["sqlite"], indirect=True)


@sqlite_only
def test_map_config_frames_the_road_network(client: TestClient) -> None:
    config = client.get("/api/map/config", headers=login(client, "u0")).json()
    assert config["tile_url"] is None and config["tile_attribution"] is None
    assert config["attribution"] == "© OpenStreetMap contributors"
    (south, west), (north, east) = config["bounds"]
    assert south < config["center"]["lat"] < north and west < config["center"]["lon"] < east
    # The Harbin extract: both banks of the Songhua.
    assert 45.6 < south < 45.7 and 45.8 < north < 45.9 and 126.4 < west < 126.6 and 126.7 < east < 126.8
    # An officer's terminal reads the bureau's zone here, to show the console's clock on any phone.
    assert config["timezone"] == "Asia/Shanghai"


@sqlite_only
def test_road_layer_is_a_few_class_features_gzipped_once_and_revalidated_by_etag(
    client: TestClient,
) -> None:
    headers = login(client, "dispatcher")
    plain = client.get("/api/map/roads", headers=headers | {"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "application/geo+json"
    assert plain.headers["cache-control"] == "private, max-age=3600"
    assert "content-encoding" not in plain.headers
    collection = plain.json()
    assert collection["type"] == "FeatureCollection"
    classes = [f["properties"]["class"] for f in collection["features"]]
    assert len(classes) == len(set(classes)) and set(classes) <= MAP_CLASSES
    assert classes[0] == "minor"  # drawn first, under the main roads
    for feature in collection["features"]:
        assert feature["geometry"]["type"] == "MultiLineString"
        for line in feature["geometry"]["coordinates"][:50]:
            assert len(line) >= 2
            for lon, lat in line:
                assert round(lon, 5) == lon and round(lat, 5) == lat
                assert 126 < lon < 127 and 45 < lat < 46  # [lon, lat], GeoJSON order

    zipped = client.get("/api/map/roads", headers=headers | {"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.num_bytes_downloaded < len(plain.content) / 3
    assert zipped.content == plain.content  # the same document, decompressed
    assert zipped.headers["etag"] != plain.headers["etag"]

    for etag in (plain.headers["etag"], zipped.headers["etag"]):
        again = client.get("/api/map/roads", headers=headers | {"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
    assert client.get("/api/map/roads", headers=headers | {"If-None-Match": '"stale"'}).status_code == 200


@sqlite_only
def test_ordinary_json_answers_are_gzipped_when_large_enough(client: TestClient) -> None:
    headers = login(client, "dispatcher") | {"Accept-Encoding": "gzip"}
    units = client.get("/api/units", headers=headers)
    assert len(units.content) >= 1024 and units.headers["content-encoding"] == "gzip"
    small = client.get("/api/auth/me", headers=headers)
    assert "content-encoding" not in small.headers


def test_todays_figures_follow_one_incident_from_call_to_arrival(
    clocked_client: TestClient, clock: FakeClock
) -> None:
    client = clocked_client
    headers = login(client, "dispatcher")
    empty = client.get("/api/stats/today", headers=headers).json()
    # The FakeClock starts at 08:00 UTC, 16:00 in Shanghai.
    assert empty == {
        "date": "2026-11-25",
        "timezone": "Asia/Shanghai",
        "open_incidents": 0,
        "pending_incidents": 0,
        "units_total": 6,
        "units_available": 6,
        "incidents_today": 0,
        "median_call_to_dispatch_s": None,
        "median_dispatch_to_arrival_s": None,
        "arrival_target_s": 300,
        "arrivals_today": 0,
        "arrivals_within_target": 0,
        "arrivals_flagged": 0,
    }
    first = create(client, headers).json()
    create(client, headers)
    clock.advance(45)
    client.post(f"/api/incidents/{first['id']}/dispatch", json={"unit_ids": ["u1"]}, headers=headers)
    clock.advance(200)
    place(client, headers, "u1", CENTRE)  # the car is at the scene
    arrived = client.post("/api/units/u1/status", json={"status": "on_scene"}, headers=headers)
    assert arrived.status_code == 200, arrived.text
    stats = client.get("/api/stats/today", headers=headers).json()
    assert stats["open_incidents"] == 2 and stats["pending_incidents"] == 1
    assert stats["units_available"] == 5 and stats["incidents_today"] == 2
    assert stats["median_call_to_dispatch_s"] == 45.0
    assert stats["median_dispatch_to_arrival_s"] == 200.0
    assert stats["arrivals_today"] == stats["arrivals_within_target"] == 1

    clock.advance(8 * 3600)  # past midnight in Shanghai: a new day, the same open queue
    headers = login(client, "dispatcher")  # eight idle hours ended the session
    tomorrow = client.get("/api/stats/today", headers=headers).json()
    assert tomorrow["date"] == "2026-11-26"
    assert tomorrow["incidents_today"] == 0 and tomorrow["median_call_to_dispatch_s"] is None
    assert tomorrow["open_incidents"] == 2


def place(client: TestClient, headers: dict[str, str], unit_id: str, at: dict[str, float]) -> None:
    """A dispatcher places the unit by hand (a radio report), as of now."""
    fix = {"unit_id": unit_id, "lat": at["lat"], "lon": at["lon"]}
    assert client.post("/api/units/positions", json={"positions": [fix]}, headers=headers).status_code == 204


def test_an_arrival_far_from_the_scene_is_confirmed_and_counted_apart(
    clocked_client: TestClient, clock: FakeClock
) -> None:
    client = clocked_client
    headers = login(client, "dispatcher")
    incident = create(client, headers).json()
    client.post(f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": ["u1"]}, headers=headers)
    clock.advance(60)
    far = {"lat": CENTRE["lat"] + 0.0055, "lon": CENTRE["lon"]}  # about 611 m north of the scene
    place(client, headers, "u1", far)
    refused = client.post("/api/units/u1/status", json={"status": "on_scene"}, headers=headers)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "far_from_scene" and 560 <= error["params"]["distance_m"] <= 660
    assert client.get("/api/units/u1", headers=headers).json()["status"] == "dispatched"

    body = {"status": "on_scene", "confirm_far": True}
    assert client.post("/api/units/u1/status", json=body, headers=headers).status_code == 200
    arrival = client.get("/api/units/u1/timeline", headers=headers).json()[-1]["data"]["arrival"]
    assert "far" in arrival["flags"] and arrival["confirmed"] is True
    stats = client.get("/api/stats/today", headers=headers).json()
    # On scene one minute after the dispatch, said a tap 600 m away: not a response within target.
    assert stats["arrivals_flagged"] == 1
    assert stats["arrivals_today"] == stats["arrivals_within_target"] == 0
    assert stats["median_dispatch_to_arrival_s"] is None


def test_duplicates_are_open_same_type_reports_nearby_and_recent_nearest_first(
    clocked_client: TestClient, clock: FakeClock
) -> None:
    client = clocked_client
    headers = login(client, "dispatcher")
    original = create(client, headers).json()
    clock.advance(60)
    at_44_m = create(client, headers, location={"lat": 45.7564, "lon": 126.6420}).json()
    at_200_m = create(client, headers, location={"lat": 45.7578, "lon": 126.6420}).json()
    create(client, headers, location={"lat": 45.7630, "lon": 126.6420})  # 780 m: another scene
    create(client, headers, type_code="order.fight")  # same place, another kind of event
    closed = create(client, headers, location={"lat": 45.7569, "lon": 126.6420}).json()
    client.post(f"/api/incidents/{closed['id']}/close", json={}, headers=headers)
    clock.advance(31 * 60)
    headers = login(client, "dispatcher")  # 31 minutes without use ended the session
    create(client, headers)  # the same again, but more than half an hour after the original

    found = client.get(f"/api/incidents/{original['id']}/duplicates", headers=login(client, "u0"))
    assert found.status_code == 200
    assert [i["id"] for i in found.json()] == [at_44_m["id"], at_200_m["id"]]
    assert {"id", "type_code", "location", "status", "created_at"} <= set(found.json()[0])
    missing = client.get("/api/incidents/J19990101-XXXXXX/duplicates", headers=headers)
    assert missing.status_code == 404


def test_dispatch_puts_each_units_road_eta_in_its_dispatched_event(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    incident = create(client, headers).json()
    recs = client.get(f"/api/incidents/{incident['id']}/recommendations?limit=2", headers=headers).json()
    chosen = [r["unit_id"] for r in recs]
    client.post(f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": chosen}, headers=headers)
    timeline = client.get(f"/api/incidents/{incident['id']}/timeline", headers=headers).json()
    etas = {e["unit_id"]: e["data"]["eta_s"] for e in timeline if e["type"] == "unit.dispatched"}
    # The same road search as the recommendation, from the same positions.
    assert etas == {r["unit_id"]: pytest.approx(r["eta_s"], abs=0.11) for r in recs}
    assert all(isinstance(eta, float) and eta > 0 for eta in etas.values())


def test_unit_route_leads_from_the_unit_to_its_incident(client: TestClient) -> None:
    dispatcher = login(client, "dispatcher")
    incident = create(client, dispatcher).json()
    recs = client.get(f"/api/incidents/{incident['id']}/recommendations?limit=6", headers=dispatcher).json()
    u0 = next(r for r in recs if r["unit_id"] == "u0")
    client.post(f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": ["u0"]}, headers=dispatcher)

    officer = login(client, "u0")
    answer = client.get("/api/units/u0/route", headers=officer)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"unit_id", "incident_id", "eta_s", "distance_m", "straight_line_m", "route"}
    assert body["unit_id"] == "u0" and body["incident_id"] == incident["id"]
    assert body["eta_s"] == pytest.approx(u0["eta_s"], abs=0.11)
    assert body["distance_m"] == pytest.approx(u0["distance_m"], abs=0.11)
    assert body["straight_line_m"] == pytest.approx(u0["straight_line_m"], abs=0.11)
    assert body["distance_m"] >= body["straight_line_m"] - 300  # both ends are snapped to roads
    feature = body["route"]
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "LineString"
    end_lon, end_lat = feature["geometry"]["coordinates"][-1]
    assert end_lat == pytest.approx(CENTRE["lat"], abs=0.003) and end_lon == pytest.approx(
        CENTRE["lon"], abs=0.003
    )


def test_unit_route_refusals_name_the_reason(client: TestClient, services: Services) -> None:
    dispatcher = login(client, "dispatcher")
    other = client.get("/api/units/u1/route", headers=login(client, "u0"))
    assert other.status_code == 403 and other.json()["error"]["code"] == "not_own_unit"
    idle = client.get("/api/units/u1/route", headers=dispatcher)
    assert idle.status_code == 409 and idle.json()["error"]["code"] == "unit_not_assigned"
    assert client.get("/api/units/nobody/route", headers=dispatcher).status_code == 404

    with write_transaction(services.engine) as conn:  # a unit that has never reported a position
        conn.execute(
            t.units.update().where(t.units.c.id == "u2").values(pos_lat=None, pos_lon=None, pos_ts=None)
        )
    incident = create(client, dispatcher).json()
    sent = client.post(
        f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": ["u2"]}, headers=dispatcher
    )
    assert sent.status_code == 200
    timeline = client.get(f"/api/incidents/{incident['id']}/timeline", headers=dispatcher).json()
    assert next(e for e in timeline if e["type"] == "unit.dispatched")["data"]["eta_s"] is None
    lost = client.get("/api/units/u2/route", headers=dispatcher)
    assert lost.status_code == 409 and lost.json()["error"]["code"] == "unit_has_no_position"
