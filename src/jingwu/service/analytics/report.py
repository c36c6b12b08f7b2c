"""The printable analytics report: the period's CompStat by class and by type, its response
times, the hotspot forecast of its last month with the methods' back-test scores, gathered from
the analytical store and laid out by analytics.report_pdf in an embedded Chinese font."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from jingwu.analytics.periods import parse_period
from jingwu.analytics.report_model import AnalyticsReport
from jingwu.analytics.report_pdf import render_report_pdf
from jingwu.errors import ValidationFailed
from jingwu.service.self_service.certificates import cjk_font

if TYPE_CHECKING:  # the service calls this module: its type only, no import cycle at run time
    from jingwu.service.analytics import AnalyticsService

TITLES = {"zh": "警情态势分析报告", "en": "Situation analysis report"}


def build_report(
    ask: AnalyticsService,
    *,
    period: str,
    dataset: str,
    station_ids: Collection[str] | None,
    language: str,
    bureau: str,
    scope: str,
    now: datetime,
) -> AnalyticsReport:
    """Everything the report prints; a part the data cannot answer (no stage times in an import,
    no month to forecast) is left out rather than failing the whole report."""
    asked = parse_period(period)  # a bad period is refused before anything is read
    tables = [
        ask.compstat(period, by=by, dataset=dataset, station_ids=station_ids) for by in ("group", "category")
    ]
    # The cases filed (立案) and solved (破案), where the records carry filings.
    cases = ask.compstat(period, by="group", dataset=dataset, station_ids=station_ids, basis="cases")
    if cases["total"]["current"] or cases["total"]["previous"]:
        tables.insert(1, cases)
    times = _optional(lambda: ask.response_times(period, dataset=dataset, station_ids=station_ids))
    month = (asked.end - timedelta(days=1)).strftime("%Y-%m")
    forecast = _optional(
        lambda: ask.hotspots(month, area_share=0.05, method="auto", dataset=dataset, station_ids=station_ids)
    )
    scores = _optional(lambda: ask.hotspot_scores([month], dataset=dataset, station_ids=station_ids))
    return AnalyticsReport(
        title=TITLES.get(language, TITLES["zh"]),
        bureau=bureau,
        scope=scope,
        generated_at=now,
        language=language,
        compstat=tables,
        response_times=times,
        hotspot_scores=scores,
        hotspot_forecast=forecast,
    )


def report_pdf(report: AnalyticsReport) -> bytes:
    return render_report_pdf(report, font=cjk_font())


def _optional(part: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    try:
        return part()
    except ValidationFailed:
        return None


__all__ = ["TITLES", "build_report", "report_pdf"]
