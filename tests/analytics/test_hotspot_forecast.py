"""Hotspot forecasts from records: learnt before the month only, written as GeoJSON, scored."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from jingwu.analytics.hotspot_forecast import forecast_file, score_months
from jingwu.analytics.mapping import load_mapping
from jingwu.analytics.reader import read_files
from jingwu.errors import ValidationFailed

CALLS = Path(__file__).parent.parent / "data" / "calls"
BERKELEY = [CALLS / "berkeley_pd_calls_2018.csv", CALLS / "berkeley_pd_calls_2019.csv"]


@pytest.fixture(scope="module")
def berkeley() -> pa.Table:
    return read_files(BERKELEY, load_mapping("berkeley")).table


def _ring_area_m2(ring: list[list[float]]) -> float:
    """A small lon/lat ring's area on a sphere of the mean Earth radius (equirectangular about it)."""
    lat0 = math.radians(sum(p[1] for p in ring) / len(ring))
    r = 6_371_008.8
    xy = [(math.radians(lon) * r * math.cos(lat0), math.radians(lat) * r) for lon, lat in ring]
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(xy))) / 2


def test_the_geojson_covers_the_share_asked_and_its_score_is_told(berkeley: pa.Table, tmp_path: Path) -> None:
    out = tmp_path / "hot.geojson"
    summary = forecast_file(berkeley, month="2019-09", area_share=0.05, method="auto", cell_m=150.0, out=out)
    document = json.loads(out.read_text())
    assert document["type"] == "FeatureCollection" and document["method"] == summary["method"]
    area = sum(_ring_area_m2(f["geometry"]["coordinates"][0]) for f in document["features"])
    assert area == pytest.approx(0.05 * document["study_area_m2"], rel=0.02)
    for feature in document["features"]:
        ring = feature["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and all(-123 < lon < -122 and 37 < lat < 38 for lon, lat in ring)
    score = summary["score"]["0.05"]
    assert score["pai"] > 3 and 0 < score["pei_star"] <= 1  # far better than chance (PAI 1)
    assert summary["trained_on"] < len(berkeley)  # September 2019 onwards not learnt from


def test_the_forecast_does_not_change_when_the_months_own_records_do(
    berkeley: pa.Table, tmp_path: Path
) -> None:
    before = berkeley.filter(
        pc.less(berkeley.column("occurred_at"), pc.strptime("2019-09-01", "%Y-%m-%d", "s"))
    )
    forecast_file(
        berkeley, month="2019-09", area_share=0.03, method="near-repeat", cell_m=150.0, out=tmp_path / "a"
    )
    forecast_file(
        before, month="2019-09", area_share=0.03, method="near-repeat", cell_m=150.0, out=tmp_path / "b"
    )
    assert (
        json.loads((tmp_path / "a").read_text())["features"]
        == json.loads((tmp_path / "b").read_text())["features"]
    )


def test_a_month_outside_the_data_or_not_a_month_is_refused(berkeley: pa.Table, tmp_path: Path) -> None:
    for month in ("2018-06", "2021-01", "2019-W27"):
        with pytest.raises(ValidationFailed):
            forecast_file(
                berkeley, month=month, area_share=0.05, method="auto", cell_m=150.0, out=tmp_path / "x"
            )
    assert not (tmp_path / "x").exists()


def test_scoring_months_gives_every_method_and_the_naive_baseline(berkeley: pa.Table) -> None:
    result = score_months(berkeley, ["2019-07", "2019-08"], cell_m=150.0)
    assert set(result["mean"]) == {"counts", "kde", "recency-kde", "near-repeat"}
    for method in result["mean"].values():
        assert method["0.01"]["pai"] > method["0.05"]["pai"] > 1
