"""What a turn costs, and the turn graph: which edge may follow which at a junction.

The search runs on directed edges, not junctions (an *edge-based* graph), so that a turn can be
forbidden or priced: a *state* is a directed edge, and a *transition* a → b says that a car arriving
at the end of edge a may drive on along edge b. Restrictions that run through a chain of via ways
need to remember how a car came onto the chain: such chains get *copies* of their edges (extra
states that stand for "on this edge, having come from that one"), whose transitions leave the
restricted turn out. ``state_edge`` maps every state to the road edge it drives.

The cost of a turn follows OSRM's car profile: a sigmoid of the turning angle, cheaper to the right
than to the left (right-hand traffic), plus a fixed penalty for turning round. It is paid at
junctions only (where more than two road pieces meet): where one road simply bends, or one way
ends and the next begins, a car goes on with no cost. Turning round is possible wherever the road
is two-way (at a junction, a dead end, or for a unit that starts part-way along a street), unless a
restriction forbids it, and always costs ``U_TURN_S``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from jingwu.routing.restrictions import EdgeRestriction

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: The largest turn penalty (s), paid in full for a turn of 180°; a quarter turn to the right costs
#: ≈ 2.1 s, to the left ≈ 5.4 s, straight on ≈ 0.
TURN_PENALTY_S = 7.5
#: > 1: turns to the right are cheaper than to the left (China drives on the right).
TURN_BIAS = 1.075
#: Added to a turn that reverses the direction of travel.
U_TURN_PENALTY_S = 20.0
#: A turn sharper than this (degrees from straight on) counts as turning round.
U_TURN_MIN_DEG = 160.0
#: Below this (s) an edge keeps its U-turns at both ends: twice its time must outweigh the few
#: hundredths by which the dearest turn can exceed ``U_TURN_S`` (see ``build_turn_graph``); a
#: speed profile at most halves a time.
_SHORT_EDGE_S = 1.0
#: How far from a junction the direction of a road is measured: the last vertices before a junction
#: are often a few metres of kerb radius that say nothing of the road's direction.
BEARING_SPAN_M = 15.0


def turn_cost_s(deviation_deg: FloatArray, u_turn: BoolArray, junction: BoolArray) -> FloatArray:
    """Seconds for turns by ``deviation_deg`` (0 straight on, > 0 to the right, ±180 back), turning
    round where ``u_turn``, at a junction where ``junction``. Vectorised, pure."""
    a = np.abs(deviation_deg) / 180.0
    right = deviation_deg >= 0
    x = np.where(right, 13.0 / TURN_BIAS * a - 6.5 * TURN_BIAS, 13.0 * TURN_BIAS * a - 6.5 / TURN_BIAS)
    cost = TURN_PENALTY_S / (1.0 + np.exp(-x))
    priced: FloatArray = np.where(junction | u_turn, cost, 0.0) + np.where(u_turn, U_TURN_PENALTY_S, 0.0)
    return priced


#: Turning round part-way along a two-way street (a unit that must go back the way it faces).
U_TURN_S = float(turn_cost_s(np.array([180.0]), np.array([True]), np.array([True]))[0])


def deviation_deg(bearing_in: FloatArray, bearing_out: FloatArray) -> FloatArray:
    """Signed turn from heading ``bearing_in`` to ``bearing_out``, in (-180, 180]; > 0 is right."""
    d: FloatArray = 180.0 - (180.0 - (bearing_out - bearing_in)) % 360.0
    return d


@dataclass(frozen=True, slots=True)
class TurnGraph:
    """States and transitions (see the module docstring); arrays for the on-disk cache."""

    state_edge: IntArray  # [S] the road edge each state drives; states 0..E-1 are the edges
    trans_from: IntArray  # [T]
    trans_to: IntArray  # [T]


def build_turn_graph(
    edge_u: IntArray,
    edge_v: IntArray,
    edge_twin: IntArray,
    edge_time: FloatArray,
    node_count: int,
    restrictions: list[EdgeRestriction],
) -> TurnGraph:
    """Every transition allowed at every junction, after the restrictions, less the U-turns no
    fastest route can use.

    Turning round at the far end J of an edge e (from node K) only brings a car back to K, at the
    cost of driving e twice and a U-turn; it could have turned at K directly from whatever edge d it
    came by (no turn costs more than ``U_TURN_S`` + 0.05 s), or, had it started on e, turned round
    where it stood. So such a transition (a third of all) is kept only where a restriction at K or
    J may forbid the direct turn (the "go round by a U-turn" that a banned left turn needs), or
    where e is shorter than ``_SHORT_EDGE_S``. The search stays exact: the hand-made town's oracle,
    which may turn round anywhere, checks it.

    Edges must be sorted by ``edge_u`` (the compiled graph is), so that the edges leaving node x
    are one range of ids.
    """
    n_edges = edge_u.shape[0]
    out_ptr = np.zeros(node_count + 1, np.int64)
    np.cumsum(np.bincount(edge_u, minlength=node_count), out=out_ptr[1:])
    if not np.all(np.diff(edge_u) >= 0):
        raise ValueError("edges must be sorted by their start node")
    count = out_ptr[edge_v + 1] - out_ptr[edge_v]
    trans_from = np.repeat(np.arange(n_edges), count)
    first = np.repeat(out_ptr[edge_v] - np.concatenate(([0], np.cumsum(count)[:-1])), count)
    trans_to = first + np.arange(trans_from.shape[0])

    # Plain (via-node) restrictions drop transitions; via-way chains are handled with copies below.
    width = n_edges + 1
    banned: set[int] = set()
    only_from: dict[int, set[int]] = {}
    chains = [r for r in restrictions if len(r.path) > 1]
    for r in restrictions:
        if len(r.path) != 1:
            continue
        (e,) = r.path
        if r.only:
            only_from.setdefault(e, set()).update(r.to)
        else:
            banned.update(e * width + f for f in r.to)
    for e, allowed in only_from.items():
        lo, hi = out_ptr[edge_v[e]], out_ptr[edge_v[e] + 1]
        banned.update(e * width + f for f in range(int(lo), int(hi)) if f not in allowed)
    keys = trans_from * width + trans_to
    keep = ~np.isin(keys, np.fromiter(banned, np.int64, len(banned)))
    restricted = np.zeros(node_count, bool)
    for r in restrictions:
        touched = np.array([*r.path, *r.to], dtype=np.int64)
        restricted[edge_u[touched]] = restricted[edge_v[touched]] = True
    pointless = (
        (edge_twin[trans_from] == trans_to)
        & ~restricted[edge_u[trans_from]]
        & ~restricted[edge_v[trans_from]]
        & (edge_time[trans_from] >= _SHORT_EDGE_S)
    )
    keep &= ~pointless
    trans_from, trans_to = trans_from[keep], trans_to[keep]
    state_edge = np.arange(n_edges, dtype=np.int64)
    if chains:
        state_edge, trans_from, trans_to = _with_chains(state_edge, trans_from, trans_to, chains)
    order = np.lexsort((trans_to, trans_from))
    return TurnGraph(state_edge=state_edge, trans_from=trans_from[order], trans_to=trans_to[order])


def _with_chains(
    state_edge: IntArray, trans_from: IntArray, trans_to: IntArray, chains: list[EdgeRestriction]
) -> tuple[IntArray, IntArray, IntArray]:
    """Copies of the via edges of each chain: a trie of edge paths, so chains sharing a beginning
    share copies. A copy's way out goes to the next copy of its chain (or, at the chain's end,
    keeps or drops the restricted edges); anything else it leaves to the plain edge."""
    successors: dict[int, list[int]] = {}
    for a, b in zip(trans_from.tolist(), trans_to.tolist(), strict=True):
        successors.setdefault(a, []).append(b)
    edges = state_edge.tolist()
    state_of: dict[tuple[int, ...], int] = {}  # a path of ≥ 2 edges → the copy that stands for it
    rules: dict[tuple[int, ...], list[EdgeRestriction]] = {}
    for r in chains:
        drivable = all(b in successors.get(a, ()) for a, b in zip(r.path, r.path[1:], strict=False))
        if not drivable:
            continue  # a chain no car can drive restricts nothing
        for i in range(2, len(r.path) + 1):
            if r.path[:i] not in state_of:
                state_of[r.path[:i]] = len(edges)
                edges.append(r.path[i - 1])
        rules.setdefault(r.path, []).append(r)

    def destination(prefix: tuple[int, ...], f: int) -> int:
        """Where a car on ``prefix`` goes by taking edge f: the longest chain it is then on."""
        longer = state_of.get((*prefix, f))
        if longer is not None:
            return longer
        fresh = state_of.get((prefix[-1], f))
        return f if fresh is None else fresh

    pairs = [(a, destination((a,), b)) for a, b in zip(trans_from.tolist(), trans_to.tolist(), strict=True)]
    for prefix, state in state_of.items():
        outs = successors.get(prefix[-1], [])
        for r in rules.get(prefix, []):
            outs = [f for f in outs if (f in r.to) == r.only]
        pairs.extend((state, destination(prefix, f)) for f in outs)
    arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return np.array(edges, dtype=np.int64), arr[:, 0], arr[:, 1]


def edge_bearings(
    piece_ptr: IntArray,
    pts_cum: FloatArray,
    pts_lon: FloatArray,
    pts_lat: FloatArray,
    edge_piece: IntArray,
    edge_reversed: BoolArray,
) -> tuple[FloatArray, FloatArray]:
    """Each edge's compass bearing where it leaves its start node and where it enters its end node,
    measured over the ``BEARING_SPAN_M`` nearest the node."""
    n_pieces = piece_ptr.shape[0] - 1
    first, last = piece_ptr[:-1], piece_ptr[1:] - 1
    length = pts_cum[last]
    span = np.minimum(BEARING_SPAN_M, length)
    # Points are increasing in pts_cum within a piece: offset each piece onto one global axis.
    base = np.arange(n_pieces) * (length.max() + 1.0 if n_pieces else 1.0)
    axis = pts_cum + np.repeat(base, np.diff(piece_ptr))
    near_start = np.minimum(np.searchsorted(axis, base + span - 1e-9, side="left"), last)
    near_start = np.maximum(near_start, np.minimum(first + 1, last))
    near_end = np.maximum(np.searchsorted(axis, base + length - span + 1e-9, side="right") - 1, first)
    near_end = np.minimum(near_end, np.maximum(last - 1, first))
    start_bearing = _bearing(pts_lon[first], pts_lat[first], pts_lon[near_start], pts_lat[near_start])
    end_bearing = _bearing(pts_lon[near_end], pts_lat[near_end], pts_lon[last], pts_lat[last])
    out_fwd, in_fwd = start_bearing[edge_piece], end_bearing[edge_piece]
    out_bwd, in_bwd = (end_bearing[edge_piece] + 180.0) % 360.0, (start_bearing[edge_piece] + 180.0) % 360.0
    return np.where(edge_reversed, out_bwd, out_fwd), np.where(edge_reversed, in_bwd, in_fwd)


def _bearing(lon0: FloatArray, lat0: FloatArray, lon1: FloatArray, lat1: FloatArray) -> FloatArray:
    dx = (lon1 - lon0) * np.cos(np.radians((lat0 + lat1) * 0.5))
    dy = lat1 - lat0
    out: FloatArray = np.degrees(np.arctan2(dx, dy)) % 360.0
    return out


def transition_costs(
    edge_v: IntArray,
    edge_twin: IntArray,
    piece_degree: IntArray,
    bearing_out: FloatArray,
    bearing_in: FloatArray,
    turns: TurnGraph,
) -> FloatArray:
    """The turn cost of every transition (s)."""
    a = turns.state_edge[turns.trans_from]
    b = turns.state_edge[turns.trans_to]
    dev = deviation_deg(bearing_in[a], bearing_out[b])
    u_turn = (edge_twin[a] == b) | (np.abs(dev) >= U_TURN_MIN_DEG)
    junction = piece_degree[edge_v[a]] > 2
    return turn_cost_s(dev, u_turn, junction)
