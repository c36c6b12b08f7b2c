"""The thrown-object routes: a camera's facade calibration set, refused for every bad input with
its code and field (nothing stored), removed, and only by those who run the camera; the throws of
an incident and of the cameras in reach, shown by role and jurisdiction in the contract the
console, admin and community pages are built against; and ``throw.detected`` on the live stream
only for those who may watch the camera."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jingwu.api.routers.live import for_viewer
from jingwu.bus import BusMessage
from jingwu.composition import Services
from jingwu.domain.access import Jurisdiction, Principal
from jingwu.service.auth import Role
from jingwu.store import tables as t
from jingwu.store.db import read_transaction
from tests.api.conftest import CENTRE, login
from tests.conftest import PASSWORD, add_user
from tests.service.video.test_throws import FACADE, NOW_MS, report

THROW_KEYS = {
    "id",
    "incident_id",
    "camera_id",
    "camera_name",
    "community",
    "detected_at",
    "landed_at",
    "floor",
    "column",
    "floor_uncertainty",
    "confidence",
    "track",
    "snapshot_attachment_id",
    "clip_id",
}


def _facade(**changes: Any) -> dict[str, Any]:
    return {"facade": {**copy.deepcopy(FACADE), **changes}}


@pytest.fixture
def admin(services: Services, client: TestClient) -> dict[str, str]:
    add_user(services, "admin", Role.ADMIN)
    return login(client, "admin")


def _camera(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "7号楼 南侧",
        "kind": "fixed",
        "stream_url": "rtsp://127.0.0.1:9/tower7",
        "lat": CENTRE["lat"] - 0.000225,
        "lon": CENTRE["lon"],
        "heading_deg": 0,
        "community": "保健小区",
    } | overrides
    answer = client.post("/api/cameras?probe=false", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    camera: dict[str, Any] = answer.json()
    return camera


def test_a_calibration_is_kept_shown_with_the_camera_and_removed(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    camera = _camera(client, admin)
    assert camera["throw_calibration"] is None
    answer = client.put(f"/api/cameras/{camera['id']}/calibration", json=_facade(), headers=admin)
    assert answer.status_code == 200, answer.text
    kept = answer.json()["throw_calibration"]["facade"]
    assert kept["floors"] == 18 and kept["column_centres"] == [0.125, 0.375, 0.625, 0.875]
    shown = client.get(f"/api/cameras/{camera['id']}", headers=admin).json()
    assert shown["throw_calibration"] == answer.json()["throw_calibration"]
    assert services.video.registry.throw_calibrations() == {camera["id"]: answer.json()["throw_calibration"]}
    gone = client.delete(f"/api/cameras/{camera['id']}/calibration", headers=admin)
    assert gone.status_code == 204
    assert client.get(f"/api/cameras/{camera['id']}", headers=admin).json()["throw_calibration"] is None
    assert services.video.registry.throw_calibrations() == {}


def test_bad_calibrations_are_refused_with_their_code_and_field_and_nothing_is_kept(
    client: TestClient, services: Services, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    camera = _camera(client, admin)
    body_camera = _camera(client, admin, kind="body", unit_id="u1", lat=None, lon=None, heading_deg=None)
    bow_tie = [[180.0, 340.0], [420.0, 30.0], [460.0, 340.0], [220.0, 30.0]]
    upside_down = [[220.0, 30.0], [420.0, 30.0], [460.0, 340.0], [180.0, 340.0]]
    cases: list[tuple[str, dict[str, Any], str, str | None]] = [
        (camera["id"], _facade(corners_px=bow_tie), "calibration_invalid", "corners_px"),
        (camera["id"], _facade(corners_px=[[0, 0], [1, 1]]), "calibration_invalid", "corners_px"),
        (camera["id"], _facade(floors=0), "calibration_invalid", "floors"),
        (camera["id"], _facade(floors=-3), "calibration_invalid", "floors"),
        (camera["id"], _facade(floors=2.5), "calibration_invalid", "floors"),
        (camera["id"], _facade(floor_height_m=30), "calibration_invalid", "floor_height_m"),
        (camera["id"], _facade(column_centres=[0.9, 0.1, 0.5, 0.7]), "calibration_invalid", "column_centres"),
        (camera["id"], _facade(balconies=True), "calibration_invalid", "facade"),
        (camera["id"], _facade(corners_px=upside_down), "camera_wrong_way", "corners_px"),
        (body_camera["id"], _facade(), "camera_not_fixed", None),
    ]
    for camera_id, body, code, field in cases:
        answer = client.put(f"/api/cameras/{camera_id}/calibration", json=body, headers=admin)
        assert answer.status_code == 422, (body, answer.text)
        error = answer.json()["error"]
        assert error["code"] == code and error["message"], (body, error)
        assert error["params"].get("field") == field, (body, error)
    assert client.put(f"/api/cameras/{camera['id']}/calibration", json={}, headers=admin).status_code == 422
    # Once the camera's worker knows its picture (640×360 here), a facade outside it is refused.
    monkeypatch.setattr(services.video.throws, "picture_size", lambda _camera_id: (640, 360))
    far = [[u + 4000, v] for u, v in [[180.0, 340.0], [460.0, 340.0], [420.0, 30.0], [220.0, 30.0]]]
    answer = client.put(
        f"/api/cameras/{camera['id']}/calibration", json=_facade(corners_px=far), headers=admin
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "camera_wrong_way", answer.text
    assert "640×360" in answer.json()["error"]["message"]
    assert services.video.registry.throw_calibrations() == {}
    assert (
        client.put(f"/api/cameras/{camera['id']}/calibration", json=_facade(), headers=admin).status_code
        == 200
    )


def test_only_those_who_run_the_camera_may_calibrate_it(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    camera = _camera(client, admin)
    assert camera["station_id"] == "south"
    services.auth.accounts.create_user("chief-south", PASSWORD, Role.COMMANDER, station_id="south")
    services.auth.accounts.create_user("chief-north", PASSWORD, Role.COMMANDER, station_id="north")
    url = f"/api/cameras/{camera['id']}/calibration"
    dispatcher = client.put(url, json=_facade(), headers=login(client, "dispatcher"))
    assert dispatcher.status_code == 403 and dispatcher.json()["error"]["code"] == "role_forbidden"
    north = login(client, "chief-north")
    for answer in (client.put(url, json=_facade(), headers=north), client.delete(url, headers=north)):
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "out_of_jurisdiction"
    # Out of reach is said before anything about the calibration itself.
    assert client.put(url, json=_facade(floors=0), headers=north).status_code == 403
    assert services.video.registry.throw_calibrations() == {}
    assert client.put(url, json=_facade(), headers=login(client, "chief-south")).status_code == 200
    missing = client.put("/api/cameras/cam-nope/calibration", json=_facade(), headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "camera_not_found"


def test_throws_are_read_by_role_and_jurisdiction_in_the_agreed_shape(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    services.video.throws.sleep = lambda _s: None
    camera = _camera(client, admin)
    detection = services.video.throws.record(report(camera["id"], NOW_MS))
    assert detection is not None
    services.video.throws.wait_for_clips(5)
    services.auth.accounts.create_user("chief-north", PASSWORD, Role.COMMANDER, station_id="north")
    add_user(services, "analyst", Role.ANALYST)
    dispatcher, north, analyst = (login(client, u) for u in ("dispatcher", "chief-north", "analyst"))

    answer = client.get(f"/api/incidents/{detection.incident_id}/throws", headers=dispatcher)
    assert answer.status_code == 200, answer.text
    [item] = answer.json()["throws"]
    assert set(item) == THROW_KEYS
    assert (
        item["id"] == detection.id and item["camera_name"] == "7号楼 南侧" and item["community"] == "保健小区"
    )
    assert (item["floor"], item["column"], item["floor_uncertainty"]) == (12, 3, 0.4)
    assert item["track"][0] == [100, 320.0, 80.5] and item["clip_id"] is None
    assert item["snapshot_attachment_id"] == detection.snapshot_attachment_id
    photo = client.get(f"/api/attachments/{item['snapshot_attachment_id']}", headers=dispatcher)
    assert photo.status_code == 200 and photo.content[:3] == b"\xff\xd8\xff"
    refused = client.get(f"/api/incidents/{detection.incident_id}/throws", headers=north)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "out_of_jurisdiction"
    assert client.get(f"/api/incidents/{detection.incident_id}/throws", headers=analyst).status_code == 200

    listed = client.get("/api/throws", headers=dispatcher).json()["throws"]
    assert [t["id"] for t in listed] == [detection.id] and listed[0] == item
    assert client.get("/api/throws", headers=north).json()["throws"] == []
    no_cameras = client.get("/api/throws", headers=analyst)
    assert no_cameras.status_code == 403 and no_cameras.json()["error"]["code"] == "role_forbidden"
    later = (datetime.fromtimestamp(NOW_MS / 1000, UTC) + timedelta(seconds=1)).isoformat()
    assert client.get("/api/throws", params={"since": later}, headers=dispatcher).json()["throws"] == []
    earlier = datetime.fromtimestamp(NOW_MS / 1000, UTC).isoformat()
    assert len(client.get("/api/throws", params={"since": earlier}, headers=dispatcher).json()["throws"]) == 1
    naive = client.get("/api/throws", params={"since": "2027-03-01T08:00:00"}, headers=dispatcher)
    assert naive.status_code == 422
    assert client.get("/api/throws", params={"limit": 0}, headers=dispatcher).status_code == 422


def test_a_throws_evidence_is_the_community_officers_but_not_the_calls_other_photos(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    services.video.throws.sleep = lambda _s: None
    camera = _camera(client, admin)
    detection = services.video.throws.record(report(camera["id"], NOW_MS))
    assert detection is not None
    services.video.throws.wait_for_clips(5)
    station = services.dispatch.get_incident(detection.incident_id).station_id
    services.auth.accounts.create_user("sqmj", PASSWORD, Role.COMMUNITY_OFFICER, station_id=station)
    services.auth.accounts.create_user("north-sqmj", PASSWORD, Role.COMMUNITY_OFFICER, station_id="north")
    add_user(services, "analyst", Role.ANALYST)
    own, other, analyst = (login(client, u) for u in ("sqmj", "north-sqmj", "analyst"))

    picture = client.get(f"/api/throws/{detection.id}/snapshot.jpg", headers=own)
    assert picture.status_code == 200 and picture.content[:3] == b"\xff\xd8\xff"
    assert picture.headers["content-type"] == "image/jpeg"
    # The call's photos in general stay the command room's.
    photo = client.get(f"/api/attachments/{detection.snapshot_attachment_id}", headers=own)
    assert photo.status_code == 403
    refused = client.get(f"/api/throws/{detection.id}/snapshot.jpg", headers=other)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "out_of_jurisdiction"
    assert client.get(f"/api/throws/{detection.id}/snapshot.jpg", headers=analyst).status_code == 403
    missing = client.get("/api/throws/thr_none/snapshot.jpg", headers=own)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "throw_not_found"
    # No clip was cut (the camera is not read by a worker here): said, not a broken file.
    uncut = client.get(f"/api/throws/{detection.id}/clip", headers=own)
    assert uncut.status_code == 404 and uncut.json()["error"]["code"] == "throw_clip_missing"
    with read_transaction(services.engine) as conn:
        targets = (
            conn.execute(select(t.audit_log.c.target).where(t.audit_log.c.action == "throw.evidence_read"))
            .scalars()
            .all()
        )
    assert targets == [f"throw:{detection.id}:snapshot"]  # the one read given, by its reader


def test_throw_detected_reaches_only_those_who_may_watch_the_camera(services: Services) -> None:
    message = BusMessage(
        id=7,
        type="throw.detected",
        payload={
            "incident_id": "20270301-0001",
            "data": {"camera": {"station_id": "south"}, "incident": {"station_id": "south"}, "throw": {}},
        },
    )

    def viewer(role: Role, jurisdiction: str) -> Principal:
        return Principal("u", "u", role, None, None, Jurisdiction.parse(jurisdiction))

    assert for_viewer(message, viewer(Role.DISPATCHER, "city"), services) is message
    assert for_viewer(message, viewer(Role.COMMUNITY_OFFICER, "station:south"), services) is message
    assert for_viewer(message, viewer(Role.DISPATCHER, "station:north"), services) is None
    assert for_viewer(message, viewer(Role.ANALYST, "city"), services) is None
