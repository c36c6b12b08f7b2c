from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Incident
from jingwu.domain.stats import ARRIVAL_TARGET_S, ArrivalReport, local_day, response_times, today_stats
from jingwu.domain.status import IncidentStatus, SourceChannel, UnitStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 16:00 in Shanghai (UTC+8).
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def incident(
    incident_id: str,
    created_at: datetime,
    *,
    dispatched_after_s: float | None = None,
    on_scene_after_s: float | None = None,
    status: IncidentStatus = IncidentStatus.PENDING,
) -> Incident:
    stages = {IncidentStatus.PENDING: created_at}
    if dispatched_after_s is not None:
        dispatched = created_at + timedelta(seconds=dispatched_after_s)
        stages[IncidentStatus.DISPATCHED] = dispatched
        if on_scene_after_s is not None:
            stages[IncidentStatus.ON_SCENE] = dispatched + timedelta(seconds=on_scene_after_s)
    return Incident(
        id=incident_id,
        type_code="crim.robbery",
        priority=1,
        location=GeoPoint(45.75, 126.63),
        source=SourceChannel.CALL_110,
        status=status,
        created_at=created_at,
        stage_times=stages,
    )


def test_local_day_starts_at_local_midnight_not_utc_midnight() -> None:
    day = local_day(NOW, SHANGHAI)
    assert day.day.isoformat() == "2026-11-25"
    assert day.start == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert day.end == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    # 17:00 UTC is already the 26th in Shanghai.
    assert local_day(datetime(2026, 11, 25, 17, 0, tzinfo=UTC), SHANGHAI).day.isoformat() == "2026-11-26"


def test_local_day_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_day(datetime(2026, 11, 25, 8, 0), SHANGHAI)


def test_medians_measure_call_to_dispatch_and_dispatch_to_arrival() -> None:
    t = NOW - timedelta(hours=1)
    times = response_times(
        [
            incident("a", t, dispatched_after_s=30, on_scene_after_s=200),
            incident("b", t, dispatched_after_s=60, on_scene_after_s=400),
            incident("c", t, dispatched_after_s=90),  # dispatched, not yet there
            incident("d", t),  # still pending: counts for neither
        ]
    )
    assert times.median_call_to_dispatch_s == 60.0
    assert times.median_dispatch_to_arrival_s == 300.0  # median of 200 and 400
    assert times.arrivals == 2
    assert times.arrivals_within_target == 1


def test_arrival_exactly_on_target_counts_as_within_it() -> None:
    times = response_times([incident("a", NOW, dispatched_after_s=10, on_scene_after_s=ARRIVAL_TARGET_S)])
    assert times.arrivals_within_target == 1
    late = response_times([incident("a", NOW, dispatched_after_s=10, on_scene_after_s=ARRIVAL_TARGET_S + 1)])
    assert late.arrivals_within_target == 0


def test_flagged_arrivals_are_left_out_and_counted_apart() -> None:
    t = NOW - timedelta(hours=1)
    dispatched = t + timedelta(seconds=30)

    def at(s: float, flagged: bool) -> ArrivalReport:
        return ArrivalReport(dispatched + timedelta(seconds=s), flagged)

    times = response_times(
        [
            # A tap 611 m away two seconds in; the backup really arrived at 400 s: that is the arrival.
            incident("a", t, dispatched_after_s=30, on_scene_after_s=2),
            # Only a flagged report: no honest arrival time at all.
            incident("b", t, dispatched_after_s=30, on_scene_after_s=5),
            incident("c", t, dispatched_after_s=30, on_scene_after_s=200),
            incident("d", t, dispatched_after_s=30, on_scene_after_s=250),  # from before the checks
        ],
        arrivals={
            "a": [at(2, True), at(400, False)],
            "b": [at(5, True)],
            "c": [at(200, False)],
        },
    )
    assert times.arrivals_flagged == 1
    assert times.arrivals == 3
    assert times.median_dispatch_to_arrival_s == 250.0  # of 400, 200 and 250: not 2, not 5
    assert times.arrivals_within_target == 2


def test_no_dispatch_yet_gives_no_medians_rather_than_zero() -> None:
    times = response_times([incident("a", NOW)])
    assert times.median_call_to_dispatch_s is None
    assert times.median_dispatch_to_arrival_s is None
    assert (times.arrivals, times.arrivals_within_target) == (0, 0)


def test_today_counts_the_queue_and_fleet_and_only_incidents_opened_since_local_midnight() -> None:
    yesterday_late = datetime(2026, 11, 24, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai on the 24th
    today_early = datetime(2026, 11, 24, 16, 1, tzinfo=UTC)  # 00:01 in Shanghai on the 25th
    stats = today_stats(
        now=NOW,
        zone=SHANGHAI,
        incidents_by_status={
            IncidentStatus.PENDING: 2,
            IncidentStatus.EN_ROUTE: 1,
            IncidentStatus.CLOSED: 7,
            IncidentStatus.MERGED: 1,
        },
        units_by_status={UnitStatus.AVAILABLE: 3, UnitStatus.EN_ROUTE: 1, UnitStatus.OFF_DUTY: 2},
        incidents_opened_today=[
            incident("old", yesterday_late, dispatched_after_s=999),
            incident("new", today_early, dispatched_after_s=40, on_scene_after_s=120),
        ],
    )
    assert stats.day.day.isoformat() == "2026-11-25"
    assert (stats.open_incidents, stats.pending_incidents) == (3, 2)
    assert (stats.units_total, stats.units_available) == (6, 3)
    assert stats.incidents_today == 1
    assert stats.times.median_call_to_dispatch_s == 40.0
    assert stats.times.median_dispatch_to_arrival_s == 120.0


def test_medians_are_rounded_to_a_tenth_of_a_second() -> None:
    created = NOW - timedelta(minutes=5)
    times = response_times([incident("a", created, dispatched_after_s=12.345)])
    assert times.median_call_to_dispatch_s == 12.3
