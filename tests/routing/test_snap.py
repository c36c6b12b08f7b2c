"""Snapping to the nearest point on any road, and refusing points off the road network."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jingwu.errors import OffRoadError, ValidationFailed
from jingwu.routing import RoadNetwork
from jingwu.routing import snap as snap_module
from jingwu.routing.model import RoadPoint

from .helpers import brute_force_distance, metres, segments

# In the Songhua west of the city centre, inside OSM's 松花江 water polygon, ~1.0 km from the nearest
# drivable road. (No point of the river in this extract is 2 km from a road: Sun Island and the
# embankment roads keep every spot of the ~1 km wide river within ~1.1 km of one.)
RIVER = (45.788, 126.534)


@pytest.fixture(scope="module")
def all_segments(network: RoadNetwork) -> tuple[np.ndarray, ...]:
    return segments(network)


def test_snap_random_points_match_brute_force_nearest_segment(
    network: RoadNetwork, all_segments: tuple[np.ndarray, ...]
) -> None:
    rng = np.random.default_rng(7)
    min_lon, min_lat, max_lon, max_lat = network.bbox
    checked = 0
    while checked < 60:
        lat = float(rng.uniform(min_lat + 0.02, max_lat - 0.02))
        lon = float(rng.uniform(min_lon + 0.02, max_lon - 0.02))
        expected = brute_force_distance(all_segments, lat, lon)
        if expected > 240:
            continue
        point = network.snap(lat, lon)
        # GeoJSON coordinates are rounded to 1e-6 degrees (< 0.1 m).
        assert point.offset_m == pytest.approx(expected, abs=0.3)
        assert metres(lat, lon, point.lat, point.lon) == pytest.approx(point.offset_m, abs=0.3)
        checked += 1


def _level(network: RoadNetwork, point: RoadPoint) -> int:
    g = network._g  # white-box: the level of the point's road
    return int(g.piece_level[g.edge_piece[point.edge]])


def test_snap_point_on_road_returns_itself_with_zero_offset(network: RoadNetwork) -> None:
    rng = np.random.default_rng(11)
    checked = 0
    while checked < 50:
        on_road = network.random_road_point(rng)
        again = network.snap(on_road.lat, on_road.lon)
        if _level(network, on_road) != 0 and _level(network, again) == 0:
            continue  # on a bridge with a street within a few metres: taken for the street
        assert again.offset_m < 0.05
        assert metres(on_road.lat, on_road.lon, again.lat, again.lon) < 0.05
        checked += 1


def test_snap_point_beside_road_lands_between_it_and_the_road(network: RoadNetwork) -> None:
    rng = np.random.default_rng(12)
    for _ in range(30):
        on_road = network.random_road_point(rng)
        bearing = rng.uniform(0, 2 * math.pi)
        lat = on_road.lat + 20 * math.cos(bearing) / 111_195
        lon = on_road.lon + 20 * math.sin(bearing) / (111_195 * math.cos(math.radians(on_road.lat)))
        snapped = network.snap(lat, lon)
        assert snapped.offset_m <= metres(lat, lon, on_road.lat, on_road.lon) + 0.05


def test_snap_reports_road_name_and_valid_edge(network: RoadNetwork) -> None:
    point = network.snap(45.7775, 126.62)
    assert point.road_name == "友谊路"
    assert 0 <= point.edge < network.edge_count
    assert 0.0 <= point.fraction <= 1.0


def test_snap_middle_of_songhua_raises_off_road(network: RoadNetwork) -> None:
    with pytest.raises(OffRoadError) as caught:
        network.snap(*RIVER)
    assert caught.value.distance_m > 900
    assert caught.value.params["max_distance_m"] == 250.0


def test_snap_river_point_beyond_wider_limit_still_off_road(network: RoadNetwork) -> None:
    with pytest.raises(OffRoadError):
        network.snap(*RIVER, max_distance_m=900.0)
    assert network.snap(*RIVER, max_distance_m=1_500.0).offset_m == pytest.approx(1_022, abs=5)


@pytest.mark.parametrize(("lat", "lon"), [(30.0, 120.0), (-45.0, -60.0), (45.74, 127.5), (89.9, 126.6)])
def test_snap_far_outside_extract_raises_off_road(network: RoadNetwork, lat: float, lon: float) -> None:
    with pytest.raises(OffRoadError) as caught:
        network.snap(lat, lon)
    assert caught.value.distance_m > 10_000


@pytest.mark.parametrize(("lat", "lon"), [(math.nan, 126.6), (45.7, math.inf), (91.0, 126.6), (45.7, 181.0)])
def test_snap_not_a_coordinate_raises_validation_failed(network: RoadNetwork, lat: float, lon: float) -> None:
    with pytest.raises(ValidationFailed) as caught:
        network.snap(lat, lon)
    assert not isinstance(caught.value, OffRoadError)


def test_random_road_point_same_seed_same_points(network: RoadNetwork) -> None:
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    a = [network.random_road_point(rng_a) for _ in range(3)]
    b = [network.random_road_point(rng_b) for _ in range(3)]
    assert a == b
    assert len(set(a)) == 3
    min_lon, min_lat, max_lon, max_lat = network.bbox
    for p in a:
        assert p.offset_m == 0.0
        assert min_lat <= p.lat <= max_lat and min_lon <= p.lon <= max_lon


def _snap_or_none(network: RoadNetwork, lat: float, lon: float, limit: float) -> RoadPoint | None:
    try:
        return network.snap(lat, lon, limit)
    except ValidationFailed:  # OffRoadError is one
        return None


@pytest.mark.parametrize("few", [1, 3, 8])
def test_snap_many_gives_exactly_the_answers_of_snap_one_by_one(
    network: RoadNetwork, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    # ``few`` small forces the radius fallback for crowded points; 8 is what runs in service.
    monkeypatch.setattr(snap_module, "_FEW", few)
    rng = np.random.default_rng(11)
    points = []
    for spread in (1e-5, 3e-4, 3e-3):
        for _ in range(300):
            p = network.random_road_point(rng)
            points.append((p.lat + float(rng.normal(0, spread)), p.lon + float(rng.normal(0, spread))))
    points += [RIVER, (30.0, 120.0), (math.nan, 126.6), (91.0, 126.6), (45.7, math.inf)]
    many = network.snap_many(points, 150.0)
    assert many == [_snap_or_none(network, lat, lon, 150.0) for lat, lon in points]
    assert 0 < sum(p is None for p in many) < len(points)


def test_snap_many_of_nothing_is_nothing(network: RoadNetwork) -> None:
    assert network.snap_many([]) == []
