"""Response times: how long callers waited, by stage, as percentiles by priority, district,
station and hour, with the share of urban arrivals within 5 minutes and the trend.

Officer-initiated records are left out (their "call" is the officer's own start: no one waited),
as are stages whose end comes before their start, which are counted and reported instead."""

from __future__ import annotations

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
    """Which records count: a period (None: all), and a dataset (None: all)."""

    period: Period | None = None
    dataset: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = ["coalesce(NOT self_initiated, true)"], list[Any]()
        if self.period is not None:
            clauses.append("call_at >= ? AND call_at < ?")
            params += [self.period.start, self.period.end]
        if self.dataset is not None:
            clauses.append("dataset = ?")
            params.append(self.dataset)
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
    where, params = scope.where()
    counted = store.db.execute(
        f"SELECT count(*), count(call_at) FROM records WHERE {where}", params
    ).fetchone()
    if not counted or not counted[1]:
        raise ValidationFailed(
            "no record in scope has a call time: these records cannot give response times "
            "(a format whose mapping reads call_at, dispatch_at and arrive_at can)",
            code="no_stage_times",
        )
    report: dict[str, Any] = {
        "period": scope.period.label if scope.period else None,
        "records": int(counted[0]),
        "quantiles": list(QUANTILES),
        "overall": {stage: _stats(store, stage, where, params) for stage in STAGES},
        "inconsistent": _inconsistent(store, where, params),
        "within_5_min": _within_target(store, where, params),
        "by": {},
    }
    for breakdown in by:
        report["by"][breakdown] = _by(store, breakdown, where, params)
    report["trend"] = _trend(store, where, params, trend)
    return report


def _duration(stage: str) -> str:
    start, end = STAGES[stage]
    return f"epoch({end}) - epoch({start})"


def _valid(stage: str) -> str:
    start, end = STAGES[stage]
    return f"{start} IS NOT NULL AND {end} IS NOT NULL AND {end} >= {start}"


def _stats_sql(stage: str) -> str:
    seconds = _duration(stage)
    quantiles = ", ".join(str(q) for q in QUANTILES)
    return (
        f"count(*) FILTER (WHERE {_valid(stage)}), "
        f"quantile_cont({seconds}, [{quantiles}]) FILTER (WHERE {_valid(stage)}), "
        f"avg({seconds}) FILTER (WHERE {_valid(stage)})"
    )


def _stats_json(n: Any, quantiles: Any, mean: Any) -> dict[str, Any]:
    if not n:
        return {"n": 0, "p50_s": None, "p75_s": None, "p90_s": None, "mean_s": None}
    p50, p75, p90 = (round(float(v), 1) for v in quantiles)
    return {"n": int(n), "p50_s": p50, "p75_s": p75, "p90_s": p90, "mean_s": round(float(mean), 1)}


def _stats(store: AnalyticStore, stage: str, where: str, params: list[Any]) -> dict[str, Any]:
    row = store.db.execute(f"SELECT {_stats_sql(stage)} FROM records WHERE {where}", params).fetchone()
    assert row is not None
    return _stats_json(*row)


def _inconsistent(store: AnalyticStore, where: str, params: list[Any]) -> dict[str, int]:
    """Stages that end before they start: left out of the figures, counted here."""
    found = {}
    for stage, (start, end) in STAGES.items():
        row = store.db.execute(
            f"SELECT count(*) FROM records WHERE {where} AND {end} < {start}", params
        ).fetchone()
        found[stage] = int(row[0]) if row else 0
    return found


def _within_target(store: AnalyticStore, where: str, params: list[Any]) -> dict[str, Any]:
    """The share of arrivals within five minutes of the call: urban ones where the records know
    which are urban (the ``urban`` field), else all of them, said so."""
    seconds, valid = _duration("call_to_arrival"), _valid("call_to_arrival")
    row = store.db.execute(
        f"""SELECT count(*) FILTER (WHERE {valid} AND urban),
                   count(*) FILTER (WHERE {valid} AND urban AND {seconds} <= {URBAN_TARGET_S}),
                   count(*) FILTER (WHERE {valid}),
                   count(*) FILTER (WHERE {valid} AND {seconds} <= {URBAN_TARGET_S}),
                   count(urban)
            FROM records WHERE {where}""",
        params,
    ).fetchone()
    assert row is not None
    urban_known = bool(row[4])
    n, within = (row[0], row[1]) if urban_known else (row[2], row[3])
    return {
        "target_s": URBAN_TARGET_S,
        "of": "urban arrivals" if urban_known else "all arrivals (the records do not say which are urban)",
        "arrivals": int(n),
        "within": int(within),
        "share": None if not n else within / n,
    }


def _by(store: AnalyticStore, breakdown: str, where: str, params: list[Any]) -> list[dict[str, Any]]:
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


def _trend(store: AnalyticStore, where: str, params: list[Any], trend: str) -> dict[str, Any]:
    """Call-to-arrival by day, week or month: days for a span under two months, else weeks under
    a year, else months (``auto``)."""
    if trend == "auto":
        row = store.db.execute(
            f"SELECT datediff('day', min(call_at), max(call_at)) FROM records WHERE {where}", params
        ).fetchone()
        days = int(row[0] or 0) if row else 0
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


__all__ = ["BREAKDOWNS", "QUANTILES", "STAGES", "URBAN_TARGET_S", "Scope", "response_times"]
