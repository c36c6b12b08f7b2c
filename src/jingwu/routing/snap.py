"""Exact nearest-point-on-road lookup.

Every polyline segment is densified into sample points no more than ``SAMPLE_SPACING_M`` apart and
the samples go into a k-d tree (local metres). For a query point p, if the nearest sample is d0 away
then the nearest segment is at most d0 away and has a sample within d0 + spacing/2 of p; so
projecting p exactly onto the segments of all samples within that radius finds the true nearest
point on any segment, not merely the nearest vertex or sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from jingwu.routing.geo import LocalProjection, segment_lengths_m
from jingwu.routing.osm_import import CompiledGraph

#: Short enough that a ball query returns a handful of candidates, long enough that the tree
#: stays ~100k points for a city.
SAMPLE_SPACING_M = 20.0


@dataclass(frozen=True, slots=True)
class Snap:
    segment: int  # index of the segment's first point in the graph's point arrays
    t: float  # 0..1 along the segment
    distance_m: float  # in the local projection
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Snaps:
    """Many ``Snap``s as parallel arrays."""

    segment: NDArray[np.int64]
    t: NDArray[np.float64]
    distance_m: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]


#: Candidate samples asked for per point in a batch before falling back to a radius query.
_FEW = 8


class SegmentIndex:
    def __init__(self, graph: CompiledGraph, projection: LocalProjection) -> None:
        self.projection = projection
        n_pts = graph.pts_lon.shape[0]
        is_start = np.ones(n_pts, bool)
        is_start[graph.piece_ptr[1:] - 1] = False  # a piece's last point starts no segment
        self.seg_start: NDArray[np.int64] = np.flatnonzero(is_start)
        self.pts_x, self.pts_y = projection.to_xy(graph.pts_lon, graph.pts_lat)
        ax, ay = self.pts_x[self.seg_start], self.pts_y[self.seg_start]
        bx, by = self.pts_x[self.seg_start + 1], self.pts_y[self.seg_start + 1]
        # True (not projected) segment lengths, for sampling road points uniformly by length.
        all_len = segment_lengths_m(graph.pts_lon, graph.pts_lat)
        self.seg_len_m = all_len[self.seg_start]
        self.seg_cum_m = np.cumsum(self.seg_len_m)

        proj_len = np.hypot(bx - ax, by - ay)
        n_samples = np.maximum(np.ceil(proj_len / SAMPLE_SPACING_M).astype(np.int64), 1) + 1
        owner = np.repeat(np.arange(len(self.seg_start)), n_samples)
        first = np.concatenate(([0], np.cumsum(n_samples)[:-1]))
        t = (np.arange(owner.shape[0]) - first[owner]) / (n_samples[owner] - 1)
        sx = ax[owner] + (bx - ax)[owner] * t
        sy = ay[owner] + (by - ay)[owner] * t
        self.sample_owner = owner
        self.tree = cKDTree(np.column_stack((sx, sy)), balanced_tree=False, compact_nodes=False)

    def nearest(self, lon: float, lat: float, exact_within_m: float = math.inf) -> Snap:
        """The nearest point on any segment. Beyond ``exact_within_m`` (a caller who will reject
        the point anyway) the answer may come from the nearest sample only, which keeps a query
        from the far side of the world from projecting onto every segment of the city."""
        x, y = self.projection.point_to_xy(lon, lat)
        d0, nearest_sample = self.tree.query((x, y))
        if d0 - SAMPLE_SPACING_M / 2 > exact_within_m:
            candidates = [int(nearest_sample)]
        else:
            candidates = self.tree.query_ball_point((x, y), d0 + SAMPLE_SPACING_M / 2 + 1e-6)
        segs = np.unique(self.sample_owner[candidates])
        start = self.seg_start[segs]
        t, px, py, dist = self._project(x, y, start)
        best = int(np.argmin(dist))  # ties → lowest segment id, so snapping is deterministic
        return Snap(int(start[best]), float(t[best]), float(dist[best]), float(px[best]), float(py[best]))

    def nearest_many(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], exact_within_m: float = math.inf
    ) -> Snaps:
        """``nearest`` for many points at once, with the same answers (ties → lowest segment),
        as arrays: the tree is asked once for all of them and the candidate segments are
        projected in one vectorised pass, which is what lets a position batch of hundreds of
        units be placed on the roads in a few milliseconds."""
        x, y = self.projection.to_xy(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
        n = len(x)
        points = np.column_stack((x, y))
        # Most points have a handful of samples in reach: ask for the nearest few, and ask
        # again by radius only for the points whose every one of those lies in reach.
        k = min(_FEW, self.tree.n)
        dd, ii = self.tree.query(points, k=k)
        dd, ii = dd.reshape(n, k), ii.reshape(n, k)
        d0 = dd[:, 0]
        radius = d0 + SAMPLE_SPACING_M / 2 + 1e-6
        inside = dd <= radius[:, None]
        far = d0 - SAMPLE_SPACING_M / 2 > exact_within_m
        inside[far] = False
        inside[far, 0] = True  # beyond the caller's bound: the nearest sample only
        query, column = np.nonzero(inside)
        samples = ii[query, column]
        crowded = np.flatnonzero(inside[:, -1] & ~far)
        if len(crowded):
            keep = ~np.isin(query, crowded)
            balls = self.tree.query_ball_point(points[crowded], radius[crowded])
            query = np.concatenate((query[keep], np.repeat(crowded, [len(b) for b in balls])))
            samples = np.concatenate((samples[keep], np.fromiter((s for b in balls for s in b), np.int64)))
        start = self.seg_start[self.sample_owner[samples]]
        t, px, py, dist = self._project(x[query], y[query], start)
        # Per query the nearest candidate, the lowest segment among equals: sort by query, then
        # distance, then segment, and take each query's first row.
        order = np.lexsort((start, dist, query))
        best = order[np.searchsorted(query[order], np.arange(n))]
        return Snaps(start[best], t[best], dist[best], px[best], py[best])

    def _project(
        self, x: float | NDArray[np.float64], y: float | NDArray[np.float64], start: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Point(s) (x, y) projected onto the segments starting at ``start`` (one point for all,
        or one each): how far along (0..1), the foot, and the distance to it."""
        ax, ay = self.pts_x[start], self.pts_y[start]
        dx, dy = self.pts_x[start + 1] - ax, self.pts_y[start + 1] - ay
        len2 = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(len2 > 0, ((x - ax) * dx + (y - ay) * dy) / len2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        px, py = ax + dx * t, ay + dy * t
        return t, px, py, np.hypot(px - x, py - y)

    def sample_uniform(self, u: float) -> tuple[int, float]:
        """Map u ∈ [0, 1) to (segment first-point index, t) uniformly over road length."""
        total = float(self.seg_cum_m[-1])
        target = min(max(u, 0.0), math.nextafter(1.0, 0.0)) * total
        i = int(np.searchsorted(self.seg_cum_m, target, side="right"))
        i = min(i, len(self.seg_cum_m) - 1)
        before = float(self.seg_cum_m[i - 1]) if i > 0 else 0.0
        length = float(self.seg_len_m[i])
        t = (target - before) / length if length > 0 else 0.0
        return int(self.seg_start[i]), min(max(t, 0.0), 1.0)
