"""What the fixed cameras cover of the streets, where they leave blind spots, and where new cameras
would cover the most (capability 6). Geometry only: the streets, the buildings and the cameras
are handed in; nothing is read or stored here.

How it works. The streets of an area are cut into samples of about ``sample_m`` (10 m), each a
short straight stretch of one street piece. A sample is covered by a fixed, enabled camera when
its midpoint is within the camera's range, within its field of view and no building stands in
between (the rules of :mod:`jingwu.domain.camera_sight`, through ``occluders.blocks_many``).

* :func:`street_coverage`: covered metres per camera, covered / total metres, and the coverage
  layer as GeoJSON (:meth:`Coverage.geojson`: covered stretches with their camera ids, and the
  uncovered ones, consecutive samples merged).
* :func:`blind_spots`: the uncovered samples grouped in grid cells of ``cell_m`` (150 m), ranked
  by their weight (see :class:`Weights`): street length, plus each incident and each community
  request shared out over the samples within ``kernel_m`` (50 m) of it.
* :func:`suggest_cameras`: a greedy maximum-coverage placement: candidate positions (junctions,
  and street points every ~40 m), each with ``headings`` views of ``fov_deg``/``range_m``
  (90°, 60 m), occlusion counted; the view adding the most uncovered weight is taken, then the
  next, ``k`` times.

Bounds, so that a district answers in about a second: at most :data:`MAX_SAMPLES` samples (the
spacing grows beyond), at most :data:`MAX_CANDIDATES` candidate positions (those with the most
uncovered weight within range are kept), and sight lines are judged in one STRtree query per
call. The work still grows with the cameras in the area times the samples each can reach.
Building heights, the camera's tilt and the near blind zone under it are not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from jingwu.domain.camera_sight import LocalFrame
from jingwu.domain.cameras import Camera, CameraKind, CameraView
from jingwu.domain.geo import GeoPoint
from jingwu.errors import ValidationFailed

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: The most street samples one call makes: beyond, the spacing grows (a 3 km square of a dense
#: city centre holds ~20,000 samples at 10 m).
MAX_SAMPLES = 60_000
#: The most candidate positions the placement weighs.
MAX_CANDIDATES = 600
#: Street points offered as candidates besides the junctions: one per cell of this size.
CANDIDATE_SPACING_M = 40.0

#: (min_lon, min_lat, max_lon, max_lat), or a polygon ring of (lon, lat).
Area = tuple[float, float, float, float] | Sequence[tuple[float, float]]


class Occluders(Protocol):
    """What blocks sight lines: ``jingwu.geocode.buildings.Buildings`` is one."""

    def blocks_many(
        self, a_lat: FloatArray, a_lon: FloatArray, b_lat: FloatArray, b_lon: FloatArray
    ) -> BoolArray: ...


@dataclass(frozen=True, slots=True)
class Weights:
    """What an uncovered sample weighs: ``per_metre`` for its length (0.01: 100 m of street
    weigh as much as one incident), plus ``incident`` for each incident and each request's own
    weight, shared out over the samples within ``kernel_m`` (nearer ones more: a linear kernel)."""

    per_metre: float = 0.01
    incident: float = 1.0
    kernel_m: float = 50.0


@dataclass(frozen=True, slots=True)
class Request:
    """A community's request for a camera at a place, with its weight."""

    position: GeoPoint
    weight: float = 1.0


class Streets:
    """Street pieces as flat arrays: piece ``i`` is points ``ptr[i]:ptr[i+1]`` (lon, lat), with
    its name. Build once (``from_geojson(network.road_geojson())``) and reuse for every area."""

    def __init__(self, lon: FloatArray, lat: FloatArray, ptr: IntArray, names: Sequence[str | None]) -> None:
        self.lon, self.lat, self.ptr, self.names = lon, lat, ptr, list(names)
        self.piece_of_point = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))

    @classmethod
    def from_pieces(cls, pieces: Sequence[tuple[str | None, Sequence[tuple[float, float]]]]) -> Streets:
        """From (name, [(lon, lat), …]) pieces."""
        kept = [(name, list(line)) for name, line in pieces if len(line) >= 2]
        ptr = np.zeros(len(kept) + 1, np.int64)
        ptr[1:] = np.cumsum([len(line) for _, line in kept])
        flat = np.array([p for _, line in kept for p in line], np.float64).reshape(-1, 2)
        return cls(flat[:, 0].copy(), flat[:, 1].copy(), ptr, [name for name, _ in kept])

    @classmethod
    def from_geojson(cls, collection: Mapping[str, Any]) -> Streets:
        """From a FeatureCollection of LineStrings with a ``name`` property (``road_geojson()``)."""
        pieces = [
            (
                f.get("properties", {}).get("name"),
                [(float(x), float(y)) for x, y, *_ in f["geometry"]["coordinates"]],
            )
            for f in collection.get("features", [])
            if f.get("geometry", {}).get("type") == "LineString"
        ]
        return cls.from_pieces(pieces)


class _Samples:
    """The samples of one area in metres about its centre: each a straight stretch (x0, y0) →
    (x1, y1) of ``length`` metres on street piece ``piece``; ``joined[i]``: sample i+1 continues i."""

    def __init__(self, streets: Streets, area: Area, sample_m: float) -> None:
        ring = _ring(area)
        lon_min, lat_min = min(p[0] for p in ring), min(p[1] for p in ring)
        lon_max, lat_max = max(p[0] for p in ring), max(p[1] for p in ring)
        self.frame = LocalFrame(GeoPoint((lat_min + lat_max) / 2, (lon_min + lon_max) / 2))
        x, y = self.xy(streets.lon, streets.lat)
        bx0, by0 = self.frame.to_xy(lat_min, lon_min)
        bx1, by1 = self.frame.to_xy(lat_max, lon_max)
        self.bounds = (bx0, by0, bx1, by1)
        piece = streets.piece_of_point
        seg = np.flatnonzero(piece[:-1] == piece[1:]) if len(piece) > 1 else np.zeros(0, np.int64)
        sx0, sy0, sx1, sy1 = x[seg], y[seg], x[seg + 1], y[seg + 1]
        touch = (np.maximum(sx0, sx1) >= bx0) & (np.minimum(sx0, sx1) <= bx1)
        touch &= (np.maximum(sy0, sy1) >= by0) & (np.minimum(sy0, sy1) <= by1)
        seg, sx0, sy0, sx1, sy1 = seg[touch], sx0[touch], sy0[touch], sx1[touch], sy1[touch]
        seg_len = np.hypot(sx1 - sx0, sy1 - sy0)
        # Within the cap, the spacing asked for; beyond it, as fine as the cap allows.
        spacing = max(sample_m, float(seg_len.sum()) / MAX_SAMPLES)
        parts = np.maximum(1, np.ceil(seg_len / spacing)).astype(np.int64)
        which = np.repeat(np.arange(len(seg)), parts)
        j = np.arange(len(which)) - np.repeat(np.cumsum(parts) - parts, parts)
        n = parts[which]
        t0, t1 = j / n, (j + 1) / n
        dx, dy = sx1[which] - sx0[which], sy1[which] - sy0[which]
        x0, y0 = sx0[which] + dx * t0, sy0[which] + dy * t0
        x1, y1 = sx0[which] + dx * t1, sy0[which] + dy * t1
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        inside = shapely.contains_xy(
            shapely.polygons([self.frame.to_xy(lat, lon) for lon, lat in ring]), mx, my
        )
        keep = np.flatnonzero(inside)
        if len(keep) == 0:
            raise ValidationFailed("no street lies within the area", code="empty_area")
        self.x0, self.y0, self.x1, self.y1 = x0[keep], y0[keep], x1[keep], y1[keep]
        self.x, self.y = mx[keep], my[keep]
        self.length = (seg_len[which] / n)[keep]
        self.segment = seg[which][keep]
        self.piece = piece[self.segment]
        part, last = j[keep], (j == n - 1)[keep]
        same = self.segment[1:] == self.segment[:-1]
        self.joined = (same & (part[1:] == part[:-1] + 1)) | (
            (self.segment[1:] == self.segment[:-1] + 1) & (part[1:] == 0) & last[:-1] & ~same
        )
        self.joined &= self.piece[1:] == self.piece[:-1]
        self.names = streets.names
        self.lon, self.lat = self.lonlat(self.x, self.y)
        self.tree = cKDTree(np.column_stack([self.x, self.y]))

    def xy(self, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        f = self.frame
        return (lon - f.origin.lon) * f.kx, (lat - f.origin.lat) * f.ky

    def lonlat(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        f = self.frame
        return x / f.kx + f.origin.lon, y / f.ky + f.origin.lat

    def name(self, sample: int) -> str | None:
        return self.names[int(self.piece[sample])]


def _ring(area: Area) -> list[tuple[float, float]]:
    if len(area) == 4 and all(isinstance(v, int | float) for v in area):
        lon0, lat0, lon1, lat1 = (float(v) for v in area)  # type: ignore[arg-type]
        if not (lon0 < lon1 and lat0 < lat1):
            raise ValidationFailed("the area's box must run from its south-west to its north-east corner")
        return [(lon0, lat0), (lon1, lat0), (lon1, lat1), (lon0, lat1)]
    ring = [(float(p[0]), float(p[1])) for p in area]  # type: ignore[index]
    if len(ring) < 3:
        raise ValidationFailed("an area polygon needs at least three corners")
    return ring


def _seen(
    samples: _Samples,
    occluders: Occluders,
    px: FloatArray,
    py: FloatArray,
    reach: FloatArray,
) -> tuple[IntArray, IntArray, FloatArray]:
    """(viewpoint, sample, bearing) for every sample within ``reach`` of a viewpoint with a clear
    line of sight to it (field of view not yet applied)."""
    near = samples.tree.query_ball_point(np.column_stack([px, py]), reach) if len(px) else []
    sizes = np.array([len(s) for s in near], np.int64)
    who = np.repeat(np.arange(len(px)), sizes)
    what = np.array([i for s in near for i in s], np.int64)
    if not len(what):
        return who, what, np.zeros(0)
    bearing = np.degrees(np.arctan2(samples.x[what] - px[who], samples.y[what] - py[who])) % 360.0
    plon, plat = samples.lonlat(px, py)
    blocked = occluders.blocks_many(plat[who], plon[who], samples.lat[what], samples.lon[what])
    clear = ~blocked
    return who[clear], what[clear], bearing[clear]


def _in_view(heading: FloatArray, fov: FloatArray, bearing: FloatArray) -> BoolArray:
    off = np.abs((bearing - heading + 180.0) % 360.0 - 180.0)
    return np.asarray((fov >= 360.0) | (off <= fov / 2.0), np.bool_)


@dataclass(frozen=True, slots=True)
class Coverage:
    """The streets of an area and what the cameras cover of them."""

    samples: _Samples
    total_m: float
    covered_m: float
    per_camera_m: Mapping[str, float]  # every fixed camera considered, 0 where it covers nothing
    covered: BoolArray  # per sample
    cameras_of: Sequence[tuple[str, ...]]  # per sample: the cameras covering it

    @property
    def ratio(self) -> float:
        return self.covered_m / self.total_m if self.total_m else 0.0

    def geojson(self) -> dict[str, Any]:
        """Covered and uncovered stretches as LineStrings (consecutive samples covered by the same
        cameras merged), with ``covered``, ``camera_ids``, ``length_m`` and ``name``."""
        s = self.samples
        features = []
        start = 0
        n = len(s.x)
        for i in range(n):
            last = i == n - 1 or not s.joined[i] or self.cameras_of[i + 1] != self.cameras_of[i]
            if last:
                features.append(self._stretch(start, i))
                start = i + 1
        return {"type": "FeatureCollection", "features": features}

    def _stretch(self, first: int, last: int) -> dict[str, Any]:
        s = self.samples
        return {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": _run_line(s, np.arange(first, last + 1))},
            "properties": {
                "covered": bool(self.cameras_of[first]),
                "camera_ids": list(self.cameras_of[first]),
                "length_m": round(float(s.length[first : last + 1].sum()), 1),
                "name": s.name(first),
            },
        }


def _run_line(samples: _Samples, run: IntArray) -> list[list[float]]:
    """A run of joined samples as (lon, lat) to ~1 m: its start, then each sample's end where
    the street bends (within one straight segment the ends in between add nothing)."""
    turn = np.ones(len(run), np.bool_)
    turn[:-1] = samples.segment[run[1:]] != samples.segment[run[:-1]]
    xs = np.concatenate([[samples.x0[run[0]]], samples.x1[run[turn]]])
    ys = np.concatenate([[samples.y0[run[0]]], samples.y1[run[turn]]])
    lon, lat = samples.lonlat(xs, ys)
    return [[round(a, 6), round(b, 6)] for a, b in zip(lon.tolist(), lat.tolist(), strict=True)]


def street_coverage(
    streets: Streets, area: Area, cameras: Sequence[Camera], occluders: Occluders, sample_m: float = 10.0
) -> Coverage:
    """What the fixed, enabled cameras (with a position and a view) cover of the streets in
    ``area``. Cameras outside the area count where their range reaches into it."""
    samples = _Samples(streets, area, sample_m)
    fixed = [
        c
        for c in cameras
        if c.kind is CameraKind.FIXED and c.enabled and c.position is not None and c.view is not None
    ]
    views = [c.view for c in fixed if c.view is not None]
    positions = [c.position for c in fixed if c.position is not None]
    px, py = samples.xy(np.array([p.lon for p in positions]), np.array([p.lat for p in positions]))
    reach = np.array([v.range_m for v in views], np.float64)
    heading = np.array([v.heading_deg for v in views], np.float64)
    fov = np.array([v.fov_deg for v in views], np.float64)
    x0, y0, x1, y1 = samples.bounds
    # Only cameras whose range reaches the area's box are asked about.
    near = (px >= x0 - reach) & (px <= x1 + reach) & (py >= y0 - reach) & (py <= y1 + reach)
    idx = np.flatnonzero(near)
    who, what, bearing = _seen(samples, occluders, px[idx], py[idx], reach[idx])
    look = _in_view(heading[idx][who], fov[idx][who], bearing)
    who, what = idx[who[look]], what[look]
    per_camera = np.bincount(who, weights=samples.length[what], minlength=len(fixed))
    covered = np.zeros(len(samples.x), np.bool_)
    covered[what] = True
    cameras_of: list[list[str]] = [[] for _ in range(len(samples.x))]
    for c, sample in sorted(zip(who.tolist(), what.tolist(), strict=True), key=lambda p: fixed[p[0]].id):
        cameras_of[sample].append(fixed[c].id)
    total = float(samples.length.sum())
    return Coverage(
        samples=samples,
        total_m=total,
        covered_m=float(samples.length[covered].sum()),
        per_camera_m={c.id: float(m) for c, m in zip(fixed, per_camera.tolist(), strict=True)},
        covered=covered,
        cameras_of=[tuple(ids) for ids in cameras_of],
    )


def _weigh(
    coverage: Coverage, incidents: Sequence[GeoPoint], requests: Sequence[Request], weights: Weights
) -> tuple[FloatArray, IntArray]:
    """Each sample's weight, and how many incidents lie nearest to it (within ``kernel_m``)."""
    s = coverage.samples
    weight = s.length * weights.per_metre
    counts = np.zeros(len(s.x), np.int64)
    points = [(p, weights.incident, True) for p in incidents] + [
        (r.position, r.weight, False) for r in requests
    ]
    if not points:
        return weight, counts
    qx, qy = s.xy(np.array([p.lon for p, _, _ in points]), np.array([p.lat for p, _, _ in points]))
    for (_, w, is_incident), near, x, y in zip(
        points, s.tree.query_ball_point(np.column_stack([qx, qy]), weights.kernel_m), qx, qy, strict=True
    ):
        if not near:
            continue  # no street within reach: it weighs on no sample
        idx = np.array(near, np.int64)
        d = np.hypot(s.x[idx] - x, s.y[idx] - y)
        k = (1.0 - d / weights.kernel_m) * s.length[idx]
        if k.sum() <= 0:
            k = np.ones(len(idx))
        weight[idx] += w * k / k.sum()  # shared out: each incident weighs ``w`` in all
        if is_incident:
            counts[idx[int(np.argmin(d))]] += 1
    return weight, counts


@dataclass(frozen=True, slots=True)
class BlindSpot:
    """Uncovered street in one grid cell: ``weight`` (see :class:`Weights`), the uncovered
    ``length_m``, the ``incidents`` nearest to it, its length-weighted ``centroid``, labels."""

    rank: int
    weight: float
    length_m: float
    incidents: int
    centroid: GeoPoint
    streets: tuple[str, ...]  # the named streets in it, most uncovered metres first
    label: str
    label_zh: str
    lines: tuple[tuple[tuple[float, float], ...], ...]  # the uncovered stretches, (lon, lat)


def blind_spots(
    coverage: Coverage,
    incidents: Sequence[GeoPoint] = (),
    requests: Sequence[Request] = (),
    weights: Weights = Weights(),
    cell_m: float = 150.0,
    limit: int = 20,
) -> list[BlindSpot]:
    """The uncovered street grouped in ``cell_m`` grid cells, the heaviest ``limit`` first."""
    s = coverage.samples
    weight, counts = _weigh(coverage, incidents, requests, weights)
    open_ = np.flatnonzero(~coverage.covered)
    if not len(open_):
        return []
    cx, cy = np.floor(s.x[open_] / cell_m).astype(np.int64), np.floor(s.y[open_] / cell_m).astype(np.int64)
    _, cell = np.unique(np.column_stack([cx, cy]), axis=0, return_inverse=True)
    cell = cell.reshape(-1)
    totals = np.bincount(cell, weights=weight[open_])
    order = sorted(range(len(totals)), key=lambda c: (-totals[c], c))[:limit]
    spots = []
    for rank, c in enumerate(order, start=1):
        members = open_[cell == c]
        lengths = s.length[members]
        mx, my = (
            float(np.average(s.x[members], weights=lengths)),
            float(np.average(s.y[members], weights=lengths)),
        )
        by_name: dict[str, float] = {}
        for m, length in zip(members.tolist(), lengths.tolist(), strict=True):
            name = s.name(m)
            if name:
                by_name[name] = by_name.get(name, 0.0) + length
        names = tuple(sorted(by_name, key=lambda n: (-by_name[n], n)))
        label, label_zh = _label(names)
        spots.append(
            BlindSpot(
                rank=rank,
                weight=float(totals[c]),
                length_m=float(lengths.sum()),
                incidents=int(counts[members].sum()),
                centroid=s.frame.to_geo(mx, my),
                streets=names,
                label=label,
                label_zh=label_zh,
                lines=_runs(s, members),
            )
        )
    return spots


def _label(names: Sequence[str]) -> tuple[str, str]:
    if not names:
        return "blind spot on unnamed streets", "无名道路监控盲区"
    if len(names) == 1:
        return f"blind spot on {names[0]}", f"{names[0]}监控盲区"
    return f"blind spot around {names[0]} and {names[1]}", f"{names[0]}、{names[1]}一带监控盲区"


def _runs(samples: _Samples, members: IntArray) -> tuple[tuple[tuple[float, float], ...], ...]:
    """Sorted sample indices as polylines, consecutive joined samples merged."""
    lines = []
    start = 0
    for k in range(len(members)):
        i = int(members[k])
        if k == len(members) - 1 or int(members[k + 1]) != i + 1 or not samples.joined[i]:
            lines.append(tuple((a, b) for a, b in _run_line(samples, members[start : k + 1])))
            start = k + 1
    return tuple(lines)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A camera worth adding: where, looking which way, and what it adds to the coverage."""

    rank: int
    position: GeoPoint
    view: CameraView
    weight_added: float
    metres_added: float
    incidents_added: int
    street: str | None  # the street it covers most of


def suggest_cameras(
    coverage: Coverage,
    occluders: Occluders,
    k: int = 10,
    incidents: Sequence[GeoPoint] = (),
    requests: Sequence[Request] = (),
    weights: Weights = Weights(),
    headings: int = 8,
    fov_deg: float = 90.0,
    range_m: float = 60.0,
    height_m: float = 6.0,
    candidates: Sequence[GeoPoint] | None = None,
) -> list[Suggestion]:
    """Up to ``k`` new cameras, chosen one at a time by the uncovered weight each adds to what
    the cameras already there and those chosen before cover (greedy maximum coverage, within
    a factor 1 - 1/e of the best choice of ``k``). Fewer when nothing more is to be gained.
    ``candidates``: the positions to choose from (poles, walls one may use), else junctions and
    street points of the area (see :func:`_candidates`); views of the same position are
    weighed apart, so two may be taken there."""
    s = coverage.samples
    weight, counts = _weigh(coverage, incidents, requests, weights)
    remaining = np.where(coverage.covered, 0.0, weight)
    if candidates is None:
        cx, cy = _candidates(coverage, remaining, range_m)
    else:
        cx, cy = s.xy(np.array([p.lon for p in candidates]), np.array([p.lat for p in candidates]))
    if not len(cx) or k <= 0:
        return []
    who, what, bearing = _seen(s, occluders, cx, cy, np.full(len(cx), range_m))
    steps = [360.0 * h / headings for h in range(headings)]
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    for h, heading in enumerate(steps):
        look = _in_view(np.full(len(bearing), heading), np.full(len(bearing), fov_deg), bearing)
        rows.append(who[look] * headings + h)
        cols.append(what[look])
    row, col = np.concatenate(rows), np.concatenate(cols)
    views = csr_matrix((np.ones(len(row)), (row, col)), shape=(len(cx) * headings, len(s.x)))
    length_left = np.where(coverage.covered, 0.0, s.length)
    picks = []
    for rank in range(1, k + 1):
        gains = views @ remaining
        best = int(np.argmax(gains))
        if gains[best] <= 1e-9:
            break
        added = views.indices[views.indptr[best] : views.indptr[best + 1]]
        street_m: dict[str | None, float] = {}
        for m in added.tolist():
            street_m[s.name(m)] = street_m.get(s.name(m), 0.0) + float(length_left[m])
        pos, heading = best // headings, steps[best % headings]
        picks.append(
            Suggestion(
                rank=rank,
                position=s.frame.to_geo(float(cx[pos]), float(cy[pos])),
                view=CameraView(heading_deg=heading, fov_deg=fov_deg, range_m=range_m, height_m=height_m),
                weight_added=float(gains[best]),
                metres_added=float(length_left[added].sum()),
                incidents_added=int(counts[added][remaining[added] > 0].sum()),
                street=max(street_m, key=lambda n: street_m[n]) if street_m else None,
            )
        )
        remaining[added] = 0.0
        length_left[added] = 0.0
    return picks


def _candidates(coverage: Coverage, remaining: FloatArray, range_m: float) -> tuple[FloatArray, FloatArray]:
    """Junctions (points where three or more piece ends meet) and one street point per
    ``CANDIDATE_SPACING_M`` cell, the ``MAX_CANDIDATES`` with the most uncovered weight in range."""
    s = coverage.samples
    ends = np.concatenate([np.column_stack([s.x0, s.y0]), np.column_stack([s.x1, s.y1])])
    key, seen = np.unique(np.round(ends, 1), axis=0, return_counts=True)
    junctions = key[seen >= 3]
    cell = np.floor(np.column_stack([s.x, s.y]) / CANDIDATE_SPACING_M).astype(np.int64)
    _, first = np.unique(cell, axis=0, return_index=True)
    points = np.concatenate([junctions, np.column_stack([s.x[first], s.y[first]])])
    if not len(points):
        return np.zeros(0), np.zeros(0)
    score = np.array([remaining[i].sum() for i in s.tree.query_ball_point(points, range_m)])
    order = np.lexsort((np.arange(len(points)), -score))
    order = order[score[order] > 0][:MAX_CANDIDATES]
    return points[order, 0], points[order, 1]


def blind_spots_geojson(spots: Sequence[BlindSpot]) -> dict[str, Any]:
    """Each blind spot as a MultiLineString of its uncovered stretches, with its figures."""
    features = [
        {
            "type": "Feature",
            "geometry": {
                "type": "MultiLineString",
                "coordinates": [[list(p) for p in line] for line in b.lines],
            },
            "properties": {
                "rank": b.rank,
                "weight": round(b.weight, 3),
                "length_m": round(b.length_m, 1),
                "incidents": b.incidents,
                "centroid": [round(b.centroid.lon, 6), round(b.centroid.lat, 6)],
                "streets": list(b.streets),
                "label": b.label,
                "label_zh": b.label_zh,
            },
        }
        for b in spots
    ]
    return {"type": "FeatureCollection", "features": features}


def suggestions_geojson(suggestions: Sequence[Suggestion]) -> dict[str, Any]:
    """Each suggested camera as a Point with its view and what it adds."""
    features = [
        {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [round(p.position.lon, 6), round(p.position.lat, 6)],
            },
            "properties": {
                "rank": p.rank,
                "heading_deg": p.view.heading_deg,
                "fov_deg": p.view.fov_deg,
                "range_m": p.view.range_m,
                "height_m": p.view.height_m,
                "weight_added": round(p.weight_added, 3),
                "metres_added": round(p.metres_added, 1),
                "incidents_added": p.incidents_added,
                "street": p.street,
            },
        }
        for p in suggestions
    ]
    return {"type": "FeatureCollection", "features": features}


__all__ = [
    "CANDIDATE_SPACING_M",
    "MAX_CANDIDATES",
    "MAX_SAMPLES",
    "Area",
    "BlindSpot",
    "Coverage",
    "Occluders",
    "Request",
    "Streets",
    "Suggestion",
    "Weights",
    "blind_spots",
    "blind_spots_geojson",
    "street_coverage",
    "suggest_cameras",
    "suggestions_geojson",
]
