"""The hand-made city (written here, read by pyosmium) and the Harbin extract's index."""

from __future__ import annotations

from pathlib import Path

import pytest

from jingwu.geocode import Geocoder, load_geocoder
from jingwu.settings import bundled_osm_file
from tests.geocode.osm_fixture import write_city


@pytest.fixture(scope="session")
def city_osm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_city(tmp_path_factory.mktemp("city") / "city.osm")


@pytest.fixture(scope="session")
def city(city_osm: Path) -> Geocoder:
    return load_geocoder(city_osm)


@pytest.fixture(scope="session")
def harbin(graph_cache_dir: Path) -> Geocoder:
    return load_geocoder(bundled_osm_file(), graph_cache_dir)
