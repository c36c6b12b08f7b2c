"""The camera API on real video: a generated H.264 file replayed as a camera by a real video
worker process (the file stream is read at its own pace, like a camera), through the relay, into
clips, snapshots and the live view."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jingwu.composition import Services
from jingwu.service.auth import Role
from jingwu.video.testsrc import write_test_video
from tests.api.conftest import CENTRE, create, login
from tests.conftest import add_user

pytestmark = pytest.mark.slow

# A camera 25 m south of the test city's centre, looking north at it.
NEAR_SOUTH = {"lat": CENTRE["lat"] - 0.000225, "lon": CENTRE["lon"]}


def _video(services: Services, name: str = "gate.mp4", **kwargs: Any) -> Path:
    folder = services.settings.resolved_video_file_dir
    folder.mkdir(parents=True, exist_ok=True)
    return write_test_video(folder / name, **({"seconds": 4.0} | kwargs))


def _camera(path: Path, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "保健路口 北向",
        "kind": "fixed",
        "stream_url": f"file://{path}",
        **NEAR_SOUTH,
        "heading_deg": 0,
        "fov_deg": 90,
        "range_m": 80,
    } | overrides


@pytest.fixture
def admin(services: Services, client: TestClient) -> dict[str, str]:
    add_user(services, "admin", Role.ADMIN)
    return login(client, "admin")


def _wait_state(
    client: TestClient, headers: dict[str, str], camera_id: str, state: str, within_s: float
) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while True:
        camera = client.get(f"/api/cameras/{camera_id}", headers=headers).json()
        if camera["state"] == state or time.monotonic() > deadline:
            return camera
        time.sleep(0.2)


def test_bad_cameras_are_refused_with_the_reason_and_nothing_is_stored(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    video = _video(services)
    cases = [
        ({"kind": "satellite"}, "validation_failed"),
        ({"lat": 95.0}, "invalid_latitude"),
        ({"heading_deg": 400}, "validation_failed"),
        ({"stream_url": "ftp://10.0.0.1/x"}, "validation_failed"),
        ({"stream_url": "file:///etc/passwd"}, "file_outside_video_dir"),
        ({"stream_url": "rtsp://admin:pw@127.0.0.1:9/ch1"}, "stream_unreachable"),
        ({"stream_url": f"file://{video.parent / 'missing.mp4'}"}, "stream_not_found"),
        ({"kind": "body", "unit_id": "u1", "lat": None, "lon": None, "heading_deg": None}, None),
    ]
    for overrides, code in cases[:-1]:
        answer = client.post("/api/cameras", json=_camera(video, **overrides), headers=admin)
        assert answer.status_code == 422, (overrides, answer.text)
        assert answer.json()["error"]["code"] == code, (overrides, answer.json())
        assert "password" not in answer.text and "pw@" not in answer.text
    mpeg4 = _video(services, "old.mp4", codec="mpeg4", seconds=1.0)
    answer = client.post("/api/cameras", json=_camera(mpeg4), headers=admin)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "unsupported_codec", answer.text
    assert "H.264" in answer.json()["error"]["message"]
    assert client.get("/api/cameras", headers=admin).json()["cameras"] == []


def test_credentials_are_sealed_and_never_shown(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    answer = client.post(
        "/api/cameras?probe=false",
        json=_camera(Path("/x"), stream_url="rtsp://admin:s3cret@10.1.2.3:554/Streaming/Channels/102"),
        headers=admin,
    )
    assert answer.status_code == 201, answer.text
    camera = answer.json()
    assert camera["stream_url"] == "rtsp://10.1.2.3:554/Streaming/Channels/102"
    assert camera["has_credentials"] is True
    assert camera["station_id"] == "south"
    assert "s3cret" not in client.get("/api/cameras", headers=admin).text
    assert (
        services.video.registry.readable()[camera["id"]]
        == "rtsp://admin:s3cret@10.1.2.3:554/Streaming/Channels/102"
    )


def test_a_bulk_import_with_one_bad_line_adds_nothing_and_names_the_line(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    rows = [
        "name,kind,stream_url,owner,lat,lon,heading_deg,fov_deg,range_m,height_m,tilt_deg,unit_id,community,station_id",
        "A口,fixed,rtsp://10.0.0.1/1,property,45.756,126.642,90,90,60,6,-15,,保健小区,",
        "B口,fixed,rtsp://10.0.0.2/1,police,45.756,200.0,90,90,60,6,-15,,,",
        "C口,drone,rtsp://10.0.0.3/1,police,,,,,,,,u1,,",
    ]
    answer = client.post(
        "/api/cameras/import", content="\n".join(rows).encode(), headers=admin | {"Content-Type": "text/csv"}
    )
    assert answer.status_code == 422, answer.text
    errors = answer.json()["error"]["params"]["errors"]
    assert [e["line"] for e in errors] == [3, 4]  # a longitude out of range; u1 is a car, not a drone
    assert client.get("/api/cameras", headers=admin).json()["cameras"] == []
    good = "\n".join(rows[:2])
    answer = client.post(
        "/api/cameras/import", content=good.encode(), headers=admin | {"Content-Type": "text/csv"}
    )
    assert answer.status_code == 201 and answer.json()["added"] == 1
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [126.643, 45.757]},
                "properties": {
                    "name": "D口",
                    "kind": "fixed",
                    "stream_url": "rtsp://10.0.0.4/1",
                    "heading_deg": 180,
                },
            }
        ],
    }
    answer = client.post(
        "/api/cameras/import",
        content=json.dumps(geojson).encode(),
        headers=admin | {"Content-Type": "application/geo+json"},
    )
    assert answer.status_code == 201, answer.text
    assert {c["name"] for c in client.get("/api/cameras", headers=admin).json()["cameras"]} == {"A口", "D口"}


def test_a_dispatcher_sees_the_camera_live_cuts_a_clip_and_a_p1_gets_its_snapshot(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    video = _video(services, seconds=6.0)
    answer = client.post("/api/cameras", json=_camera(video), headers=admin)
    assert answer.status_code == 201, answer.text
    camera = answer.json()
    assert _wait_state(client, admin, camera["id"], "online", 20)["state"] == "online"
    headers = login(client, "dispatcher")

    incident = create(client, headers, location=CENTRE).json()
    ranked = client.get(f"/api/incidents/{incident['id']}/cameras", headers=headers).json()["cameras"]
    assert ranked[0]["camera"]["id"] == camera["id"] and ranked[0]["sees"], ranked
    assert "25 m" in ranked[0]["why"]

    snapshot = client.get(f"/api/cameras/{camera['id']}/snapshot.jpg", headers=headers)
    assert snapshot.status_code == 200 and snapshot.content[:3] == b"\xff\xd8\xff", snapshot.text

    # The P1 incident got the camera's snapshot as a photo, attached by the video service.
    deadline = time.monotonic() + 10
    while not (photos := client.get(f"/api/incidents/{incident['id']}/attachments", headers=headers).json()):
        assert time.monotonic() < deadline, "no snapshot attached to the P1 incident"
        time.sleep(0.2)
    assert photos[0]["content_type"] == "image/jpeg" and photos[0]["created_by"] == "video"

    time.sleep(3)  # three seconds of buffer behind "now"
    now = datetime.now(UTC)
    body = {
        "camera_id": camera["id"],
        "from": (now - timedelta(seconds=3)).isoformat(),
        "to": now.isoformat(),
    }
    answer = client.post(f"/api/incidents/{incident['id']}/clips", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    clip = answer.json()
    assert clip["size"] > 1000 and 2.0 <= clip["duration_s"] <= 4.0 and clip["frames"] >= 50
    data = client.get(clip["url"], headers=headers)
    assert data.status_code == 200 and hashlib.sha256(data.content).hexdigest() == clip["sha256"]
    assert data.content[4:8] == b"ftyp"
    timeline = client.get(f"/api/incidents/{incident['id']}/timeline", headers=headers).json()
    assert any(
        e["type"] == "clip.attached" and e["data"]["clip"]["sha256"] == clip["sha256"] for e in timeline
    )

    with client.websocket_connect(
        f"/api/cameras/{camera['id']}/live?access_token={headers['Authorization'][7:]}"
    ) as ws:
        init = json.loads(ws.receive_text())
        assert init["type"] == "init" and init["mime"].startswith('video/mp4; codecs="avc1.')
        assert ws.receive_bytes()[4:8] == b"ftyp"
        # Then the frames, each a fragment of its own (moof + mdat), the camera's state among them.
        fragments = [m["bytes"] for m in (ws.receive() for _ in range(8)) if m.get("bytes")]
        assert len(fragments) >= 5 and all(f[4:8] == b"moof" for f in fragments)


def test_clip_spans_that_cannot_be_cut_are_refused_and_nothing_is_kept(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    answer = client.post(
        "/api/cameras?probe=false", json=_camera(Path("/x"), stream_url="rtsp://127.0.0.1:9/x"), headers=admin
    )
    camera = answer.json()
    headers = login(client, "dispatcher")
    incident = create(client, headers).json()
    now = datetime.now(UTC)
    spans = {
        "clip_in_future": (now, now + timedelta(seconds=30)),
        "clip_too_long": (now - timedelta(hours=2), now),
        "clip_bad_time": (now, now - timedelta(seconds=5)),
    }
    for code, (start, end) in spans.items():
        body = {"camera_id": camera["id"], "from": start.isoformat(), "to": end.isoformat()}
        answer = client.post(f"/api/incidents/{incident['id']}/clips", json=body, headers=headers)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == code, answer.text
    body = {
        "camera_id": camera["id"],
        "from": (now - timedelta(seconds=5)).isoformat(),
        "to": now.isoformat(),
    }
    answer = client.post(f"/api/incidents/{incident['id']}/clips", json=body, headers=headers)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "camera_unavailable", answer.text
    assert client.get(f"/api/incidents/{incident['id']}/clips", headers=headers).json()["clips"] == []
    evidence = services.settings.resolved_evidence_dir
    assert not evidence.exists() or not any(evidence.iterdir())


def test_coverage_and_blind_spots_weigh_uncovered_streets_by_incidents(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    answer = client.post(
        "/api/cameras?probe=false", json=_camera(Path("/x"), stream_url="rtsp://10.0.0.9/1"), headers=admin
    )
    assert answer.status_code == 201
    headers = login(client, "dispatcher")
    # A year's repeat calls on a street ~450 m north, where no camera looks.
    for i in range(24):
        where = {"lat": CENTRE["lat"] + 0.004 + 0.0001 * (i % 3), "lon": CENTRE["lon"]}
        assert create(client, headers, location=where).status_code == 201
    bbox = f"{CENTRE['lon'] - 0.01},{CENTRE['lat'] - 0.006},{CENTRE['lon'] + 0.01},{CENTRE['lat'] + 0.008}"
    layer = client.get(f"/api/cameras/coverage?bbox={bbox}", headers=headers).json()
    totals = layer["properties"]
    assert 0 < totals["covered_m"] < totals["street_m"]
    assert any(f["properties"]["covered"] for f in layer["features"])
    spots = client.get(f"/api/cameras/blind-spots?bbox={bbox}&limit=5&suggest=3", headers=headers).json()
    assert spots["incidents"] == 24
    top = spots["blind_spots"][0]
    assert top["incidents"] >= 12 and abs(top["lat"] - (CENTRE["lat"] + 0.0041)) < 0.002
    assert len(spots["suggestions"]) == 3 and spots["suggestions"][0]["adds_m"] > 0
    assert spots["geojson"]["type"] == "FeatureCollection"
    # A community asks for a camera on a street far from the calls: weighed, it leads.
    asked = f"{CENTRE['lat'] - 0.005},{CENTRE['lon'] + 0.008},60"
    wished = client.get(
        f"/api/cameras/blind-spots?bbox={bbox}&limit=3&suggest=0&request={asked}", headers=headers
    )
    assert wished.json()["requests"] == 1
    assert abs(wished.json()["blind_spots"][0]["lat"] - (CENTRE["lat"] - 0.005)) < 0.002, wished.json()
    bad = client.get(f"/api/cameras/blind-spots?bbox={bbox}&request=45.7,north", headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_request_point"
    refused = client.get("/api/cameras/coverage?bbox=126.0,45.0,127.0,46.0", headers=headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "bbox_too_large"


def test_a_station_commander_cannot_move_a_camera_out_of_reach_and_nothing_changes(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    from tests.conftest import PASSWORD

    camera = client.post(
        "/api/cameras?probe=false", json=_camera(Path("/x"), stream_url="rtsp://10.0.0.9/1"), headers=admin
    ).json()
    services.auth.accounts.create_user("chief-south", PASSWORD, Role.COMMANDER, station_id="south")
    chief = login(client, "chief-south")
    moved = client.patch(
        f"/api/cameras/{camera['id']}", json={"station_id": "north", "name": "moved"}, headers=chief
    )
    assert moved.status_code == 403 and moved.json()["error"]["code"] == "out_of_jurisdiction"
    after = client.get(f"/api/cameras/{camera['id']}", headers=admin).json()
    assert (after["station_id"], after["name"]) == ("south", camera["name"])
    renamed = client.patch(f"/api/cameras/{camera['id']}", json={"name": "北门 2"}, headers=chief)
    assert renamed.status_code == 200 and renamed.json()["name"] == "北门 2"


def test_camera_states_reach_only_those_who_may_watch_cameras(services: Services) -> None:
    from jingwu.api.routers.live import for_viewer
    from jingwu.bus import BusMessage
    from jingwu.domain.access import Jurisdiction, Principal

    message = BusMessage(id=1, type="camera.state", payload={"data": {"camera": {"station_id": "south"}}})

    def viewer(role: Role, jurisdiction: str) -> Principal:
        return Principal("u", "u", role, None, None, Jurisdiction.parse(jurisdiction))

    assert for_viewer(message, viewer(Role.DISPATCHER, "city"), services) is message
    assert for_viewer(message, viewer(Role.DISPATCHER, "station:south"), services) is message
    assert for_viewer(message, viewer(Role.DISPATCHER, "station:north"), services) is None
    assert for_viewer(message, viewer(Role.ANALYST, "city"), services) is None
