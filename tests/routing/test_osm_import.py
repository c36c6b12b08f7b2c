"""Import rules on a hand-made OSM file: classes, one-way tags, islands, loops, clipped ways."""

from __future__ import annotations

from pathlib import Path

import osmium
import pytest

from jingwu.errors import OffRoadError
from jingwu.routing import RoadNetwork, load_network

# A square A-B-C-D (≈ 110 m sides) driven anticlockwise at least, plus extras that must vanish.
NODES = {
    1: (126.600, 45.700),  # A
    2: (126.6014, 45.700),  # B
    3: (126.6014, 45.701),  # C
    4: (126.600, 45.701),  # D
    5: (126.599, 45.6995),  # G (roundabout at A)
    6: (126.5995, 45.699),  # H
    7: (126.620, 45.720),  # island E
    8: (126.621, 45.720),  # island F
    9: (126.6007, 45.7005),  # footway middle
}
WAYS = [
    (10, [1, 2], {"highway": "residential", "name": "AB"}),
    (11, [2, 3], {"highway": "residential", "oneway": "yes", "name": "BC"}),
    (12, [3, 4], {"highway": "residential", "name": "CD"}),
    (13, [1, 4], {"highway": "residential", "oneway": "-1", "name": "DA"}),  # drawn A→D, driven D→A
    (14, [1, 5, 6, 1], {"highway": "tertiary", "junction": "roundabout"}),  # closed: a self-loop at A
    (15, [7, 8], {"highway": "residential"}),  # an island, unreachable from the square
    (16, [1, 9, 3], {"highway": "footway"}),
    (17, [2, 999], {"highway": "residential"}),  # runs off the extract (node 999 missing)
]


@pytest.fixture(scope="module")
def square(tmp_path_factory: pytest.TempPathFactory) -> RoadNetwork:
    path = tmp_path_factory.mktemp("osm") / "square.osm"
    with osmium.SimpleWriter(str(path)) as writer:
        for node_id, (lon, lat) in NODES.items():
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=(lon, lat)))
        for way_id, refs, tags in WAYS:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags))
    return load_network(Path(path))


def test_load_network_square_islands_footways_clipped_ways_dropped(square: RoadNetwork) -> None:
    names = {f["properties"]["name"] for f in square.road_geojson()["features"]}
    assert names == {"AB", "BC", "CD", "DA", None}
    # A, B, C, D, and G where the closed roundabout way is cut so that it is no self-loop.
    assert square.node_count == 5
    # AB and CD both ways, BC and DA one way, the roundabout's two pieces one way.
    assert square.edge_count == 2 + 1 + 2 + 1 + 2


def test_route_square_one_way_sides_force_the_long_way_round(square: RoadNetwork) -> None:
    a, b, c, d = (square.snap(NODES[n][1], NODES[n][0], 5.0) for n in (1, 2, 3, 4))
    b_to_c, c_to_b = square.route(b, c), square.route(c, b)
    assert b_to_c is not None and c_to_b is not None
    assert b_to_c.distance_m == pytest.approx(111, abs=1)
    assert c_to_b.distance_m == pytest.approx(109 + 111 + 109, abs=3)  # C→D→A→B
    d_to_a, a_to_d = square.route(d, a), square.route(a, d)
    assert d_to_a is not None and a_to_d is not None
    assert d_to_a.distance_m == pytest.approx(111, abs=1)
    assert a_to_d.distance_m == pytest.approx(109 + 111 + 109, abs=3)  # A→B→C→D


def test_snap_island_road_removed_so_point_is_off_road(square: RoadNetwork) -> None:
    lon, lat = NODES[7]
    with pytest.raises(OffRoadError):
        square.snap(lat, lon)
