"""Time-of-day speed profiles: parsed with clear refusals, and the search driving at the hour's
speeds (against the town's oracle at the same speeds)."""

from __future__ import annotations

import numpy as np
import pytest

from jingwu.errors import ValidationFailed
from jingwu.routing import RoadNetwork, load_network
from jingwu.routing.profiles import SpeedProfile
from jingwu.routing.speeds import ROAD_CLASSES

from .handmade import WAYS, TownOracle, along, grid, write_town


def _hours(rush: float, at: int = 8) -> list[float]:
    return [rush if h == at else 1.0 for h in range(24)]


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> RoadNetwork:
    return load_network(write_town(tmp_path_factory.mktemp("osm") / "town.osm"))


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"boulevard": _hours(0.5)}, "boulevard"),
        ({"primary": [1.0] * 23}, "primary"),
        ({"primary": _hours(0.0)}, "primary"),
        ({"*": _hours(3.0)}, "*"),
        ({"residential": [float("nan")] * 24}, "residential"),
    ],
)
def test_speed_profile_parse_bad_entry_refused_naming_it(spec: dict[str, list[float]], key: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        SpeedProfile.parse(spec)
    assert caught.value.code == "bad_speed_profile" and caught.value.params["key"] == key


def test_speed_profile_parse_star_for_all_classes_named_ones_override() -> None:
    profile = SpeedProfile.parse({"*": _hours(0.8), "primary": _hours(0.5)})
    klass = [ROAD_CLASSES.index(c) for c in ("primary", "residential")]
    assert profile.time_scale(8, np.array(klass)).tolist() == pytest.approx([2.0, 1.25])
    assert profile.time_scale(9, np.array(klass)).tolist() == [1.0, 1.0]
    assert profile.slowest() == pytest.approx(2.0)
    with pytest.raises(ValidationFailed):
        profile.time_scale(24, np.array(klass))


def test_nearest_by_time_rush_hour_matches_oracle_at_the_hour_s_speeds(town: RoadNetwork) -> None:
    factors = {"residential": 0.5, "secondary": 0.7}
    profile = SpeedProfile.parse({k: _hours(v) for k, v in factors.items()})
    clock_hour = [8]
    rush = town.with_speed_profile(profile, lambda: clock_hour[0])
    g = town._g  # white-box: which OSM way a placement's edge is on
    oracle = TownOracle(
        lambda e: int(g.piece_way[g.edge_piece[e]]), speed_factor=lambda h: factors.get(h, 1.0)
    )
    plain = TownOracle(lambda e: int(g.piece_way[g.edge_piece[e]]))
    sources = [town.snap(*along(a, b, 0.4), 5.0) for _, (a, b), _ in WAYS[::2]]
    for target in (town.snap(*along(a, b, 0.6), 5.0) for _, (a, b), _ in WAYS[1::3]):
        at_rush = {r.index: r for r in rush.nearest_by_time(target, sources, len(sources))}
        base = rush.baseline_nearest_by_time(target, sources, len(sources), with_routes=False)
        assert [(r.index, r.eta_s) for r in base] == [(r.index, at_rush[r.index].eta_s) for r in base]
        quiet = {r.index: r.eta_s for r in rush.nearest_by_time(target, sources, len(sources), hour=3)}
        usual = {r.index: r.eta_s for r in town.nearest_by_time(target, sources, len(sources))}
        for i, source in enumerate(sources):
            assert at_rush[i].eta_s == pytest.approx(oracle.eta(source, target), abs=1e-3)
            assert quiet[i] == pytest.approx(plain.eta(source, target), abs=1e-3) and quiet[i] == usual[i]
            route = at_rush[i].route
            assert route is not None and route.cum_time_s[-1] == at_rush[i].eta_s
    clock_hour[0] = 3  # the network's clock moves on: the quiet hour's speeds
    target = town.snap(*along(grid(0, 0), grid(0, 1), 0.5), 5.0)
    assert [r.eta_s for r in rush.nearest_by_time(target, sources, 3)] == [
        r.eta_s for r in town.nearest_by_time(target, sources, 3)
    ]


def test_with_speed_profile_leaves_the_network_itself_unchanged(town: RoadNetwork) -> None:
    profile = SpeedProfile.parse({"*": [0.5] * 24})
    slow = town.with_speed_profile(profile, lambda: 12)
    assert town.speed_profile is None and slow.speed_profile is profile
    source = town.snap(*along(grid(1, 0), grid(1, 1), 0.2), 5.0)
    target = town.snap(*along(grid(1, 1), grid(2, 1), 0.8), 5.0)
    usual, slower = town.route(source, target), slow.route(source, target)
    assert usual is not None and slower is not None
    assert slower.distance_m == pytest.approx(usual.distance_m)
    assert usual.eta_s < slower.eta_s < 2 * usual.eta_s + 1e-9  # turns are not slowed
