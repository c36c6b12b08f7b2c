"""nearest_by_time: exact top-k by road travel time, partial edges at both ends, one-way streets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from jingwu.errors import ValidationFailed
from jingwu.routing import Reach, RoadNetwork, RoadPoint

from .helpers import ForwardOracle

# 学府路 (Xuefu Road) carriageway: one-way, so A→B is a short drive and B→A a detour.
ONE_WAY_A = (45.678059, 126.613469)
ONE_WAY_B = (45.676542, 126.613805)


def _summary(reaches: list[Reach]) -> list[tuple[int, float, float]]:
    return [(r.index, round(r.eta_s, 6), round(r.distance_m, 4)) for r in reaches]


def test_nearest_by_time_random_queries_agree_with_baseline(network: RoadNetwork) -> None:
    rng = np.random.default_rng(2024)
    rosters = {size: [network.random_road_point(rng) for _ in range(size)] for size in (1, 7, 60, 800)}
    for q in range(200):
        roster = rosters[(1, 7, 60, 800)[q % 4]]
        k = int(rng.integers(1, 9))
        target = network.random_road_point(rng)
        fast = network.nearest_by_time(target, roster, k, with_routes=q % 3 == 0)
        base = network.baseline_nearest_by_time(target, roster, k, with_routes=q % 3 == 0)
        assert _summary(fast) == _summary(base)
        assert len(fast) == min(k, len(roster))
        etas = [r.eta_s for r in fast]
        assert etas == sorted(etas)


def test_nearest_by_time_matches_forward_dijkstra_oracle(network: RoadNetwork) -> None:
    oracle = ForwardOracle(network)
    rng = np.random.default_rng(99)
    roster = [network.random_road_point(rng) for _ in range(40)]
    # Units off the road's centre line (several roads within reach), half of them moving.
    fixes = [network.random_road_point(rng) for _ in range(40)]
    jitter = rng.normal(0, 8e-5, (40, 2))
    motions = [(float(rng.uniform(0, 360)), 10.0) if i % 2 else (None, None) for i in range(40)]
    snapped = network.snap_many(
        [(p.lat + dy, p.lon + dx) for p, (dy, dx) in zip(fixes, jitter, strict=True)], 250, motions
    )
    roster += [p for p in snapped if p is not None]
    assert sum(bool(p.others) for p in roster) >= 5 and sum(p.directed for p in roster) >= 5
    for q in range(8):
        target = network.random_road_point(rng)
        if q % 2:
            target = network.snap(target.lat + 5e-5, target.lon - 5e-5)
        expected = sorted((oracle.eta(s, target), i) for i, s in enumerate(roster))
        got = network.nearest_by_time(target, roster, 5, with_routes=False)
        assert [r.eta_s for r in got] == pytest.approx([eta for eta, _ in expected[:5]], abs=1e-6)


def test_nearest_by_time_all_sources_ranked_is_a_full_sort(network: RoadNetwork) -> None:
    rng = np.random.default_rng(3)
    roster = [network.random_road_point(rng) for _ in range(25)]
    target = network.random_road_point(rng)
    every = network.nearest_by_time(target, roster, 25, with_routes=False)
    assert sorted(r.index for r in every) == list(range(25))
    for reach in every:
        alone = network.route(roster[reach.index], target)
        assert alone is not None
        assert alone.eta_s == pytest.approx(reach.eta_s, abs=1e-6)


def _along(network: RoadNetwork, point: RoadPoint, fraction: float) -> RoadPoint:
    return dataclasses.replace(point, fraction=fraction)


def test_nearest_by_time_source_behind_target_on_same_street_drives_straight(network: RoadNetwork) -> None:
    rng = np.random.default_rng(8)
    for _ in range(20):
        base = network.random_road_point(rng)
        source, target = _along(network, base, 0.2), _along(network, base, 0.7)
        (reach,) = network.nearest_by_time(target, [source], 1)
        full = network.route(_along(network, base, 0.0), _along(network, base, 1.0))
        assert full is not None
        # Straight along the edge: half of the whole edge's time (or less via the twin, never more).
        assert reach.eta_s <= 0.5 * full.eta_s + 1e-6
        assert reach.eta_s == pytest.approx(0.5 * full.eta_s, rel=1e-9)
        assert reach.distance_m == pytest.approx(0.5 * full.distance_m, rel=1e-9)


def test_nearest_by_time_source_at_target_has_zero_eta(network: RoadNetwork) -> None:
    rng = np.random.default_rng(9)
    target = network.random_road_point(rng)
    others = [network.random_road_point(rng) for _ in range(10)]
    reaches = network.nearest_by_time(target, [*others, target], 3)
    assert reaches[0].index == 10
    assert reaches[0].eta_s == 0.0
    assert reaches[0].distance_m == pytest.approx(0.0, abs=1e-9)
    assert reaches[0].route is not None and len(reaches[0].route.coordinates) >= 2


def test_route_one_way_street_forward_short_backward_detour(network: RoadNetwork) -> None:
    a, b = network.snap(*ONE_WAY_A), network.snap(*ONE_WAY_B)
    assert a.offset_m < 1.0 and b.offset_m < 1.0
    assert a.edge == b.edge and a.fraction < b.fraction
    forward, backward = network.route(a, b), network.route(b, a)
    assert forward is not None and backward is not None
    assert forward.distance_m == pytest.approx(170, abs=5)  # straight down the carriageway
    assert backward.eta_s > 5 * forward.eta_s
    assert backward.distance_m > 3 * forward.distance_m


def test_route_two_way_street_both_directions_direct(network: RoadNetwork) -> None:
    a = network.snap(45.805649, 126.60943)  # 船厂路 on the north bank, two-way, ~890 m between junctions
    b = dataclasses.replace(a, fraction=a.fraction - 0.4)
    there, back = network.route(a, b), network.route(b, a)
    assert there is not None and back is not None
    assert there.eta_s == pytest.approx(back.eta_s, rel=1e-9)
    assert there.distance_m == pytest.approx(back.distance_m, rel=1e-9)
    assert there.distance_m < 0.41 * 890


def test_nearest_by_time_empty_roster_returns_nothing(network: RoadNetwork) -> None:
    target = network.random_road_point(np.random.default_rng(1))
    assert network.nearest_by_time(target, [], 5) == []


def test_nearest_by_time_bad_k_or_foreign_point_raises_validation_failed(network: RoadNetwork) -> None:
    target = network.random_road_point(np.random.default_rng(1))
    with pytest.raises(ValidationFailed):
        network.nearest_by_time(target, [target], 0)
    foreign = dataclasses.replace(target, edge=network.edge_count + 5)
    with pytest.raises(ValidationFailed):
        network.nearest_by_time(target, [foreign], 1)
    with pytest.raises(ValidationFailed):
        network.nearest_by_time(foreign, [target], 1)


def test_nearest_by_time_roster_mutated_in_place_not_served_stale(network: RoadNetwork) -> None:
    rng = np.random.default_rng(4)
    roster = [network.random_road_point(rng) for _ in range(30)]
    target = network.random_road_point(rng)
    before = network.nearest_by_time(target, roster, 1)
    roster[before[0].index] = network.random_road_point(rng)  # the nearest unit drives off
    after = network.nearest_by_time(target, roster, 1)
    assert _summary(after) == _summary(network.baseline_nearest_by_time(target, list(roster), 1))
    assert _summary(after) == _summary(network.nearest_by_time(target, tuple(roster), 1))


def test_nearest_by_time_allowed_mask_matches_search_over_the_allowed_subset(network: RoadNetwork) -> None:
    rng = np.random.default_rng(77)
    roster = tuple(network.random_road_point(rng) for _ in range(300))
    allowed = rng.random(300) < 0.3
    subset = [p for p, keep in zip(roster, allowed, strict=True) if keep]
    back = np.flatnonzero(allowed)
    for _ in range(20):
        target = network.random_road_point(rng)
        masked = network.nearest_by_time(target, roster, 5, with_routes=False, allowed=allowed)
        plain = network.nearest_by_time(target, subset, 5, with_routes=False)
        assert [r.index for r in masked] == [int(back[r.index]) for r in plain]
        assert [r.eta_s for r in masked] == pytest.approx([r.eta_s for r in plain])
        base = network.baseline_nearest_by_time(target, roster, 5, with_routes=False, allowed=allowed)
        assert [r.index for r in base] == [r.index for r in masked]


def test_nearest_by_time_nothing_allowed_returns_nothing(network: RoadNetwork) -> None:
    rng = np.random.default_rng(78)
    roster = tuple(network.random_road_point(rng) for _ in range(10))
    target = network.random_road_point(rng)
    assert network.nearest_by_time(target, roster, 3, allowed=np.zeros(10, dtype=bool)) == []
    with pytest.raises(ValidationFailed):
        network.nearest_by_time(target, roster, 3, allowed=np.ones(9, dtype=bool))
