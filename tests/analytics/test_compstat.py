"""CompStat tables reproduce counts computed by hand from the files, with the caveats."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from jingwu.analytics.compstat import compstat
from jingwu.analytics.mapping import load_mapping
from jingwu.analytics.periods import parse_period
from jingwu.analytics.reader import read_files
from jingwu.analytics.store import AnalyticStore
from jingwu.errors import ValidationFailed
from tests.analytics.police_uk import Crime, write_street_csv

CALLS = Path(__file__).parent.parent / "data" / "calls"
BERKELEY = [CALLS / "berkeley_pd_calls_2018.csv", CALLS / "berkeley_pd_calls_2019.csv"]


def _by_hand(month: str, column: str) -> Counter[str]:
    """Berkeley's rows of a month (MM/YYYY in EVENTDT) counted by a column, with the csv module."""
    counts: Counter[str] = Counter()
    for path in BERKELEY:
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                if datetime.strptime(row["EVENTDT"], "%m/%d/%Y %I:%M:%S %p").strftime("%Y-%m") == month:
                    counts[row[column]] += 1
    return counts


@pytest.fixture(scope="module")
def berkeley() -> AnalyticStore:
    return AnalyticStore.of_table(read_files(BERKELEY, load_mapping("berkeley")).table)


@pytest.mark.parametrize(("by", "column"), [("category", "OFFENSE"), ("group", "CVLEGEND")])
def test_berkeley_july_2019_against_july_2018_matches_the_counts_by_hand(
    berkeley: AnalyticStore, by: str, column: str
) -> None:
    table = compstat(berkeley, parse_period("2019-07"), by=by).as_json()
    current, previous = _by_hand("2019-07", column), _by_hand("2018-07", column)
    assert {r[by]: (r["current"], r["previous"]) for r in table["rows"]} == {
        key: (current[key], previous[key]) for key in current | previous
    }
    total = table["total"]
    assert (total["current"], total["previous"]) == (sum(current.values()), sum(previous.values()))
    assert total["change_pct"] == pytest.approx(
        (total["current"] - total["previous"]) / total["previous"] * 100
    )
    counts = [r["current"] for r in table["rows"]]
    assert counts == sorted(counts, reverse=True)
    assert table["previous_period"] == "2018-07" and table["solved"] is None


def test_a_category_new_this_year_has_no_change_in_per_cent(berkeley: AnalyticStore) -> None:
    rows = compstat(berkeley, parse_period("2019-07")).as_json()["rows"]
    new = [r for r in rows if r["previous"] == 0]
    assert new and all(r["change_pct"] is None for r in new)


def test_a_week_28_days_and_year_to_date_count_the_records_in_their_spans(berkeley: AnalyticStore) -> None:
    loaded = read_files(BERKELEY, load_mapping("berkeley")).table.to_pylist()
    for text in ("2019-W40", "28d:2019-10-31", "ytd:2019-09-15"):
        period = parse_period(text)
        previous = period.previous_year()
        total = compstat(berkeley, period).as_json()["total"]
        assert total["current"] == sum(period.start <= r["occurred_at"] < period.end for r in loaded)
        assert total["previous"] == sum(previous.start <= r["occurred_at"] < previous.end for r in loaded)


def test_a_period_outside_the_data_is_refused_naming_what_the_data_covers(berkeley: AnalyticStore) -> None:
    with pytest.raises(ValidationFailed) as caught:
        compstat(berkeley, parse_period("2021-03"))
    assert caught.value.code == "period_outside_data" and "2018-06-14" in caught.value.message


def test_a_period_the_data_covers_in_part_says_so(berkeley: AnalyticStore) -> None:
    caveats = compstat(berkeley, parse_period("ytd:2019-07")).caveats
    assert any("only in part" in c for c in caveats)


def test_police_uk_solved_counts_filed_cases_with_a_solving_outcome(tmp_path: Path) -> None:
    path = write_street_csv(
        tmp_path / "street.csv",
        [
            Crime("2019-07", "Burglary", outcome="Offender given a caution"),
            Crime("2019-07", "Burglary", outcome="Investigation complete; no suspect identified"),
            Crime("2019-07", "Robbery", outcome="Awaiting court outcome"),
            Crime("2018-07", "Burglary", outcome="Local resolution"),
            Crime("2018-07", "Burglary", outcome="Local resolution"),
            Crime("2018-06", "Burglary", outcome="Local resolution"),
        ],
    )
    store = AnalyticStore.of_table(read_files([path], load_mapping("police-uk")).table)
    table = compstat(store, parse_period("2019-07")).as_json()
    assert table["rows"] == [
        {"category": "Burglary", "current": 2, "previous": 2, "change_pct": 0.0},
        {"category": "Robbery", "current": 1, "previous": 0, "change_pct": None},
    ]
    assert table["solved"]["total"] == {"current": 2, "previous": 2, "change_pct": 0.0}
    assert any("small" in c or "handful" in c for c in table["caveats"])
    with pytest.raises(ValidationFailed) as caught:
        compstat(store, parse_period("2019-W27"))
    assert caught.value.code == "period_finer_than_data"


def test_by_an_unknown_column_is_refused(berkeley: AnalyticStore) -> None:
    with pytest.raises(ValidationFailed) as caught:
        compstat(berkeley, parse_period("2019-07"), by="weather; DROP TABLE records")
    assert caught.value.code == "bad_breakdown"
