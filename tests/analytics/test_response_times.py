"""Response times reproduce percentiles computed by hand from the NOPD file's stage times."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from jingwu.analytics.mapping import load_mapping, parse_mapping
from jingwu.analytics.periods import parse_period
from jingwu.analytics.reader import read_files
from jingwu.analytics.response_times import Scope, response_times
from jingwu.analytics.store import AnalyticStore
from jingwu.errors import ValidationFailed

NOPD = Path(__file__).parent.parent / "data" / "calls" / "nopd_calls_2025-01-01.csv"


def _by_hand() -> dict[str, list[float]]:
    """Each stage's seconds for the calls that were not officer-initiated, with the csv module."""
    stages: dict[str, list[float]] = {
        "call_to_dispatch": [],
        "dispatch_to_arrival": [],
        "call_to_arrival": [],
    }
    with NOPD.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["SelfInitiated"] == "Y":
                continue
            t = {
                k: datetime.fromisoformat(row[k]).replace(microsecond=0) if row[k] else None
                for k in ("TimeCreate", "TimeDispatch", "TimeArrive")
            }
            for stage, (a, b) in {
                "call_to_dispatch": ("TimeCreate", "TimeDispatch"),
                "dispatch_to_arrival": ("TimeDispatch", "TimeArrive"),
                "call_to_arrival": ("TimeCreate", "TimeArrive"),
            }.items():
                start, end = t[a], t[b]
                if start and end and end >= start:
                    stages[stage].append((end - start).total_seconds())
    return stages


@pytest.fixture(scope="module")
def nopd() -> AnalyticStore:
    return AnalyticStore.of_table(read_files([NOPD], load_mapping("nopd")).table)


def test_each_stage_has_the_percentiles_of_the_hand_computed_durations(nopd: AnalyticStore) -> None:
    report = response_times(nopd, Scope())
    for stage, seconds in _by_hand().items():
        got = report["overall"][stage]
        assert got["n"] == len(seconds) > 100
        for key, q in (("p50_s", 50), ("p75_s", 75), ("p90_s", 90)):
            assert got[key] == pytest.approx(np.percentile(seconds, q), abs=0.06)
    within = report["within_5_min"]
    arrivals = _by_hand()["call_to_arrival"]
    assert (within["arrivals"], within["within"]) == (len(arrivals), sum(s <= 300 for s in arrivals))
    assert "all arrivals" in within["of"]  # NOPD does not say which calls are urban


def test_breakdowns_add_up_and_the_hours_are_the_calls_hours(nopd: AnalyticStore) -> None:
    report = response_times(nopd, Scope())
    overall = report["overall"]["call_to_arrival"]["n"]
    for breakdown in ("priority", "district", "hour"):
        rows = report["by"][breakdown]
        assert sum(r["call_to_arrival"]["n"] for r in rows) == overall
    assert {r["hour"] for r in report["by"]["hour"]} <= set(range(24))
    assert report["trend"]["by"] == "day" and report["trend"]["call_to_arrival"][0]["from"] == "2025-01-01"


def test_urban_arrivals_are_measured_where_the_records_say_which_are_urban(tmp_path: Path) -> None:
    mapping = parse_mapping(
        '[fields]\ncategory = "type"\noccurred_at = "call"\ncall_at = "call"\narrive_at = "arrive"\n'
        'urban = { column = "urban", true_values = ["yes"] }\n',
        source="test",
    )
    data = tmp_path / "calls.csv"
    data.write_text(
        "type,call,arrive,urban\n"
        "theft,2024-01-01T10:00:00,2024-01-01T10:04:00,yes\n"
        "theft,2024-01-01T11:00:00,2024-01-01T11:09:00,yes\n"
        "theft,2024-01-01T12:00:00,2024-01-01T12:02:00,no\n"
        "theft,2024-01-01T13:00:00,2024-01-01T12:59:00,yes\n"
    )
    store = AnalyticStore.of_table(read_files([data], mapping).table)
    report = response_times(store, Scope())
    assert report["within_5_min"] == {
        "target_s": 300,
        "of": "urban arrivals",
        "arrivals": 2,
        "within": 1,
        "share": 0.5,
    }
    assert report["inconsistent"]["call_to_arrival"] == 1  # arrived before the call: counted, not used


def test_a_period_narrows_the_calls_and_records_without_stage_times_are_refused(nopd: AnalyticStore) -> None:
    narrowed = response_times(nopd, Scope(period=parse_period("2025-W01")))
    assert narrowed["records"] == response_times(nopd, Scope())["records"]
    with pytest.raises(ValidationFailed) as caught:
        response_times(nopd, Scope(period=parse_period("2024-07")))
    assert caught.value.code == "no_stage_times"
    with pytest.raises(ValidationFailed):
        response_times(nopd, Scope(), by=("weather",))
