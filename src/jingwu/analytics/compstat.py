"""CompStat tables: each figure of a period beside the same period a year earlier.

Rows are cases filed (立案) by category, district, station or group, and cases solved (破案) where
the records say; raw counts always stand beside the change, and the caveats that an analyst must
read with them (small counts swing; solved includes earlier filings) come with the table."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from jingwu.analytics.periods import MONTHLY_KINDS, Period
from jingwu.analytics.store import AnalyticStore, Span
from jingwu.errors import ValidationFailed

#: What a table's rows may be broken down by: the record's column of that name.
BREAKDOWNS = ("category", "group", "district", "station", "area", "priority")
#: What a table counts: every record by when it happened, or the cases filed by when (立案).
BASES = ("records", "cases")
#: Below this many records a period's change is noted as a swing of small numbers.
SMALL_COUNT = 10
#: The row key of records without a value in the breakdown's column.
NONE_KEY = "(none)"


@dataclass(frozen=True)
class Row:
    key: str
    current: int
    previous: int

    @property
    def change_pct(self) -> float | None:
        """The change in per cent; none where a year earlier had none (no ratio to take)."""
        if self.previous == 0:
            return None
        return (self.current - self.previous) / self.previous * 100


@dataclass(frozen=True)
class Table:
    rows: list[Row]
    total: Row


@dataclass(frozen=True)
class CompStat:
    period: Period
    previous: Period
    by: str
    filed: Table
    solved: Table | None  # None: the records say nothing of solving
    caveats: list[str] = field(default_factory=list)
    basis: str = "records"

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period.label,
            "previous_period": self.previous.label,
            "by": self.by,
            "basis": self.basis,
            "rows": [_row_json(self.by, r) for r in self.filed.rows],
            "total": _total_json(self.filed.total),
            "solved": None
            if self.solved is None
            else {
                "rows": [_row_json(self.by, r) for r in self.solved.rows],
                "total": _total_json(self.solved.total),
            },
            "caveats": self.caveats,
        }


def compstat(
    store: AnalyticStore,
    period: Period,
    *,
    by: str = "category",
    dataset: str | None = None,
    stations: Collection[str] | None = None,
    basis: str = "records",
) -> CompStat:
    """The CompStat table of ``period`` against a year earlier, over the store's records (of one
    dataset, and of some stations only, when given). ``basis`` ``records`` counts every record by
    when it happened (警情); ``cases`` only those with a case filed, by when it was filed (立案)."""
    if basis not in BASES:
        raise ValidationFailed(f"basis {basis!r}: use records or cases", code="bad_basis", basis=basis)
    if by not in BREAKDOWNS:
        raise ValidationFailed(
            f"cannot break down by {by!r}: use one of {', '.join(BREAKDOWNS)}", code="bad_breakdown", by=by
        )
    span = store.span(dataset)
    previous = period.previous_year()
    caveats = _check_span(span, period, previous)
    params = [period.start, period.end, previous.start, previous.end, dataset, dataset, _listed(stations)]
    column = f'"{by}"'  # one of BREAKDOWNS, never the caller's text
    when = "occurred_at" if basis == "records" else "filed_at"  # one of two names, never the caller's
    filed = _table(
        store.db.execute(
            f"""SELECT coalesce({column}, '{NONE_KEY}') AS key,
                       count(*) FILTER (WHERE {when} >= $1 AND {when} < $2),
                       count(*) FILTER (WHERE {when} >= $3 AND {when} < $4)
                FROM records
                WHERE (({when} >= $1 AND {when} < $2) OR ({when} >= $3 AND {when} < $4))
                  AND ($5 IS NULL OR dataset = $6) AND ($7 IS NULL OR list_contains($7, station))
                GROUP BY ALL""",
            params,
        ).fetchall()
    )
    knows_solving = store.db.execute(
        "SELECT bool_or(solved IS NOT NULL), bool_or(solved_at IS NOT NULL) FROM records "
        "WHERE $1 IS NULL OR dataset = $2",
        [dataset, dataset],
    ).fetchone()
    solved = None
    if knows_solving and knows_solving[0]:
        # A record solved at a known time counts in the period it was solved, whenever it was filed
        # (CompStat's convention); one without that time counts in the period it was filed.
        solved = _table(
            store.db.execute(
                f"""WITH s AS (SELECT {column} AS k, coalesce(solved_at, {when}) AS t FROM records
                              WHERE solved AND ($5 IS NULL OR dataset = $6)
                                AND ($7 IS NULL OR list_contains($7, station)))
                    SELECT coalesce(k, '{NONE_KEY}') AS key,
                           count(*) FILTER (WHERE t >= $1 AND t < $2),
                           count(*) FILTER (WHERE t >= $3 AND t < $4)
                    FROM s WHERE (t >= $1 AND t < $2) OR (t >= $3 AND t < $4)
                    GROUP BY ALL""",
                params,
            ).fetchall()
        )
        if knows_solving[1]:
            caveats.append("solved counts the cases solved in each period, including those filed earlier")
        else:
            caveats.append(
                "solved counts the cases filed in each period whose outcome, as exported, is a solve; "
                "cases solved later than the export are not in it"
            )
    small = [r.key for r in filed.rows if 0 < max(r.current, r.previous) < SMALL_COUNT]
    if small:
        caveats.append(
            f"{len(small)} row(s) have fewer than {SMALL_COUNT} cases in both periods: their change "
            "in per cent swings with a handful of cases; read the counts"
        )
    for label, count in ((period.label, filed.total.current), (previous.label, filed.total.previous)):
        if count == 0 and basis == "records" and not any(label in c for c in caveats):
            caveats.append(
                f"no record falls in {label}, though the data runs before and after it: is a file missing?"
            )
    if basis == "cases" and filed.total.current + filed.total.previous == 0:
        caveats.append("no case was filed in either period: these records carry no filing (立案)")
    return CompStat(period, previous, by, filed, solved, caveats, basis)


def _listed(stations: Collection[str] | None) -> list[str] | None:
    return None if stations is None else sorted(stations)


def _check_span(span: Span | None, period: Period, previous: Period) -> list[str]:
    """Refuse a period the records cannot answer; note what they answer only in part."""
    if span is None:
        raise ValidationFailed("there are no records to count", code="no_records")
    if span.monthly and (period.kind not in MONTHLY_KINDS or not period.whole_months()):
        raise ValidationFailed(
            f"period {period.label} needs dates, but some records know only their month: "
            "ask for a month (2019-07), a year or a year to date by month (ytd:2019-07)",
            code="period_finer_than_data",
            period=period.label,
        )
    covered = f"{span.first:%Y-%m-%d} to {span.end:%Y-%m-%d %H:%M}"
    if period.end <= span.first or period.start >= span.end:
        raise ValidationFailed(
            f"period {period.label} is outside the data, which covers {covered}",
            code="period_outside_data",
            period=period.label,
        )
    caveats = []
    if period.start < span.first or period.end > span.end:
        caveats.append(f"the data covers {period.label} only in part (it covers {covered})")
    if previous.end <= span.first or previous.start >= span.end:
        caveats.append(
            f"the data holds nothing of {previous.label}, the period a year earlier: its counts are 0 "
            "and no change is computed"
        )
    elif previous.start < span.first or previous.end > span.end:
        caveats.append(f"the data covers {previous.label} only in part (it covers {covered})")
    return caveats


def _table(found: list[tuple[Any, ...]]) -> Table:
    rows = sorted(
        (Row(str(k), int(c), int(p)) for k, c, p in found), key=lambda r: (-r.current, -r.previous, r.key)
    )
    total = Row("total", sum(r.current for r in rows), sum(r.previous for r in rows))
    return Table(rows, total)


def _row_json(by: str, row: Row) -> dict[str, Any]:
    return {by: row.key, "current": row.current, "previous": row.previous, "change_pct": row.change_pct}


def _total_json(row: Row) -> dict[str, Any]:
    return {"current": row.current, "previous": row.previous, "change_pct": row.change_pct}


__all__ = ["BASES", "BREAKDOWNS", "CompStat", "Row", "Table", "compstat"]
