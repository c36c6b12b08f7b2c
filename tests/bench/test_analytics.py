"""`jingwu bench analytics`: the synthetic incidents are what the analyses need, and a small run
times every query and reads both CSV formats without a bad row."""

from __future__ import annotations

import json
from pathlib import Path

from jingwu.analytics.store import AnalyticStore
from jingwu.bench.analytics import make_synthetic_parquet, run_analytics_bench
from tests.cli.helpers import jingwu


def test_synthetic_incidents_span_two_years_with_stage_times_and_some_without_coordinates(
    tmp_path: Path,
) -> None:
    path = tmp_path / "incidents.parquet"
    make_synthetic_parquet(path, 20_000)
    store = AnalyticStore.of_parquet([path])
    row = store.db.execute(
        """SELECT count(*), min(occurred_at), max(occurred_at), count(DISTINCT category),
                  count(DISTINCT station), avg((lat IS NULL)::INT), min(call_to_arrival_s),
                  avg(solved::INT)
           FROM records"""
    ).fetchone()
    assert row is not None
    n, first, last, categories, stations, no_point, fastest, solved = row
    assert n == 20_000 and first.year == 2024 and last.year == 2025
    assert categories == 30 and stations == 40
    assert 0.02 < no_point < 0.06 and fastest >= 0 and 0.3 < solved < 0.5
    # The same size makes the same incidents.
    again = tmp_path / "again.parquet"
    make_synthetic_parquet(again, 20_000)
    other = AnalyticStore.of_parquet([again])
    query = "SELECT sum(hash(record_id, category, occurred_at, station)) FROM records"
    assert store.db.execute(query).fetchone() == other.db.execute(query).fetchone()


def test_a_small_run_times_each_query_and_the_imports() -> None:
    result = run_analytics_bench(incidents=50_000, import_rows=2_000, repeats=1)
    assert result["incidents"] == 50_000 and result["goal_s"] == 1.0
    assert len(result["queries"]) >= 8
    assert all(t["cold_s"] > 0 and t["warm_s"] > 0 for t in result["queries"].values())
    assert result["meets_goal"] == (result["slowest_warm_s"] <= 1.0)
    assert set(result["imports"]) == {"police-uk", "nopd"}
    assert all(r["rows"] == 2_000 and r["rows_per_s"] > 0 for r in result["imports"].values())


def test_the_command_prints_one_json_object(tmp_path: Path) -> None:
    done = jingwu(
        "bench",
        "analytics",
        "--incidents",
        "5000",
        "--import-rows",
        "0",
        "--repeats",
        "1",
        "--json",
        data_dir=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["bench"] == "analytics" and result["imports"] == {}
