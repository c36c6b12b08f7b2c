"""The turn graph on a hand-made town: restrictions obeyed, turns and U-turns priced, and every
ETA equal to that of an independent turn-aware oracle (``handmade.TownOracle``)."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from jingwu.routing import RoadNetwork, RoadPoint, load_network, turns
from jingwu.routing.turns import U_TURN_S, deviation_deg, turn_cost_s
from jingwu.settings import bundled_osm_file

from .handmade import NODES, WAYS, TownOracle, along, grid, write_town


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> RoadNetwork:
    return load_network(write_town(tmp_path_factory.mktemp("osm") / "town.osm"))


@pytest.fixture(scope="module")
def free_town(tmp_path_factory: pytest.TempPathFactory) -> RoadNetwork:
    """The same town with no restriction relations."""
    return load_network(write_town(tmp_path_factory.mktemp("osm") / "free.osm", relations=False))


def _at(network: RoadNetwork, a: int, b: int, f: float, heading: float | None = None) -> RoadPoint:
    lat, lon = along(a, b, f)
    return network.snap(lat, lon, 5.0, heading, None if heading is None else 10.0)


def _way_of_edge(network: RoadNetwork) -> Callable[[int], int]:
    g = network._g  # white-box: only to tell which OSM way a placement at a junction stands for
    return lambda edge: int(g.piece_way[g.edge_piece[edge]])


def _node(n: int) -> tuple[float, float]:
    return NODES[n]


def _passes(route_coords: tuple[tuple[float, float], ...], *nodes: int) -> bool:
    """Whether the route passes these nodes one right after the other."""
    points = [
        min(range(len(route_coords)), key=lambda i, n=n: _gap(route_coords[i], _node(n))) for n in nodes
    ]
    near = all(_gap(route_coords[i], _node(n)) < 1e-7 for i, n in zip(points, nodes, strict=True))
    return near and all(b == a + 1 for a, b in itertools.pairwise(points))


def _gap(p: tuple[float, float], q: tuple[float, float]) -> float:
    return abs(p[0] - q[0]) + abs(p[1] - q[1])


def test_turn_cost_s_straight_free_left_dearer_than_right_u_turn_dearest() -> None:
    dev = np.array([0.0, 90.0, -90.0, 180.0])
    cost = turn_cost_s(dev, np.array([False, False, False, True]), np.ones(4, bool))
    assert cost[0] < 0.01
    assert 0 < cost[1] < cost[2] < cost[3]
    assert cost[3] == pytest.approx(U_TURN_S)
    assert turn_cost_s(np.array([90.0]), np.array([False]), np.array([False]))[0] == 0.0  # a bend


def test_deviation_deg_right_positive_left_negative() -> None:
    assert deviation_deg(np.array([0.0, 350.0, 90.0]), np.array([90.0, 10.0, 0.0])).tolist() == [
        90.0,
        20.0,
        -90.0,
    ]


def test_load_network_town_applies_every_restriction(town: RoadNetwork) -> None:
    assert town.restrictions == (901, 902, 903, 904)


def _sample_points(network: RoadNetwork) -> list[tuple[RoadPoint, float | None]]:
    """Points a third and two thirds along every road, half of them moving along it."""
    out: list[tuple[RoadPoint, float | None]] = []
    for i, (_, (a, b), _) in enumerate(WAYS):
        for f in (0.3, 0.7):
            heading = None
            if i % 2:
                (lon1, lat1), (lon2, lat2) = NODES[a], NODES[b]
                heading = float(np.degrees(np.arctan2((lon2 - lon1) * 0.7, lat2 - lat1)) % 360.0)
            out.append((_at(network, a, b, f, heading), heading))
    return out


@pytest.mark.parametrize("restricted", [True, False])
def test_nearest_by_time_town_matches_turn_aware_oracle(
    town: RoadNetwork, free_town: RoadNetwork, restricted: bool
) -> None:
    network = town if restricted else free_town
    oracle = TownOracle(_way_of_edge(network), relations=restricted)
    sampled = _sample_points(network)
    sources = [p for p, _ in sampled]
    assert any(p.directed for p in sources)
    checked = 0
    for target, _ in sampled[::3]:
        got = network.nearest_by_time(target, sources, len(sources), with_routes=True)
        base = network.baseline_nearest_by_time(target, sources, len(sources), with_routes=False)
        assert [(r.index, r.eta_s) for r in got] == [(r.index, r.eta_s) for r in base]
        by_index = {r.index: r for r in got}
        for i, (source, heading) in enumerate(sampled):
            expected = oracle.eta(source, target, heading)
            assert by_index[i].eta_s == pytest.approx(expected, abs=1e-3), (i, source, target)
            route = by_index[i].route
            assert route is not None and route.cum_time_s[-1] == by_index[i].eta_s
            checked += 1
    assert checked > 500


def test_route_no_left_turn_relation_forces_a_detour(town: RoadNetwork, free_town: RoadNetwork) -> None:
    # Northbound on 01→11, the incident is west of 11 on 10-11: turning left at 11 is banned.
    for network, banned in ((town, True), (free_town, False)):
        source = _at(network, grid(0, 1), grid(1, 1), 0.5, heading=0.0)
        target = _at(network, grid(1, 0), grid(1, 1), 0.5)
        route = network.route(source, target)
        assert route is not None
        assert (
            _passes(route.coordinates, grid(1, 1))
            and route.coordinates[-2] == pytest.approx(_node(grid(1, 1))) is not banned
        )
    restricted = town.route(
        _at(town, grid(0, 1), grid(1, 1), 0.5, 0.0), _at(town, grid(1, 0), grid(1, 1), 0.5)
    )
    free = free_town.route(
        _at(free_town, grid(0, 1), grid(1, 1), 0.5, 0.0), _at(free_town, grid(1, 0), grid(1, 1), 0.5)
    )
    assert restricted is not None and free is not None
    assert restricted.eta_s > free.eta_s + 5


def test_route_only_straight_on_relation_bans_the_left_turn(town: RoadNetwork) -> None:
    source = _at(town, grid(0, 0), grid(0, 1), 0.5, heading=90.0)
    target = _at(town, grid(0, 1), grid(1, 1), 0.5)
    route = town.route(source, target)
    assert route is not None
    assert not _passes(route.coordinates, grid(0, 1)) or route.coordinates[-2] != pytest.approx(
        _node(grid(0, 1))
    )


def test_route_via_way_restriction_binds_only_cars_coming_from_its_from_way(town: RoadNetwork) -> None:
    target = _at(town, grid(2, 1), grid(2, 2), 0.5)
    # From 11→12 through 12→22, the left turn at 22 is banned: round by 13 and 23 instead.
    banned = town.route(_at(town, grid(1, 1), grid(1, 2), 0.5, heading=90.0), target)
    assert banned is not None and _passes(banned.coordinates, grid(1, 2), grid(1, 3))
    # A car already on 12→22 (it came from 02) may turn left there.
    allowed = town.route(_at(town, grid(1, 2), grid(2, 2), 0.3, heading=0.0), target)
    assert allowed is not None and _passes(allowed.coordinates, grid(2, 2))
    assert not _passes(allowed.coordinates, grid(2, 3))


def test_route_no_u_turn_relation_removes_the_transition(town: RoadNetwork) -> None:
    g = town._g  # white-box: the turn graph at node 21
    north = [
        e
        for e in range(town.edge_count)
        if (g.node_ref[g.edge_u[e]], g.node_ref[g.edge_v[e]]) == (grid(1, 1), grid(2, 1))
    ]
    (edge,) = north
    twin = int(g.edge_twin[edge])
    pairs = set(zip(g.trans_from.tolist(), g.trans_to.tolist(), strict=True))
    assert (edge, twin) not in pairs
    assert any(a == edge for a, _ in pairs)  # it may still go on westwards


def test_nearest_by_time_moving_unit_going_back_costs_a_u_turn(town: RoadNetwork) -> None:
    road = (grid(1, 1), grid(2, 1))  # two-way, about 100 m
    behind = _at(town, *road, 0.3)
    moving = _at(town, *road, 0.6, heading=0.0)
    standing = dataclasses.replace(moving, directed=False)
    (back,) = town.nearest_by_time(behind, [moving], 1)
    (free,) = town.nearest_by_time(behind, [standing], 1)
    assert moving.directed and not standing.directed
    assert back.eta_s == pytest.approx(free.eta_s + U_TURN_S)
    (ahead,) = town.nearest_by_time(_at(town, *road, 0.9), [moving], 1)
    (ahead_free,) = town.nearest_by_time(_at(town, *road, 0.9), [standing], 1)
    assert ahead.eta_s == pytest.approx(ahead_free.eta_s)


def test_route_dead_end_turns_round_with_a_u_turn(town: RoadNetwork) -> None:
    source = _at(town, grid(0, 0), 300, 0.9, heading=180.0)  # heading into the dead end
    target = _at(town, grid(0, 0), grid(0, 1), 0.5)
    route = town.route(source, target)
    assert route is not None
    assert route.eta_s > U_TURN_S


def test_route_times_include_turn_costs_and_never_step_back(town: RoadNetwork) -> None:
    sampled = _sample_points(town)
    for (source, _), (target, _) in itertools.product(sampled[::5], sampled[1::7]):
        route = town.route(source, target)
        assert route is not None
        assert all(b >= a for a, b in itertools.pairwise(route.cum_time_s))
        assert route.cum_time_s[-1] == route.eta_s


def test_load_network_town_cache_round_trip_same_turns(tmp_path: Path) -> None:
    path = write_town(tmp_path / "town.osm")
    cold = load_network(path, tmp_path / "cache")
    warm = load_network(path, tmp_path / "cache")
    assert warm.restrictions == cold.restrictions
    a, b = _at(cold, grid(0, 0), grid(0, 1), 0.5, 90.0), _at(cold, grid(1, 0), grid(1, 1), 0.5)
    assert cold.route(a, b) == warm.route(a, b)


def test_nearest_by_time_harbin_pruned_u_turns_change_no_eta(
    network: RoadNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The turn graph leaves out U-turns that no fastest route can use (turns.build_turn_graph):
    # the same city with every U-turn kept must give the very same times.
    monkeypatch.setattr(turns, "_SHORT_EDGE_S", math.inf)
    every_u_turn = load_network(bundled_osm_file())
    assert len(every_u_turn._g.trans_from) > 1.3 * len(network._g.trans_from)
    rng = np.random.default_rng(12)
    roster = [network.random_road_point(rng) for _ in range(300)]
    moving = [dataclasses.replace(p, directed=True) for p in roster[:100]]
    for _ in range(40):
        target = network.random_road_point(rng)
        for sources in (roster, moving):
            pruned = network.nearest_by_time(target, sources, 8, with_routes=False)
            full = every_u_turn.nearest_by_time(target, sources, 8, with_routes=False)
            assert [r.index for r in pruned] == [r.index for r in full]
            assert [r.eta_s for r in pruned] == pytest.approx([r.eta_s for r in full], abs=1e-9)
