"""`jingwu bench`: the benchmarks run as commands and print what they measured."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import jingwu


def test_bench_dispatch_json_reports_latency_and_baseline(tmp_path: Path) -> None:
    done = jingwu("bench", "dispatch", "--units", "50", "--queries", "20", "--json", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["units"] == 50 and result["queries"] == 20
    for key in ("p50_ms", "p99_ms", "baseline_p50_ms", "baseline_p99_ms"):
        assert result[key] > 0
    assert result["agree"] is True


def test_bench_dispatch_json_with_several_rosters_is_one_object(tmp_path: Path) -> None:
    done = jingwu(
        "bench", "dispatch", "--units", "5", "--units", "40", "--queries", "10", "--json", data_dir=tmp_path
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["units"] == 40 and [r["units"] for r in result["runs"]] == [5, 40]
