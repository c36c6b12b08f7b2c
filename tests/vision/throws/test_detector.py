"""The detector on short generated clips: a throw found with its floor and window, the JSON the
command prints, distractors without a throw left alone, and each bad input a clear error; and a
stray point at a throw's start left out of what it reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jingwu.cli import main
from jingwu.vision.throws.calibration import CalibrationError, load_calibration
from jingwu.vision.throws.detector import ThrowDetector
from jingwu.vision.throws.motion import Blob
from jingwu.vision.throws.scan import VideoUnreadable, scan_video
from jingwu.vision.throws.synth import random_scene, write_scene
from jingwu.vision.throws.tracks import Track
from tests.vision.throws.test_physics import FPS, HEIGHT, WIDTH, flight, geometry, window


@pytest.fixture(scope="module")
def throw_scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    """A day scene, 640×360, one bag thrown from floor 13 (seed 100)."""
    folder = tmp_path_factory.mktemp("throws")
    spec = random_scene(
        100,
        width=640,
        height=360,
        duration_s=5.0,
        throws=1,
        distractors=(),
        night=False,
        kinds=("box", "bag"),
    )
    video = write_scene(spec, folder, "day")
    truth = json.loads((folder / "day.truth.json").read_text(encoding="utf-8"))
    return video, folder / "day.calibration.json", truth


def test_a_throw_is_found_with_its_floor_and_window(throw_scene: tuple[Path, Path, dict[str, Any]]) -> None:
    video, calibration, truth = throw_scene
    (throw,) = truth["throws"]
    result = scan_video(video, load_calibration(calibration))
    assert result.frames == truth["frames"]
    (event,) = result.events
    assert throw["launch_frame"] <= event.frame <= throw["launch_frame"] + 5
    assert (event.floor, event.column) == (throw["floor"], throw["column"])
    assert event.floor_uncertainty < 0.5
    # Its track follows the object: every point within a few pixels of where it truly was.
    where = {f: (u, v) for f, u, v in throw["track"]}
    off = [abs(u - where[f][0]) + abs(v - where[f][1]) for f, u, v in event.track if f in where]
    assert len(off) >= 0.8 * len(event.track) and max(off) < 12


def test_the_command_prints_the_events_as_json(
    throw_scene: tuple[Path, Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    video, calibration, truth = throw_scene
    assert main(["throws", "detect", str(video), "--calibration", str(calibration), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"video", "fps", "frames", "processing_fps", "events"}
    assert printed["fps"] == 25.0 and printed["frames"] == truth["frames"] and printed["processing_fps"] > 0
    (event,) = printed["events"]
    assert set(event) == {"frame", "t_s", "floor", "column", "floor_uncertainty", "confidence", "track"}
    assert event["t_s"] == pytest.approx(event["frame"] / 25.0, abs=0.001)
    assert event["floor"] == truth["throws"][0]["floor"]
    assert all(len(point) == 3 and isinstance(point[0], int) for point in event["track"])
    assert 0 < event["confidence"] <= 1


def test_birds_leaves_paper_insects_lights_and_shake_raise_nothing(tmp_path: Path) -> None:
    spec = random_scene(
        203,
        width=640,
        height=360,
        duration_s=8.0,
        throws=0,
        distractors=("birds", "leaves", "paper", "insects", "lights", "clouds", "shake"),
        night=False,
    )
    video = write_scene(spec, tmp_path, "busy")
    result = scan_video(video, load_calibration(tmp_path / "busy.calibration.json"))
    assert result.events == ()
    assert sum(result.rejected.values()) > 50  # there was plenty to refuse


def test_each_bad_input_is_a_clear_error(
    throw_scene: tuple[Path, Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video, calibration, _ = throw_scene
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x01 not a video " * 500)
    with pytest.raises(VideoUnreadable, match="cannot be decoded"):
        scan_video(garbage, load_calibration(calibration))
    with pytest.raises(VideoUnreadable, match="no video file"):
        scan_video(tmp_path / "absent.mp4", load_calibration(calibration))

    facade = json.loads(calibration.read_text(encoding="utf-8"))
    cases = {
        "floors": ({**facade["facade"], "floors": 0}, "floors must be at least 1"),
        "bow tie": (
            {**facade["facade"], "corners_px": [facade["facade"]["corners_px"][i] for i in (0, 2, 1, 3)]},
            "convex",
        ),
        "upside down": (
            {**facade["facade"], "corners_px": [facade["facade"]["corners_px"][i] for i in (3, 2, 1, 0)]},
            "wrong way",
        ),
        "elsewhere": (
            {**facade["facade"], "corners_px": [[u + 5000, v] for u, v in facade["facade"]["corners_px"]]},
            "the camera looks away from the wall",
        ),
    }
    for name, (bad, words) in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"facade": bad}), encoding="utf-8")
        assert main(["throws", "detect", str(video), "--calibration", str(path), "--json"]) == 2, name
        captured = capsys.readouterr()
        assert captured.out == "" and words in captured.err, (name, captured.err)
    assert main(["throws", "detect", str(garbage), "--calibration", str(calibration)]) == 2
    assert "cannot be decoded" in capsys.readouterr().err
    assert main(["throws", "detect", str(video), "--calibration", str(tmp_path / "none.json")]) == 2
    assert "no calibration file" in capsys.readouterr().err
    with pytest.raises(CalibrationError):
        load_calibration(tmp_path / "none.json")


def test_a_stray_blob_at_a_throws_start_is_left_out_of_the_event() -> None:
    """The tracker took something else for the throw's first point, 60 px off: the throw is
    reported from its first true point, where the object was."""
    geo, project = geometry()
    x, y = window(12, 3)
    track = Track(1)
    for i, point in enumerate(flight((x, y, 0.2), (0.2, 0.5, 1.2), terminal=30, seconds=3)):
        u, v = project(*point)
        if i == 0:
            u, v = u - 60.0, v + 10.0
        track.add(40 + i, Blob(u, v, 12, 4, 4, 40.0))
    detector = ThrowDetector(geo.calibration, WIDTH, HEIGHT, FPS)

    (event,) = detector._judge([track])

    assert (event.floor, event.column) == (12, 3)
    assert event.frame == 41 and event.track[0][0] == 41
    assert len(event.track) == len(track.to_lowest().frames) - 1
