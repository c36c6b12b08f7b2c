"""Exact k-nearest sources by road travel time to one target, and the routes they would drive.

One Dijkstra runs *backwards* from the target over the transposed graph, so a single search gives
every node's travel time *to* the target; each source then only adds the time from its own point to
the end of its edge. The search is bounded (``limit=L``) and L doubles until the k-th best ETA is
within L: a source not yet found would need more than L, so the answer is exact.

The target sits part-way along an edge. It becomes a *virtual node*: a reserved extra row of the
transposed matrix whose two entries (the target edge's start node, and on a two-way street the twin
edge's start node, each with the time from there to the target) are overwritten for each query,
under a lock. The alternative, searching from both end nodes and combining, doubles every query's
search cost.

The per-query work outside scipy is kept to a few vectorised passes over the sources and over the
k winners' legs; scipy's own per-call overhead (~30 µs here) is the floor.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, pairwise

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from jingwu.errors import ValidationFailed
from jingwu.routing.model import Reach, RoadPoint, Route
from jingwu.routing.osm_import import CompiledGraph, min_weight_csr

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Floor for the first search limit. The first limit comes from the density of sources
#: (``_initial_limit``); 240 s, the fixed start one might pick, settles ~4x more nodes than needed
#: for a 2,000-unit roster, and a too-small one costs a whole extra search.
_MIN_LIMIT_S = 30.0
#: The first search aims to cover road length holding this many times k evenly spread sources.
#: Measured on Harbin (2,000 and 100 units): 1.5-2 is the cheapest; above 3 every search settles
#: more nodes, below 1 too many queries need a second search.
_COVER_FACTOR = 1.5
_SOURCE_CACHE_SLOTS = 4
_LARGEST = float(np.finfo(np.float64).max)
#: Found sets up to this size are ranked with a plain sort; larger ones partition first.
_SMALL_SORT = 64


@dataclass(frozen=True, eq=False)
class SourceArrays:
    """Per-source constants of the corrections, computed once per roster (see ``sources``).

    Source i can leave its point along its own edge (to ``node2[i]``, taking ``time2[i]``) or, on a
    two-way street, along the twin edge (to ``node2[n + i]`` in ``time2[n + i]``; +inf without a
    twin). ``by_edge`` finds the sources on the target's own street.
    """

    node2: IntArray
    time2: FloatArray
    edge: list[int]
    frac: list[float]
    twin: list[int]
    by_edge: dict[int, list[int]]

    @property
    def n(self) -> int:
        return len(self.edge)


class ReverseSearch:
    def __init__(self, graph: CompiledGraph) -> None:
        self.g = graph
        n = graph.node_count
        self.virtual = n
        base, _ = min_weight_csr(graph.edge_v, graph.edge_u, graph.edge_time, n, extra_rows=1)
        indptr = base.indptr.copy()
        indptr[-1] += 2  # the virtual node's row: two slots rewritten per query
        self._matrix = csr_matrix(
            (
                np.concatenate((base.data, [0.0, 0.0])),
                np.concatenate((base.indices, [0, 0])).astype(np.int32),
                indptr,
            ),
            shape=(n + 1, n + 1),
        )
        # scipy uses these very arrays (no copy for a float64 CSR), so writing into them is enough.
        self._slot_nodes = self._matrix.indices[-2:]
        self._slot_times = self._matrix.data[-2:]
        self._lock = threading.Lock()
        # Plain lists: per-query scalar lookups on them are several times cheaper than on arrays.
        self._edge_u: list[int] = graph.edge_u.tolist()
        self._edge_v: list[int] = graph.edge_v.tolist()
        self._edge_time: list[float] = graph.edge_time.tolist()
        self._edge_twin: list[int] = graph.edge_twin.tolist()

        # (u, v) → the edge the graph uses between them (the fastest of parallel edges), to turn
        # the node path of a search into edges. A dict: a route does a few dozen single lookups.
        _, chosen = min_weight_csr(graph.edge_u, graph.edge_v, graph.edge_time, n)
        keys = graph.edge_u[chosen] * (n + 1) + graph.edge_v[chosen]
        self._pair: dict[int, int] = dict(zip(keys.tolist(), chosen.tolist(), strict=True))
        self._edge_len: list[float] = graph.edge_len.tolist()
        self._init_edge_points()

        self._source_cache: dict[int, tuple[Sequence[RoadPoint], SourceArrays]] = {}
        self._reach_t, self._reach_share = self._calibrate_reach()
        self._limit_cache: dict[tuple[int, int], float] = {}

    def _init_edge_points(self) -> None:
        """Every directed edge's polyline in driving order, edge after edge: edge e owns items
        ``_offset[e]`` … ``_offset[e+1]-1`` of ``_pts_lon``/``_pts_lat``, ``_along`` (metres from
        the edge's start) and ``_pts_time`` (seconds from the edge's start)."""
        g = self.g
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
        # The end node exactly at the edge's time (the search's own sum), and no earlier point
        # past it by rounding, so that concatenated edges never step back in time.
        edge_time = np.repeat(g.edge_time, count)
        np.minimum(time, edge_time, out=time)
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
        self._rate: list[float] = rate.tolist()
        # An edge's points after its first (its start node is the previous edge's end): a range
        # per edge, so a route's whole edges are gathered without a Python-level loop.
        self._tail: list[range] = [range(a + 1, b) for a, b in pairwise(self._offset)]
        self._tail_len: list[int] = (np.diff(offsets) - 1).tolist()

    # ------------------------------------------------------------------ sources

    def sources(self, points: Sequence[RoadPoint]) -> SourceArrays:
        """Corrections for a roster, cached per sequence object.

        A dispatcher asks many queries against the same roster, and turning 2,000 RoadPoints into
        arrays costs more than the bounded search itself. The cache keys on the object's id and
        keeps a snapshot (the tuple itself, or a copy of a list), so a mutated list, or a new one
        that reuses the id, is caught by one C-level comparison (identity first, element by element).
        """
        key = id(points)
        hit = self._source_cache.get(key)
        if hit is not None:
            snapshot, arrays = hit
            if snapshot is points or (isinstance(points, list) and snapshot == points):
                return arrays
        arrays = self._source_arrays(points)
        snapshot_new: Sequence[RoadPoint] = points if isinstance(points, tuple) else list(points)
        with self._lock:
            if len(self._source_cache) >= _SOURCE_CACHE_SLOTS:
                self._source_cache.pop(next(iter(self._source_cache)))
            self._source_cache[key] = (snapshot_new, arrays)
        return arrays

    def _source_arrays(self, points: Sequence[RoadPoint]) -> SourceArrays:
        g = self.g
        n = len(points)
        edge = np.fromiter((p.edge for p in points), dtype=np.int64, count=n)
        frac = np.fromiter((p.fraction for p in points), dtype=np.float64, count=n)
        if n and (edge.min() < 0 or edge.max() >= g.edge_count):
            raise ValidationFailed(
                "a source RoadPoint does not belong to this road network", code="bad_road_point"
            )
        if n and not (np.all(frac >= 0.0) and np.all(frac <= 1.0)):
            raise ValidationFailed("a source RoadPoint has a fraction outside 0..1", code="bad_road_point")
        twin = g.edge_twin[edge]
        has_twin = twin >= 0
        safe_twin = np.where(has_twin, twin, 0)
        by_edge: dict[int, list[int]] = {}
        for i, e in enumerate(edge.tolist()):
            by_edge.setdefault(e, []).append(i)
        return SourceArrays(
            node2=np.concatenate((g.edge_v[edge], np.where(has_twin, g.edge_v[safe_twin], 0))),
            time2=np.concatenate(
                ((1.0 - frac) * g.edge_time[edge], np.where(has_twin, frac * g.edge_time[safe_twin], np.inf))
            ),
            edge=edge.tolist(),
            frac=frac.tolist(),
            twin=twin.tolist(),
            by_edge=by_edge,
        )

    # ------------------------------------------------------------------ queries

    def nearest(
        self,
        target: RoadPoint,
        points: Sequence[RoadPoint],
        k: int,
        with_routes: bool,
        bounded: bool,
        first_limit: float | None = None,
        allowed: NDArray[np.bool_] | None = None,
    ) -> list[Reach]:
        """Exact top-k; ``bounded=False`` is the one-full-search baseline. ``first_limit``
        overrides the density-based first guess (any value keeps the answer exact). ``allowed``
        (one flag per point) leaves the others out while the roster and its cached arrays stay
        the same, so a per-incident eligibility filter costs no roster rebuild."""
        if k < 1:
            raise ValidationFailed("k must be at least 1", code="bad_k", k=k)
        if not 0 <= target.edge < self.g.edge_count or not 0.0 <= target.fraction <= 1.0:
            raise ValidationFailed(
                "target RoadPoint does not belong to this road network", code="bad_road_point"
            )
        src = self.sources(points)
        n = src.n
        if allowed is not None and allowed.shape != (n,):
            raise ValidationFailed("allowed needs one flag per source", code="bad_allowed_mask")
        candidates = n if allowed is None else int(np.count_nonzero(allowed))
        if candidates == 0:
            return []
        want = min(k, candidates)
        direct = self._same_street(target, src)
        if not bounded:
            limit = math.inf
        elif first_limit is not None:
            limit = max(first_limit, _MIN_LIMIT_S)
        else:
            limit = self._initial_limit(candidates, want)  # the allowed ones set the density
        while True:
            dist, pred = self._search(target, limit)
            eta2 = src.time2 + dist.take(src.node2)
            eta = np.minimum(eta2[:n], eta2[n:])
            for i, (_, _, time) in direct.items():
                if time < eta[i]:
                    eta[i] = time
            if allowed is not None:
                eta[~allowed] = math.inf
            # (An unbounded search leaves unreachable sources at inf: never "found".)
            found = np.flatnonzero(eta <= (limit if limit < math.inf else _LARGEST))
            if found.shape[0] >= want or math.isinf(limit):
                break
            limit *= 2.0
            if limit >= self.g.eta_bound:
                limit = math.inf
        best = _top_k(eta, found, want)
        return self._reaches(target, src, best, eta, eta2, direct, pred, with_routes)

    def _search(self, target: RoadPoint, limit: float) -> tuple[FloatArray, NDArray[np.int32]]:
        te, frac = target.edge, target.fraction
        tw = self._edge_twin[te]
        with self._lock:
            # Reverse search: virtual → a costs the time from a to the target along the target edge.
            self._slot_nodes[0] = self._edge_u[te]
            self._slot_times[0] = frac * self._edge_time[te]
            if tw >= 0:
                self._slot_nodes[1] = self._edge_u[tw]
                self._slot_times[1] = (1.0 - frac) * self._edge_time[tw]
            else:  # one-way: the second slot repeats the first (a harmless duplicate entry)
                self._slot_nodes[1] = self._edge_u[te]
                self._slot_times[1] = frac * self._edge_time[te]
            dist, pred = dijkstra(
                self._matrix, directed=True, indices=self.virtual, return_predecessors=True, limit=limit
            )
        return dist, pred

    def _same_street(self, target: RoadPoint, src: SourceArrays) -> dict[int, tuple[int, float, float]]:
        """Sources on the target's own street that can drive straight to it along that edge:
        index → (edge, source fraction on it, time). The graph search cannot see these, as it
        only knows times from edge *ends*."""
        out: dict[int, tuple[int, float, float]] = {}
        for edge in (target.edge, self._edge_twin[target.edge]):
            for i in src.by_edge.get(edge, ()) if edge >= 0 else ():
                straight = self._direct(edge, src.frac[i], target)
                if straight is not None and (i not in out or straight[2] < out[i][2]):
                    out[i] = straight
        return out

    def _direct(self, s_edge: int, s_frac: float, target: RoadPoint) -> tuple[int, float, float] | None:
        """(edge, source fraction on it, time) for driving along one edge to the target, when the
        source is on the target's street behind it in an allowed direction; else None."""
        best: tuple[int, float, float] | None = None
        s_twin = self._edge_twin[s_edge]
        t_twin = self._edge_twin[target.edge]
        s_options = [(s_edge, s_frac)]
        if s_twin >= 0:
            s_options.append((s_twin, 1.0 - s_frac))
        t_options = [(target.edge, target.fraction)]
        if t_twin >= 0:
            t_options.append((t_twin, 1.0 - target.fraction))
        for se, sf in s_options:
            for te, tf in t_options:
                if se == te and tf >= sf:
                    time = (tf - sf) * self._edge_time[se]
                    if best is None or time < best[2]:
                        best = (se, sf, time)
        return best

    def _initial_limit(self, n: int, k: int) -> float:
        """The time within which, for a typical target, enough road length to hold about
        ``_COVER_FACTOR * k`` of ``n`` evenly spread sources can reach it. Only a first guess:
        a clustered roster or a remote target just takes another (doubled) search."""
        cached = self._limit_cache.get((n, k))
        if cached is not None:
            return cached
        share = min(1.0, _COVER_FACTOR * k / n)
        i = int(np.searchsorted(self._reach_share, share))
        limit = math.inf if i >= self._reach_t.shape[0] else max(float(self._reach_t[i]), _MIN_LIMIT_S)
        if len(self._limit_cache) < 1024:
            self._limit_cache[(n, k)] = limit
        return limit

    def _calibrate_reach(self) -> tuple[FloatArray, FloatArray]:
        """Median share of all road length that can reach a target within t, for a grid of t,
        from a few reverse searches at evenly spread nodes (deterministic, ~20 ms)."""
        g = self.g
        grid = np.concatenate((np.arange(15.0, 600.0, 15.0), np.arange(600.0, g.eta_bound + 60.0, 60.0)))
        total = g.edge_len.sum()
        shares = []
        for node in np.linspace(0, g.node_count - 1, 12).astype(np.int64).tolist():
            dist = dijkstra(self._matrix, directed=True, indices=node)
            arrive = dist[g.edge_v] + g.edge_time  # from an edge's start, through it, to the target
            order = np.argsort(arrive)
            reached = np.cumsum(g.edge_len[order]) / total
            shares.append(np.interp(grid, arrive[order], reached, left=0.0, right=1.0))
        return grid, np.median(np.array(shares), axis=0)

    # ------------------------------------------------------------------ results

    def _reaches(
        self,
        target: RoadPoint,
        src: SourceArrays,
        best: list[int],
        eta: FloatArray,
        eta2: FloatArray,
        direct: dict[int, tuple[int, float, float]],
        pred: NDArray[np.int32],
        with_routes: bool,
    ) -> list[Reach]:
        """Each winner's trip: from its point to the end of its edge, whole edges along the
        search's predecessor chain, then from the start of the target's edge to the target; or a
        straight drive along the street they share.

        Routes are drawn in two passes: the trips are cut into runs of polyline points (Python,
        a few operations per edge), then all points of all k routes are gathered with a handful
        of numpy calls, which beats per-point Python on both call overhead and cache misses.
        """
        te = target.edge
        target_start = self._edge_u[te]
        tw = self._edge_twin[te]
        n = src.n
        virtual = self.virtual
        width = virtual + 1
        pair_edge = self._pair.__getitem__
        edge_len = self._edge_len
        edge_time = self._edge_time
        offset = self._offset
        along = self._along
        pred_item = pred.item
        eta2_item = eta2.item
        # Runs of polyline points for all routes: run j is points idx[...] (run_count[j] of them),
        # each at time run_shift[j] + _pts_time[point] on its route's clock.
        idx: list[int] = []
        run_shift: list[float] = []
        run_count: list[int] = []
        # Per route: (index, eta, distance, its first and end item in idx); and on the global axis,
        # where it starts and ends.
        plans: list[tuple[int, float, float, int, int]] = []
        ends: list[float] = []
        base = self._edge_base
        for i in best:
            t_eta = eta.item(i)
            straight = direct.get(i)
            if straight is not None and straight[2] <= t_eta:
                e, s_frac, _ = straight
                to_frac = target.fraction if e == te else 1.0 - target.fraction
                d0, d1 = s_frac * edge_len[e], to_frac * edge_len[e]
                if not with_routes:
                    plans.append((i, t_eta, d1 - d0, 0, 0))
                    continue
                first = len(idx)
                lo = bisect_right(along, d0, offset[e], offset[e + 1])
                hi = max(bisect_left(along, d1, offset[e], offset[e + 1]), lo)
                idx.extend(range(lo, hi))
                run_shift.append(-min(d0 * self._rate[e], edge_time[e]))
                run_count.append(hi - lo)
                ends.extend((base[e] + d0, base[e] + d1))
                plans.append((i, t_eta, d1 - d0, first, len(idx)))
                continue
            if eta2_item(i) <= eta2_item(n + i):
                first_edge, first_frac = src.edge[i], src.frac[i]
            else:
                first_edge, first_frac = src.twin[i], 1.0 - src.frac[i]
            node = self._edge_v[first_edge]
            path = [node]
            step = path.append
            node = pred_item(node)
            while node != virtual:
                if node < 0:  # impossible in a strongly connected graph; fail loudly if it happens
                    raise RuntimeError("broken predecessor chain")
                step(node)
                node = pred_item(node)
            mids = list(map(pair_edge, [a * width + b for a, b in pairwise(path)]))
            if path[-1] == target_start:
                last_edge, last_frac = te, target.fraction
            else:
                last_edge, last_frac = tw, 1.0 - target.fraction
            d0 = first_frac * edge_len[first_edge]
            d1 = last_frac * edge_len[last_edge]
            distance = edge_len[first_edge] - d0 + sum(map(edge_len.__getitem__, mids)) + d1
            if not with_routes:
                plans.append((i, t_eta, distance, 0, 0))
                continue
            first = len(idx)
            # From the source's point to the end of its edge: time along it minus the part behind.
            # (_pts_time is capped at the edge's time, so cap the part behind alike: never < 0.)
            hi = offset[first_edge + 1]
            lo = bisect_right(along, d0, offset[first_edge], hi)
            t = -min(d0 * self._rate[first_edge], edge_time[first_edge])
            idx.extend(range(lo, hi))
            run_shift.append(t)
            run_count.append(hi - lo)
            t += edge_time[first_edge]
            # Whole edges: their points after the first (the previous edge's end). Shifts are the
            # running sum of edge times, the same additions that end each edge at the next shift.
            idx.extend(chain.from_iterable(map(self._tail.__getitem__, mids)))
            run_count.extend(map(self._tail_len.__getitem__, mids))
            shifts = list(accumulate(map(edge_time.__getitem__, mids), initial=t))
            t = shifts.pop()
            run_shift.extend(shifts)
            # From the start of the target's edge up to (not including) the target point.
            lo = offset[last_edge] + 1
            hi = max(bisect_left(along, d1, lo, offset[last_edge + 1]), lo)
            idx.extend(range(lo, hi))
            run_shift.append(t)
            run_count.append(hi - lo)
            ends.extend((base[first_edge] + d0, base[last_edge] + d1))
            plans.append((i, t_eta, distance, first, len(idx)))
        if not with_routes:
            return [Reach(i, t_eta, distance, None) for i, t_eta, distance, _, _ in plans]

        at = np.array(idx, dtype=np.int64)
        lon = self._pts_lon.take(at).tolist()
        lat = self._pts_lat.take(at).tolist()
        times = (self._pts_time.take(at) + np.repeat(run_shift, run_count)).tolist()
        end_points = np.interp(ends, self._pos, self._pos_lonlat)
        end_lon, end_lat = end_points.real.tolist(), end_points.imag.tolist()
        out = []
        for r, (i, t_eta, distance, a, b) in enumerate(plans):
            first_point = (end_lon[2 * r], end_lat[2 * r])
            last_point = (end_lon[2 * r + 1], end_lat[2 * r + 1])
            coords = (first_point, *zip(lon[a:b], lat[a:b], strict=True), last_point)
            out.append(Reach(i, t_eta, distance, _route(t_eta, distance, coords, (0.0, *times[a:b], t_eta))))
        return out


def _route(
    eta: float, distance: float, coords: tuple[tuple[float, float], ...], times: tuple[float, ...]
) -> Route:
    """The final point is reached exactly at eta (the search's sum, not the legs re-summed); the
    re-summing can leave earlier points a hair past it. (Times never step back otherwise: each
    run's shift is the previous run's end time, computed by the same float operations.)"""
    if times[-2] > eta:
        times = tuple([min(x, eta) for x in times])
    return Route(eta, distance, coords, times)


def _top_k(eta: FloatArray, found: IntArray, want: int) -> list[int]:
    """The ``want`` best of ``found`` by eta, ties to the lower index (so that both search variants
    return the same list)."""
    if found.shape[0] <= _SMALL_SORT:
        ranked = sorted(zip(eta[found].tolist(), found.tolist(), strict=True))
        return [i for _, i in ranked[:want]]
    values = eta[found]
    kth = np.partition(values, want - 1)[want - 1]
    below = found[values < kth]
    tied = found[values == kth][: want - below.shape[0]]
    chosen = np.concatenate((below, tied))
    order: list[int] = chosen[np.lexsort((chosen, eta[chosen]))].tolist()
    return order
