"""Where a point stands on the roads: levels (a viaduct above a street), the roads a few metres
off the nearest one, and a moving unit's heading (the carriageway it drives)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from jingwu.errors import ValidationFailed
from jingwu.routing import RoadNetwork, RoadPoint, load_network
from jingwu.routing.placement import CANDIDATE_MARGIN_M
from jingwu.routing.turns import U_TURN_S

from .handmade import NODES, TownOracle, along, grid, write_town
from .helpers import metres

BRIDGE_WAY, SOUTH_CARRIAGEWAY, NORTH_CARRIAGEWAY = 17, 20, 21


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> RoadNetwork:
    return load_network(write_town(tmp_path_factory.mktemp("osm") / "town.osm"))


def _way(network: RoadNetwork, edge: int) -> int:
    g = network._g  # white-box: which OSM way a placement is on
    return int(g.piece_way[g.edge_piece[edge]])


def _bridge_crossing() -> tuple[float, float]:
    """(lat, lon) where the bridge 00→21 passes over the street 10-11."""
    (lon_a, lat_a), (lon_b, lat_b) = NODES[grid(0, 0)], NODES[grid(2, 1)]
    lat = NODES[grid(1, 0)][1]
    f = (lat - lat_a) / (lat_b - lat_a)
    return lat, lon_a + (lon_b - lon_a) * f


def test_snap_under_viaduct_takes_the_street_not_the_bridge(town: RoadNetwork) -> None:
    lat, lon = _bridge_crossing()
    # 3 m north of the street, under the bridge (which runs right over the point, ≈ 1.5 m off).
    point = town.snap(lat + 3 / 111_195, lon + 1 / 78_000)
    ways = {_way(town, p.edge) for p in point.placements()}
    assert BRIDGE_WAY not in ways
    assert _way(town, point.edge) == 3  # the street 10-11
    assert point.offset_m == pytest.approx(3.0, abs=0.2)


def test_snap_on_bridge_far_from_streets_takes_the_bridge(town: RoadNetwork) -> None:
    lat, lon = along(grid(0, 0), grid(2, 1), 0.2)  # ≈ 26 m from the nearest street
    point = town.snap(lat, lon)
    assert _way(town, point.edge) == BRIDGE_WAY and point.offset_m < 0.05
    assert point.others == ()


def test_nearest_by_time_incident_under_viaduct_reached_from_the_street(town: RoadNetwork) -> None:
    lat, lon = _bridge_crossing()
    incident = town.snap(lat + 2 / 111_195, lon)
    on_bridge = town.snap(*along(grid(0, 0), grid(2, 1), 0.45), 5.0, heading=20.0, speed=12.0)
    assert _way(town, on_bridge.edge) == BRIDGE_WAY and on_bridge.directed
    (reach,) = town.nearest_by_time(incident, [on_bridge], 1)
    # It must leave the bridge at 21 and come back down through the streets: far more than the
    # few metres between them.
    assert reach.route is not None
    assert reach.distance_m > 150
    lons = [c[0] for c in reach.route.coordinates]
    assert max(lons) >= NODES[grid(2, 1)][0] - 1e-9


def _between_carriageways(north_m: float) -> tuple[float, float]:
    """(lat, lon) halfway along the dual road, ``north_m`` north of the south carriageway."""
    lat = NODES[600][1] + north_m / 111_195
    return lat, (NODES[600][0] + NODES[601][0]) / 2


def test_snap_moving_unit_takes_the_carriageway_running_its_way(town: RoadNetwork) -> None:
    lat, lon = _between_carriageways(11.0)  # the carriageways are 20 m apart
    east = town.snap(lat, lon, heading=92.0, speed=15.0)
    west = town.snap(lat, lon, heading=268.0, speed=15.0)
    assert (_way(town, east.edge), east.directed, east.others) == (SOUTH_CARRIAGEWAY, True, ())
    assert (_way(town, west.edge), west.directed, west.others) == (NORTH_CARRIAGEWAY, True, ())
    standing = town.snap(lat, lon, heading=92.0, speed=0.3)
    assert not standing.directed
    assert {_way(town, p.edge) for p in standing.placements()} == {SOUTH_CARRIAGEWAY, NORTH_CARRIAGEWAY}


def test_nearest_by_time_unit_nearer_the_far_carriageway_leaves_by_the_near_one(town: RoadNetwork) -> None:
    # Incident east along the south (eastbound) carriageway; the unit's fix is 7 m from the north
    # (westbound) carriageway and 13 m from the south one: the nearest road alone would send it
    # west, round the end and back.
    incident = town.snap(*along(600, 601, 0.9))
    lat, lon = _between_carriageways(13.0)
    unit = town.snap(lat, lon)
    assert _way(town, unit.edge) == NORTH_CARRIAGEWAY
    assert [_way(town, p.edge) for p in unit.others] == [SOUTH_CARRIAGEWAY]
    nearest_only = type(unit)(unit.lat, unit.lon, unit.edge, unit.fraction, unit.offset_m, unit.road_name)
    (best,) = town.nearest_by_time(incident, [unit], 1)
    (detour,) = town.nearest_by_time(incident, [nearest_only], 1)
    crow = metres(lat, lon, incident.lat, incident.lon)
    assert best.distance_m < crow + 30
    assert detour.distance_m > best.distance_m + 150


def test_nearest_by_time_incident_across_the_median_adds_the_walk(town: RoadNetwork) -> None:
    oracle = TownOracle(lambda edge: _way(town, edge))
    lat, lon = _between_carriageways(9.0)  # 9 m from the south, 11 m from the north carriageway
    incident = town.snap(lat, lon)
    assert len(incident.placements()) == 2
    unit = town.snap(*along(602, 603, 0.2), heading=270.0, speed=10.0)  # on the north one
    (reach,) = town.nearest_by_time(incident, [unit], 1)
    assert reach.eta_s == pytest.approx(oracle.eta(unit, incident, 270.0), abs=1e-3)
    walk = (incident.others[0].offset_m - incident.offset_m) / 1.4
    assert walk == pytest.approx(2 / 1.4, abs=0.1)


def test_snap_candidates_within_margin_only(town: RoadNetwork) -> None:
    lat, lon = _between_carriageways(0.5)  # 19.5 m from the north carriageway
    assert CANDIDATE_MARGIN_M < 20.0 - 0.5 - 0.5
    point = town.snap(lat, lon)
    assert _way(town, point.edge) == SOUTH_CARRIAGEWAY and point.others == ()


def test_snap_many_with_motions_same_as_snap_one_by_one(town: RoadNetwork) -> None:
    rng = np.random.default_rng(5)
    (lon0, lat0), (lon1, lat1) = NODES[grid(0, 0)], NODES[602]
    points = [(float(rng.uniform(lat0, lat1)), float(rng.uniform(lon0, lon1))) for _ in range(300)]
    motions = [
        (float(rng.uniform(0, 360)) if i % 3 else None, float(rng.choice([0.5, 8.0])) if i % 4 else None)
        for i in range(300)
    ]
    many = town.snap_many(points, 60.0, motions)
    one_by_one = []
    for (lat, lon), (heading, speed) in zip(points, motions, strict=True):
        try:
            one_by_one.append(town.snap(lat, lon, 60.0, heading, speed))
        except ValidationFailed:
            one_by_one.append(None)
    assert many == one_by_one
    assert sum(p is not None and p.directed for p in many) > 30
    assert sum(p is not None and bool(p.others) for p in many) > 30


# ------------------------------------------------------------------ Harbin

# Between the carriageways of 群力第一大道 (one-way each, drawn 20 m apart, bearings 79° and 259°),
# part-way along both, nothing else near.
QUNLI = (45.744377, 126.557271)


def _along_edge(network: RoadNetwork, point: RoadPoint, metres_: float) -> RoadPoint:
    """A standing point ``metres_`` further along the edge ``point`` names (back when < 0)."""
    length = float(network._g.edge_len[point.edge])  # white-box: the edge's length
    return replace(point, fraction=point.fraction + metres_ / length, directed=False, others=())


def test_snap_harbin_dual_road_heading_picks_the_carriageway(network: RoadNetwork) -> None:
    standing = network.snap(*QUNLI)
    assert len(standing.placements()) == 2 and not standing.directed
    edges = {}
    for heading in (79.0, 259.0):
        moving = network.snap(*QUNLI, heading=heading, speed=10.0)
        assert moving.directed and moving.others == ()
        edges[heading] = moving.edge
        room = float(network._g.edge_len[moving.edge])  # white-box: the carriageway's length
        forward, back = 0.9 * (1 - moving.fraction) * room, 0.9 * moving.fraction * room
        assert min(forward, back) > 100
        ahead = network.route(moving, _along_edge(network, moving, forward))
        assert ahead is not None and ahead.distance_m == pytest.approx(forward, abs=0.5)
        behind = network.route(moving, _along_edge(network, moving, -back))
        assert behind is not None and behind.distance_m > 500  # one-way: on to a legal turn
    assert edges[79.0] != edges[259.0]
    assert {p.edge for p in standing.placements()} == set(edges.values())


def test_nearest_by_time_harbin_standing_unit_leaves_by_the_better_carriageway(network: RoadNetwork) -> None:
    standing = network.snap(*QUNLI)
    for place in standing.placements():
        forward = 0.9 * (1 - place.fraction) * float(network._g.edge_len[place.edge])
        incident = _along_edge(network, place, forward)
        (best,) = network.nearest_by_time(incident, [standing], 1)
        assert best.distance_m == pytest.approx(forward, abs=0.5)
        (wrong,) = [p for p in standing.placements() if p.edge != place.edge]
        (far,) = network.nearest_by_time(incident, [replace(wrong, others=())], 1)
        assert far.distance_m > best.distance_m + 300  # the far carriageway alone: a detour


def test_nearest_by_time_harbin_moving_unit_behind_pays_u_turn_or_detour(network: RoadNetwork) -> None:
    rng = np.random.default_rng(41)
    checked = 0
    g = network._g
    while checked < 20:
        p = network.random_road_point(rng)
        twin = int(g.edge_twin[p.edge])
        if twin < 0 or g.edge_len[p.edge] < 150 or g.piece_level[g.edge_piece[p.edge]] != 0:
            continue
        a = network.snap(p.lat, p.lon)
        if a.others:
            continue
        moving = type(a)(a.lat, a.lon, a.edge, 0.6, 0.0, a.road_name, True)
        standing = type(a)(a.lat, a.lon, a.edge, 0.6, 0.0, a.road_name)
        behind = type(a)(a.lat, a.lon, a.edge, 0.3, 0.0, a.road_name)
        (free,) = network.nearest_by_time(behind, [standing], 1)
        (bound,) = network.nearest_by_time(behind, [moving], 1)
        assert bound.eta_s == pytest.approx(min(free.eta_s + U_TURN_S, bound.eta_s))
        assert free.eta_s < bound.eta_s <= free.eta_s + U_TURN_S + 1e-9
        checked += 1


def test_load_network_harbin_levels_from_tags(tmp_path: Path, network: RoadNetwork) -> None:
    g = network._g
    levels = np.bincount(g.piece_level + 5)
    assert levels[5] > 0.8 * g.piece_level.shape[0]  # mostly street level
    assert (g.piece_level > 0).sum() > 300 and (g.piece_level < 0).sum() > 50


# On 北门街高架 (an elevated road, layer 1) right above 路南街, and on 阳明滩大桥 over the Songhua.
UNDER_VIADUCT = (45.80476, 126.69914)
RIVER_BRIDGE = (45.772882, 126.519687)


def test_snap_harbin_point_under_viaduct_is_on_the_street_below(network: RoadNetwork) -> None:
    g = network._g  # white-box: the level of each placement's road
    point = network.snap(*UNDER_VIADUCT)
    assert point.road_name == "路南街" and point.offset_m < 1.0
    assert all(g.piece_level[g.edge_piece[p.edge]] == 0 for p in point.placements())
    (viaduct,) = [i for i, name in enumerate(g.names.tolist()) if name == "北门街高架"]
    assert (g.piece_level[g.piece_name == viaduct] > 0).all()  # the viaduct is there, left out


def test_snap_harbin_point_on_river_bridge_is_on_the_bridge(network: RoadNetwork) -> None:
    g = network._g
    point = network.snap(*RIVER_BRIDGE)
    assert point.road_name == "阳明滩大桥" and point.offset_m < 1.0
    assert g.piece_level[g.edge_piece[point.edge]] > 0
