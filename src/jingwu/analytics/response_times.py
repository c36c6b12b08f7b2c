"""Response times: how long callers waited, by stage, as percentiles by priority, district,
station and hour, with the share of urban arrivals within 5 minutes and the trend.

Officer-initiated records are left out (their "call" is the officer's own start: no one waited),
as are stages whose end comes before their start, which are counted and reported instead."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from jingwu.analytics.periods import Period
from jingwu.analytics.store import AnalyticStore
from jingwu.errors import ValidationFailed

#: The stages: name → (start column, end column).
STAGES = {
    "call_to_dispatch": ("call_at", "dispatch_at"),
    "dispatch_to_arrival": ("dispatch_at", "arrive_at"),
    "call_to_arrival": ("call_at", "arrive_at"),
}
BREAKDOWNS = ("priority", "district", "station", "hour")
#: The target the seed's bureau publishes: urban arrivals within five minutes of the call.
URBAN_TARGET_S = 300
QUANTILES = (0.5, 0.75, 0.9)


@dataclass(frozen=True)
class Scope:
    """Which records count: a period (None: all), a dataset (None: all), stations (None: all)."""

    period: Period | None = None
    dataset: str | None = None
    stations: Collection[str] | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = ["coalesce(NOT self_initiated, true)"], list[Any]()
        if self.period is not None:
            clauses.append("call_at >= ? AND call_at < ?")
            params += [self.period.start, self.period.end]
        if self.dataset is not None:
            clauses.append("dataset = ?")
            params.append(self.dataset)
        if self.stations is not None:
            clauses.append("list_contains(?, station)")
            params.append(sorted(self.stations))
        return " AND ".join(clauses), params


def response_times(
    store: AnalyticStore, scope: Scope, *, by: tuple[str, ...] = BREAKDOWNS, trend: str = "auto"
) -> dict[str, Any]:
    """The whole response-time report as one JSON-ready object."""
    unknown = [b for b in by if b not in BREAKDOWNS]
    if unknown:
        raise ValidationFailed(
            f"cannot break response times down by {', '.join(unknown)}: use {', '.join(BREAKDOWNS)}",
            code="bad_breakdown",
        )
    counted = store.db.execute(
        f"SELECT count(*), count(call_at) FROM records WHERE {scope.where()[0]}", scope.where()[1]
    ).fetchone()
    if not counted or not counted[1]:
        raise ValidationFailed(
            "no record in scope has a call time: these records cannot give response times "
            "(a format whose mapping reads call_at, dispatch_at and arrive_at can)",
            code="no_stage_times",
        )
    overall = overall_figures(store, scope)
    report: dict[str, Any] = {
        "period": scope.period.label if scope.period else None,
        "records": int(counted[0]),
        "quantiles": list(QUANTILES),
        "overall": overall["stages"],
        "inconsistent": overall["inconsistent"],
        "within_5_min": overall["within"],
        "by": {breakdown: figures_by(store, scope, breakdown) for breakdown in by},
    }
    report["trend"] = trend_figures(store, scope, trend, overall["days"])
    return report


def _duration(stage: str) -> str:
    """The stage's whole seconds, a column of the store's records (store.STAGE_SECONDS)."""
    return f"{stage}_s"


def _valid(stage: str) -> str:
    return f"{stage}_s >= 0"


def _stats_sql(stage: str) -> str:
    seconds, valid = _duration(stage), _valid(stage)
    quantiles = ", ".join(str(q) for q in QUANTILES)
    return (
        f"count(*) FILTER (WHERE {valid}), "
        f"quantile_cont({seconds}, [{quantiles}]) FILTER (WHERE {valid}), "
        f"avg({seconds}) FILTER (WHERE {valid})"
    )


def _stats_json(n: Any, quantiles: Any, mean: Any) -> dict[str, Any]:
    if not n:
        return {"n": 0, "p50_s": None, "p75_s": None, "p90_s": None, "mean_s": None}
    p50, p75, p90 = (round(float(v), 1) for v in quantiles)
    return {"n": int(n), "p50_s": p50, "p75_s": p75, "p90_s": p90, "mean_s": round(float(mean), 1)}


def overall_figures(store: AnalyticStore, scope: Scope) -> dict[str, Any]:
    """Every stage's figures, the stages that end before they start (left out, counted), the
    arrivals within five minutes and the days covered: one pass over the records."""
    where, params = scope.where()
    arrival, valid = _duration("call_to_arrival"), _valid("call_to_arrival")
    backwards = ", ".join(f"count(*) FILTER (WHERE {_duration(stage)} < 0)" for stage in STAGES)
    row = store.db.execute(
        f"""SELECT {", ".join(_stats_sql(stage) for stage in STAGES)}, {backwards},
                   count(*) FILTER (WHERE {valid} AND urban),
                   count(*) FILTER (WHERE {valid} AND urban AND {arrival} <= {URBAN_TARGET_S}),
                   count(*) FILTER (WHERE {valid}),
                   count(*) FILTER (WHERE {valid} AND {arrival} <= {URBAN_TARGET_S}),
                   count(urban),
                   datediff('day', min(call_at), max(call_at))
            FROM records WHERE {where}""",
        params,
    ).fetchone()
    assert row is not None
    stages = {stage: _stats_json(*row[3 * i : 3 * i + 3]) for i, stage in enumerate(STAGES)}
    rest = row[3 * len(STAGES) :]
    inconsistent = {stage: int(rest[i]) for i, stage in enumerate(STAGES)}
    urban_n, urban_within, all_n, all_within, urban_known, days = rest[len(STAGES) :]
    # Urban ones where the records know which are urban (the ``urban`` field), else all, said so.
    n, within = (urban_n, urban_within) if urban_known else (all_n, all_within)
    return {
        "stages": stages,
        "inconsistent": inconsistent,
        "within": {
            "target_s": URBAN_TARGET_S,
            "of": "urban arrivals"
            if urban_known
            else "all arrivals (the records do not say which are urban)",
            "arrivals": int(n),
            "within": int(within),
            "share": None if not n else within / n,
        },
        "days": int(days or 0),
    }


def figures_by(store: AnalyticStore, scope: Scope, breakdown: str) -> list[dict[str, Any]]:
    """Every stage's figures for each value of ``breakdown`` (one of BREAKDOWNS): one pass."""
    where, params = scope.where()
    key = "hour(call_at)" if breakdown == "hour" else f"coalesce({breakdown}, '(none)')"
    stages = ", ".join(_stats_sql(stage) for stage in STAGES)
    rows = store.db.execute(
        f"SELECT {key} AS k, {stages} FROM records WHERE {where} GROUP BY ALL ORDER BY k", params
    ).fetchall()
    found = []
    for row in rows:
        entry: dict[str, Any] = {breakdown: row[0]}
        for i, stage in enumerate(STAGES):
            entry[stage] = _stats_json(*row[1 + 3 * i : 4 + 3 * i])
        found.append(entry)
    return found


def trend_figures(store: AnalyticStore, scope: Scope, trend: str, days: int) -> dict[str, Any]:
    """Call-to-arrival by day, week or month: days for a span of ``days`` under two months, else
    weeks under a year, else months (``auto``)."""
    where, params = scope.where()
    if trend == "auto":
        trend = "day" if days < 62 else "week" if days < 366 else "month"
    if trend not in ("day", "week", "month"):
        raise ValidationFailed(f"trend by {trend!r}: use day, week or month", code="bad_trend")
    rows = store.db.execute(
        f"""SELECT date_trunc('{trend}', call_at) AS bucket, {_stats_sql("call_to_arrival")}
            FROM records WHERE {where} AND call_at IS NOT NULL GROUP BY ALL ORDER BY bucket""",
        params,
    ).fetchall()
    return {
        "by": trend,
        "call_to_arrival": [{"from": str(r[0])[:10], **_stats_json(*r[1:])} for r in rows],
    }


__all__ = [
    "BREAKDOWNS",
    "QUANTILES",
    "STAGES",
    "URBAN_TARGET_S",
    "Scope",
    "figures_by",
    "overall_figures",
    "response_times",
    "trend_figures",
]
