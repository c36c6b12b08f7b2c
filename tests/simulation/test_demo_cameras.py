"""The demo city's cameras (simulation.cameras): the eight street cameras and the thrown-object
camera at the foot of a residential tower, calibrated as the API would, its generated scene drawn
on a thread of its own at the first start (whole or not at all) and kept for the next; a demo
begun before it had one gets it at its next start; and, played by a real video worker, the
scene's throw opens a thrown-object incident with the floor and window of the truth, its next
loop falling within the repeat rule's minute."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import av
import pytest

from jingwu.composition import Services
from jingwu.domain.cameras import CameraKind, CameraOwner
from jingwu.domain.throws import REPEAT_WINDOW
from jingwu.simulation import cameras as demo_cameras
from jingwu.simulation.cameras import THROW_CAMERA, THROW_NAME, draw_throw_scene, seed_demo_cameras
from jingwu.vision.throws.calibration import load_calibration, parse_calibration
from jingwu.vision.throws.scan import scan_video
from tests.conftest import ServicesFactory

NAME = THROW_NAME


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The thrown-object scene drawn once for the module."""
    folder = tmp_path_factory.mktemp("demo-clips")
    draw_throw_scene(folder)
    return folder


@pytest.fixture
def fresh(make_services: ServicesFactory) -> Services:
    """Services as at a demo's first start: nothing in the video folder."""
    return make_services(use_clock=False)


@pytest.fixture
def services(fresh: Services, drawn: Path) -> Services:
    """Services whose video folder already holds the drawn scene (a later start's)."""
    folder = fresh.settings.resolved_video_file_dir
    folder.mkdir(parents=True, exist_ok=True)
    for path in drawn.glob(f"{NAME}.*"):
        shutil.copy(path, folder / path.name)
    return fresh


def _throw_camera(services: Services) -> Any:
    [camera] = [c for c in services.video.cameras() if c.name == THROW_CAMERA["name"]]
    return camera


def test_the_scene_is_a_clear_day_throw_from_a_high_floor_twenty_seconds_into_forty(drawn: Path) -> None:
    truth = json.loads((drawn / f"{NAME}.truth.json").read_text(encoding="utf-8"))
    assert (truth["width"], truth["height"], truth["fps"], truth["frames"]) == (640, 360, 25.0, 1000)
    assert truth["night"] is False and truth["distractors"] == ["clouds"]
    [throw] = truth["throws"]
    floors = truth["calibration"]["facade"]["floors"]
    assert throw["kind"] in ("box", "bag") and throw["size_px"] >= 4.5
    assert throw["floor"] >= 0.8 * floors, (throw["floor"], floors)
    assert throw["launch_frame"] == 500 and throw["landing_frame"] < 700
    # Replayed in a loop, the next throw is first seen well within the repeat rule's minute of
    # this one's landing: a note on the open incident, not a new one every 40 s.
    flight = timedelta(seconds=(throw["landing_frame"] - throw["launch_frame"]) / 25)
    assert timedelta(seconds=demo_cameras.THROW_CLIP_SECONDS) - flight < REPEAT_WINDOW
    with av.open(str(drawn / f"{NAME}.mp4")) as video:
        stream = video.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 360)
        assert stream.frames == 1000


def test_the_demo_registers_the_thrown_object_camera_calibrated_beside_the_street_cameras(
    services: Services,
) -> None:
    folder = services.settings.resolved_video_file_dir
    kept = (folder / f"{NAME}.mp4").stat().st_mtime_ns
    assert seed_demo_cameras(services) == 9
    assert (folder / f"{NAME}.mp4").stat().st_mtime_ns == kept  # the scene was there: not drawn again
    camera = _throw_camera(services)
    assert camera.kind is CameraKind.FIXED and camera.owner is CameraOwner.PROPERTY
    assert camera.community == "外侨花园" and camera.view is not None and camera.view.tilt_deg > 0
    assert camera.position is not None and camera.stream_url == f"file://{folder / NAME}.mp4"
    written = json.loads((folder / f"{NAME}.calibration.json").read_text(encoding="utf-8"))
    assert camera.throw_calibration == parse_calibration(written).to_json()
    assert services.video.registry.throw_calibrations() == {camera.id: camera.throw_calibration}
    # A later start adds nothing.
    assert seed_demo_cameras(services) == 0
    assert len(services.video.cameras()) == 9


def test_a_demo_begun_before_the_thrown_object_camera_gets_it_at_its_next_start(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_cameras, "_seed_throw_camera", lambda *_, **__: 0)
    assert seed_demo_cameras(services) == 8  # as the demo was before it
    monkeypatch.undo()
    assert seed_demo_cameras(services) == 1
    assert _throw_camera(services).throw_calibration is not None
    assert len(services.video.cameras()) == 9


def test_the_first_start_draws_the_scene_in_the_background_whole_or_not_at_all(fresh: Services) -> None:
    folder = fresh.settings.resolved_video_file_dir
    # What a start cut short while drawing left behind: half a clip, in the drawing's own folder.
    leftover = folder / f".{NAME}.drawing"
    leftover.mkdir(parents=True)
    (leftover / f"{NAME}.mp4").write_bytes(b"half a clip")
    assert seed_demo_cameras(fresh) == 9
    camera = _throw_camera(fresh)
    assert camera.throw_calibration is not None
    assert not (folder / f"{NAME}.mp4").exists()  # being drawn: the demo does not wait for it
    assert _until(lambda: (folder / f"{NAME}.mp4").exists(), 60), "the clip was not drawn"
    assert not leftover.exists()
    with av.open(str(folder / f"{NAME}.mp4")) as video:
        assert video.streams.video[0].frames == 1000
    written = json.loads((folder / f"{NAME}.calibration.json").read_text(encoding="utf-8"))
    assert camera.throw_calibration == parse_calibration(written).to_json()


def _until(condition: Callable[[], Any], within_s: float) -> Any:
    deadline = time.monotonic() + within_s
    while not (found := condition()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def test_the_detector_finds_the_demo_scenes_throw_at_its_floor_and_window(drawn: Path) -> None:
    """What the demo camera's worker will see (tests/service/video/test_throws.py plays a scene
    through a real worker; here the demo's own clip is only scanned, which is quicker)."""
    truth = json.loads((drawn / f"{NAME}.truth.json").read_text(encoding="utf-8"))["throws"][0]
    result = scan_video(drawn / f"{NAME}.mp4", load_calibration(drawn / f"{NAME}.calibration.json"))
    [event] = result.events
    assert (event.floor, event.column) == (truth["floor"], truth["column"])
    assert truth["launch_frame"] - 3 <= event.frame <= truth["launch_frame"] + 10
