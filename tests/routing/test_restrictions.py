"""Turn restrictions: which relations bind a patrol car, and a real one in Harbin obeyed."""

from __future__ import annotations

import math
from collections.abc import Iterator

import osmium
import pytest

from jingwu.routing import RoadNetwork, load_network, osm_import
from jingwu.routing.restrictions import restriction_kind
from jingwu.settings import bundled_osm_file

from .helpers import metres


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"type": "restriction", "restriction": "no_left_turn"}, "no_left_turn"),
        ({"type": "restriction", "restriction": "only_straight_on"}, "only_straight_on"),
        ({"type": "restriction", "restriction:hgv": "no_left_turn"}, None),
        (
            {"type": "restriction", "restriction:motorcar": "no_u_turn", "restriction": "no_left_turn"},
            "no_u_turn",
        ),
        ({"type": "restriction", "restriction": "no_left_turn", "except": "psv;motorcar"}, None),
        ({"type": "restriction", "restriction": "no_left_turn", "hour_on": "07:00"}, None),
        ({"type": "restriction", "restriction": "give_way"}, None),
        ({"type": "multipolygon", "restriction": "no_left_turn"}, None),
    ],
)
def test_restriction_kind_binds_patrol_car_or_not(tags: dict[str, str], expected: str | None) -> None:
    assert restriction_kind(tags) == expected


# Relation 12146620: no left turn from 地德里街 (way 893056465, one-way, heading west-north-west into
# node 5808741438) onto the short tertiary way 48016459 south-south-west.
RELATION, FROM_WAY, VIA, TO_WAY = 12146620, 893056465, 5808741438, 48016459


@pytest.fixture(scope="module")
def unrestricted() -> Iterator[RoadNetwork]:
    """Harbin compiled with no restriction relations, to show what the relation changes."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(osm_import, "read_restrictions", lambda _path: ([], []))
        yield load_network(bundled_osm_file())


def _way_nodes(way_id: int) -> list[tuple[int, float, float]]:
    processor = osmium.FileProcessor(
        str(bundled_osm_file()), osmium.osm.NODE | osmium.osm.WAY
    ).with_locations()
    for way in processor.with_filter(osmium.filter.IdFilter([way_id])):
        if isinstance(way, osmium.osm.Way):
            return [(n.ref, n.location.lat, n.location.lon) for n in way.nodes]
    raise AssertionError(f"way {way_id} not in the extract")


def _point_before(nodes: list[tuple[int, float, float]], metres_back: float) -> tuple[float, float, float]:
    """(lat, lon, heading) ``metres_back`` before the way's last node, driving towards it."""
    (_, lat1, lon1), (_, lat2, lon2) = nodes[-2], nodes[-1]
    f = max(0.0, 1 - metres_back / metres(lat1, lon1, lat2, lon2))
    heading = math.degrees(math.atan2((lon2 - lon1) * math.cos(math.radians(lat1)), lat2 - lat1)) % 360
    return lat1 + (lat2 - lat1) * f, lon1 + (lon2 - lon1) * f, heading


def test_load_network_harbin_applies_its_complete_restrictions(network: RoadNetwork) -> None:
    assert network.restrictions == (RELATION, 12146621, 14068412, 14068413, 14562246)


def test_route_harbin_no_right_turn_relation_obeyed(network: RoadNetwork, unrestricted: RoadNetwork) -> None:
    from_nodes, to_nodes = _way_nodes(FROM_WAY), _way_nodes(TO_WAY)
    assert from_nodes[-1][0] == VIA and to_nodes[-1][0] == VIA
    lat, lon, heading = _point_before(from_nodes, 30.0)
    to_lat, to_lon, _ = _point_before(to_nodes, 10.75)  # the way's middle: no other road within 10 m
    via = (from_nodes[-1][2], from_nodes[-1][1])
    turning = (to_nodes[-2][2], to_nodes[-2][1])
    routes = {}
    for name, net in (("obeyed", network), ("ignored", unrestricted)):
        source = net.snap(lat, lon, 10.0, heading, 8.0)
        target = net.snap(to_lat, to_lon, 10.0)
        assert source.directed
        route = net.route(source, target)
        assert route is not None
        coords = [(round(x, 7), round(y, 7)) for x, y in route.coordinates]
        # From the source the car drives to the via first (a one-way); the banned manoeuvre is to
        # go on from there straight into the to way (to the target, or the way's next node).
        assert coords[1] == (round(via[0], 7), round(via[1], 7))
        turned = len(coords) == 3 or coords[2] == (round(turning[0], 7), round(turning[1], 7))
        assert target.others == ()
        routes[name] = (route, bool(turned))
    ignored, turns_there = routes["ignored"]
    obeyed, turns_anyway = routes["obeyed"]
    assert turns_there and ignored.distance_m < 45  # without the relation: left at the via, 41 m
    assert not turns_anyway
    assert obeyed.distance_m > ignored.distance_m + 100
    assert obeyed.eta_s > ignored.eta_s + 10
