"""What the printable analytics report holds, and its words and numbers in the reader's language.

Kept apart from the drawing (``report_pdf``) so the headings, the number formats and the Chinese
wording of the analysis code's caveats can be read and tested without a PDF."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jingwu.errors import ValidationFailed

LANGUAGES = ("zh", "en")
#: Shown for a figure that has no value (a change with nothing a year earlier, a stage with no sample).
NONE = "—"


@dataclass(frozen=True)
class AnalyticsReport:
    """Everything one printed report shows, already computed: the renderer reads no database and no
    clock, so the same input always prints the same report.

    ``compstat`` holds ``compstat(...).as_json()`` dicts, ``response_times`` what ``response_times()``
    returns, ``hotspot_scores`` what ``score_months()`` returns, ``hotspot_forecast`` the summary
    ``forecast_file()`` returns and ``hotspot_cells`` the GeoJSON FeatureCollection it writes (or
    none, where the summary carries it under ``geojson``, as ``forecast_summary()``'s does);
    ``study_extent`` (west, south, east, north in degrees) frames the map, else the cells do."""

    title: str
    bureau: str
    scope: str
    generated_at: datetime
    language: str = "zh"
    compstat: Sequence[Mapping[str, Any]] = ()
    response_times: Mapping[str, Any] | None = None
    hotspot_scores: Mapping[str, Any] | None = None
    hotspot_forecast: Mapping[str, Any] | None = None
    hotspot_cells: Mapping[str, Any] | None = None
    study_extent: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValidationFailed(
                f"report language {self.language!r}: use {' or '.join(LANGUAGES)}",
                code="bad_language",
                language=self.language,
            )

    @property
    def is_empty(self) -> bool:
        return not (
            self.compstat
            or self.response_times
            or self.hotspot_scores
            or self.hotspot_forecast
            or self.hotspot_cells
        )


LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "bureau": "编制单位",
        "scope": "范围",
        "generated": "生成时间",
        "page": "第 {page} 页，共 {pages} 页",
        "empty": "本报告没有可显示的内容：未提供警情对比、响应时间或热点预测的结果。",
        "compstat": "警情对比（CompStat）",
        "compstat_table": "立案数 · 按{by} · {period} 与去年同期 {previous} 对比",
        "records_table": "警情数 · 按{by} · {period} 与去年同期 {previous} 对比",
        "records_top_chart": "警情数前 {n} 位：本期与去年同期",
        "solved_table": "破案数 · 按{by} · {period} 与去年同期 {previous} 对比",
        "current": "本期 {period}",
        "previous": "去年同期 {period}",
        "change": "变化",
        "total": "合计",
        "caveats": "注意事项",
        "top_chart": "立案数前 {n} 位：本期与去年同期",
        "response": "出警响应时间",
        "response_period": "统计期：{period}；在范围内的记录 {records} 条（不含民警自行发现的警情）。",
        "all_records": "全部记录",
        "stage": "阶段",
        "n": "样本数",
        "p_min": "P{q}（分钟）",
        "within": "{target} 分钟内到场：{within} / {arrivals}（{share}），统计对象：{of}。",
        "inconsistent": "结束早于开始而未计入的记录：{counts}。",
        "by_priority": "按优先级：接警→到场",
        "priority": "优先级",
        "trend_chart": "接警→到场的 P50 与 P90（分钟），按{bucket}",
        "hour_chart": "接警→到场的 P50 与 P90（分钟），按小时（趋势只有一个时段）",
        "day": "日",
        "week": "周",
        "month": "月",
        "hour": "小时",
        "hotspots": "热点预测",
        "scores": "各方法回测成绩（各月平均）",
        "scores_months": "回测月份：{months}；网格边长 {cell} 米。",
        "scores_month": "{month}（训练 {trained} 起，检验 {tested} 起）",
        "scores_note": "命中率：落在所选网格内的当月警情占比。PAI：命中率与面积占比之比，1 为随机水平，"
        "越高越集中。PEI*：命中数与同样面积下最多可能命中数之比，1 为最优。",
        "method": "方法",
        "area_share": "面积占比",
        "hit_rate": "命中率",
        "forecast": "{month} 热点预测",
        "forecast_method": "预测方法",
        "chosen_by": "选择依据",
        "chosen_by_value": "回测 {months} 的平均 PAI 最高（{pai}）",
        "fallback": "回测不足，使用默认方法",
        "named": "指定",
        "cells": "热点网格",
        "cells_value": "{cells} 个，边长 {cell} 米，占研究区 {share}（研究区 {area} 平方千米）",
        "trained_on": "训练记录",
        "measured": "当月实测",
        "measured_value": "命中率 {hit}，PAI {pai}，PEI* {pei}",
        "map_caption": "热点网格按排名着色（深色排名靠前）；图框为{frame}。",
        "frame_study": "研究区范围",
        "frame_cells": "热点网格的范围（未提供研究区范围）",
        "rank": "排名",
        "item": "项目",
        "value": "内容",
    },
    "en": {
        "bureau": "Issued by",
        "scope": "Scope",
        "generated": "Generated",
        "page": "Page {page} of {pages}",
        "empty": "There is nothing to show in this report: no CompStat, response-time or hotspot "
        "results were given.",
        "compstat": "CompStat",
        "compstat_table": "Cases filed by {by}: {period} against {previous}",
        "records_table": "Incidents by {by}: {period} against {previous}",
        "records_top_chart": "Top {n} by incidents: this period and a year earlier",
        "solved_table": "Cases solved by {by}: {period} against {previous}",
        "current": "{period}",
        "previous": "{period} (a year earlier)",
        "change": "Change",
        "total": "Total",
        "caveats": "Caveats",
        "top_chart": "Top {n} by cases filed: this period and a year earlier",
        "response": "Response times",
        "response_period": "Period: {period}; {records} records in scope (officer-initiated ones left out).",
        "all_records": "all records",
        "stage": "Stage",
        "n": "n",
        "p_min": "P{q} (min)",
        "within": "Arrivals within {target} minutes: {within} of {arrivals} ({share}), counting {of}.",
        "inconsistent": "Left out, ending before they start: {counts}.",
        "by_priority": "By priority: call to arrival",
        "priority": "Priority",
        "trend_chart": "Call to arrival, P50 and P90 (minutes), by {bucket}",
        "hour_chart": "Call to arrival, P50 and P90 (minutes), by hour (the trend has one bucket only)",
        "day": "day",
        "week": "week",
        "month": "month",
        "hour": "hour",
        "hotspots": "Hotspot forecast",
        "scores": "How each method scored when back-tested (mean over the months)",
        "scores_months": "Months back-tested: {months}; cells of {cell} m.",
        "scores_month": "{month} (trained on {trained}, tested on {tested})",
        "scores_note": "Hit rate: the share of the month's incidents inside the chosen cells. PAI: hit "
        "rate over area share; 1 is chance, higher is more concentrated. PEI*: hits over the most any "
        "cells of that area could have caught; 1 is the best possible.",
        "method": "Method",
        "area_share": "Area share",
        "hit_rate": "Hit rate",
        "forecast": "Forecast for {month}",
        "forecast_method": "Method",
        "chosen_by": "Chosen by",
        "chosen_by_value": "highest mean PAI back-tested on {months} ({pai})",
        "fallback": "too little to back-test: the default method",
        "named": "asked for",
        "cells": "Hotspot cells",
        "cells_value": "{cells} cells of {cell} m, {share} of the study area ({area} km²)",
        "trained_on": "Trained on",
        "measured": "Measured in the month",
        "measured_value": "hit rate {hit}, PAI {pai}, PEI* {pei}",
        "map_caption": "Hotspot cells shaded by rank (darker ranks higher); the frame is {frame}.",
        "frame_study": "the study area's extent",
        "frame_cells": "the cells' extent (no study-area extent was given)",
        "rank": "rank",
        "item": "Item",
        "value": "Value",
    },
}

#: Names of breakdowns, stages and hotspot methods; the analysis code's own name where none is here.
NAMES: dict[str, dict[str, str]] = {
    "zh": {
        "category": "类别",
        "group": "类组",
        "district": "辖区",
        "station": "派出所",
        "area": "区域",
        "priority": "优先级",
        "call_to_dispatch": "接警→派警",
        "dispatch_to_arrival": "派警→到场",
        "call_to_arrival": "接警→到场",
        "counts": "历史计数",
        "kde": "核密度",
        "recency-kde": "近期加权核密度",
        "near-repeat": "近重复",
        "urban arrivals": "城区到场",
        "all arrivals (the records do not say which are urban)": "全部到场（记录未标明城区）",
        "p50": "P50",
        "p90": "P90",
    },
    "en": {
        "call_to_dispatch": "call → dispatch",
        "dispatch_to_arrival": "dispatch → arrival",
        "call_to_arrival": "call → arrival",
        "recency-kde": "recency-weighted KDE",
        "kde": "KDE",
    },
}

#: The CompStat caveats in Chinese: (the analysis code's English, as a pattern) → the translation.
_ZH_CAVEATS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"the data covers (?P<p>\S+) only in part \(it covers (?P<c>.+)\)"),
        "数据只覆盖 {p} 的一部分（数据范围 {c}），计数偏少",
    ),
    (
        re.compile(r"the data holds nothing of (?P<p>\S+), the period a year earlier: .*"),
        "数据中没有去年同期 {p} 的记录：其计数为 0，不计算变化率",
    ),
    (
        re.compile(r"solved counts the cases solved in each period, including those filed earlier"),
        "破案数统计各期破获的案件，包括更早立案的案件",
    ),
    (
        re.compile(r"solved counts the cases filed in each period whose outcome, as exported, is a solve.*"),
        "破案数统计各期立案、导出时结果为破案的案件；导出之后才破获的案件不在其中",
    ),
    (
        re.compile(r"(?P<n>\d+) row\(s\) have fewer than (?P<k>\d+) cases in both periods: .*"),
        "{n} 行在两期均少于 {k} 起：其变化率会因几起案件大幅波动，请以计数为准",
    ),
)


def label(language: str, key: str, **values: Any) -> str:
    return LABELS[language][key].format(**values)


def name(language: str, key: str) -> str:
    return NAMES[language].get(key, key)


def caveat(language: str, text: str) -> str:
    """A caveat in the report's language; one the translations do not know stays as the analysis
    code wrote it (a reader is better served by English than by nothing)."""
    if language == "zh":
        for pattern, chinese in _ZH_CAVEATS:
            found = pattern.fullmatch(text)
            if found:
                return chinese.format(**found.groupdict())
    return text


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value: Any) -> str:
    """A count with thousands separators."""
    return NONE if _missing(value) else f"{int(value):,}"


def change(pct: Any) -> str:
    """A change in per cent, signed, to one decimal."""
    if _missing(pct):
        return NONE
    return "0.0%" if round(float(pct), 1) == 0 else f"{float(pct):+,.1f}%"


def percent(share: Any, digits: int = 1) -> str:
    """A share (0 to 1) in per cent."""
    return NONE if _missing(share) else f"{float(share) * 100:,.{digits}f}%"


def minutes(seconds: Any) -> str:
    """Seconds as minutes, to one decimal."""
    return NONE if _missing(seconds) else f"{float(seconds) / 60:,.1f}"


def decimal(value: Any, digits: int = 1) -> str:
    return NONE if _missing(value) else f"{float(value):,.{digits}f}"


def timestamp(moment: datetime) -> str:
    """The generation time as given, with its UTC offset when it has one."""
    text = f"{moment:%Y-%m-%d %H:%M}"
    if moment.utcoffset() is not None:
        zone = f"{moment:%z}"  # +0800
        text += f" (UTC{zone[:3]}:{zone[3:5]})"
    return text


__all__ = [
    "LABELS",
    "LANGUAGES",
    "NAMES",
    "NONE",
    "AnalyticsReport",
    "caveat",
    "change",
    "count",
    "decimal",
    "label",
    "minutes",
    "name",
    "percent",
    "timestamp",
]
