from datetime import datetime

import pytest

from jingwu.analytics.periods import PeriodKind, parse_period
from jingwu.errors import ValidationFailed


def test_a_month_is_compared_with_the_same_month_a_year_earlier() -> None:
    period = parse_period("2019-07")
    assert (period.start, period.end) == (datetime(2019, 7, 1), datetime(2019, 8, 1))
    previous = period.previous_year()
    assert (previous.label, previous.start, previous.end) == (
        "2018-07",
        datetime(2018, 7, 1),
        datetime(2018, 8, 1),
    )


def test_december_ends_on_the_first_of_january() -> None:
    assert parse_period("2019-12").end == datetime(2020, 1, 1)


def test_a_week_is_compared_with_the_week_364_days_earlier_so_weekdays_line_up() -> None:
    period = parse_period("2019-W27")
    assert period.start == datetime(2019, 7, 1) and period.start.weekday() == 0
    previous = period.previous_year()
    assert previous.start == datetime(2018, 7, 2) and previous.start.weekday() == 0
    assert previous.label == "2018-W27"


def test_28_days_end_on_the_day_named() -> None:
    period = parse_period("28d:2019-07-31")
    assert (period.start, period.end) == (datetime(2019, 7, 4), datetime(2019, 8, 1))
    assert period.previous_year().end == datetime(2018, 8, 2)


def test_year_to_date_by_month_and_by_day() -> None:
    by_month = parse_period("ytd:2019-07")
    assert (by_month.kind, by_month.start, by_month.end) == (
        PeriodKind.YEAR_TO_DATE,
        datetime(2019, 1, 1),
        datetime(2019, 8, 1),
    )
    by_day = parse_period("ytd:2019-07-15")
    assert by_day.end == datetime(2019, 7, 16) and not by_day.whole_months()
    assert by_month.previous_year().label == "ytd:2018-07"


def test_a_leap_day_a_year_earlier_is_the_first_of_march() -> None:
    assert parse_period("ytd:2020-02-28").previous_year().end == datetime(2019, 3, 1)


@pytest.mark.parametrize(
    "text", ["2019-13", "19-07", "2019-02-30", "28d:2019-02-30", "ytd:", "july", "2019-W54"]
)
def test_an_unknown_period_is_refused_with_the_forms_it_could_take(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_period(text)
    assert caught.value.code == "bad_period" and "2019-W27" in caught.value.message
