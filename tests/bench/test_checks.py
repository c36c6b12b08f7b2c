"""`jingwu bench checks`: synthetic subjects are valid, and a small run through the service and
the API measures real checks (stored, some of them hits) and prints the figures' keys."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np

from jingwu.bench.checks import run_checks_bench, synthetic_id_numbers, synthetic_plates
from jingwu.domain.identity import parse_id_number, parse_plate
from jingwu.routing import RoadNetwork
from tests.cli.helpers import jingwu

KEYS = {
    "bench",
    "entries",
    "queries",
    "person",
    "plate",
    "all",
    "lookup_only",
    "disk_fsync",
    "goal_p99_ms",
    "meets_goal",
}
FIGURES = {"n", "per_s", "p50_ms", "p99_ms", "max_ms"}


def test_synthetic_subjects_are_valid_numbers_and_plates() -> None:
    rng = np.random.default_rng(5)
    for number in synthetic_id_numbers(rng, 500):
        assert parse_id_number(number, today=date(2026, 12, 7)).province_code == "23"
    for plate in synthetic_plates(rng, 500):
        parse_plate(plate)


def test_a_small_run_measures_checks_that_hit_and_clear(network: RoadNetwork, graph_cache_dir: Path) -> None:
    result = run_checks_bench(
        entries=2000, queries=40, api_queries=6, hit_rate=0.5, units=10, cache_dir=graph_cache_dir
    )
    assert set(result) >= KEYS and result["entries"] == 2000
    assert 0 < result["hits"] < 40  # half drawn from the lists (a fresh subject hits only by chance)
    for part in ("person", "plate", "all", "lookup_only", "clear", "hit"):
        assert set(result[part]) >= FIGURES
        assert 0 < result[part]["p50_ms"] <= result[part]["p99_ms"] <= result[part]["max_ms"]
    assert result["person"]["n"] + result["plate"]["n"] == 40
    assert result["api"]["n"] == 6


def test_the_command_prints_one_json_object(
    tmp_path: Path, network: RoadNetwork, graph_cache_dir: Path
) -> None:
    (tmp_path / "graph-cache").symlink_to(graph_cache_dir)  # the session's road graph, built once
    done = jingwu(
        "bench",
        "checks",
        "--entries",
        "1000",
        "--queries",
        "10",
        "--api-queries",
        "2",
        "--json",
        data_dir=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) >= KEYS and result["bench"] == "checks" and result["entries"] == 1000
    assert result["api"]["transport"].startswith("ASGI")


def test_nonsense_sizes_are_refused(tmp_path: Path) -> None:
    done = jingwu("bench", "checks", "--entries", "1", "--json", data_dir=tmp_path)
    assert done.returncode == 2 and "--entries" in done.stderr
