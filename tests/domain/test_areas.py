from __future__ import annotations

import pytest

from jingwu.domain.areas import Area, area_from_geojson, area_from_stored, overlapping
from jingwu.domain.geo import GeoPoint
from jingwu.errors import ValidationFailed

SQUARE = [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]]
HOLE = [[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0], [1.0, 1.0]]
ISLAND = [[10.0, 10.0], [11.0, 10.0], [11.0, 11.0], [10.0, 11.0], [10.0, 10.0]]


def test_a_multipolygon_holds_its_islands_but_not_its_holes() -> None:
    area = area_from_geojson({"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE], [ISLAND]]})
    assert area.contains(GeoPoint(3.0, 3.0))
    assert not area.contains(GeoPoint(1.5, 1.5))  # in the hole (lat, lon)
    assert area.contains(GeoPoint(10.5, 10.5))  # on the island
    assert not area.contains(GeoPoint(7.0, 7.0))


def test_a_feature_and_a_polygon_read_the_same_and_survive_the_store() -> None:
    polygon = {"type": "Polygon", "coordinates": [SQUARE, HOLE]}
    feature = {"type": "Feature", "properties": {}, "geometry": polygon}
    area = area_from_geojson(polygon)
    assert area_from_geojson(feature) == area
    assert area_from_stored(area.to_geojson()) == area


@pytest.mark.parametrize(
    "geometry",
    [
        None,
        {"type": "LineString", "coordinates": SQUARE},
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": [SQUARE[:-1]]},  # not closed
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]},  # too few positions
        {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]},  # crosses itself
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [2, 0], [0, 0]]]},  # no area
        {"type": "Polygon", "coordinates": [[[0, 0], [181, 0], [1, 1], [0, 0]]]},  # out of range
        {"type": "Polygon", "coordinates": [[[0, 0], ["1", 0], [1, 1], [0, 0]]]},  # not a number
        {"type": "Polygon", "coordinates": [[[0, 0], [True, 0], [1, 1], [0, 0]]]},
    ],
)
def test_a_geometry_that_is_not_a_usable_area_is_refused(geometry: object) -> None:
    with pytest.raises(ValidationFailed) as refused:
        area_from_geojson(geometry)
    assert refused.value.code == "invalid_jurisdiction"


def test_neighbours_sharing_a_border_do_not_overlap_but_a_bite_does() -> None:
    west = Area.ring((0, 0), (4, 0), (4, 4), (0, 4))
    east = Area.ring((4, 0), (8, 0), (8, 4), (4, 4))
    bite = Area.ring((3, 1), (5, 1), (5, 2), (3, 2))
    assert overlapping(east, {"west": west}) == []
    assert overlapping(bite, {"west": west, "east": east}) == ["west", "east"]


def test_a_ring_given_open_is_closed() -> None:
    area = Area.ring((0, 0), (1, 0), (1, 1))
    assert area.polygons[0][0][0] == area.polygons[0][0][-1]
    assert area.bounds() == (0.0, 0.0, 1.0, 1.0)


def test_even_odd_rings_make_holes_and_islands() -> None:
    from jingwu.domain.areas import area_from_even_odd_rings

    outer = [(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0)]
    hole = [(1.0, 1.0), (3.0, 1.0), (3.0, 3.0), (1.0, 3.0), (1.0, 1.0)]
    island = [(1.5, 1.5), (2.5, 1.5), (2.5, 2.5), (1.5, 2.5), (1.5, 1.5)]
    area = area_from_even_odd_rings([outer, hole, island])
    assert area.contains(GeoPoint(0.5, 0.5))
    assert not area.contains(GeoPoint(1.2, 1.2))
    assert area.contains(GeoPoint(2.0, 2.0))
    assert len(area.polygons) == 2
