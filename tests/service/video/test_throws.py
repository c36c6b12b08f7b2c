"""Thrown objects from the workers to the command room: a report opens a priority-2 sensor
incident at the camera with its snapshot attached, its row kept and a ``throw.detected`` event; a
second within a minute, while that incident is open, is a note on it with its own row; and, on a
generated throw scene played as a camera by a real worker, the floor is found, the incident
reaches the bus within two seconds of the landing, and an evidence clip is cut."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from jingwu.bus import BusMessage
from jingwu.composition import Services
from jingwu.domain.events import EventType
from jingwu.domain.status import IncidentStatus, SourceChannel
from jingwu.domain.throws import THROW_TYPE_CODE
from jingwu.service.video.supervisor import VideoSupervisor
from tests.conftest import ServicesFactory
from tests.video.throw_scene import throw_scene

NOW_MS = int(datetime(2027, 3, 1, 8, 0, tzinfo=UTC).timestamp() * 1000)
#: An 18-storey facade of four window columns, as drawn on a 640×360 still of a camera looking up.
FACADE = {
    "corners_px": [[180.0, 340.0], [460.0, 340.0], [420.0, 30.0], [220.0, 30.0]],
    "floors": 18,
    "columns": 4,
    "floor_height_m": 2.9,
}


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 36), (90, 120, 150)).save(out, format="JPEG")
    return out.getvalue()


def _camera(services: Services, url: str = "rtsp://10.0.0.9/1", name: str = "3号楼 南侧") -> str:
    fields = {
        "name": name,
        "kind": "fixed",
        "stream_url": url,
        "lat": 45.756,
        "lon": 126.642,
        "heading_deg": 0,
        "community": "保健小区",
    }
    return services.video.add(fields, actor="test", source=None, probe=False).id


def report(
    camera_id: str, first_ms: int, *, floor: int | None = 12, column: int | None = 3
) -> dict[str, Any]:
    """A worker's throw report as video.throws_feed sends it."""
    return {
        "type": "throw",
        "camera_id": camera_id,
        "event": {
            "frame": 100,
            "t_s": 4.0,
            "floor": floor,
            "column": column,
            "floor_uncertainty": 0.4,
            "confidence": 0.83,
            "track": [[100, 320.0, 80.5], [101, 320.4, 90.0], [102, 320.9, 101.2]],
            "last_frame": 140,
            "launch_px": [320.0, 78.0],
        },
        "first_wall_ms": first_ms,
        "landed_wall_ms": first_ms + 1600,
        "snapshot": _jpeg(),
        "at": first_ms / 1000 + 2,
    }


@pytest.fixture
def services(make_services: ServicesFactory) -> Services:
    built = make_services(use_clock=False)
    built.video.throws.sleep = lambda _s: None  # no worker reads the test's cameras: the clip fails fast
    return built


def _heard(services: Services) -> list[BusMessage]:
    heard: list[BusMessage] = []
    services.bus.subscribe(heard.append)
    return heard


def _until_heard(heard: list[BusMessage], kind: EventType, timeout: float = 5.0) -> None:
    """The bus delivers on a thread of its own: wait for ``kind`` to have arrived."""
    deadline = time.monotonic() + timeout
    while not any(m.type == kind for m in heard) and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_throw_opens_a_sensor_incident_at_the_camera_with_its_snapshot_and_row(services: Services) -> None:
    camera_id = _camera(services)
    heard = _heard(services)
    detection = services.video.throws.record(report(camera_id, NOW_MS))
    assert detection is not None
    incident = services.dispatch.get_incident(detection.incident_id)
    assert (incident.type_code, incident.priority, incident.source) == (
        THROW_TYPE_CODE,
        2,
        SourceChannel.SENSOR,
    )
    assert incident.status is IncidentStatus.PENDING and incident.created_by == "video"
    assert (incident.location.lat, incident.location.lon) == (45.756, 126.642)
    assert incident.station_id == services.video.registry.get(camera_id).station_id
    assert incident.address == "保健小区 3号楼 南侧"
    assert incident.description is not None
    assert "12层 第3列窗" in incident.description and "floor 12, window column 3" in incident.description
    assert "0.83" in incident.description
    [photo] = services.dispatch.list_attachments(incident.id)
    assert photo.content_type == "image/jpeg" and photo.id == detection.snapshot_attachment_id
    [row] = services.video.throws.for_incident(incident.id)
    assert row["detected_at"] == datetime.fromtimestamp(NOW_MS / 1000, UTC).isoformat()
    assert row["landed_at"] == datetime.fromtimestamp((NOW_MS + 1600) / 1000, UTC).isoformat()
    assert (row["floor"], row["column"], row["confidence"]) == (12, 3, 0.83)
    assert row["track"] == [[100, 320.0, 80.5], [101, 320.4, 90.0], [102, 320.9, 101.2]]
    assert (row["camera_name"], row["community"]) == ("3号楼 南侧", "保健小区")
    _until_heard(heard, EventType.THROW_DETECTED)
    types = [m.type for m in heard]
    assert types.index(EventType.INCIDENT_CREATED) < types.index(EventType.THROW_DETECTED)
    detected = next(m for m in heard if m.type == EventType.THROW_DETECTED)
    data = detected.payload["data"]
    assert data["camera"]["id"] == camera_id and data["throw"] == row and data["repeat"] is False
    # No worker reads this camera: the clip is tried and given up, the row stays without one.
    services.video.throws.wait_for_clips(5)
    assert services.video.throws.for_incident(incident.id)[0]["clip_id"] is None


def test_a_second_throw_within_a_minute_is_a_note_on_the_open_incident(services: Services) -> None:
    camera_id = _camera(services)
    other = _camera(services, "rtsp://10.0.0.10/1", "5号楼")
    first = services.video.throws.record(report(camera_id, NOW_MS))
    assert first is not None
    heard = _heard(services)
    again = services.video.throws.record(report(camera_id, NOW_MS + 30_000, floor=None, column=None))
    assert again is not None and again.incident_id == first.incident_id
    _until_heard(heard, EventType.INCIDENT_NOTE_ADDED)
    _until_heard(heard, EventType.THROW_DETECTED)
    notes = [m for m in heard if m.type == EventType.INCIDENT_NOTE_ADDED]
    assert len(notes) == 1 and "楼层不明" in notes[0].payload["data"]["text"]
    assert "floor unknown" in notes[0].payload["data"]["text"]
    assert not [m for m in heard if m.type == EventType.INCIDENT_CREATED]
    rows = services.video.throws.for_incident(first.incident_id)
    assert [r["id"] for r in rows] == [first.id, again.id] and rows[1]["floor"] is None
    assert len(services.dispatch.list_attachments(first.incident_id)) == 2
    # Another camera's throw is its own call; so is one more than a minute after the last landing.
    elsewhere = services.video.throws.record(report(other, NOW_MS + 31_000))
    assert elsewhere is not None and elsewhere.incident_id != first.incident_id
    late = services.video.throws.record(report(camera_id, NOW_MS + 30_000 + 1600 + 61_000))
    assert late is not None and late.incident_id not in (first.incident_id, elsewhere.incident_id)
    # A closed incident takes no notes: the next throw opens a call again.
    services.dispatch.close_incident(late.incident_id, disposition="已处置", actor="d")
    after_close = services.video.throws.record(report(camera_id, NOW_MS + 100_000))
    assert after_close is not None and after_close.incident_id != late.incident_id
    services.video.throws.wait_for_clips(5)


def test_a_second_thrower_at_another_window_of_the_tower_is_a_call_of_its_own(services: Services) -> None:
    camera_id = _camera(services)
    first = services.video.throws.record(report(camera_id, NOW_MS, floor=12, column=3))
    assert first is not None
    # Another window, ten seconds later: another thrower.
    other = services.video.throws.record(report(camera_id, NOW_MS + 10_000, floor=7, column=5))
    assert other is not None and other.incident_id != first.incident_id
    # The floor above the first, same column (a floor's uncertainty): the first thrower again.
    again = services.video.throws.record(report(camera_id, NOW_MS + 20_000, floor=13, column=3))
    assert again is not None and again.incident_id == first.incident_id
    # And the second thrower's next throw goes on the second call, not the first.
    second_again = services.video.throws.record(report(camera_id, NOW_MS + 25_000, floor=7, column=5))
    assert second_again is not None and second_again.incident_id == other.incident_id
    services.video.throws.wait_for_clips(5)


def test_a_report_from_a_retired_camera_or_a_garbled_one_changes_nothing(services: Services) -> None:
    camera_id = _camera(services)
    services.video.registry.retire(camera_id, actor="t", source=None)
    assert services.video.throws.record(report(camera_id, NOW_MS)) is None
    live = _camera(services, "rtsp://10.0.0.11/1")
    garbled = report(live, NOW_MS)
    del garbled["event"]["confidence"]
    assert services.video.throws.record(garbled) is None
    assert services.video.throws.recent(station_ids=None, since=None, limit=10) == []
    assert services.dispatch.list_incidents() == []


class _Pipe:
    """The supervisor's end of a worker's pipe, keeping what is sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def close(self) -> None:
        pass


def test_the_supervisor_sends_a_changed_or_removed_calibration_again_with_the_same_cameras(
    services: Services, tmp_path: Path
) -> None:
    camera_id = _camera(services)
    url = services.video.registry.readable()[camera_id]
    heard: list[dict[str, Any]] = []
    supervisor = VideoSupervisor(
        services.engine,
        services.video.registry.readable,
        lambda *_args: None,
        workers=1,
        cameras_per_worker=2,
        buffer_dir=tmp_path,
        keep_s=30,
        keep_bytes=10**8,
        calibrations=services.video.registry.throw_calibrations,
        on_throw=heard.append,
    )
    pipe = _Pipe()
    slot = supervisor.slots[0]
    slot.conn, slot.relay, slot.restart_at = pipe, ("http://127.0.0.1:9", "token"), float("inf")  # type: ignore[assignment]
    try:
        supervisor.tick()
        assert pipe.sent == [{"type": "assign", "cameras": {camera_id: url}, "throws": {}}]
        supervisor.tick()
        assert len(pipe.sent) == 1  # nothing changed, nothing sent
        kept = services.video.throws.calibrate(camera_id, {"facade": FACADE}, actor="t", source=None)
        supervisor.tick()
        assert pipe.sent[-1] == {
            "type": "assign",
            "cameras": {camera_id: url},
            "throws": {camera_id: kept.throw_calibration},
        }
        taller = {"facade": {**FACADE, "floors": 24}}
        services.video.throws.calibrate(camera_id, taller, actor="t", source=None)
        supervisor.tick()
        assert pipe.sent[-1]["throws"][camera_id]["facade"]["floors"] == 24
        services.video.throws.uncalibrate(camera_id, actor="t", source=None)
        supervisor.tick()
        assert pipe.sent[-1] == {"type": "assign", "cameras": {camera_id: url}, "throws": {}}
        assert len(pipe.sent) == 4
        supervisor._handle(slot, {"type": "throw", "camera_id": camera_id})
        assert heard == [{"type": "throw", "camera_id": camera_id}]
    finally:
        supervisor.stop()


def _until(condition: Callable[[], Any], within_s: float) -> Any:
    deadline = time.monotonic() + within_s
    while not (found := condition()):
        if time.monotonic() > deadline:
            return found
        time.sleep(0.1)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("migrated_database_url", ["sqlite"], indirect=True)  # the store: tested above
def test_a_throw_scene_played_as_a_camera_becomes_an_incident_within_two_seconds_with_a_clip(
    make_services: ServicesFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    services = make_services(use_clock=False)
    scene = throw_scene(services.settings.resolved_video_file_dir)
    created_at: dict[str, float] = {}

    def on_message(message: BusMessage) -> None:
        if message.type == EventType.INCIDENT_CREATED:
            created_at[str(message.payload.get("incident_id"))] = time.time()

    services.bus.subscribe(on_message)
    camera_id = _camera(services, f"file://{scene.video}")
    services.video.throws.calibrate(camera_id, scene.calibration, actor="test", source=None)
    services.video.start_workers()
    try:
        rows = _until(lambda: services.video.throws.recent(station_ids=None, since=None, limit=5), 25)
        assert rows, "no throw detected on the scene played as a camera"
        first = rows[-1]
        truth = scene.throw
        assert abs(first["floor"] - truth["floor"]) <= 1 and first["column"] == truth["column"], (
            first,
            truth,
        )
        landed = datetime.fromisoformat(first["landed_at"]).timestamp()
        latency = created_at[first["incident_id"]] - landed
        assert 0 < latency < 2.0, latency
        incident = services.dispatch.get_incident(first["incident_id"])
        assert incident.type_code == THROW_TYPE_CODE and incident.priority == 2
        [photo] = services.dispatch.list_attachments(incident.id)
        assert photo.id == first["snapshot_attachment_id"]
        # The clip: from 5 s before the first sight (or the buffer's start) to 2 s after the landing.
        clip_id = _until(lambda: services.video.throws.for_incident(incident.id)[0]["clip_id"], 15)
        assert clip_id is not None
        clip = services.video.clip(clip_id)
        assert clip.incident_id == incident.id and clip.to_at >= datetime.fromisoformat(
            first["landed_at"]
        ) + timedelta(seconds=1.9)
        # The file plays again: the same throw five seconds later is a note on the open incident.
        both = _until(lambda: len(services.video.throws.for_incident(incident.id)) >= 2 or None, 12)
        assert both, services.video.throws.recent(station_ids=None, since=None, limit=5)
        assert len(services.dispatch.list_incidents()) == 1
        with capsys.disabled():
            print(f"\n[throws] landing → incident on the bus: {latency * 1000:.0f} ms (640×360 file camera)")
    finally:
        services.video.throws.wait_for_clips(15)
        services.video.stop_workers()
