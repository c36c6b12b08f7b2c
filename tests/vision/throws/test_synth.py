"""The generator of labelled throw videos: its ground truth must agree with its own camera and
physics, its videos with its truth, and its scenes with their seeds."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from jingwu.vision.throws.synth import (
    DISTRACTORS,
    KINDS,
    SceneSpec,
    ThrowSpec,
    bench_suite,
    draw_scene,
    random_scene,
    render_scene,
    write_scene,
)
from jingwu.vision.throws.synth_scene import wall_in_view

Rendered = tuple[SceneSpec, dict[str, Any], Path]


def _decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def _render(tmp_path_factory: pytest.TempPathFactory, spec: SceneSpec, name: str) -> Rendered:
    path = tmp_path_factory.mktemp("synth") / f"{name}.mp4"
    return spec, render_scene(spec, path), path


@pytest.fixture(scope="module")
def bottle(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    spec = random_scene(
        7, width=480, height=360, duration_s=3.0, throws=1, kinds=("bottle",), distractors=(), night=False
    )
    return _render(tmp_path_factory, spec, "bottle")


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    spec = random_scene(
        12, width=480, height=360, duration_s=3.0, throws=1, kinds=("box",), distractors=(), night=False
    )
    return _render(tmp_path_factory, spec, "box")


def _world_corners(spec: SceneSpec) -> np.ndarray:
    w, h = spec.building.width_m, spec.building.height_m
    return np.array([[0, 0, 0], [w, 0, 0], [w, h, 0], [0, h, 0]], float)


def test_calibration_corners_are_the_wall_corners_seen_by_the_returned_camera(bottle: Rendered) -> None:
    spec, truth, _ = bottle
    K, R, t = (np.array(truth["camera"][key]) for key in ("K", "R", "t"))
    cam = _world_corners(spec) @ R.T + t
    projected = (cam @ K.T)[:, :2] / cam[:, 2:]
    facade = truth["calibration"]["facade"]
    assert np.allclose(projected, facade["corners_px"], atol=0.01)
    assert np.allclose(-R.T @ t, truth["camera"]["position_m"])
    assert facade["floors"] == spec.building.floors and facade["columns"] == spec.building.columns
    assert len(facade["column_centres"]) == facade["columns"]
    assert facade["protrusion_depth_m"] == spec.building.protrusion_depth_m


def test_a_bottle_falls_at_gravity_from_its_floor(bottle: Rendered) -> None:
    """Back-project the track onto the plane the bottle is in (its outward speed is known) and fit its
    height over the first 0.6 s: a parabola with g ≈ 9.81 (drag is tiny at low speed)."""
    spec, truth, _ = bottle
    (throw,) = truth["throws"]
    K, R = (np.array(truth["camera"][key]) for key in ("K", "R"))
    centre = np.array(truth["camera"]["position_m"])
    _, y0, z0 = throw["launch_world"]
    launch_t = spec.throws[0].launch_t_s
    vz = spec.throws[0].velocity[2]
    times, heights = [], []
    for frame, u, v in throw["track"]:
        ts = frame / truth["fps"]
        if ts - launch_t > 0.6:
            break
        ray = R.T @ np.linalg.solve(K, np.array([u, v, 1.0]))
        mu = (z0 + vz * (ts - launch_t) - centre[2]) / ray[2]
        times.append(ts - launch_t)
        heights.append(centre[1] + mu * ray[1])
    assert len(times) >= 10
    acceleration = 2 * np.polyfit(times, heights, 2)[0]
    assert acceleration == pytest.approx(-9.81, abs=0.8)
    floor_h = spec.building.floor_height_m
    assert (throw["floor"] - 1) * floor_h <= y0 < throw["floor"] * floor_h
    assert (throw["floor"] - 1) * floor_h <= heights[0] < throw["floor"] * floor_h + 0.5
    assert heights[-1] < heights[0] - 0.5


def test_the_video_has_the_stated_frames_and_shows_the_object_where_tracked(box: Rendered) -> None:
    spec, truth, path = box
    frames = _decode(path)
    assert len(frames) == truth["frames"] == spec.frames
    assert frames[0].shape == (truth["height"], truth["width"], 3)
    (throw,) = truth["throws"]
    track = throw["track"]
    assert track[0][0] == throw["launch_frame"] and track[-1][0] == throw["landing_frame"]
    assert throw["launch_frame"] > 0
    background = frames[throw["launch_frame"] - 1].astype(int)  # the last frame before it was thrown
    shown = 0
    for i, u, v in track:
        x, y = round(u), round(v)
        here = frames[i][y - 1 : y + 2, x - 1 : x + 2].astype(int)
        shown += int(np.abs(here - background[y - 1 : y + 2, x - 1 : x + 2]).max() > 12)
    assert shown >= 0.8 * len(track)


def test_the_same_seed_gives_the_same_scene_and_other_seeds_differ() -> None:
    small = {"width": 160, "height": 120, "fps": 10.0, "duration_s": 1.0}
    assert random_scene(3, **small) == random_scene(3, **small)  # type: ignore[arg-type]
    assert random_scene(3, **small) != random_scene(4, **small)  # type: ignore[arg-type]
    spec = dataclasses.replace(random_scene(3, **small), distractors=DISTRACTORS)  # type: ignore[arg-type]
    (one, first), (two, second) = draw_scene(spec), draw_scene(spec)
    assert one == two
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    _, other = draw_scene(random_scene(4, **small))  # type: ignore[arg-type]
    assert not np.array_equal(next(draw_scene(spec)[1]), next(other))


def test_a_negative_scene_has_no_throws(tmp_path: Path) -> None:
    spec = random_scene(5, width=160, height=120, fps=10.0, duration_s=1.0, throws=0)
    assert spec.throws == ()
    assert render_scene(spec, tmp_path / "neg.mp4")["throws"] == []


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    spec = random_scene(
        21, width=320, height=240, fps=10.0, duration_s=2.0, throws=1, distractors=(), night=False
    )
    return _render(tmp_path_factory, spec, "plain")


@pytest.mark.parametrize("name", DISTRACTORS)
def test_every_distractor_renders_and_changes_the_picture(
    name: str, plain: Rendered, tmp_path_factory: pytest.TempPathFactory
) -> None:
    spec, _, plain_path = plain
    busy = dataclasses.replace(spec, distractors=(name,))
    _, truth, path = _render(tmp_path_factory, busy, name)
    assert truth["distractors"] == [name]
    frames, without = _decode(path), _decode(plain_path)
    assert len(frames) == len(without) == spec.frames
    changed = [
        int((np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 15).sum())
        for a, b in zip(frames, without, strict=True)
    ]
    assert max(changed) >= 3  # some pixels clearly changed in some frame


def test_unknown_distractor_and_kind_names_are_refused() -> None:
    with pytest.raises(ValueError, match="fog"):
        random_scene(1, distractors=("fog",))
    with pytest.raises(ValueError, match="piano"):
        random_scene(1, kinds=("piano",))
    with pytest.raises(ValueError, match="piano"):
        ThrowSpec(floor=3, column=1, kind="piano", launch_t_s=1.0, velocity=(0.0, 0.0, 1.0))
    spec = random_scene(1, width=160, height=120, throws=0)
    with pytest.raises(ValueError, match="fog"):
        dataclasses.replace(spec, distractors=("fog",))


def test_random_scenes_keep_the_facade_in_view_and_the_throws_in_the_picture() -> None:
    for seed in range(12):
        spec = random_scene(seed, width=640, height=360)
        seen, covered = wall_in_view(spec)
        assert seen >= 0.8 and covered >= 0.12
        b, cam = spec.building, spec.camera
        assert 6 <= b.floors <= 33 and 3 <= b.columns <= 8 and 2.8 <= b.floor_height_m <= 3.1
        assert b.protrusion_depth_m == 0 or 0.8 <= b.protrusion_depth_m <= 1.5
        assert 12 <= cam.distance_m <= 45 and 20 <= cam.tilt_deg <= 55 and abs(cam.yaw_deg) <= 25
        assert 1 <= len(spec.throws) <= 3
        for throw in spec.throws:
            assert (
                -0.6 <= throw.velocity[0] <= 0.6
                and -1 <= throw.velocity[1] <= 2.5
                and 0.3 <= throw.velocity[2] <= 3
            )


def test_the_bench_suite_covers_day_night_every_kind_and_every_distractor() -> None:
    suite = bench_suite(width=320, height=240)
    positives, negatives = suite[:40], suite[40:]
    assert len(negatives) == 12
    assert {s.night for s in positives} == {True, False} == {s.night for s in negatives}
    assert {t.kind for s in positives for t in s.throws} == set(KINDS)
    assert any(t.kind == "cigarette" for s in positives if s.night for t in s.throws)
    assert {d for s in positives for d in s.distractors} == set(DISTRACTORS)
    for scene in positives:
        times = [t.launch_t_s for t in scene.throws]
        assert 1 <= len(times) <= 3
        assert all(b - a >= 2.0 for a, b in itertools.pairwise(times))
    for scene in negatives:
        assert scene.throws == () and scene.duration_s >= 20
        assert set(DISTRACTORS) - set(scene.distractors) <= {"rain", "snow"}
    assert len({s.seed for s in suite}) == len(suite)


def test_write_scene_writes_the_video_its_truth_and_its_calibration(tmp_path: Path) -> None:
    spec = random_scene(9, width=160, height=120, fps=10.0, duration_s=1.0)
    video = write_scene(spec, tmp_path / "out", "scene-9")
    assert video == tmp_path / "out" / "scene-9.mp4" and video.stat().st_size > 0
    truth = json.loads((tmp_path / "out" / "scene-9.truth.json").read_text(encoding="utf-8"))
    calibration = json.loads((tmp_path / "out" / "scene-9.calibration.json").read_text(encoding="utf-8"))
    assert truth["video"] == "scene-9.mp4" and calibration == truth["calibration"]
    assert set(calibration["facade"]) == {
        "corners_px",
        "floors",
        "columns",
        "floor_height_m",
        "column_centres",
        "protrusion_depth_m",
    }
    for throw in truth["throws"]:
        assert all(0 <= u <= 159 and 0 <= v <= 119 for _, u, v in throw["track"])
