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
class Candidates:
    """Points' candidate segments as parallel arrays, one row per (point, segment) met: ``query``
    is the point's index (a segment may appear more than once for a point)."""

    query: NDArray[np.int64]
    segment: NDArray[np.int64]
    t: NDArray[np.float64]
    dist: NDArray[np.float64]
    px: NDArray[np.float64]
    py: NDArray[np.float64]


#: Candidate samples asked for per point in a batch before falling back to a radius query.
_FEW = 16


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

    def candidates(
        self,
        lon: NDArray[np.float64],
        lat: NDArray[np.float64],
        exact_within_m: float = math.inf,
        margin_m: float = 0.0,
    ) -> Candidates:
        """For each point, every segment within ``margin_m`` of its nearest one (and that one), as
        rows of arrays: the tree is asked once for all points and the candidate segments are
        projected in one vectorised pass, which is what lets a position batch of hundreds of
        units be placed on the roads in a few milliseconds. Rows may hold segments somewhat
        beyond the margin; the caller cuts at the margin."""
        x, y = self.projection.to_xy(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
        n = len(x)
        points = np.column_stack((x, y))
        # Most points have a handful of samples in reach: ask for the nearest few, and ask
        # again by radius only for the points whose every one of those lies in reach. A segment
        # within d of the point has a sample within d + spacing/2, and the nearest segment is no
        # farther than the nearest sample.
        k = min(_FEW, self.tree.n)
        dd, ii = self.tree.query(points, k=k)
        dd, ii = dd.reshape(n, k), ii.reshape(n, k)
        d0 = dd[:, 0]
        radius = d0 + margin_m + SAMPLE_SPACING_M / 2 + 1e-6
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
        return Candidates(query, start, t, dist, px, py)

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
