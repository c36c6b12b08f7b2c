"""The base map's layers from a hand-made OSM file: water (a riverbank the file cuts, closed along
its box), green, rivers and the labels, each with its zoom and importance; cached by the file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point, shape

import jingwu.geocode.basemap as basemap
from jingwu.geocode.basemap import FORMAT_VERSION, load_basemap
from jingwu.geocode.basemap.build import MIN_STREET_M, label_zoom
from tests.geocode.basemap_fixture import BOX, write_map
from tests.geocode.osm_fixture import lonlat


@pytest.fixture(scope="module")
def map_osm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_map(tmp_path_factory.mktemp("basemap") / "town.osm")


@pytest.fixture(scope="module")
def features(map_osm: Path) -> list[dict[str, Any]]:
    collection = load_basemap(map_osm)
    assert collection["type"] == "FeatureCollection"
    found: list[dict[str, Any]] = collection["features"]
    return found


def _layer(features: list[dict[str, Any]], layer: str, kind: str | None = None) -> dict[str, Any]:
    [found] = [
        f for f in features if f["properties"]["layer"] == layer and f["properties"].get("kind") == kind
    ]
    return found


def _labels(features: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [f for f in features if f["properties"]["layer"] == "label" and f["properties"]["kind"] == kind]


def _at(x: float, y: float) -> Point:
    return Point(*lonlat(x, y))


def test_a_river_the_file_cuts_is_closed_along_its_box_and_drawn_as_water(
    features: list[dict[str, Any]],
) -> None:
    water = shape(_layer(features, "water")["geometry"])
    assert water.contains(_at(10, 9)) and water.contains(_at(0, 9)) and water.contains(_at(20, 9))
    assert not water.contains(_at(10, 7)) and not water.contains(_at(10, 10.5))  # only the band
    west, _ = lonlat(BOX[0], 0)
    east, _ = lonlat(BOX[2], 0)
    river = max(water.geoms, key=lambda p: p.area)
    assert river.bounds[0] == pytest.approx(west, abs=1e-5) and river.bounds[2] == pytest.approx(
        east, abs=1e-5
    )


def test_a_lake_is_water_and_a_pond_of_a_few_square_metres_is_left_out(
    features: list[dict[str, Any]],
) -> None:
    water = shape(_layer(features, "water")["geometry"])
    assert water.contains(_at(13.5, 2.5))
    assert not water.buffer(1e-6).contains(_at(0.01, 0.01))
    [lake] = _labels(features, "water")
    assert lake["properties"]["name"] == "镜湖"
    assert shape(_layer(features, "water")["geometry"]).contains(shape(lake["geometry"]))


def test_a_park_is_green_and_named_inside(features: list[dict[str, Any]]) -> None:
    park = shape(_layer(features, "green", "park")["geometry"])
    assert park.contains(_at(2, 2.5))
    [label] = _labels(features, "park")
    assert label["properties"]["name"] == "儿童公园" and park.contains(shape(label["geometry"]))


def test_a_river_named_only_on_its_waterway_relation_is_drawn_and_named_along_its_course(
    features: list[dict[str, Any]],
) -> None:
    line = shape(_layer(features, "waterway", "river")["geometry"])
    assert line.length > 0
    [label] = _labels(features, "waterway")
    assert label["properties"]["name"] == "松花江"
    assert label["geometry"]["type"] == "LineString"
    assert label["properties"]["z"] == 11  # a river's name shows from the city-wide view


def test_a_street_in_two_ways_is_one_label_path_and_short_or_footpath_names_are_left_out(
    features: list[dict[str, Any]],
) -> None:
    streets = _labels(features, "street")
    assert [s["properties"]["name"] for s in streets] == ["红军街"]
    [street] = streets
    coords = street["geometry"]["coordinates"]
    ends = {lonlat(0, 6), lonlat(15, 6.5)}
    assert {tuple(coords[0]), tuple(coords[-1])} == {(round(x, 5), round(y, 5)) for x, y in ends}
    assert street["properties"]["class"] == "primary" and street["properties"]["z"] == 13
    assert MIN_STREET_M > 10  # 小巷 is 10 m long


def test_a_place_mapped_as_node_and_polygon_gets_one_label_inside_its_polygon(
    features: list[dict[str, Any]],
) -> None:
    [hospital] = _labels(features, "hospital")
    grounds = shape(
        {"type": "Polygon", "coordinates": [[lonlat(16, 0), lonlat(19, 0), lonlat(19, 3), lonlat(16, 3)]]}
    )
    assert grounds.contains(shape(hospital["geometry"]))
    assert hospital["properties"]["name"] == "第一医院"


def test_a_communitys_label_falls_inside_even_a_c_shaped_area(features: list[dict[str, Any]]) -> None:
    [community] = _labels(features, "community")
    corners = [(6, 0), (11, 0), (11, 1), (7, 1), (7, 4), (11, 4), (11, 5), (6, 5)]
    area = shape({"type": "Polygon", "coordinates": [[lonlat(x, y) for x, y in corners]]})
    assert area.contains(shape(community["geometry"]))


def test_a_quarter_name_shows_at_city_zooms_only(features: list[dict[str, Any]]) -> None:
    [quarter] = _labels(features, "quarter")
    assert quarter["properties"]["name"] == "南岗街道"
    assert quarter["properties"]["z"] == 12 and quarter["properties"]["zx"] == 15


def test_labels_come_most_important_first_and_areas_before_them(features: list[dict[str, Any]]) -> None:
    layers = [f["properties"]["layer"] for f in features]
    first_label = layers.index("label")
    assert "label" not in set(layers[:first_label]) and set(layers[first_label:]) == {"label"}
    importance = [f["properties"]["p"] for f in features[first_label:]]
    assert importance == sorted(importance, reverse=True)
    assert layers.index("green") < layers.index("water")  # a pond in a park stays visible


@pytest.mark.parametrize("kind", ["community", "park", "water", "school"])
def test_a_bigger_area_shows_its_name_no_later_and_wins_collisions(kind: str) -> None:
    small, big = label_zoom(kind, 2_000), label_zoom(kind, 2_000_000)
    assert big[0] <= small[0] and big[2] > small[2]


def test_the_map_is_cached_by_the_files_content_and_a_damaged_cache_is_rebuilt(
    map_osm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(basemap, "_loaded", {})
    built = load_basemap(map_osm, tmp_path)
    [cache] = tmp_path.glob(f"town.*.basemap.v{FORMAT_VERSION}.json.gz")
    stored = json.loads(gzip.decompress(cache.read_bytes()))
    assert stored["map"] == built

    monkeypatch.setattr(basemap, "_loaded", {})
    stored["map"]["features"] = stored["map"]["features"][:1]
    cache.write_bytes(gzip.compress(json.dumps(stored).encode()))
    assert load_basemap(map_osm, tmp_path) == stored["map"]  # read from the cache, not rebuilt

    monkeypatch.setattr(basemap, "_loaded", {})
    cache.write_bytes(b"not gzip")
    assert load_basemap(map_osm, tmp_path) == built
    assert json.loads(gzip.decompress(cache.read_bytes()))["map"] == built
