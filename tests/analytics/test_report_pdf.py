"""The printable analytics report, read back with poppler: the figures the analysis code computed from
the sample files are in the PDF's text, in Chinese or English, in an embedded font, across pages."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from jingwu.analytics import report_model as m
from jingwu.analytics.compstat import compstat
from jingwu.analytics.hotspot_forecast import forecast_file, points_of, score_months
from jingwu.analytics.mapping import load_mapping
from jingwu.analytics.periods import parse_period
from jingwu.analytics.reader import read_files
from jingwu.analytics.report_pdf import AnalyticsReport, render_report_pdf
from jingwu.analytics.response_times import Scope, response_times
from jingwu.analytics.store import AnalyticStore
from jingwu.errors import ValidationFailed
from jingwu.service.self_service.certificates import cjk_font

CALLS = Path(__file__).parent.parent / "data" / "calls"
BERKELEY = [CALLS / "berkeley_pd_calls_2018.csv", CALLS / "berkeley_pd_calls_2019.csv"]
NOPD = CALLS / "nopd_calls_2025-01-01.csv"
HARBIN = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def berkeley() -> pa.Table:
    return read_files(BERKELEY, load_mapping("berkeley")).table


@pytest.fixture(scope="module")
def inputs(berkeley: pa.Table, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every part of a report, computed from the sample files by the real analysis code."""
    store = AnalyticStore.of_table(berkeley)
    nopd = AnalyticStore.of_table(read_files([NOPD], load_mapping("nopd")).table)
    out = tmp_path_factory.mktemp("hotspots") / "2019-09.geojson"
    summary = forecast_file(berkeley, month="2019-09", area_share=0.05, method="auto", cell_m=150.0, out=out)
    points = points_of(berkeley)
    return {
        "compstat": [
            compstat(store, parse_period("2019-07"), by=by).as_json() for by in ("category", "group")
        ],
        "response_times": response_times(nopd, Scope()),
        "hotspot_scores": score_months(berkeley, ["2019-08"], cell_m=150.0),
        "hotspot_forecast": summary,
        "hotspot_cells": json.loads(out.read_text(encoding="utf-8")),
        "study_extent": (
            float(points.lon.min()),
            float(points.lat.min()),
            float(points.lon.max()),
            float(points.lat.max()),
        ),
    }


def _report(inputs: dict[str, Any], **changes: Any) -> AnalyticsReport:
    report = AnalyticsReport(
        title="警情态势分析报告",
        bureau="哈尔滨市公安局",
        scope="全市",
        generated_at=datetime(2025, 3, 1, 9, 30, tzinfo=HARBIN),
        **inputs,
    )
    return replace(report, **changes)


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.skip(f"{tool} (Debian's poppler-utils) is not installed: the PDF cannot be read back")
    return found


def _read(pdf: bytes, tmp_path: Path, tool: str = "pdftotext") -> str:
    """What poppler's ``tool`` says of the PDF (pdftotext: the text, one page per form feed)."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    args = [_poppler(tool), "-layout", str(path), "-"] if tool == "pdftotext" else [_poppler(tool), str(path)]
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=30).stdout


@pytest.fixture(scope="module")
def chinese(inputs: dict[str, Any]) -> bytes:
    return render_report_pdf(_report(inputs), font=cjk_font())


def test_the_compstat_tables_counts_and_caveats_are_in_the_text(
    chinese: bytes, inputs: dict[str, Any], tmp_path: Path
) -> None:
    text = _read(chinese, tmp_path)
    flat = re.sub(r"\s+", "", text)
    for words in (
        "警情态势分析报告",
        "哈尔滨市公安局",
        "范围：全市",
        "2025-03-01 09:30",
        "警情对比",
        "按类别",
        "按类组",
    ):
        assert words in text
    by_category, by_group = inputs["compstat"]
    burglary = next(r for r in by_category["rows"] if r["category"] == "BURGLARY AUTO")
    assert (burglary["current"], burglary["previous"]) == (177, 149)  # counted by hand in test_compstat
    assert re.search(r"BURGLARY AUTO\s+177\s+149\s+\+18\.8%", text)
    assert re.search(r"MUNICIPAL CODE\s+1\s+0\s+—", text)  # nothing a year earlier: no change
    total = by_category["total"]
    assert re.search(rf"合计\s+{total['current']:,}\s+{total['previous']:,}\s+\+10\.5%", text)
    largest = by_group["rows"][0]
    assert re.search(rf"{re.escape(largest['group'])}\s+{largest['current']}\s+{largest['previous']}", text)
    small = re.match(r"(\d+) row\(s\)", by_category["caveats"][-1])
    assert small is not None
    assert "注意事项" in text and f"{small[1]}行在两期均少于10起" in flat and "请以计数为准" in flat
    assert "警情数前10位" in flat and text.count("BURGLARY AUTO") >= 2  # calls (警情): table and bars


def test_a_long_table_flows_across_pages_under_its_header_again(berkeley: pa.Table, tmp_path: Path) -> None:
    table = compstat(AnalyticStore.of_table(berkeley), parse_period("2019-07"), by="area").as_json()
    assert len(table["rows"]) > 200  # one row a block address
    report = AnalyticsReport(
        "警情态势分析报告", "哈尔滨市公安局", "全市", datetime(2025, 3, 1), compstat=[table]
    )
    pages = _read(render_report_pdf(report, font=cjk_font()), tmp_path).split("\f")[:-1]
    assert len(pages) > 2 and f"第 1 页，共 {len(pages)} 页" in pages[0]
    with_table = [
        i for i, page in enumerate(pages) if re.search(r"区域\s+本期 2019-07\s+去年同期 2018-07", page)
    ]
    assert with_table[0] == 0 and len(with_table) > 2  # the header again on each page the table takes
    assert re.search(
        rf"合计\s+{table['total']['current']:,}\s+{table['total']['previous']:,}", pages[with_table[-1]]
    )
    assert all("警情态势分析报告 · 全市" in page for page in pages[1:])  # the running header


def test_the_response_times_are_in_minutes_with_the_share_within_five(
    chinese: bytes, inputs: dict[str, Any], tmp_path: Path
) -> None:
    text = _read(chinese, tmp_path)
    arrival = inputs["response_times"]["overall"]["call_to_arrival"]
    p50, p90 = arrival["p50_s"] / 60, arrival["p90_s"] / 60
    assert re.search(rf"接警→到场\s+{arrival['n']}\s+{p50:.1f}\s+\S+\s+{p90:.1f}", text)
    within = inputs["response_times"]["within_5_min"]
    share = within["within"] / within["arrivals"] * 100
    assert f"5 分钟内到场：{within['within']} / {within['arrivals']}（{share:.1f}%）" in text
    assert "全部到场（记录未标明城区）" in text and "按优先级" in text
    assert "按小时（趋势只有一个时段）" in text  # one day of NOPD calls: the trend has one bucket


def test_the_hotspot_scores_and_map_are_shown(chinese: bytes, inputs: dict[str, Any], tmp_path: Path) -> None:
    text = _read(chinese, tmp_path)
    counts = inputs["hotspot_scores"]["mean"]["counts"]["0.01"]
    assert re.search(rf"历史计数\s+1%\s+{counts['hit_rate'] * 100:.1f}%\s+{counts['pai']:.1f}", text)
    assert "PEI*" in text and "1 为随机水平" in re.sub(r"\s+", " ", text)
    summary = inputs["hotspot_forecast"]
    assert "2019-09 热点预测" in text and f"{summary['cells']} 个" in text
    assert "排名 1" in text and re.search(r"\d+ k?m\b", text)  # the map's legend and scale bar


def test_the_map_is_drawn_from_a_summary_that_carries_its_cells(
    inputs: dict[str, Any], tmp_path: Path
) -> None:
    summary = {**inputs["hotspot_forecast"], "geojson": inputs["hotspot_cells"]}
    report = _report(inputs, compstat=(), response_times=None, hotspot_forecast=summary, hotspot_cells=None)
    text = _read(render_report_pdf(report, font=cjk_font()), tmp_path)
    assert "排名 1" in text and "热点网格按排名着色" in text


def test_every_font_is_embedded(chinese: bytes, tmp_path: Path) -> None:
    assert b"/FontFile2" in chinese
    fonts = _read(chinese, tmp_path, "pdffonts").splitlines()[2:]
    assert fonts and all(re.search(r"WenQuanYi\S*\s.*\byes\s+yes\s+yes\b", line) for line in fonts), fonts


def test_the_same_input_gives_the_same_bytes_dated_when_generated(
    chinese: bytes, inputs: dict[str, Any]
) -> None:
    assert render_report_pdf(_report(inputs), font=cjk_font()) == chinese
    assert b"D:20250301093000+08'00'" in chinese


def test_english_headings_when_asked(inputs: dict[str, Any], tmp_path: Path) -> None:
    text = _read(render_report_pdf(_report(inputs, language="en"), font=cjk_font()), tmp_path)
    for words in (
        "CompStat",
        "Incidents by category",
        "Caveats",
        "Response times",
        "Hotspot forecast",
        "Page 1 of",
    ):
        assert words in text
    assert "row(s) have fewer than 10 cases" in text
    assert "出警响应时间" not in text and "注意事项" not in text


def test_a_report_with_nothing_in_it_says_so_on_one_page(tmp_path: Path) -> None:
    report = AnalyticsReport("警情态势分析报告", "哈尔滨市公安局", "道里分局", datetime(2025, 3, 1, 9, 30))
    pages = _read(render_report_pdf(report, font=cjk_font()), tmp_path).split("\f")[:-1]
    assert len(pages) == 1 and "没有可显示的内容" in pages[0] and "道里分局" in pages[0]


def test_without_a_font_the_readers_builtin_chinese_font_is_named() -> None:
    pdf = render_report_pdf(
        AnalyticsReport("警情态势分析报告", "哈尔滨市公安局", "全市", datetime(2025, 3, 1))
    )
    assert pdf.startswith(b"%PDF") and b"STSong-Light" in pdf


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        AnalyticsReport("t", "b", "s", datetime(2025, 3, 1), language="fr")


@pytest.mark.parametrize(
    ("formatted", "expected"),
    [
        (m.count(12345), "12,345"),
        (m.change(None), "—"),
        (m.change(0.04), "0.0%"),
        (m.change(-26.829), "-26.8%"),
        (m.minutes(1473.5), "24.6"),
        (m.percent(float("nan")), "—"),
        (m.caveat("zh", "something new"), "something new"),
        (m.timestamp(datetime(2025, 3, 1, 9, 30, tzinfo=HARBIN)), "2025-03-01 09:30 (UTC+08:00)"),
    ],
)
def test_numbers_for_people(formatted: str, expected: str) -> None:
    assert formatted == expected


def test_a_table_of_cases_is_headed_as_cases_and_one_of_incidents_as_incidents(tmp_path: Path) -> None:
    table = {
        "period": "2026-11",
        "previous_period": "2025-11",
        "by": "group",
        "rows": [{"group": "刑事案件", "current": 5, "previous": 8, "change_pct": -37.5}],
        "total": {"current": 5, "previous": 8, "change_pct": -37.5},
        "solved": None,
        "caveats": [],
    }
    report = AnalyticsReport(
        title="t",
        bureau="b",
        scope="s",
        generated_at=datetime(2026, 12, 1, 9, 0),
        compstat=[{**table, "basis": "records"}, {**table, "basis": "cases"}],
    )
    flat = "".join(_read(render_report_pdf(report, font=cjk_font()), tmp_path).split())
    assert "警情数·按类组" in flat and "立案数·按类组" in flat
