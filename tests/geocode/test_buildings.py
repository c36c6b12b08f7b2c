"""Building footprints of the Harbin extract: read, cached beside the road graph, and judging sight
lines with the rules of the domain (own wall, target at a building's edge)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from jingwu.domain.camera_sight import LocalFrame
from jingwu.domain.geo import GeoPoint
from jingwu.geocode import buildings
from jingwu.geocode.buildings import Buildings, load_buildings
from jingwu.settings import bundled_osm_file

CENTRE = GeoPoint(45.75, 126.63)


@pytest.fixture(scope="module")
def harbin(graph_cache_dir: Path) -> Buildings:
    # Read or cached here, whatever another test of this process loaded before (from its own
    # cache folder): the cache test below looks for the file in this one.
    buildings._loaded.clear()
    return load_buildings(bundled_osm_file(), graph_cache_dir)


def test_the_harbin_extract_has_its_buildings(harbin: Buildings) -> None:
    assert harbin.count > 10_000
    assert len(harbin.ptr) == harbin.count + 1 and int(harbin.ptr[-1]) == len(harbin.lon)


def test_near_returns_the_footprints_about_a_point_in_its_metres(harbin: Buildings) -> None:
    near = harbin.near(CENTRE.lat, CENTRE.lon, 200.0)
    assert 5 <= len(near) < 500
    assert all(len(ring) >= 3 for ring in near)
    # In metres about the point: every footprint has a vertex within reach of it (plus its size).
    assert all(min(np.hypot(x, y) for x, y in ring) < 400.0 for ring in near)
    assert len(harbin.near(CENTRE.lat, CENTRE.lon, 50.0)) <= len(near)


def test_a_sight_line_through_a_building_is_blocked_and_one_along_a_street_is_not(harbin: Buildings) -> None:
    ring = harbin.near(CENTRE.lat, CENTRE.lon, 300.0)[0]
    frame = LocalFrame(CENTRE)
    xs, ys = [x for x, _ in ring], [y for _, y in ring]
    cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
    span = max(max(xs) - min(xs), max(ys) - min(ys))
    west, east = frame.to_geo(cx - span - 30, cy), frame.to_geo(cx + span + 30, cy)
    assert not harbin.inside(west.lat, west.lon) and not harbin.inside(east.lat, east.lon)
    assert harbin.blocks(west, east)
    assert not harbin.blocks(west, frame.to_geo(cx - span - 25, cy))  # 5 m short of it


def test_rules_on_a_square_building() -> None:
    frame = LocalFrame(CENTRE)
    square = [frame.to_geo(x, y) for x, y in ((0, 0), (20, 0), (20, 20), (0, 20))]
    one = Buildings.from_rings([[(p.lon, p.lat) for p in square]])
    at = frame.to_geo
    assert one.blocks(at(-10, 10), at(30, 10))  # straight through
    assert not one.blocks(at(-10, 30), at(30, 30))  # past it
    assert not one.blocks(at(0.5, 10), at(-30, 10))  # on its wall, looking out
    assert not one.blocks(at(-30, 10), at(1.5, 10))  # a target 1.5 m inside: at the edge
    assert one.blocks(at(-30, 10), at(10, 10))  # a target 10 m inside: hidden
    lat_a = np.array([at(-10, 10).lat, at(-10, 30).lat])
    lon_a = np.array([at(-10, 10).lon, at(-10, 30).lon])
    lat_b = np.array([at(30, 10).lat, at(30, 30).lat])
    lon_b = np.array([at(30, 10).lon, at(30, 30).lon])
    assert one.blocks_many(lat_a, lon_a, lat_b, lon_b).tolist() == [True, False]


def test_the_cache_is_written_beside_the_graph_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, graph_cache_dir: Path, harbin: Buildings
) -> None:
    cached = list(graph_cache_dir.glob("harbin.*.buildings.v*.npz"))
    assert len(cached) == 1
    monkeypatch.setattr(buildings, "_loaded", {})  # as a fresh process would start

    def no_reading(_: Path) -> None:
        raise AssertionError("read the OSM file although a cache was there")

    monkeypatch.setattr(buildings, "read_footprints", no_reading)
    again = load_buildings(bundled_osm_file(), graph_cache_dir)
    assert again.count == harbin.count
    assert again is not harbin and np.array_equal(again.lon, harbin.lon)
    # Without a cache directory nothing is written; a truncated cache file is rebuilt.
    broken = tmp_path / cached[0].name
    broken.write_bytes(b"not a zip")
    monkeypatch.undo()
    monkeypatch.setattr(buildings, "_loaded", {})
    rebuilt = load_buildings(bundled_osm_file(), tmp_path)
    assert rebuilt.count == harbin.count and broken.stat().st_size > 1_000
