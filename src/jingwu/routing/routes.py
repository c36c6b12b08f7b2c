"""Drawing the routes of a search's winners: polylines with the time each point is passed.

A trip is a list of *legs*, each a stretch of one directed edge (from ``d0`` to ``d1`` metres along
it) entered at a known time. The trips are cut into runs of polyline points (Python, a few
operations per edge), then all points of all k routes are gathered with a handful of numpy calls,
which beats per-point Python on both call overhead and cache misses.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import chain, pairwise

import numpy as np
from numpy.typing import NDArray

from jingwu.routing.model import Route
from jingwu.routing.osm_import import CompiledGraph

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Trip:
    """One winner's drive: its edges in order, where it starts on the first and stops on the last
    (metres along each), and when it *enters* each edge (s, on the trip's clock: the start of an
    edge it joins part-way along may lie before 0). ``scale[i]`` stretches edge i's base times
    (a speed profile's hour)."""

    edges: list[int]
    d0: float
    d1: float
    enter: list[float]
    scale: list[float]
    eta: float
    distance: float


class RouteDrawer:
    def __init__(self, graph: CompiledGraph) -> None:
        """Every directed edge's polyline in driving order, edge after edge: edge e owns items
        ``_offset[e]`` … ``_offset[e+1]-1`` of the point arrays, ``_along`` (metres from the
        edge's start) and ``_pts_time`` (seconds from the edge's start at its base speed)."""
        g = graph
        piece = g.edge_piece
        first = g.piece_ptr[piece]
        count = g.piece_ptr[piece + 1] - first
        offsets = np.concatenate(([0], np.cumsum(count)))
        j = np.arange(offsets[-1]) - np.repeat(offsets[:-1], count)
        rev = np.repeat(g.edge_reversed, count)
        point = np.repeat(first, count) + np.where(rev, np.repeat(count - 1, count) - j, j)
        along = g.pts_cum[point]
        along = np.where(rev, np.repeat(g.edge_len, count) - along, along)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(g.edge_len > 0, g.edge_time / g.edge_len, 0.0)
        time = along * np.repeat(rate, count)
        # The end node exactly at the edge's time, and no earlier point past it by rounding.
        np.minimum(time, np.repeat(g.edge_time, count), out=time)
        time[offsets[1:] - 1] = g.edge_time
        self._offset: list[int] = offsets.tolist()
        # Every point also sits on one increasing axis (edge base + metres into the edge, edges 1 m
        # apart), so the interpolated end points of all routes are a single np.interp call.
        edge_base = np.concatenate(([0.0], np.cumsum(g.edge_len + 1.0)[:-1]))
        self._edge_base: list[float] = edge_base.tolist()
        self._pos = along + np.repeat(edge_base, count)
        self._pos_lonlat = g.pts_lon[point] + 1j * g.pts_lat[point]
        self._along: list[float] = along.tolist()  # for bisect within one edge
        self._pts_lon = g.pts_lon[point]
        self._pts_lat = g.pts_lat[point]
        self._pts_time = time
        self.edge_len: list[float] = g.edge_len.tolist()
        # An edge's points after its first (its start node is the previous edge's end): a range
        # per edge, so a route's whole edges are gathered without a Python-level loop.
        self._tail: list[range] = [range(a + 1, b) for a, b in pairwise(self._offset)]
        self._tail_len: list[int] = (np.diff(offsets) - 1).tolist()

    def draw(self, trips: list[Trip]) -> list[Route]:
        offset, along, base = self._offset, self._along, self._edge_base
        idx: list[int] = []
        run_shift: list[float] = []
        run_scale: list[float] = []
        run_count: list[int] = []
        spans: list[tuple[int, int]] = []
        ends: list[float] = []
        tail, tail_len = self._tail.__getitem__, self._tail_len.__getitem__
        for trip in trips:
            start = len(idx)
            edges = trip.edges
            first, last = edges[0], edges[-1]
            # The first edge's points after the start; whole edges' points after their first (the
            # previous edge's end); the last edge's up to (not including) the stop.
            lo = bisect_right(along, trip.d0, offset[first], offset[first + 1])
            if len(edges) == 1:
                hi = max(bisect_left(along, trip.d1, lo, offset[first + 1]), lo)
                idx.extend(range(lo, hi))
                run_count.append(hi - lo)
            else:
                idx.extend(range(lo, offset[first + 1]))
                run_count.append(offset[first + 1] - lo)
                mids = edges[1:-1]
                idx.extend(chain.from_iterable(map(tail, mids)))
                run_count.extend(map(tail_len, mids))
                lo = offset[last] + 1
                hi = max(bisect_left(along, trip.d1, lo, offset[last + 1]), lo)
                idx.extend(range(lo, hi))
                run_count.append(hi - lo)
            run_shift.extend(trip.enter)
            run_scale.extend(trip.scale)
            spans.append((start, len(idx)))
            ends.extend((base[first] + trip.d0, base[last] + trip.d1))
        at = np.array(idx, dtype=np.int64)
        lon = self._pts_lon.take(at).tolist()
        lat = self._pts_lat.take(at).tolist()
        clock = self._pts_time.take(at) * np.repeat(run_scale, run_count) + np.repeat(run_shift, run_count)
        # Times never step back (sums of the same edges taken in another order can differ in the
        # last bit): where one does inside a route, that route's times are made non-decreasing.
        np.maximum(clock, 0.0, out=clock)
        starts = np.array([a for a, _ in spans], dtype=np.int64)
        drops = np.flatnonzero(clock[1:] < clock[:-1]) + 1
        for r in np.unique(np.searchsorted(starts, drops, side="right") - 1).tolist():
            a, b = spans[r]
            clock[a:b] = np.maximum.accumulate(clock[a:b])
        times = clock.tolist()
        end_points = np.interp(ends, self._pos, self._pos_lonlat)
        end_lon, end_lat = end_points.real.tolist(), end_points.imag.tolist()
        out = []
        for r, (trip, (a, b)) in enumerate(zip(trips, spans, strict=True)):
            first_point = (end_lon[2 * r], end_lat[2 * r])
            last_point = (end_lon[2 * r + 1], end_lat[2 * r + 1])
            coords = (first_point, *zip(lon[a:b], lat[a:b], strict=True), last_point)
            out.append(_route(trip.eta, trip.distance, coords, (0.0, *times[a:b], trip.eta)))
        return out


def _route(
    eta: float, distance: float, coords: tuple[tuple[float, float], ...], times: tuple[float, ...]
) -> Route:
    """The final point is reached exactly at eta (the search's sum, not the legs re-summed); the
    re-summing can leave earlier points a hair past it."""
    if times[-2] > eta:
        times = tuple([min(x, eta) for x in times])
    return Route(eta, distance, coords, times)
