"""Random scenes from a seed: a building, a camera placed so the facade is (mostly) in the picture,
throws from windows that the camera sees, and a mix of distractors; and the benchmark's suite.

Each part draws from its own generator derived from the seed, so asking for another number of
throws or other distractors keeps the same building and camera."""

from __future__ import annotations

import math

import numpy as np

from jingwu.vision.throws.synth_scene import (
    DISTRACTORS,
    KIND_PROPS,
    KINDS,
    BuildingSpec,
    CameraSpec,
    SceneSpec,
    ThrowSpec,
    camera_matrices,
    check_distractor,
    check_kind,
    flight_frames,
    launch_point,
    project,
    throw_flight,
    wall_in_view,
)

#: How likely each distractor is in a random scene, by day and by night.
_DAY_ODDS = {
    "birds": 0.6,
    "leaves": 0.3,
    "paper": 0.2,
    "rain": 0.12,
    "snow": 0.08,
    "insects": 0.2,
    "lights": 0.15,
    "clouds": 0.4,
    "shake": 0.25,
    "noise": 0.1,
}
_NIGHT_ODDS = {**_DAY_ODDS, "birds": 0.15, "lights": 0.7, "noise": 1.0, "insects": 0.4, "clouds": 0.2}
#: The fewest frames a sampled throw must stay in the picture (or until the clip ends).
_MIN_FRAMES_SEEN = 8


def _rounded(x: float, digits: int = 3) -> float:
    return round(float(x), digits)


def sample_building(rng: np.random.Generator) -> BuildingSpec:
    """A residential tower: 6–33 floors, 3–8 window columns (sometimes unevenly spaced), balconies on some."""
    floors = int(rng.integers(6, 34))
    columns = int(rng.integers(3, 9))
    centres = (np.arange(columns) + 0.5) / columns
    if rng.random() < 0.3:
        centres = centres + rng.uniform(-0.2, 0.2, columns) / columns
    protrusion = _rounded(rng.uniform(0.8, 1.5)) if rng.random() < 0.4 else 0.0
    return BuildingSpec(
        floors=floors,
        columns=columns,
        floor_height_m=_rounded(rng.uniform(2.8, 3.1)),
        column_spacing_m=_rounded(rng.uniform(3.0, 4.5)),
        column_centres=tuple(_rounded(c, 4) for c in centres),
        protrusion_depth_m=protrusion,
    )


def sample_camera(
    rng: np.random.Generator, building: BuildingSpec, width: int, height: int, fps: float, night: bool
) -> CameraSpec | None:
    """A camera at the foot of the building aimed so that most of the wall is in the picture and
    fills a fair part of it; None when no try of this building's succeeds."""
    wall_w, wall_h = building.width_m, building.height_m
    for _ in range(300):
        hfov = rng.uniform(50, 100)
        distance = rng.uniform(12, 45)
        x = wall_w / 2 + rng.uniform(-0.45, 0.45) * wall_w
        height_m = rng.uniform(0.8, 4.0)
        yaw = np.clip(math.degrees(math.atan2(wall_w / 2 - x, distance)) + rng.normal(0, 4), -25, 25)
        vfov = 2 * math.degrees(math.atan(math.tan(math.radians(hfov) / 2) * height / width))
        middle = math.degrees(math.atan2(-height_m, distance) + math.atan2(wall_h - height_m, distance)) / 2
        tilt = np.clip(middle + rng.normal(0, 0.12 * vfov), 20, 55)
        shutter = rng.uniform(0.8, 1.0) / fps if night else min(rng.uniform(1 / 250, 1 / 50), 1 / fps)
        camera = CameraSpec(
            x_m=_rounded(x),
            height_m=_rounded(height_m),
            distance_m=_rounded(distance),
            tilt_deg=_rounded(tilt),
            yaw_deg=_rounded(yaw),
            hfov_deg=_rounded(hfov),
            roll_deg=_rounded(rng.uniform(-2, 2)),
            shutter_s=_rounded(shutter, 5),
        )
        probe = SceneSpec(0, width, height, fps, 1.0, night, building, camera)
        seen, covered = wall_in_view(probe)
        if seen >= 0.8 and covered >= 0.12 and _looks_up(probe):
            return camera
    return None


def _looks_up(spec: SceneSpec) -> bool:
    """The wall's top edge is shorter and higher in the picture than its bottom edge (from the foot)."""
    K, R, t = camera_matrices(spec.camera, spec.width, spec.height)
    b = spec.building
    corners = np.array([[0, 0, 0], [b.width_m, 0, 0], [b.width_m, b.height_m, 0], [0, b.height_m, 0]], float)
    uv, _ = project(K, R, t, corners)
    bottom, top = np.linalg.norm(uv[1] - uv[0]), np.linalg.norm(uv[2] - uv[3])
    return bool(top < bottom and uv[2:, 1].mean() < uv[:2, 1].mean() and uv[1, 0] > uv[0, 0])


def launch_times(rng: np.random.Generator, count: int, duration_s: float, gap_s: float = 2.0) -> list[float]:
    """Launch times in order, at least ``gap_s`` apart when the clip is long enough, the last one
    at least 1.2 s before the end so that it is seen falling."""
    if count <= 0:
        return []
    earliest, latest = 0.3, max(0.3, duration_s - 1.2)
    span = latest - earliest
    gap = min(gap_s, span / (count - 1)) if count > 1 else 0.0
    parts = rng.dirichlet(np.ones(count + 1)) * max(0.0, span - gap * (count - 1))
    times, t = [], earliest
    for j in range(count):
        t += parts[j] + (gap if j else 0.0)
        times.append(_rounded(t))
    return times


def sample_throw(
    rng: np.random.Generator, scene: SceneSpec, kind: str, launch_t_s: float, tries: int = 80
) -> ThrowSpec | None:
    """A throw of ``kind`` from a window the camera sees (launch point well inside the picture), seen
    for at least a few frames; None when no window of this scene qualifies."""
    b = scene.building
    K, R, t = camera_matrices(scene.camera, scene.width, scene.height)
    size, (v_low, v_high), colours = KIND_PROPS[kind]
    margin = 0.03 * min(scene.width, scene.height)
    for _ in range(tries):
        low_floor = min(3, b.floors)
        throw = ThrowSpec(
            floor=int(rng.integers(low_floor, b.floors + 1)),
            column=int(rng.integers(1, b.columns + 1)),
            kind=kind,
            launch_t_s=launch_t_s,
            velocity=(
                _rounded(rng.uniform(-0.6, 0.6)),
                _rounded(rng.uniform(-1.0, 2.5)),
                _rounded(rng.uniform(0.3, 3.0)),
            ),
            offset_x_m=_rounded(rng.uniform(-0.4, 0.4)),
            launch_height_m=_rounded(rng.uniform(1.0, 1.6)),
            size_m=_rounded(size * rng.uniform(0.85, 1.2), 4),
            terminal_velocity_m_s=_rounded(rng.uniform(v_low, v_high), 2),
            colour=tuple(int(c) for c in colours[int(rng.integers(len(colours)))]),  # type: ignore[arg-type]
            spin_rad_s=_rounded(rng.uniform(2, 14) * rng.choice([-1, 1])),
        )
        (u, v), depth = (x[0] for x in project(K, R, t, launch_point(b, throw)[None, :]))
        if depth <= 1 or not (margin <= u <= scene.width - margin and margin <= v <= scene.height - margin):
            continue
        seen = flight_frames(scene, throw_flight(scene, throw))
        remaining = scene.frames - math.ceil(launch_t_s * scene.fps)
        if seen and len(seen) >= min(_MIN_FRAMES_SEEN, remaining):
            return throw
    return None


def build_scene(
    seed: int,
    *,
    width: int,
    height: int,
    fps: float,
    duration_s: float,
    night: bool,
    kinds: list[str],
    distractors: tuple[str, ...],
    gap_s: float = 2.0,
) -> SceneSpec:
    """The scene for ``seed`` with exactly these throw kinds (in launch order) and distractors."""
    for kind in kinds:
        check_kind(kind)
    for name in distractors:
        check_distractor(name)
    place = np.random.default_rng([seed, 1])
    while True:
        building = sample_building(place)
        camera = sample_camera(place, building, width, height, fps, night)
        if camera is not None:
            break
    base = SceneSpec(seed, width, height, fps, duration_s, night, building, camera, (), tuple(distractors))
    rng = np.random.default_rng([seed, 2])
    throws: list[ThrowSpec] = []
    for kind, t in zip(kinds, launch_times(rng, len(kinds), duration_s, gap_s), strict=True):
        throw = sample_throw(rng, base, kind, t)
        if throw is None:  # no window in view suits this kind: a wider search over all floors
            throw = sample_throw(rng, base, kind, t, tries=400)
        if throw is not None:
            throws.append(throw)
    return SceneSpec(
        seed, width, height, fps, duration_s, night, building, camera, tuple(throws), base.distractors
    )


def random_scene(
    seed: int,
    *,
    width: int = 1920,
    height: int = 1080,
    fps: float = 25.0,
    duration_s: float = 8.0,
    throws: int | None = None,
    distractors: tuple[str, ...] | None = None,
    night: bool | None = None,
    kinds: tuple[str, ...] | None = None,
) -> SceneSpec:
    """A scene drawn from ``seed``; each None is drawn too (1–3 throws, a plausible mix of distractors,
    night three times in ten). ``kinds`` is the pool each throw's kind is drawn from (cigarette ends
    rarer by day); ``throws=0`` gives a negative scene. The building and camera depend only on the
    seed and the picture's size, not on the throws or distractors asked for."""
    if distractors is not None:
        for name in distractors:
            check_distractor(name)
    if kinds is not None:
        for kind in kinds:
            check_kind(kind)
    if throws is not None and throws < 0:
        raise ValueError("throws must not be negative")
    choose = np.random.default_rng([seed, 0])
    is_night = bool(choose.random() < 0.3) if night is None else night
    count = int(choose.integers(1, 4)) if throws is None else throws
    pool = KINDS if kinds is None else kinds
    if count and not pool:
        raise ValueError("kinds must name at least one kind when there are throws")
    weights = np.array([(2.0 if is_night else 0.4) if k == "cigarette" else 1.0 for k in pool])
    chosen = [str(pool[int(choose.choice(len(pool), p=weights / weights.sum()))]) for _ in range(count)]
    names = random_distractors(choose, is_night) if distractors is None else tuple(distractors)
    return build_scene(
        seed,
        width=width,
        height=height,
        fps=fps,
        duration_s=duration_s,
        night=is_night,
        kinds=chosen,
        distractors=names,
    )


def random_distractors(rng: np.random.Generator, night: bool) -> tuple[str, ...]:
    """A plausible mix: each distractor by its odds, never rain and snow together."""
    odds = _NIGHT_ODDS if night else _DAY_ODDS
    names = [name for name in DISTRACTORS if rng.random() < odds[name]]
    if "rain" in names and "snow" in names:
        names.remove("snow" if rng.random() < 0.5 else "rain")
    return tuple(names)


def bench_suite(
    seed: int = 2026, *, width: int = 1920, height: int = 1080, positives: int = 40, negatives: int = 12
) -> list[SceneSpec]:
    """The benchmark: positives (1–3 throws at least 2 s apart, day and night, every kind in turn,
    every distractor in turn plus a random few) then long negatives that each carry every distractor
    (rain or snow or neither, in turn) for the false-alarm rate."""
    rng = np.random.default_rng([seed, 99])
    cycle: list[str] = []
    scenes: list[SceneSpec] = []
    for i in range(positives):
        night = i % 3 == 2
        count = int(rng.integers(1, 4))
        kinds: list[str] = []
        if night and rng.random() < 0.5:
            kinds.append("cigarette")
        while len(kinds) < count:
            if not cycle:
                cycle = [str(k) for k in rng.permutation(KINDS)]
            kinds.append(cycle.pop())
        names = set(random_distractors(rng, night)) | {DISTRACTORS[i % len(DISTRACTORS)]}
        if "rain" in names and "snow" in names:
            names.discard("snow" if DISTRACTORS[i % len(DISTRACTORS)] == "rain" else "rain")
        duration = _rounded(5.0 + 3.0 * count + rng.uniform(0, 3), 1)
        scenes.append(
            build_scene(
                seed * 1000 + i,
                width=width,
                height=height,
                fps=25.0,
                duration_s=duration,
                night=night,
                kinds=kinds,
                distractors=tuple(d for d in DISTRACTORS if d in names),
            )
        )
    weather = ("rain", "snow", None)
    for j in range(negatives):
        names = {d for d in DISTRACTORS if d not in ("rain", "snow")}
        if weather[j % 3]:
            names.add(str(weather[j % 3]))
        scenes.append(
            build_scene(
                seed * 1000 + 500 + j,
                width=width,
                height=height,
                fps=25.0,
                duration_s=_rounded(rng.uniform(20, 30), 1),
                night=j % 2 == 1,
                kinds=[],
                distractors=tuple(d for d in DISTRACTORS if d in names),
            )
        )
    return scenes
