"""What a synthetic throw scene is made of (building, camera, throws, distractors) and the pure geometry
and physics that both the sampler and the renderer share, so the ground truth and the pictures agree.

World frame, in metres: the wall is the plane Z = 0, X runs along it from its left end (0) to its
right end (W), Y is up from the ground, +Z points out of the wall towards the camera. The camera is
a pinhole with square pixels and its principal point at (width / 2, height / 2); image coordinates
follow OpenCV (u right, v down, integer values at pixel centres)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

GRAVITY = 9.81

#: The thrown kinds: nominal size across (m), terminal velocity range (m/s), colours (RGB) they come in.
KIND_PROPS: dict[str, tuple[float, tuple[float, float], tuple[tuple[int, int, int], ...]]] = {
    "bottle": (
        0.07,
        (36.0, 44.0),
        ((40, 110, 60), (110, 60, 25), (170, 185, 180), (50, 90, 150), (215, 215, 210)),
    ),
    "box": (0.25, (17.0, 23.0), ((170, 130, 85), (225, 222, 210), (120, 85, 55), (200, 60, 40))),
    "fruit": (
        0.08,
        (26.0, 34.0),
        ((180, 30, 30), (230, 130, 20), (220, 200, 60), (90, 150, 40), (60, 45, 30)),
    ),
    "bag": (0.35, (8.0, 14.0), ((25, 25, 28), (230, 230, 230), (180, 40, 40), (40, 70, 160), (60, 120, 60))),
    "cigarette": (0.01, (10.0, 14.0), ((235, 235, 230), (200, 140, 70))),
}
KINDS: tuple[str, ...] = tuple(KIND_PROPS)
DISTRACTORS: tuple[str, ...] = (
    "birds",
    "leaves",
    "paper",
    "rain",
    "snow",
    "insects",
    "lights",
    "clouds",
    "shake",
    "noise",
)

#: How far out of the wall a throw from a plain window starts (m).
WINDOW_LAUNCH_Z_M = 0.2


def check_kind(kind: str) -> str:
    """The kind itself, or a ValueError naming the known ones (a typo must not become a silent default)."""
    if kind not in KIND_PROPS:
        raise ValueError(f"unknown thrown-object kind {kind!r}: one of {', '.join(KINDS)}")
    return kind


def check_distractor(name: str) -> str:
    """The distractor name itself, or a ValueError naming the known ones."""
    if name not in DISTRACTORS:
        raise ValueError(f"unknown distractor {name!r}: one of {', '.join(DISTRACTORS)}")
    return name


@dataclass(frozen=True)
class BuildingSpec:
    """The facade in metres: floors × floor height, window columns at fractions of the wall's width,
    balconies standing ``protrusion_depth_m`` out of the wall (0: none)."""

    floors: int
    columns: int
    floor_height_m: float
    column_spacing_m: float
    column_centres: tuple[float, ...]
    protrusion_depth_m: float = 0.0

    def __post_init__(self) -> None:
        if self.floors < 1 or self.columns < 1:
            raise ValueError("a building needs at least one floor and one column")
        if len(self.column_centres) != self.columns:
            raise ValueError(f"column_centres must list {self.columns} fractions")
        c = self.column_centres
        if any(not 0 < x < 1 for x in c) or any(b <= a for a, b in itertools.pairwise(c)):
            raise ValueError("column_centres must rise from left to right, each between 0 and 1")
        if self.floor_height_m <= 0 or self.column_spacing_m <= 0 or self.protrusion_depth_m < 0:
            raise ValueError("floor height and column spacing must be positive, protrusion not negative")

    @property
    def width_m(self) -> float:
        return self.columns * self.column_spacing_m

    @property
    def height_m(self) -> float:
        return self.floors * self.floor_height_m

    def column_x(self, column: int) -> float:
        """X (m) of a window column's centre, columns counted from 1 at the left."""
        return self.column_centres[column - 1] * self.width_m


@dataclass(frozen=True)
class CameraSpec:
    """Where the camera stands (X along the wall, height, distance out from it) and how it looks:
    tilted up, yawed (positive turns towards +X), a slight roll, its horizontal field of view and
    its shutter time (the length of each frame's motion blur)."""

    x_m: float
    height_m: float
    distance_m: float
    tilt_deg: float
    yaw_deg: float
    hfov_deg: float
    roll_deg: float = 0.0
    shutter_s: float = 0.01

    @property
    def position_m(self) -> tuple[float, float, float]:
        return (self.x_m, self.height_m, self.distance_m)


@dataclass(frozen=True)
class ThrowSpec:
    """One object thrown from a window: where (floor, column, offsets), when, how fast (velocity
    along the wall, up, out of it), and what it is (kind, size, terminal velocity, colour, spin)."""

    floor: int
    column: int
    kind: str
    launch_t_s: float
    velocity: tuple[float, float, float]
    offset_x_m: float = 0.0
    launch_height_m: float = 1.3
    size_m: float = 0.0  # 0: the kind's nominal size
    terminal_velocity_m_s: float = 0.0  # 0: the middle of the kind's range
    colour: tuple[int, int, int] | None = None  # None: the kind's first colour
    spin_rad_s: float = 6.0

    def __post_init__(self) -> None:
        check_kind(self.kind)
        if self.floor < 1 or self.column < 1:
            raise ValueError("floors and columns are counted from 1")
        if self.size_m < 0 or self.terminal_velocity_m_s < 0 or self.launch_t_s < 0:
            raise ValueError("size, terminal velocity and launch time must not be negative")

    @property
    def diameter_m(self) -> float:
        return self.size_m or KIND_PROPS[self.kind][0]

    @property
    def terminal_m_s(self) -> float:
        low, high = KIND_PROPS[self.kind][1]
        return self.terminal_velocity_m_s or (low + high) / 2

    @property
    def rgb(self) -> tuple[int, int, int]:
        return self.colour if self.colour is not None else KIND_PROPS[self.kind][2][0]


@dataclass(frozen=True)
class SceneSpec:
    """Everything a test video is made from; the renderer draws its remaining details (colours,
    clouds, where the birds fly) from ``seed``, so the same spec always gives the same video."""

    seed: int
    width: int
    height: int
    fps: float
    duration_s: float
    night: bool
    building: BuildingSpec
    camera: CameraSpec
    throws: tuple[ThrowSpec, ...] = ()
    distractors: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in self.distractors:
            check_distractor(name)
        if self.width < 16 or self.height < 16 or self.width % 2 or self.height % 2:
            raise ValueError("the video needs an even width and height of at least 16 (4:2:0 H.264)")
        if self.fps <= 0 or self.duration_s <= 0:
            raise ValueError("fps and duration must be positive")
        for throw in self.throws:
            if throw.floor > self.building.floors or throw.column > self.building.columns:
                raise ValueError(
                    f"a throw from floor {throw.floor}, column {throw.column} is off the building"
                )

    @property
    def frames(self) -> int:
        return max(1, round(self.duration_s * self.fps))


# ------------------------------------------------------------------------------ camera geometry


def camera_matrices(camera: CameraSpec, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """K, R (world → camera, OpenCV axes: x right, y down, z forward) and t with x_cam = R X + t."""
    focal = (width / 2) / math.tan(math.radians(camera.hfov_deg) / 2)
    K = np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])
    yaw, tilt, roll = (math.radians(a) for a in (camera.yaw_deg, camera.tilt_deg, camera.roll_deg))
    forward = np.array([math.sin(yaw) * math.cos(tilt), math.sin(tilt), -math.cos(yaw) * math.cos(tilt)])
    right0 = np.array([-forward[2], 0.0, forward[0]])
    right0 /= np.linalg.norm(right0)
    down0 = np.cross(forward, right0)
    right = math.cos(roll) * right0 + math.sin(roll) * down0
    down = -math.sin(roll) * right0 + math.cos(roll) * down0
    R = np.stack([right, down, forward])
    t = -R @ np.array(camera.position_m)
    return K, R, t


def project(K: np.ndarray, R: np.ndarray, t: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World points (N, 3) → pixels (N, 2) and depths along the optical axis (N,)."""
    cam = np.asarray(points, dtype=np.float64).reshape(-1, 3) @ R.T + t
    depth = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = (cam @ K.T)[:, :2] / depth[:, None]
    return uv, depth


def wall_corners(building: BuildingSpec) -> np.ndarray:
    """The wall plane's corners BL, BR, TR, TL in world metres (the calibration's order)."""
    w, h = building.width_m, building.height_m
    return np.array([[0.0, 0.0, 0.0], [w, 0.0, 0.0], [w, h, 0.0], [0.0, h, 0.0]])


def calibration(spec: SceneSpec) -> dict[str, object]:
    """The facade as the detector is told it: corner pixels of the wall plane plus the building's counts."""
    K, R, t = camera_matrices(spec.camera, spec.width, spec.height)
    uv, _ = project(K, R, t, wall_corners(spec.building))
    b = spec.building
    return {
        "facade": {
            "corners_px": [[round(float(u), 3), round(float(v), 3)] for u, v in uv],
            "floors": b.floors,
            "columns": b.columns,
            "floor_height_m": b.floor_height_m,
            "column_centres": list(b.column_centres),
            "protrusion_depth_m": b.protrusion_depth_m,
        }
    }


def wall_in_view(spec: SceneSpec, grid: int = 24) -> tuple[float, float]:
    """(fraction of the wall's area inside the picture, fraction of the picture the wall covers),
    estimated on a grid of wall points; used to accept a camera placement."""
    b = spec.building
    K, R, t = camera_matrices(spec.camera, spec.width, spec.height)
    corner_uv, corner_depth = project(K, R, t, wall_corners(b))
    if np.any(corner_depth < 1.0):
        return 0.0, 0.0
    s = (np.arange(grid) + 0.5) / grid
    xs, ys = np.meshgrid(s * b.width_m, s * b.height_m)
    pts = np.column_stack([xs.ravel(), ys.ravel(), np.zeros(xs.size)])
    uv, _ = project(K, R, t, pts)
    inside = (uv[:, 0] >= 0) & (uv[:, 0] < spec.width) & (uv[:, 1] >= 0) & (uv[:, 1] < spec.height)
    quad = corner_uv.astype(np.float64)
    area = 0.5 * abs(
        float(np.dot(quad[:, 0], np.roll(quad[:, 1], -1)) - np.dot(quad[:, 1], np.roll(quad[:, 0], -1)))
    )
    covered = min(1.0, area * float(inside.mean()) / (spec.width * spec.height))
    return float(inside.mean()), covered


# ------------------------------------------------------------------------------ throws


def launch_point(building: BuildingSpec, throw: ThrowSpec) -> np.ndarray:
    """Where the object first shows: outside its window (or over its balcony's railing)."""
    z = building.protrusion_depth_m if building.protrusion_depth_m > 0 else WINDOW_LAUNCH_Z_M
    y = (throw.floor - 1) * building.floor_height_m + throw.launch_height_m
    return np.array([building.column_x(throw.column) + throw.offset_x_m, y, z])


@dataclass(frozen=True)
class Trajectory:
    """A flight sampled every ``dt`` seconds from ``t0``; ``landed`` when it ends on the ground."""

    t0: float
    dt: float
    points: np.ndarray  # (N, 3) world metres
    landed: bool

    @property
    def t_end(self) -> float:
        return self.t0 + (len(self.points) - 1) * self.dt

    def at(self, times: np.ndarray) -> np.ndarray:
        """Positions (M, 3) at the given times, linearly between samples, clamped to the flight."""
        s = np.clip((np.asarray(times, dtype=np.float64) - self.t0) / self.dt, 0, len(self.points) - 1)
        if len(self.points) == 1:
            return np.repeat(self.points, len(s), axis=0)
        i = np.minimum(np.floor(s).astype(int), len(self.points) - 2)
        f = (s - i)[:, None]
        return self.points[i] * (1 - f) + self.points[i + 1] * f


def simulate_flight(
    start: np.ndarray, velocity: tuple[float, float, float], terminal_m_s: float, t0: float, t_max: float
) -> Trajectory:
    """Gravity plus quadratic drag (a = g − g |v| v / v_t²), midpoint steps of 2 ms, until the ground
    or ``t_max``; the last point is put exactly on the ground when it lands."""
    dt = 0.002
    k = GRAVITY / terminal_m_s**2
    x, y, z = (float(c) for c in start)
    vx, vy, vz = (float(c) for c in velocity)
    points = [(x, y, z)]
    t = t0
    landed = False
    while t < t_max:
        speed = math.sqrt(vx * vx + vy * vy + vz * vz)
        ax, ay, az = -k * speed * vx, -GRAVITY - k * speed * vy, -k * speed * vz
        mx, my, mz = vx + 0.5 * dt * ax, vy + 0.5 * dt * ay, vz + 0.5 * dt * az
        speed = math.sqrt(mx * mx + my * my + mz * mz)
        ax, ay, az = -k * speed * mx, -GRAVITY - k * speed * my, -k * speed * mz
        nx, ny, nz = x + dt * mx, y + dt * my, z + dt * mz
        vx, vy, vz = vx + dt * ax, vy + dt * ay, vz + dt * az
        t += dt
        if ny <= 0.0:
            f = y / (y - ny)
            points.append((x + f * (nx - x), 0.0, z + f * (nz - z)))
            landed = True
            break
        x, y, z = nx, ny, nz
        points.append((x, y, z))
    return Trajectory(t0, dt, np.array(points), landed)


def throw_flight(spec: SceneSpec, throw: ThrowSpec) -> Trajectory:
    """The throw's flight from its launch to the ground or the end of the clip."""
    start = launch_point(spec.building, throw)
    return simulate_flight(
        start, throw.velocity, throw.terminal_m_s, throw.launch_t_s, spec.frames / spec.fps
    )


def flight_frames(
    spec: SceneSpec, flight: Trajectory, shake: np.ndarray | None = None
) -> list[tuple[int, float, float, float]]:
    """(frame, u, v, depth) for every frame in which the object is in the picture; ``shake`` is each
    frame's (dx, dy) translation, which moves what the picture shows."""
    K, R, t = camera_matrices(spec.camera, spec.width, spec.height)
    first = max(0, math.ceil(flight.t0 * spec.fps - 1e-9))
    last = min(spec.frames - 1, math.floor(flight.t_end * spec.fps + 1e-9))
    if last < first:
        return []
    frames = np.arange(first, last + 1)
    uv, depth = project(K, R, t, flight.at(frames / spec.fps))
    out: list[tuple[int, float, float, float]] = []
    for i, (u, v), d in zip(frames, uv, depth, strict=True):
        du, dv = (float(shake[i, 0]), float(shake[i, 1])) if shake is not None else (0.0, 0.0)
        if d > 0.1 and _inside(u, v, spec) and _inside(u + du, v + dv, spec):
            out.append((int(i), float(u + du), float(v + dv), float(d)))
    return out


def _inside(u: float, v: float, spec: SceneSpec) -> bool:
    return 0.0 <= u <= spec.width - 1 and 0.0 <= v <= spec.height - 1


def focal_px(spec: SceneSpec) -> float:
    """The focal length in pixels (how big a metre looks at one metre's depth)."""
    return (spec.width / 2) / math.tan(math.radians(spec.camera.hfov_deg) / 2)
