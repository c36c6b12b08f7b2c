"""`jingwu bench geocode` measures on addresses drawn from the index, clean and noisy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from jingwu.bench.geocode import run_geocode_bench, sample_entries
from jingwu.geocode import load_geocoder
from tests.cli.helpers import jingwu
from tests.geocode.osm_fixture import write_city


def test_the_sample_is_drawn_by_the_seed_from_every_kind(tmp_path: Path) -> None:
    geocoder = load_geocoder(write_city(tmp_path / "city.osm"))
    first = sample_entries(geocoder, 7, np.random.default_rng(3))
    assert first == sample_entries(geocoder, 7, np.random.default_rng(3))
    assert len(set(first)) == len(first) == 7  # all there are: the scarce kinds are made up by others
    assert {str(geocoder.data.kind[e]) for e in first} >= {"street", "crossing", "address"}


def test_clean_queries_on_an_unambiguous_city_all_hit(tmp_path: Path) -> None:
    result = run_geocode_bench(write_city(tmp_path / "city.osm"), queries=7, seed=1)
    assert result["queries"] == 7
    assert result["top1_clean"] == 1.0
    assert 0.0 <= result["top1_noisy"] <= 1.0
    assert sum(v["n"] for v in result["by_noise"].values()) == 7
    assert 0 < result["p50_ms"] <= result["p99_ms"]


def test_the_command_prints_one_json_object(tmp_path: Path) -> None:
    osm = write_city(tmp_path / "city.osm")
    done = jingwu("bench", "geocode", "--osm", str(osm), "--queries", "5", "--json", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["bench"] == "geocode" and result["queries"] == 5
    assert list(tmp_path.glob("graph-cache/city.*.geocode.v*.npz"))  # cached beside the road graph
