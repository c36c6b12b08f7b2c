"""Exact k-nearest sources by road travel time to one target, on the turn graph (``turns.py``).

One Dijkstra runs *backwards* from the target over the transposed turn graph, whose states are
directed edges: it gives, for every edge, the time from its end to the target, turns and their
costs and restrictions included. Each source then adds the time from its own point to the end of
the edge it leaves by. The search is bounded (``limit=L``) and L doubles until the k-th best ETA is
within L: a source not yet found would need more than L, so the answer is exact.

The target sits part-way along an edge. It becomes a *virtual state*: a reserved extra row of the
transposed matrix whose entries (every state that may turn onto one of the target's edges, with
the turn and the time from the edge's start to the target) are overwritten for each query, under a
lock. A target that may stand on several roads (``RoadPoint.others``) simply fills more entries.

The per-query work outside scipy is kept to a few vectorised passes over the sources and over the
k winners' trips; scipy's own per-call overhead (~30 µs here) is the floor.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from jingwu.errors import ValidationFailed
from jingwu.routing.model import MAX_PLACEMENTS, Reach, RoadPoint
from jingwu.routing.osm_import import CompiledGraph, min_weight_csr
from jingwu.routing.profiles import SpeedProfile
from jingwu.routing.routes import RouteDrawer, Trip
from jingwu.routing.turns import TURN_PENALTY_S, U_TURN_S, TurnGraph, transition_costs

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Floor for the first search limit. The first limit comes from the density of sources
#: (``_initial_limit``); 240 s, the fixed start one might pick, settles ~4x more states than needed
#: for a 2,000-unit roster, and a too-small one costs a whole extra search.
_MIN_LIMIT_S = 30.0
#: The first search aims to cover road length holding this many times k evenly spread sources.
_COVER_FACTOR = 1.5
_SOURCE_CACHE_SLOTS = 4
_LARGEST = float(np.finfo(np.float64).max)
#: Found sets up to this size are ranked with a plain sort; larger ones partition first.
_SMALL_SORT = 64
#: An officer whose car stops on a road farther from the incident than the nearest one walks the
#: difference (across a dual road's median, say) at this pace (m/s).
WALK_SPEED_MS = 1.4
_MAX_ARRIVALS = 2 * MAX_PLACEMENTS

#: (profile, hour): which speeds a query runs at; None is the base speeds.
Speeds = tuple[SpeedProfile, int] | None


@dataclass(frozen=True, eq=False)
class SourceArrays:
    """Per-source constants, computed once per roster (see ``sources``).

    Every source has one or more *departures*: an edge it may drive first (``dep_state``), the
    share of that edge still ahead of it (``dep_left``), the fraction it stands at (``dep_frac``),
    and seconds spent before it moves off (``dep_extra``: turning round). The grid holds them as
    ``[W, n]`` arrays, source i's in column i and padded with departures that never win
    (``grid_dep`` -1, infinite time): the best of each column is one ``min(axis=0)``, three times
    faster than ``np.minimum.reduceat`` over the flat list. ``by_piece`` finds the departures on
    the target's own street.
    """

    dep_state: IntArray
    dep_left: FloatArray
    dep_extra: FloatArray
    dep_frac: list[float]
    grid_state: IntArray
    grid_dep: IntArray
    by_piece: dict[int, list[tuple[int, int]]]
    times: dict[object, FloatArray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.grid_state.shape[1])

    def grid_time(self, edge_time: FloatArray) -> FloatArray:
        """Seconds from each departure's point to the end of its first edge, on the grid."""
        real = self.grid_dep >= 0
        dep = np.where(real, self.grid_dep, 0)
        time: FloatArray = self.dep_left[dep] * edge_time.take(self.dep_state[dep]) + self.dep_extra[dep]
        time[~real] = np.inf
        return time


@dataclass(frozen=True, eq=False)
class _Hour:
    """The search at one set of speeds: edge times and the transposed matrix with its slots."""

    edge_time: FloatArray
    time_list: list[float]
    scale_list: list[float]
    matrix: csr_matrix
    slot_nodes: NDArray[np.int32]
    slot_times: FloatArray
    eta_bound: float


class ReverseSearch:
    def __init__(self, graph: CompiledGraph) -> None:
        self.g = graph
        g = graph
        self.n_states = int(g.state_edge.shape[0])
        self.virtual = self.n_states
        piece_degree = np.bincount(g.piece_u, minlength=g.node_count) + np.bincount(
            g.piece_v, minlength=g.node_count
        )
        self._turn = transition_costs(
            g.edge_v,
            g.edge_twin,
            piece_degree,
            g.edge_bearing_out,
            g.edge_bearing_in,
            TurnGraph(state_edge=g.state_edge, trans_from=g.trans_from, trans_to=g.trans_to),
        )
        _, self._entries = min_weight_csr(g.trans_to, g.trans_from, self._turn, self.n_states, extra_rows=1)
        self._entry_target_edge = g.state_edge[g.trans_to[self._entries]]
        # Who may turn onto each edge (any state driving it), and at what turn cost: the slots.
        into = g.state_edge[g.trans_to]
        order = np.argsort(into, kind="stable")
        ptr = np.zeros(g.edge_count + 1, np.int64)
        np.cumsum(np.bincount(into, minlength=g.edge_count), out=ptr[1:])
        states, turns = g.trans_from[order].tolist(), self._turn[order].tolist()
        bounds = ptr.tolist()
        self._preds: list[list[tuple[int, float]]] = [
            list(zip(states[a:b], turns[a:b], strict=True)) for a, b in pairwise(bounds)
        ]
        self._slots = max(1, int(np.diff(ptr).max()) * _MAX_ARRIVALS)
        base = self._build_matrix()
        self._lock = threading.Lock()
        self._edge_twin: list[int] = g.edge_twin.tolist()
        self._edge_piece: list[int] = g.edge_piece.tolist()
        self._state_edge: list[int] = g.state_edge.tolist()
        self._edge_len: list[float] = g.edge_len.tolist()
        self._edge_time: list[float] = g.edge_time.tolist()
        with np.errstate(invalid="ignore", divide="ignore"):
            self._rate: list[float] = np.where(g.edge_len > 0, g.edge_time / g.edge_len, 0.0).tolist()
        self._drawer = RouteDrawer(g)
        self._hours: dict[object, _Hour] = {None: self._hour(base, g.edge_time, np.ones_like(g.edge_time))}
        self._source_cache: dict[int, tuple[Sequence[RoadPoint], SourceArrays]] = {}
        self._reach_t, self._reach_share = self._calibrate_reach()
        self._limit_cache: dict[tuple[int, int], float] = {}

    def _build_matrix(self, edge_time: FloatArray | None = None) -> csr_matrix:
        """The transposed turn graph: entry (b, a) costs turning from a onto b and driving b."""
        g = self.g
        times = g.edge_time if edge_time is None else edge_time
        data = self._turn[self._entries] + times[self._entry_target_edge]
        n = self.n_states
        counts = np.bincount(g.trans_to[self._entries], minlength=n + 1)
        counts[n] = self._slots
        indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
        indices = np.concatenate((g.trans_from[self._entries], np.zeros(self._slots, np.int64))).astype(
            np.int32
        )
        values = np.concatenate((data, np.zeros(self._slots)))
        return csr_matrix((values, indices, indptr), shape=(n + 1, n + 1))

    def _hour(self, matrix: csr_matrix, edge_time: FloatArray, scale: FloatArray) -> _Hour:
        bound = self._eta_bound(matrix, edge_time)
        # scipy uses these very arrays (no copy for a float64 CSR), so writing into them is enough.
        return _Hour(
            edge_time=edge_time,
            time_list=edge_time.tolist(),
            scale_list=scale.tolist(),
            matrix=matrix,
            slot_nodes=matrix.indices[-self._slots :],
            slot_times=matrix.data[-self._slots :],
            eta_bound=bound,
        )

    def _at(self, speeds: Speeds) -> _Hour:
        hour = self._hours.get(speeds)
        if hour is None and speeds is not None:
            profile, h = speeds
            scale = profile.time_scale(h, self.g.piece_class[self.g.edge_piece])
            edge_time = self.g.edge_time * scale
            hour = self._hour(self._build_matrix(edge_time), edge_time, scale)
            with self._lock:
                if len(self._hours) > 4 * 24:
                    self._hours = {None: self._hours[None]}
                self._hours[speeds] = hour
        assert hour is not None
        return hour

    def _eta_bound(self, matrix: csr_matrix, edge_time: FloatArray) -> float:
        """An upper bound on any travel time between two road points, so that the growing search
        limit of ``nearest`` knows when it has become unbounded: through a hub state h,
        t(x→y) ≤ t(x→h) + t(h→y), plus the partial edges, U-turns and walks at both ends."""
        g = self.g
        mid_lon, mid_lat = g.node_lon.mean(), g.node_lat.mean()
        ends = g.edge_v[: g.edge_count]
        hub = int(np.argmin((g.node_lon[ends] - mid_lon) ** 2 + (g.node_lat[ends] - mid_lat) ** 2))
        to_hub = dijkstra(matrix, directed=True, indices=hub)[: self.n_states]
        from_hub = dijkstra(matrix.T.tocsr(), directed=True, indices=hub)[: self.n_states]
        ends_cost = 2 * (float(edge_time.max()) + U_TURN_S + TURN_PENALTY_S) + 2 * 10.0 / WALK_SPEED_MS
        reach = np.isfinite(to_hub) & np.isfinite(from_hub)
        return float(to_hub[reach].max() + from_hub[reach].max()) + ends_cost

    # ------------------------------------------------------------------ sources

    def sources(self, points: Sequence[RoadPoint]) -> SourceArrays:
        """Departures for a roster, cached per sequence object.

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
        twin, piece = self._edge_twin, self._edge_piece
        dep_state: list[int] = []
        dep_frac: list[float] = []
        dep_extra: list[float] = []
        start: list[int] = []
        by_piece: dict[int, list[tuple[int, int]]] = {}
        for i, point in enumerate(points):
            start.append(len(dep_state))
            for place in point.placements():
                e, f = self._checked(place, "a source")
                by_piece.setdefault(piece[e], []).append((i, len(dep_state)))
                dep_state.append(e)
                dep_frac.append(f)
                dep_extra.append(0.0)
                t = twin[e]
                if t >= 0:
                    by_piece[piece[e]].append((i, len(dep_state)))
                    dep_state.append(t)
                    dep_frac.append(1.0 - f)
                    dep_extra.append(U_TURN_S if place.directed else 0.0)
        n = len(start)
        bounds = np.array([*start, len(dep_state)], dtype=np.int64)
        counts: IntArray = bounds[1:] - bounds[:-1]
        width = int(counts.max()) if n else 1
        grid_dep = np.full((width, n), -1, np.int64)
        column = np.repeat(np.arange(n), counts)
        row = np.arange(len(dep_state)) - np.repeat(np.array(start, dtype=np.int64), counts)
        grid_dep[row, column] = np.arange(len(dep_state))
        states = np.array(dep_state, dtype=np.int64)
        return SourceArrays(
            dep_state=states,
            dep_left=1.0 - np.array(dep_frac, dtype=np.float64),
            dep_extra=np.array(dep_extra, dtype=np.float64),
            dep_frac=dep_frac,
            grid_state=np.where(grid_dep >= 0, states[np.maximum(grid_dep, 0)], 0),
            grid_dep=grid_dep,
            by_piece=by_piece,
        )

    def _checked(self, point: RoadPoint, what: str) -> tuple[int, float]:
        e, f = point.edge, point.fraction
        if not 0 <= e < len(self._edge_twin):
            raise ValidationFailed(
                f"{what} RoadPoint does not belong to this road network", code="bad_road_point"
            )
        if not 0.0 <= f <= 1.0:
            raise ValidationFailed(f"{what} RoadPoint has a fraction outside 0..1", code="bad_road_point")
        return e, f

    def _arrivals(self, target: RoadPoint) -> list[tuple[int, float, float]]:
        """(edge, fraction, extra seconds) for every way of reaching the target: both directions of
        each of its roads, the farther roads with the walk from there."""
        places = target.placements()
        if len(places) > MAX_PLACEMENTS:
            raise ValidationFailed(
                f"a target may stand on at most {MAX_PLACEMENTS} roads", code="bad_road_point"
            )
        out = []
        for place in places:
            e, f = self._checked(place, "the target")
            walk = max(0.0, place.offset_m - target.offset_m) / WALK_SPEED_MS
            out.append((e, f, walk))
            if self._edge_twin[e] >= 0:
                out.append((self._edge_twin[e], 1.0 - f, walk))
        return out

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
        speeds: Speeds = None,
    ) -> list[Reach]:
        """Exact top-k; ``bounded=False`` is the one-full-search baseline. ``first_limit``
        overrides the density-based first guess (any value keeps the answer exact). ``allowed``
        (one flag per point) leaves the others out while the roster and its cached arrays stay
        the same, so a per-incident eligibility filter costs no roster rebuild."""
        if k < 1:
            raise ValidationFailed("k must be at least 1", code="bad_k", k=k)
        arrivals = self._arrivals(target)
        src = self.sources(points)
        n = src.n
        if allowed is not None and allowed.shape != (n,):
            raise ValidationFailed("allowed needs one flag per source", code="bad_allowed_mask")
        candidates = n if allowed is None else int(np.count_nonzero(allowed))
        if candidates == 0:
            return []
        want = min(k, candidates)
        hour = self._at(speeds)
        dep_time = src.times.get(speeds)
        if dep_time is None:
            dep_time = src.times[speeds] = src.grid_time(hour.edge_time)
        direct = self._same_street(arrivals, src, hour)
        if not bounded:
            limit = math.inf
        elif first_limit is not None:
            limit = max(first_limit, _MIN_LIMIT_S)
        else:
            limit = self._initial_limit(candidates, want)  # the allowed ones set the density
        while True:
            dist, pred, slots = self._search(arrivals, limit, hour)
            dep_eta = dep_time + dist.take(src.grid_state)
            eta = dep_eta.min(axis=0)
            for i, (time, _, _) in direct.items():
                if time < eta[i]:
                    eta[i] = time
            if allowed is not None:
                eta[~allowed] = math.inf
            # (An unbounded search leaves unreachable sources at inf: never "found".)
            found = np.flatnonzero(eta <= (limit if limit < math.inf else _LARGEST))
            if found.shape[0] >= want or math.isinf(limit):
                break
            limit *= 2.0
            if limit >= hour.eta_bound:
                limit = math.inf
        best = _top_k(eta, found, want)
        trips = [
            self._trip(i, eta.item(i), src, dep_eta, direct, arrivals, dist, pred, slots, hour, with_routes)
            for i in best
        ]
        if not with_routes:
            return [Reach(i, trip.eta, trip.distance, None) for i, trip in zip(best, trips, strict=True)]
        routes = self._drawer.draw(trips)
        return [Reach(i, r.eta_s, r.distance_m, r) for i, r in zip(best, routes, strict=True)]

    def _search(
        self, arrivals: list[tuple[int, float, float]], limit: float, hour: _Hour
    ) -> tuple[FloatArray, NDArray[np.int32], list[tuple[int, float, int]]]:
        times = hour.time_list
        slots = [
            (state, turn + f * times[e] + extra, a)
            for a, (e, f, extra) in enumerate(arrivals)
            for state, turn in self._preds[e]
        ]
        if not slots:  # no way onto the target's edges: only sources on them reach it
            slots = [(self.virtual, 0.0, -1)]
        states, weights = [s for s, _, _ in slots], [w for _, w, _ in slots]
        with self._lock:
            hour.slot_nodes[: len(slots)] = states
            hour.slot_nodes[len(slots) :] = states[0]
            hour.slot_times[: len(slots)] = weights
            hour.slot_times[len(slots) :] = weights[0]
            dist, pred = dijkstra(
                hour.matrix, directed=True, indices=self.virtual, return_predecessors=True, limit=limit
            )
        return dist, pred, slots

    def _same_street(
        self, arrivals: list[tuple[int, float, float]], src: SourceArrays, hour: _Hour
    ) -> dict[int, tuple[float, int, int]]:
        """Sources on one of the target's own streets that can drive straight to it along that
        edge: index → (time, departure, arrival). The graph search cannot see these, as it only
        knows times from edge *ends*."""
        out: dict[int, tuple[float, int, int]] = {}
        times = hour.time_list
        for a, (te, tf, extra) in enumerate(arrivals):
            for i, j in src.by_piece.get(self._edge_piece[te], ()):
                if src.dep_state.item(j) != te or src.dep_frac[j] > tf:
                    continue
                time = src.dep_extra.item(j) + (tf - src.dep_frac[j]) * times[te] + extra
                if i not in out or time < out[i][0]:
                    out[i] = (time, j, a)
        return out

    def _trip(
        self,
        i: int,
        eta: float,
        src: SourceArrays,
        dep_eta: FloatArray,
        direct: dict[int, tuple[float, int, int]],
        arrivals: list[tuple[int, float, float]],
        dist: FloatArray,
        pred: NDArray[np.int32],
        slots: list[tuple[int, float, int]],
        hour: _Hour,
        with_routes: bool,
    ) -> Trip:
        """The winner's drive: from its point along its departure edge, the edges of the search's
        predecessor chain, then from the start of the target's edge to the target; or straight
        along the street they share."""
        lengths, times, scale = self._edge_len, hour.time_list, hour.scale_list
        straight = direct.get(i)
        if straight is not None and straight[0] <= eta:
            _, j, a = straight
            e = int(src.dep_state[j])
            d0, d1 = src.dep_frac[j] * lengths[e], arrivals[a][1] * lengths[e]
            start = src.dep_extra.item(j) - min(d0 * self._rate[e], self._edge_time[e]) * scale[e]
            return Trip([e], d0, d1, [start], [scale[e]], eta, d1 - d0)
        j = src.grid_dep.item(int(dep_eta[:, i].argmin()), i)
        state = src.dep_state.item(j)
        chain = [state]
        step, item, virtual = chain.append, pred.item, self.virtual
        node = item(state)
        while node != virtual:
            if node < 0:  # impossible for a found source; fail loudly if it happens
                raise RuntimeError("broken predecessor chain")
            step(node)
            node = item(node)
        last = chain[-1]
        a = min((w, arr) for s, w, arr in slots if s == last)[1]
        te, tf, walk = arrivals[a]
        edges = list(map(self._state_edge.__getitem__, chain))
        first = edges[0]
        d0 = src.dep_frac[j] * lengths[first]
        d1 = tf * lengths[te]
        distance = lengths[first] - d0 + sum(map(lengths.__getitem__, edges[1:])) + d1
        edges.append(te)
        if not with_routes:
            return Trip(edges, d0, d1, [], [], eta, distance)
        # When the car enters each edge: the search's own times to the target, read backwards.
        total = src.dep_extra.item(j) + src.dep_left.item(j) * times[first] + dist.item(state)
        enter = [src.dep_extra.item(j) - min(d0 * self._rate[first], self._edge_time[first]) * scale[first]]
        remaining = dist.take(chain[1:]).tolist()
        enter.extend([total - r - times[e] for r, e in zip(remaining, edges[1:-1], strict=True)])
        enter.append(eta - tf * times[te] - walk)
        return Trip(edges, d0, d1, enter, list(map(scale.__getitem__, edges)), eta, distance)

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
        from a few reverse searches at evenly spread edges (deterministic, ~30 ms)."""
        g = self.g
        base = self._hours[None]
        grid = np.concatenate((np.arange(15.0, 600.0, 15.0), np.arange(600.0, base.eta_bound + 60.0, 60.0)))
        total = g.edge_len.sum()
        shares = []
        for state in np.linspace(0, g.edge_count - 1, 12).astype(np.int64).tolist():
            dist = dijkstra(base.matrix, directed=True, indices=state)[: g.edge_count]
            arrive = dist + g.edge_time  # from an edge's start, through it, to the target
            order = np.argsort(arrive)
            reached = np.cumsum(g.edge_len[order]) / total
            shares.append(np.interp(grid, arrive[order], reached, left=0.0, right=1.0))
        return grid, np.median(np.array(shares), axis=0)


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
