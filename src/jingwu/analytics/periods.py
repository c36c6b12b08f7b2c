"""CompStat's periods and the same period a year earlier, as half-open spans of local wall time.

Written as text on the command line and in the API: ``2019-07`` (a month), ``2019`` (a year),
``2019-W27`` (an ISO week), ``28d:2019-07-31`` (the 28 days ending on that day), ``ytd:2019-07``
or ``ytd:2019-07-15`` (1 January to the end of that month or day). Weeks and 28-day spans are
compared with the span 364 days earlier, so that weekdays line up; months and years with the
same dates a year earlier."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from jingwu.errors import ValidationFailed


class PeriodKind(StrEnum):
    WEEK = "week"
    DAYS_28 = "28d"
    MONTH = "month"
    YEAR_TO_DATE = "ytd"
    YEAR = "year"


#: The kinds that a file with only a month per record (data.police.uk) can answer.
MONTHLY_KINDS = frozenset({PeriodKind.MONTH, PeriodKind.YEAR_TO_DATE, PeriodKind.YEAR})


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    start: datetime  # inclusive, local wall time
    end: datetime  # exclusive
    label: str

    def previous_year(self) -> Period:
        """The same period a year earlier: what CompStat sets each figure against."""
        match self.kind:
            case PeriodKind.WEEK | PeriodKind.DAYS_28:
                shift = timedelta(days=364)
                start, end = self.start - shift, self.end - shift
                if self.kind is PeriodKind.WEEK:
                    year, week, _ = start.isocalendar()
                    return Period(self.kind, start, end, f"{year}-W{week:02d}")
                return Period(self.kind, start, end, f"28d:{(end - timedelta(days=1)).date()}")
            case _:
                start, end = _year_earlier(self.start), _year_earlier(self.end)
                return Period(self.kind, start, end, _relabel(self.label, start.year))

    def whole_months(self) -> bool:
        """Whether the span starts and ends on month boundaries (monthly data can answer it)."""
        return self.start.day == 1 and self.end.day == 1 and self.start.time() == self.end.time()


_MONTH = re.compile(r"(\d{4})-(\d{2})")
_YEAR = re.compile(r"(\d{4})")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_period(text: str) -> Period:
    """A period from its written form; anything else is refused with the forms it could be."""
    raw = text.strip()
    try:
        if not re.match(r"^(?:28d:|ytd:)?(19|2\d)\d\d", raw):
            raise ValueError(raw)  # a year this side of 1900 or beyond 2999: no police record
        if m := _MONTH.fullmatch(raw):
            start = datetime(int(m[1]), int(m[2]), 1)
            return Period(PeriodKind.MONTH, start, _next_month(start), raw)
        if m := _YEAR.fullmatch(raw):
            start = datetime(int(m[1]), 1, 1)
            return Period(PeriodKind.YEAR, start, datetime(start.year + 1, 1, 1), raw)
        if m := _WEEK.fullmatch(raw):
            monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            start = datetime.combine(monday, datetime.min.time())
            return Period(PeriodKind.WEEK, start, start + timedelta(days=7), raw)
        kind, _, day_text = raw.partition(":")
        if kind == "28d" and (m := _DAY.fullmatch(day_text)):
            end = datetime(int(m[1]), int(m[2]), int(m[3])) + timedelta(days=1)
            return Period(PeriodKind.DAYS_28, end - timedelta(days=28), end, raw)
        if kind == "ytd":
            if m := _MONTH.fullmatch(day_text):
                end = _next_month(datetime(int(m[1]), int(m[2]), 1))
            elif m := _DAY.fullmatch(day_text):
                end = datetime(int(m[1]), int(m[2]), int(m[3])) + timedelta(days=1)
            else:
                raise ValueError(day_text)
            year = (end - timedelta(days=1)).year
            return Period(PeriodKind.YEAR_TO_DATE, datetime(year, 1, 1), end, raw)
    except ValueError:
        pass  # a month 13, a 30 February: the same message as a form we don't know
    raise ValidationFailed(
        f"unknown period {text!r}: write 2019-07 (month), 2019 (year), 2019-W27 (ISO week), "
        "28d:2019-07-31 (28 days ending that day) or ytd:2019-07 / ytd:2019-07-15 (year to date)",
        code="bad_period",
        period=text,
    )


def _next_month(start: datetime) -> datetime:
    return datetime(start.year + (start.month == 12), start.month % 12 + 1, 1)


def _year_earlier(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year - 1)
    except ValueError:  # 29 February: the day after 28 February a year earlier
        return moment.replace(year=moment.year - 1, month=3, day=1)


def _relabel(label: str, year: int) -> str:
    """``ytd:2019-07`` → ``ytd:2018-07``: the label's first year replaced."""
    return re.sub(r"\d{4}", str(year), label, count=1)


__all__ = ["MONTHLY_KINDS", "Period", "PeriodKind", "parse_period"]
