"""The base map drawn from the road graph: every road once, in a handful of long lines."""

from __future__ import annotations

import gzip
import json
from itertools import pairwise
from pathlib import Path

import pytest

from jingwu.errors import ValidationFailed
from jingwu.geocode import basemap as basemap_package
from jingwu.routing import RoadNetwork
from jingwu.routing.graph import MAP_CLASSES, map_class
from jingwu.service.basemap import MapService
from jingwu.settings import Settings
from tests.routing.helpers import metres


def _length_m(lines: list[list[list[float]]]) -> float:
    return sum(metres(a[1], a[0], b[1], b[0]) for line in lines for a, b in pairwise(line))


@pytest.mark.parametrize(
    ("highway", "drawn_as"),
    [
        ("motorway_link", "motorway"),
        ("trunk", "trunk"),
        ("primary_link", "primary"),
        ("tertiary", "tertiary"),
        ("residential", "minor"),
        ("service", "minor"),
        ("road", "minor"),
    ],
)
def test_every_highway_class_draws_as_one_map_class(highway: str, drawn_as: str) -> None:
    assert map_class(highway) == drawn_as


def test_merged_lines_draw_every_road_once_in_far_fewer_lines(network: RoadNetwork) -> None:
    merged = network.road_lines_by_class(5)
    pieces = network.road_geojson()["features"]
    by_class: dict[str, list[list[list[float]]]] = {k: [] for k in MAP_CLASSES}
    for piece in pieces:
        by_class[map_class(piece["properties"]["class"])].append(piece["geometry"]["coordinates"])
    for klass in MAP_CLASSES:
        # Same roads (lengths agree to rounding), each piece drawn once, not twice.
        assert _length_m(merged[klass]) == pytest.approx(_length_m(by_class[klass]), rel=0.002, abs=1.0)
    line_count = sum(len(lines) for lines in merged.values())
    assert line_count < len(pieces) / 3


def test_merged_lines_join_at_shared_vertices(network: RoadNetwork) -> None:
    for lines in network.road_lines_by_class(5).values():
        for line in lines:
            assert len(line) >= 2
            assert all(a != b for a, b in pairwise(line))  # no repeated vertex after rounding


def test_road_layer_is_built_once_and_served_from_memory(network: RoadNetwork) -> None:
    maps = MapService(network, Settings())
    first = maps.roads()
    assert maps.roads() is first
    document = json.loads(first.body)
    assert [f["properties"]["class"] for f in document["features"]] == [
        k
        for k in reversed(MAP_CLASSES)
        if k != "motorway"  # Harbin's extract has no motorway
    ]
    assert first.etag.startswith('"') and first.etag.endswith('"')


def test_map_config_offers_the_configured_tile_server(network: RoadNetwork) -> None:
    settings = Settings(tile_url="https://tiles.example/{z}/{x}/{y}.png", tile_attribution="© Example")
    config = MapService(network, settings).config()
    assert config["tile_url"] == "https://tiles.example/{z}/{x}/{y}.png"
    assert config["tile_attribution"] == "© Example"
    assert config["attribution"] == "© OpenStreetMap contributors"


def test_a_tile_url_without_its_placeholders_is_refused_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINGWU_TILE_URL", "https://tiles.example/tile.png")
    with pytest.raises(ValidationFailed) as err:
        Settings.from_environment()
    assert err.value.code == "invalid_setting" and "JINGWU_TILE_URL" in err.value.message
    monkeypatch.setenv("JINGWU_TILE_URL", "")
    assert Settings.from_environment().tile_url is None


def test_features_of_harbin_hold_the_songhua_and_street_names_built_once(
    network: RoadNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in a new process: a server started earlier in this worker keeps the map in memory, and
    # this service would then never read (or write) its own cache.
    monkeypatch.setattr(basemap_package, "_loaded", {})
    maps = MapService(network, Settings(data_dir=tmp_path))
    first = maps.features()
    assert maps.features() is first
    assert gzip.decompress(first.gzipped) == first.body
    assert first.etag.startswith('"features-')
    features = json.loads(first.body)["features"]
    water = [f for f in features if f["properties"]["layer"] == "water"]
    assert len(water) == 1 and water[0]["geometry"]["type"] == "MultiPolygon"
    labels = [f["properties"] for f in features if f["properties"]["layer"] == "label"]
    assert "松花江" in {p["name"] for p in labels if p["kind"] == "waterway"}
    streets = {p["name"] for p in labels if p["kind"] == "street"}
    assert {"红军街", "中山路"} <= streets
    assert all(p["name"] and 10 <= p["z"] <= 18 for p in labels)
    # Cached beside the road graph, keyed by the OSM file: the next server starts from it.
    assert list((tmp_path / "graph-cache").glob("harbin.*.basemap.v*.json.gz"))
