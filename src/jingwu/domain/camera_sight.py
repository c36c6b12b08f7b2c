"""Which cameras can see a point (capability 6, 视频资源共享): pure geometry, no I/O.

A fixed camera sees a target when the target is within its range, within its horizontal field of
view (``heading ± fov/2``, clockwise from north, across north too) and no building stands in
between. Distances are in metres on a local equirectangular projection about the target
(:class:`LocalFrame`; within 0.2 % of the true distance over a few km), which is also the frame
the obstacles come in.

**Obstacles.** Each is a sequence of (x, y) vertices in metres in the target's frame: two
vertices are a wall (a segment), three or more a building's outline (a ring, closed implicitly;
holes are not modelled, a courtyard counts as solid). Two rules keep real data honest:

* a building the camera stands in or on (within :data:`WALL_TOLERANCE_M` of its outline) never
  blocks it: cameras hang on walls, and their registered point often falls just inside;
* a building the target stands in blocks only when the target is deeper than
  :data:`TARGET_DEPTH_M` inside it (a person in a doorway, a GPS point a metre off the street is
  still seen); deeper, the reason is "inside a building" and no outside camera sees it.

Building heights and the camera's tilt are not modelled: at street level a building hides what is
behind it from a camera a few metres up.

:func:`rank_cameras` orders the cameras for a point: fixed cameras that see it (nearest first),
then the body cameras and drones whose unit is near, then fixed cameras in range that do not see
it (out of view: a PTZ camera could be turned; occluded: it shows the approach). Fixed cameras out
of range, cameras without a position or view, disabled cameras and units far away are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from jingwu.domain.cameras import FAULT_STATES, Camera, CameraKind, CameraView
from jingwu.domain.geo import EARTH_RADIUS_M, GeoPoint

#: A camera within this many metres of a building's outline is taken to hang on that building.
WALL_TOLERANCE_M = 1.5
#: A target this far inside a building's outline is hidden from every camera outside it.
TARGET_DEPTH_M = 3.0
#: Body cameras and drones whose unit is within this distance are offered.
UNIT_RADIUS_M = 1_000.0

Point = tuple[float, float]
#: Two vertices: a wall; three or more: a building's outline (closed implicitly). Metres, in the
#: target's :class:`LocalFrame`.
Obstacle = Sequence[Point]
#: ``obstacles_for(lat, lon, radius_m)``: the obstacles within ``radius_m`` of the point, in metres
#: about it (``Buildings.near`` in :mod:`jingwu.geocode.buildings` is one).
ObstaclesFor = Callable[[float, float, float], Sequence[Obstacle]]

FloatArray = NDArray[np.float64]
_DEG = math.pi / 180.0


@dataclass(frozen=True, slots=True)
class LocalFrame:
    """An equirectangular projection in metres about ``origin``: x east, y north."""

    origin: GeoPoint

    @property
    def kx(self) -> float:
        return EARTH_RADIUS_M * _DEG * math.cos(self.origin.lat * _DEG)

    @property
    def ky(self) -> float:
        return EARTH_RADIUS_M * _DEG

    def to_xy(self, lat: float, lon: float) -> Point:
        return (lon - self.origin.lon) * self.kx, (lat - self.origin.lat) * self.ky

    def to_geo(self, x: float, y: float) -> GeoPoint:
        return GeoPoint(self.origin.lat + y / self.ky, self.origin.lon + x / self.kx)


def bearing_between(x0: float, y0: float, x1: float, y1: float) -> float:
    """Compass bearing from (x0, y0) to (x1, y1) in a local frame: 0 north, 90 east, [0, 360)."""
    return math.degrees(math.atan2(x1 - x0, y1 - y0)) % 360.0


def off_axis_deg(heading_deg: float, bearing_deg: float) -> float:
    """The angle between a heading and a bearing, 0..180, across north (350° vs 10° is 20°)."""
    return abs((bearing_deg - heading_deg + 180.0) % 360.0 - 180.0)


class _Obstacles:
    """The obstacles' edges as arrays, for many rays ending at the frame's origin (the target)."""

    def __init__(self, obstacles: Sequence[Obstacle]) -> None:
        x0: list[float] = []
        y0: list[float] = []
        x1: list[float] = []
        y1: list[float] = []
        owner: list[int] = []
        polygons = 0
        for shape in obstacles:
            pts = list(shape)
            if len(pts) >= 2 and pts[0] == pts[-1]:
                pts = pts[:-1]  # a ring given closed
            if len(pts) < 2:
                continue
            if len(pts) == 2:
                pairs, who = [(pts[0], pts[1])], -1  # a wall belongs to no building
            else:
                pairs, who = [(pts[i], pts[(i + 1) % len(pts)]) for i in range(len(pts))], polygons
                polygons += 1
            for (ax, ay), (bx, by) in pairs:
                x0.append(ax)
                y0.append(ay)
                x1.append(bx)
                y1.append(by)
                owner.append(who)
        self.x0, self.y0 = np.array(x0, np.float64), np.array(y0, np.float64)
        self.x1, self.y1 = np.array(x1, np.float64), np.array(y1, np.float64)
        self.owner = np.array(owner, np.int64)
        self.polygons = polygons
        self._ring = self.owner >= 0

    def inside(self, px: float, py: float) -> tuple[NDArray[np.bool_], FloatArray]:
        """Per building: whether (px, py) is inside it (even-odd), and its distance to the outline."""
        ring = self._ring
        x0, y0, x1, y1, owner = self.x0[ring], self.y0[ring], self.x1[ring], self.y1[ring], self.owner[ring]
        straddles = (y0 > py) != (y1 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
        crossings = np.bincount(owner[straddles & (px < x_cross)], minlength=self.polygons)
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.clip(np.where(length2 > 0, ((px - x0) * dx + (py - y0) * dy) / length2, 0.0), 0.0, 1.0)
        gap = np.hypot(x0 + t * dx - px, y0 + t * dy - py)
        nearest = np.full(self.polygons, np.inf)
        np.minimum.at(nearest, owner, gap)
        return (crossings % 2).astype(np.bool_), nearest

    def crossed(self, cx: float, cy: float, ignore: NDArray[np.bool_]) -> bool:
        """Whether the segment from (cx, cy) to the origin crosses an edge of an obstacle not in
        ``ignore`` (one flag per building). Touching at the segment's own ends does not count: a
        camera on a wall, a target on a wall."""
        keep = np.ones(len(self.owner), np.bool_)
        if self.polygons:
            keep = (self.owner < 0) | ~ignore[np.maximum(self.owner, 0)]
        # The segment's bounding box first: a city block's worth of edges survives, not the town.
        keep &= (np.maximum(self.x0, self.x1) >= min(cx, 0.0)) & (
            np.minimum(self.x0, self.x1) <= max(cx, 0.0)
        )
        keep &= (np.maximum(self.y0, self.y1) >= min(cy, 0.0)) & (
            np.minimum(self.y0, self.y1) <= max(cy, 0.0)
        )
        if not keep.any():
            return False
        ax, ay, bx, by = self.x0[keep], self.y0[keep], self.x1[keep], self.y1[keep]
        rx, ry = -cx, -cy  # camera → target (the origin)
        d1 = rx * (ay - cy) - ry * (ax - cx)
        d2 = rx * (by - cy) - ry * (bx - cx)
        ex, ey = bx - ax, by - ay
        d3 = ex * (cy - ay) - ey * (cx - ax)
        d4 = ex * (0.0 - ay) - ey * (0.0 - ax)
        return bool(np.any((d1 * d2 <= 0) & (d3 * d4 < 0)))


@dataclass(frozen=True, slots=True)
class Sight:
    """What one fixed camera makes of a target: the facts and the reasons, in English
    (``reasons``, ``why``) and in Chinese (``why_zh``)."""

    distance_m: float
    bearing_deg: float  # from the camera to the target, clockwise from north
    off_axis_deg: float  # between the camera's heading and that bearing, 0..180
    in_range: bool
    in_view: bool
    occluded: bool  # a building stands between them (or the target is deep inside one)
    inside_building: bool  # the target is deeper than TARGET_DEPTH_M inside a building
    reasons: tuple[str, ...]
    why_zh: str

    @property
    def sees(self) -> bool:
        return self.in_range and self.in_view and not self.occluded

    @property
    def why(self) -> str:
        return "; ".join(self.reasons)


class _Target:
    """A target and the obstacles about it, prepared once for many cameras."""

    def __init__(self, target: GeoPoint, obstacles: Sequence[Obstacle]) -> None:
        self.frame = LocalFrame(target)
        self.obstacles = _Obstacles(obstacles)
        inside, depth = self.obstacles.inside(0.0, 0.0)
        # Deep inside: hidden from outside; at the edge: that building is no obstacle to it.
        self.deep = inside & (depth > TARGET_DEPTH_M)
        self.shallow = inside & ~self.deep

    def sight(self, position: GeoPoint, view: CameraView) -> Sight:
        cx, cy = self.frame.to_xy(position.lat, position.lon)
        distance = math.hypot(cx, cy)
        bearing = bearing_between(cx, cy, 0.0, 0.0)
        off = off_axis_deg(view.heading_deg, bearing) if distance > 0 else 0.0
        in_range = distance <= view.range_m
        in_view = view.fov_deg >= 360.0 or off <= view.fov_deg / 2.0 or distance == 0
        own = np.zeros(self.obstacles.polygons, np.bool_)
        if self.obstacles.polygons:
            inside, gap = self.obstacles.inside(cx, cy)
            own = inside | (gap <= WALL_TOLERANCE_M)
        hidden_inside = bool(np.any(self.deep & ~own))
        occluded = hidden_inside or self.obstacles.crossed(cx, cy, own | self.shallow)
        return _explain(distance, bearing, off, view, in_range, in_view, occluded, hidden_inside)


def _explain(
    distance: float,
    bearing: float,
    off: float,
    view: CameraView,
    in_range: bool,
    in_view: bool,
    occluded: bool,
    inside: bool,
) -> Sight:
    reasons: list[str] = []
    zh: list[str] = []
    if in_range and in_view and not occluded:
        reasons.append(f"in view, {distance:.0f} m away")
        zh.append(f"在视野内，距离 {distance:.0f} m")
    if not in_range:
        reasons.append(f"out of range ({distance:.0f} m > {view.range_m:.0f} m)")
        zh.append(f"超出量程 (距离 {distance:.0f} m > {view.range_m:.0f} m)")
    if not in_view:
        reasons.append(f"out of view ({off:.0f}° off its heading)")
        zh.append(f"不在视角内 (偏离 {off:.0f}°)")
    if inside:
        reasons.append("the target is inside a building")
        zh.append("目标在建筑内")
    elif occluded:
        reasons.append("blocked by a building")
        zh.append("被建筑遮挡")
    if not (in_range and in_view and not occluded):
        reasons.append(f"{distance:.0f} m away")
        zh.append(f"距离 {distance:.0f} m")
    return Sight(distance, bearing, off, in_range, in_view, occluded, inside, tuple(reasons), "；".join(zh))


def sight(
    position: GeoPoint, view: CameraView, target: GeoPoint, obstacles: Sequence[Obstacle] = ()
) -> Sight:
    """Whether a camera at ``position`` looking as ``view`` sees ``target``, and why (not).
    ``obstacles`` are in metres in the target's :class:`LocalFrame`."""
    return _Target(target, obstacles).sight(position, view)


class Standing(IntEnum):
    """A ranked camera's group, in the order offered."""

    SEES = 0  # a fixed camera that sees the target
    MOBILE = 1  # a body camera or drone whose unit is near
    COULD_TURN = 2  # a fixed camera in range, out of view: a PTZ camera could be turned to it
    OCCLUDED = 3  # a fixed camera in range behind a building: it may show the approach


@dataclass(frozen=True, slots=True)
class RankedCamera:
    """One camera offered for a target. ``bearing_deg`` is from the camera (its unit) to the
    target; ``rank`` counts from 1."""

    camera: Camera
    rank: int
    standing: Standing
    sees: bool
    distance_m: float
    bearing_deg: float
    reasons: tuple[str, ...]
    why: str
    why_zh: str


def rank_cameras(
    cameras: Sequence[Camera],
    target: GeoPoint,
    obstacles_for: ObstaclesFor | None = None,
    units_near: Mapping[str, GeoPoint] | None = None,
    radius_m: float = UNIT_RADIUS_M,
) -> list[RankedCamera]:
    """The cameras worth opening for ``target``, best first (see the module's docstring).

    ``obstacles_for(lat, lon, radius_m)`` is called once, about the target, out to the farthest
    fixed camera in range; None: nothing blocks. ``units_near`` maps a unit's id to its last
    position (body cameras and drones go where their unit goes); a unit missing from it, or
    farther than ``radius_m``, leaves its cameras out. Within a group, cameras with a usable
    picture come before those in a fault state (offline, frozen …), then nearer first."""
    frame = LocalFrame(target)
    units = units_near or {}
    fixed: list[tuple[Camera, GeoPoint, CameraView, float]] = []
    mobile: list[tuple[Camera, float, float]] = []
    for camera in cameras:
        if not camera.enabled:
            continue
        if camera.kind is CameraKind.FIXED:
            if camera.position is None or camera.view is None:
                continue
            x, y = frame.to_xy(camera.position.lat, camera.position.lon)
            distance = math.hypot(x, y)
            if distance <= camera.view.range_m:  # out of range: nothing to show
                fixed.append((camera, camera.position, camera.view, distance))
        elif camera.unit_id is not None and camera.unit_id in units:
            where = units[camera.unit_id]
            x, y = frame.to_xy(where.lat, where.lon)
            distance = math.hypot(x, y)
            if distance <= radius_m:
                mobile.append((camera, distance, bearing_between(x, y, 0.0, 0.0)))
    farthest = max((d for *_, d in fixed), default=0.0)
    reach = farthest + WALL_TOLERANCE_M + 1.0  # the farthest camera's own building too
    obstacles = obstacles_for(target.lat, target.lon, reach) if obstacles_for and fixed else ()
    prepared = _Target(target, obstacles)
    entries: list[tuple[Standing, bool, float, str, RankedCamera]] = []
    for camera, position, view, _ in fixed:
        seen = prepared.sight(position, view)
        standing = Standing.SEES if seen.sees else Standing.OCCLUDED if seen.occluded else Standing.COULD_TURN
        reasons, zh = seen.reasons, seen.why_zh
        if standing is Standing.COULD_TURN:
            reasons, zh = (*reasons, "could be turned to it (PTZ)"), zh + "；可转动 (云台) 对准"
        entries.append(_entry(camera, standing, seen.sees, seen.distance_m, seen.bearing_deg, reasons, zh))
    for camera, distance, bearing in mobile:
        what, what_zh = (
            ("drone", "无人机") if camera.kind is CameraKind.DRONE else ("body camera", "执法记录仪")
        )
        reasons = (f"{what} with its unit {distance:.0f} m away",)
        zh = f"{what_zh}，所在单位距离 {distance:.0f} m"
        entries.append(_entry(camera, Standing.MOBILE, False, distance, bearing, reasons, zh))
    entries.sort(key=lambda e: e[:4])
    return [replace(e[4], rank=rank) for rank, e in enumerate(entries, start=1)]


def _entry(
    camera: Camera,
    standing: Standing,
    sees: bool,
    distance: float,
    bearing: float,
    reasons: tuple[str, ...],
    why_zh: str,
) -> tuple[Standing, bool, float, str, RankedCamera]:
    faulty = camera.state in FAULT_STATES
    if faulty:
        reasons, why_zh = (*reasons, f"currently {camera.state.value}"), why_zh + "；当前无画面"
    ranked = RankedCamera(camera, 0, standing, sees, distance, bearing, reasons, "; ".join(reasons), why_zh)
    return standing, faulty, distance, camera.id, ranked


__all__ = [
    "TARGET_DEPTH_M",
    "UNIT_RADIUS_M",
    "WALL_TOLERANCE_M",
    "LocalFrame",
    "Obstacle",
    "ObstaclesFor",
    "Point",
    "RankedCamera",
    "Sight",
    "Standing",
    "bearing_between",
    "off_axis_deg",
    "rank_cameras",
    "sight",
]
