"""Labelled test videos for high-altitude thrown-object detection (高空抛物): a camera at the foot of a
residential tower looking up, objects thrown from its windows, birds, leaves, rain and the rest as
distractors, and the ground truth of where each throw came from and where it was in every frame.

Scenes are deterministic from their seed (``random_scene``, ``bench_suite``); ``render_scene``
draws and encodes one (H.264 MP4) and returns its ground truth; ``write_scene`` also writes the
truth and the calibration the detector gets beside the video. The still picture is drawn once per
clip; each frame then only copies it and draws what moves, so 1080p renders at encoder speed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from jingwu.vision.throws.synth_actors import (
    Actor,
    Birds,
    Clouds,
    Debris,
    Insects,
    Lights,
    Noise,
    Rain,
    Snow,
    ThrowActor,
    apply_shake,
    shake_offsets,
    throw_colour,
)
from jingwu.vision.throws.synth_facade import (
    cloud_layer,
    composite,
    sample_style,
    sky_and_ground,
    texture_scale,
    wall_texture,
    warp_facade,
    window_rect,
)
from jingwu.vision.throws.synth_sample import bench_suite, random_scene
from jingwu.vision.throws.synth_scene import (
    DISTRACTORS,
    KINDS,
    BuildingSpec,
    CameraSpec,
    SceneSpec,
    ThrowSpec,
    calibration,
    camera_matrices,
    flight_frames,
    launch_point,
    project,
    throw_flight,
)

__all__ = [
    "DISTRACTORS",
    "KINDS",
    "BuildingSpec",
    "CameraSpec",
    "SceneSpec",
    "ThrowSpec",
    "bench_suite",
    "draw_scene",
    "random_scene",
    "render_scene",
    "write_scene",
]

#: Each part of the renderer draws from its own generator, seeded (scene seed, tag).
_TAGS = {
    "style": 101,
    "lit": 102,
    "texture": 103,
    "sky": 104,
    "clouds": 105,
    "throws": 106,
    "noise": 107,
    "shake": 108,
    **{name: 200 + i for i, name in enumerate(DISTRACTORS)},
}
_GOP = 50
#: x264's settings: fast enough that encoding 1080p keeps pace with drawing it, fine enough that a
#: one-pixel object's faint streak survives.
X264_PRESET = "veryfast"
X264_CRF = 22


def _rng(spec: SceneSpec, part: str) -> np.random.Generator:
    return np.random.default_rng([spec.seed, _TAGS[part]])


def _toggle_candidates(spec: SceneSpec, rng: np.random.Generator) -> np.ndarray:
    """Windows the "lights" distractor may switch: twice the handful wanted, among those whose centre
    is in the picture (balconies may still hide some; :func:`_window_masks` drops those)."""
    b = spec.building
    K, R, t = camera_matrices(spec.camera, spec.width, spec.height)
    cells = [(f, c) for f in range(1, b.floors + 1) for c in range(1, b.columns + 1)]
    centres = np.array([[b.column_x(c), (f - 0.5) * b.floor_height_m, 0.0] for f, c in cells])
    uv, _ = project(K, R, t, centres)
    seen = [k for k, (u, v) in enumerate(uv) if 0 <= u < spec.width and 0 <= v < spec.height]
    wanted = int(rng.integers(4, 13)) if spec.night else int(rng.integers(2, 6))
    flip = np.zeros((b.floors, b.columns), bool)
    for k in rng.choice(seen, min(len(seen), 2 * wanted), replace=False) if seen else []:
        f, c = cells[int(k)]
        flip[f - 1, c - 1] = True
    return flip


def _window_masks(
    spec: SceneSpec, style: Any, flip: np.ndarray, base: np.ndarray, flipped: np.ndarray, most: int
) -> list[tuple[int, int, int, int, np.ndarray]]:
    """Up to ``most`` flipped windows that show: each one's box in the picture and where inside it
    the two pictures differ clearly (at least 3 pixels by more than 12 levels)."""
    K, R, t = camera_matrices(spec.camera, spec.width, spec.height)
    out = []
    for f, c in zip(*np.nonzero(flip), strict=True):
        x0, x1, y0, y1 = window_rect(spec.building, style, int(f) + 1, int(c) + 1)
        uv, _ = project(K, R, t, np.array([[x0, y0, 0], [x1, y0, 0], [x1, y1, 0], [x0, y1, 0]]))
        u0, v0 = np.maximum(np.floor(uv.min(axis=0)).astype(int) - 2, 0)
        u1, v1 = np.minimum(np.ceil(uv.max(axis=0)).astype(int) + 3, (spec.width, spec.height))
        if u1 <= u0 or v1 <= v0:
            continue
        diff = cv2.absdiff(base[v0:v1, u0:u1], flipped[v0:v1, u0:u1]).max(axis=2)
        if int((diff > 12).sum()) >= 3:
            out.append((int(u0), int(v0), int(u1), int(v1), diff > 2))
    return out[:most]


class _Stage:
    """The still picture of a scene and the sky mask the clouds drift in."""

    def __init__(self, spec: SceneSpec):
        self.style = style = sample_style(_rng(spec, "style"), spec.night)
        b = spec.building
        lit_rng = _rng(spec, "lit")
        share = lit_rng.uniform(0.15, 0.45) if spec.night else 0.0
        self.lit = lit_rng.random((b.floors, b.columns)) < share
        self.ppm = texture_scale(spec)
        under, open_sky = sky_and_ground(spec, style, _rng(spec, "sky"))
        self.under = under
        facade = warp_facade(
            spec, style, wall_texture(spec, style, _rng(spec, "texture"), self.ppm, self.lit), self.ppm
        )
        self.picture = composite(under, facade)
        self.sky = cv2.multiply(open_sky, 255 - facade.coverage, scale=1 / 255)

    def flipped(self, spec: SceneSpec, flip: np.ndarray) -> np.ndarray:
        """The still picture with the lights of ``flip``'s windows switched."""
        texture = wall_texture(spec, self.style, _rng(spec, "texture"), self.ppm, self.lit ^ flip)
        return composite(self.under, warp_facade(spec, self.style, texture, self.ppm))


def _clouds(spec: SceneSpec, stage: _Stage) -> Clouds:
    rng = _rng(spec, "clouds")
    heavy = "clouds" in spec.distractors
    cover = rng.uniform(0.45, 0.75) if heavy else rng.uniform(0.1, 0.45)
    fast = heavy and rng.random() < 0.5
    speed = (rng.uniform(15, 60) if fast else rng.uniform(1, 6)) * spec.height / 1080 * rng.choice([-1, 1])
    strip = spec.width + int(abs(speed) * spec.duration_s) + 4
    layer = cloud_layer(rng, spec.height, strip, cover, 0.6 if spec.night else 0.9)
    return Clouds(spec, layer, float(speed), stage.style.cloud, stage.sky)


def _truth_throw(
    spec: SceneSpec, throw: ThrowSpec, track: list[tuple[int, float, float, float]]
) -> dict[str, Any]:
    K, R, t = camera_matrices(spec.camera, spec.width, spec.height)
    start = launch_point(spec.building, throw)
    _, depth = project(K, R, t, start[None, :])
    return {
        "floor": throw.floor,
        "column": throw.column,
        "kind": throw.kind,
        "launch_frame": track[0][0],
        "landing_frame": track[-1][0],
        "size_px": round(float(K[0, 0] * throw.diameter_m / depth[0]), 2),
        "launch_world": [round(float(x), 3) for x in start],
        "track": [[i, round(u, 1), round(v, 1)] for i, u, v, _ in track],
    }


def _behind(spec: SceneSpec, picture: np.ndarray, throw: ThrowSpec) -> np.ndarray:
    """The median colour of the still picture around the throw's launch point."""
    K, R, t = camera_matrices(spec.camera, spec.width, spec.height)
    (u, v), _ = (q[0] for q in project(K, R, t, launch_point(spec.building, throw)[None, :]))
    x, y = int(np.clip(round(u), 0, spec.width - 1)), int(np.clip(round(v), 0, spec.height - 1))
    patch = picture[max(0, y - 3) : y + 4, max(0, x - 3) : x + 4].reshape(-1, 3)
    return np.median(patch, axis=0)


def draw_scene(spec: SceneSpec) -> tuple[dict[str, Any], Iterator[np.ndarray]]:
    """The scene's ground truth (``"video"`` left empty) and its frames (RGB, uint8), each drawn when
    the iterator reaches it: the still picture, then the actors in order, the shake, the noise. A
    throw never in the picture is left out of the truth."""
    stage = _Stage(spec)
    picture = stage.picture
    if "rain" in spec.distractors:  # rain hazes the view
        picture = cv2.addWeighted(picture, 0.85, np.full_like(picture, stage.style.sky_horizon), 0.15, 0)
    shake = (
        shake_offsets(spec, _rng(spec, "shake"))
        if "shake" in spec.distractors
        else np.zeros((spec.frames, 2))
    )
    actors: list[Actor] = [_clouds(spec, stage)]
    if "lights" in spec.distractors:
        lights_rng = _rng(spec, "lights")
        flip = _toggle_candidates(spec, lights_rng)
        flipped = stage.flipped(spec, flip)
        if "rain" in spec.distractors:
            flipped = cv2.addWeighted(flipped, 0.85, np.full_like(flipped, stage.style.sky_horizon), 0.15, 0)
        windows = _window_masks(spec, stage.style, flip, picture, flipped, max(1, int(flip.sum()) // 2))
        actors.append(Lights(spec, lights_rng, flipped, windows))
    if "birds" in spec.distractors:
        actors.append(Birds(spec, _rng(spec, "birds")))
    for kind in ("leaves", "paper"):
        if kind in spec.distractors:
            actors.append(Debris(spec, _rng(spec, kind), kind))
    throws_rng = _rng(spec, "throws")
    truths = []
    for throw in spec.throws:
        flight = throw_flight(spec, throw)
        track = flight_frames(spec, flight, shake)
        colour = throw_colour(throw, _behind(spec, stage.picture, throw), spec.night, throws_rng)
        if track:
            truths.append(_truth_throw(spec, throw, track))
            actors.append(ThrowActor(spec, throw, flight, colour, {i for i, *_ in track}))
    near: tuple[tuple[str, type[Snow | Rain | Insects]], ...] = (
        ("snow", Snow),
        ("rain", Rain),
        ("insects", Insects),
    )
    for name, maker in near:
        if name in spec.distractors:
            actors.append(maker(spec, _rng(spec, name)))
    loud = spec.night or "noise" in spec.distractors
    noise_rng = _rng(spec, "noise")
    noise = Noise(spec, noise_rng, noise_rng.uniform(3, 8) if loud else noise_rng.uniform(1, 2))
    K, R, t = camera_matrices(spec.camera, spec.width, spec.height)
    truth = {
        "video": "",
        "fps": spec.fps,
        "frames": spec.frames,
        "width": spec.width,
        "height": spec.height,
        "night": spec.night,
        "seed": spec.seed,
        "distractors": list(spec.distractors),
        "calibration": calibration(spec),
        "camera": {
            "K": K.tolist(),
            "R": R.tolist(),
            "t": t.tolist(),
            "position_m": list(spec.camera.position_m),
        },
        "throws": truths,
    }

    def frames() -> Iterator[np.ndarray]:
        for i in range(spec.frames):
            frame = picture.copy()
            for actor in actors:
                actor.draw(frame, i)
            frame = apply_shake(frame, shake[i])
            noise.apply(frame)
            yield frame

    return truth, frames()


def render_scene(spec: SceneSpec, video_path: Path) -> dict[str, Any]:
    """Draw and encode the scene to ``video_path`` (H.264 MP4) and return its ground truth."""
    truth, frames = draw_scene(spec)
    _encode(spec, video_path, frames)
    return {**truth, "video": video_path.name}


def _encode(spec: SceneSpec, path: Path, frames: Iterator[np.ndarray]) -> None:
    """The frames into libx264 (yuv420p) in an MP4. The pictures are the same for the same scene;
    x264's bitstream is not always bit for bit (it varied by a level or two on a loaded machine)."""
    rate = Fraction(spec.fps).limit_denominator(1001)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {
        "preset": X264_PRESET,
        "crf": str(X264_CRF),
        "x264-params": f"keyint={_GOP}:min-keyint={min(_GOP, 25)}",
    }
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate, options=options)
        assert isinstance(stream, av.VideoStream)  # for the type checker: a video encoder's stream
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.gop_size = _GOP
        for i, frame in enumerate(frames):
            out = av.VideoFrame.from_ndarray(frame, format="rgb24")
            out.pts = i
            out.time_base = 1 / rate
            container.mux(stream.encode(out))
        container.mux(stream.encode(None))


def write_scene(spec: SceneSpec, out_dir: Path, name: str) -> Path:
    """Write ``name``.mp4, ``name``.truth.json and ``name``.calibration.json into ``out_dir``; returns
    the video's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / f"{name}.mp4"
    truth = render_scene(spec, video)
    (out_dir / f"{name}.truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    (out_dir / f"{name}.calibration.json").write_text(
        json.dumps(truth["calibration"], indent=2), encoding="utf-8"
    )
    return video
