"""Position ingest, history, tracks and retention (service.positions) on SQLite and PostgreSQL:
the filter's verdicts reach the store, the board and the bus exactly as they should, and a
rejected fix never moves a unit anywhere."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from jingwu.bus import BusMessage
from jingwu.composition import Services
from jingwu.domain.gps import Fix, Reason, Verdict
from jingwu.errors import NotFound, ValidationFailed
from jingwu.service.positions import PositionService, Source
from jingwu.store import positions as store
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction
from tests.conftest import FakeClock, ServicesFactory, make_unit

LAT, LON = 45.7560, 126.6420


def at(
    clock: FakeClock, seconds: float = 0.0, *, east_m: float = 0.0, north_m: float = 0.0, **extra: Any
) -> Fix:
    """A fix ``seconds`` after the clock's now, displaced from the centre."""
    lat = LAT + north_m / 111_195.0
    lon = LON + east_m / (111_195.0 * math.cos(math.radians(LAT)))
    return Fix(ts=clock.now + timedelta(seconds=seconds), lat=lat, lon=lon, **extra)


@pytest.fixture
def city(make_services: ServicesFactory, clock: FakeClock) -> Services:
    # Both units were last seen at the centre at the clock's start.
    services = make_services([make_unit("u1", LAT, LON), make_unit("u2", LAT, LON)])
    clock.advance(60)
    return services


@pytest.fixture
def published(city: Services, monkeypatch: pytest.MonkeyPatch) -> list[BusMessage]:
    sent: list[BusMessage] = []
    monkeypatch.setattr(city.positions.bus, "publish", sent.append)
    return sent


def history(services: Services, unit_id: str = "u1") -> list[Any]:
    with read_transaction(services.engine) as conn:
        p = t.positions.c
        return list(
            conn.execute(
                select(p.ts, p.lat, p.lon, p.verdict, p.reason, p.source)
                .where(p.unit_id == unit_id)
                .order_by(p.ts)
            )
        )


def stored_position(services: Services, unit_id: str = "u1") -> tuple[float, float, datetime] | None:
    position = services.dispatch.get_unit(unit_id).position
    return None if position is None else (position.lat, position.lon, position.ts)


def board_position(services: Services, unit_id: str = "u1") -> tuple[float, float] | None:
    position = services.dispatch.board.position_of(unit_id)
    return None if position is None else (position.lat, position.lon)


# ------------------------------------------------------------------------------ ingest


def test_an_accepted_fix_moves_the_unit_everywhere_and_is_in_the_history(
    city: Services, clock: FakeClock, published: list[BusMessage]
) -> None:
    fix = at(clock, -10, east_m=300.0, accuracy=6.0, speed=8.0, heading=90.0, battery=80.0)
    result = city.positions.ingest([("u1", fix)], source=Source.OSMAND)
    assert [(o.verdict, o.reason) for o in result.outcomes] == [(Verdict.CURRENT, None)]
    assert stored_position(city) == (fix.lat, fix.lon, fix.ts)
    assert board_position(city) == (fix.lat, fix.lon)
    (row,) = history(city)
    assert (row.verdict, row.reason, row.source, row.ts) == ("current", None, "osmand", fix.ts)
    (message,) = published
    assert message.type == "unit.positions" and message.id is None
    assert message.payload["positions"][0] | {"ts": None} == {
        "unit_id": "u1",
        "lat": round(fix.lat, 7),
        "lon": round(fix.lon, 7),
        "heading": 90.0,
        "speed": 8.0,
        "accuracy": 6.0,
        "ts": None,
    }


def test_a_rejected_jump_never_moves_the_unit_but_is_kept_flagged(
    city: Services, clock: FakeClock, published: list[BusMessage]
) -> None:
    before = stored_position(city)
    board_before = board_position(city)
    # 20 km from where it was a minute ago.
    result = city.positions.ingest(
        [("u1", at(clock, north_m=20_000.0, accuracy=5.0))], source=Source.TERMINAL
    )
    assert [(o.verdict, o.reason) for o in result.outcomes] == [(Verdict.REJECTED, Reason.IMPOSSIBLE_JUMP)]
    assert stored_position(city) == before
    assert board_position(city) == board_before
    assert published == []
    assert [(r.verdict, r.reason) for r in history(city)] == [("rejected", "impossible_jump")]
    assert city.positions.rejections[Reason.IMPOSSIBLE_JUMP] == 1


def test_fixes_with_no_place_or_time_worth_keeping_are_counted_not_stored(
    city: Services, clock: FakeClock, published: list[BusMessage]
) -> None:
    reports = [
        ("u1", Fix(clock.now, math.nan, LON)),
        ("u1", Fix(clock.now, 0.0, 0.0)),
        ("u1", at(clock, 3600.0)),
        ("u1", at(clock, -40 * 86400.0)),
    ]
    result = city.positions.ingest(reports, source=Source.GATEWAY)
    assert [o.reason for o in result.outcomes] == [
        Reason.INVALID_COORDINATES,
        Reason.NULL_ISLAND,
        Reason.FUTURE,
        Reason.TOO_OLD,
    ]
    assert history(city) == [] and published == []
    assert stored_position(city) == (LAT, LON, clock.now - timedelta(seconds=60))


def test_a_late_fix_goes_into_the_track_but_never_moves_the_unit_back(
    city: Services, clock: FakeClock, published: list[BusMessage]
) -> None:
    newest = at(clock, 0.0, east_m=100.0)
    city.positions.ingest([("u1", newest)], source=Source.OSMAND)
    published.clear()
    result = city.positions.ingest([("u1", at(clock, -20.0, east_m=40.0))], source=Source.OSMAND)
    assert [(o.verdict, o.reason) for o in result.outcomes] == [(Verdict.HISTORY, Reason.LATE)]
    assert stored_position(city) == (newest.lat, newest.lon, newest.ts)
    assert published == []
    assert [r.verdict for r in history(city)] == ["history", "current"]


def test_a_retried_upload_is_stored_once(city: Services, clock: FakeClock) -> None:
    batch = [("u1", at(clock, -30.0, east_m=10.0)), ("u1", at(clock, -20.0, east_m=30.0))]
    first = city.positions.ingest(batch, source=Source.OSMAND)
    again = city.positions.ingest(batch, source=Source.OSMAND)
    assert [o.verdict for o in first.outcomes] == [Verdict.CURRENT, Verdict.CURRENT]
    # The newer repeats the anchor's time (the filter's duplicate); the older one is late and its
    # (unit, time) is stored already (the store's).
    assert [o.reason for o in again.outcomes] == [Reason.DUPLICATE, Reason.DUPLICATE]
    assert len(history(city)) == 2


def test_a_batch_is_judged_in_time_order_per_unit_and_answered_in_its_own_order(
    city: Services, clock: FakeClock, published: list[BusMessage]
) -> None:
    reports = [
        ("u2", at(clock, -5.0, north_m=150.0)),
        ("u1", at(clock, -5.0, east_m=200.0)),
        ("u1", at(clock, -25.0, east_m=50.0)),
        ("u2", at(clock, -15.0, north_m=60.0)),
    ]
    result = city.positions.ingest(reports, source=Source.GATEWAY)
    assert [(o.place, o.unit_id, o.verdict) for o in result.outcomes] == [
        (0, "u2", Verdict.CURRENT),
        (1, "u1", Verdict.CURRENT),
        (2, "u1", Verdict.CURRENT),
        (3, "u2", Verdict.CURRENT),
    ]
    assert stored_position(city, "u1") == (reports[1][1].lat, reports[1][1].lon, reports[1][1].ts)
    assert stored_position(city, "u2") == (reports[0][1].lat, reports[0][1].lon, reports[0][1].ts)
    # One message for the batch, with each unit once, at its newest fix.
    (message,) = published
    assert [(p["unit_id"], p["ts"]) for p in message.payload["positions"]] == [
        ("u1", reports[1][1].ts.isoformat()),
        ("u2", reports[0][1].ts.isoformat()),
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_mixed_batch_gets_the_verdicts_of_judging_each_unit_fix_by_fix(
    make_services: ServicesFactory, clock: FakeClock, seed: int
) -> None:
    # Most of a batch is judged at once (domain.gps.plainly_current), the rest one by one: the
    # verdicts must be those of the filter applied to each unit's fixes in time order.
    import random

    from jingwu.domain.gps import TrackState, judge

    rng = random.Random(seed)
    units = [make_unit(f"u{k}", LAT, LON) for k in range(24)]
    services = make_services(units)
    clock.advance(60)
    reports = []
    for k in range(60):
        unit_id = f"u{k}" if k < 20 else f"u{20 + rng.randrange(4)}"  # one fix each, then several
        seconds = rng.choice([-50.0, -30.0, -10.0, -1.0, 0.0, 120.0, -90_000.0]) + rng.random()
        fix = at(clock, seconds, east_m=rng.choice([10.0, 300.0, 40_000.0]) * rng.random())
        fault = rng.randrange(8)
        if fault == 0:
            fix = fix._replace(valid=False)
        elif fault == 1:
            fix = fix._replace(accuracy=rng.choice([0.0, -1.0, 2_000.0, 12.0]))
        elif fault == 2:
            fix = fix._replace(heading=rng.choice([-1.0, 400.0, 90.0]), speed=rng.choice([-1.0, 8.0, None]))
        reports.append((unit_id, fix))
    result = services.positions.ingest(reports, source=Source.GATEWAY)

    states = {u.id: TrackState(Fix(clock.now - timedelta(seconds=60), LAT, LON, 0.0, 0.0)) for u in units}
    expected: dict[int, tuple[Verdict, Reason | None]] = {}
    seen: set[tuple[str, datetime]] = set()
    for i in sorted(range(len(reports)), key=lambda i: (reports[i][0], reports[i][1].ts)):
        unit_id, fix = reports[i]
        judgement, states[unit_id] = judge(
            states[unit_id], fix, now=clock.now, rules=services.positions.rules
        )
        verdict, reason = judgement.verdict, judgement.reason
        if judgement.kept and (unit_id, fix.ts) in seen:
            verdict, reason = Verdict.REJECTED, Reason.DUPLICATE  # the store's key
        if judgement.kept:
            seen.add((unit_id, fix.ts))
        expected[i] = (verdict, reason)
    assert [(o.verdict, o.reason) for o in result.outcomes] == [expected[i] for i in range(len(reports))]
    assert {o.verdict for o in result.outcomes} == set(Verdict)  # the mix holds every kind


def test_a_batch_naming_an_unknown_unit_stores_nothing(city: Services, clock: FakeClock) -> None:
    with pytest.raises(NotFound) as refused:
        city.positions.ingest([("u1", at(clock)), ("ghost", at(clock))], source=Source.GATEWAY)
    assert refused.value.code == "unit_not_found"
    assert history(city) == []


def test_three_reports_from_elsewhere_re_anchor_the_unit_across_requests(
    city: Services, clock: FakeClock, published: list[BusMessage]
) -> None:
    # The unit's stored position is wrong (say, placed by hand at the station): its device has
    # been reporting, one request at a time, a steady drive 9 km away.
    outcomes = []
    for i in range(3):
        fix = at(clock, 10.0 * i, north_m=9_000.0 + 150.0 * i, accuracy=5.0)
        outcomes += city.positions.ingest([("u1", fix)], source=Source.OSMAND).outcomes
        clock.advance(0)
    assert [(o.verdict, o.reason) for o in outcomes] == [
        (Verdict.REJECTED, Reason.IMPOSSIBLE_JUMP),
        (Verdict.REJECTED, Reason.IMPOSSIBLE_JUMP),
        (Verdict.CURRENT, Reason.REANCHORED),
    ]
    assert stored_position(city) == (fix.lat, fix.lon, fix.ts)
    assert board_position(city) == (fix.lat, fix.lon)
    assert len(published) == 1


def test_a_dispatcher_placing_a_unit_by_hand_is_not_a_jump(city: Services, clock: FakeClock) -> None:
    placed = at(clock, north_m=15_000.0)
    result = city.positions.ingest([("u1", placed)], source=Source.MANUAL)
    assert result.outcomes[0].verdict is Verdict.CURRENT
    assert stored_position(city) == (placed.lat, placed.lon, placed.ts)
    assert history(city)[0].source == "manual"


def test_a_fix_without_a_time_zone_is_refused(city: Services, clock: FakeClock) -> None:
    with pytest.raises(ValidationFailed):
        city.positions.ingest([("u1", Fix(clock.now.replace(tzinfo=None), LAT, LON))], source=Source.GATEWAY)


# ------------------------------------------------------------------------------ the track


def test_the_track_reads_back_the_accepted_fixes_in_time_order(city: Services, clock: FakeClock) -> None:
    reports = [("u1", at(clock, -50.0 + 10 * i, east_m=100.0 * i, accuracy=5.0)) for i in range(5)]
    reports.append(("u1", at(clock, -5.0, north_m=30_000.0, accuracy=5.0)))  # a glitch
    city.positions.ingest(reports, source=Source.OSMAND)
    start, end = clock.now - timedelta(hours=1), clock.now + timedelta(minutes=1)
    track = city.positions.track("u1", start, end)
    assert [p.ts for p in track.points] == [f.ts for _, f in reports[:5]]
    assert not track.truncated
    with_rejected = city.positions.track("u1", start, end, include_rejected=True)
    assert [p.reason for p in with_rejected.points][-1] is Reason.IMPOSSIBLE_JUMP
    paged = city.positions.track("u1", start, end, limit=2)
    assert len(paged.points) == 2 and paged.truncated
    assert city.positions.track("u2", start, end).points == ()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2026, 11, 25, 9, tzinfo=UTC), datetime(2026, 11, 25, 8, tzinfo=UTC)),
        (datetime(2026, 11, 25, 8, tzinfo=UTC), datetime(2026, 11, 26, 8, 0, 1, tzinfo=UTC)),
        (datetime(2026, 11, 25, 8), datetime(2026, 11, 25, 9)),
    ],
)
def test_a_track_range_must_be_ordered_zoned_and_at_most_a_day(
    city: Services, start: datetime, end: datetime
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        city.positions.track("u1", start, end)
    assert refused.value.code == "bad_track_range"


# ------------------------------------------------------------------------------ retention


def _service(city: Services, clock: FakeClock, days: int) -> PositionService:
    return PositionService(city.engine, city.bus, city.dispatch.board, retention_days=days, clock=clock)


def test_retention_removes_fixes_past_it_and_keeps_the_rest(
    city: Services, clock: FakeClock, migrated_database_url: str
) -> None:
    # Three days of one fix an hour, stored while they were recent.
    start = clock.now
    positions = _service(city, clock, days=2)
    for hour in range(72):
        clock.now = start + timedelta(hours=hour)
        positions.ingest([("u1", at(clock, east_m=10.0 * hour))], source=Source.OSMAND)
    assert len(history(city)) == 72
    removed = positions.maintain(budget_s=30.0)
    kept = [r.ts for r in history(city)]
    cutoff = clock.now - timedelta(days=2)
    # Everything past the retention is gone; everything within it is kept. PostgreSQL drops
    # whole UTC days (the partitions), so there a fix may stay up to a day longer.
    assert kept[-1] == clock.now and all(ts >= cutoff - timedelta(days=1) for ts in kept)
    assert {ts for ts in kept if ts >= cutoff} == {
        start + timedelta(hours=h) for h in range(72) if start + timedelta(hours=h) >= cutoff
    }
    if migrated_database_url.startswith("sqlite"):
        assert min(kept) >= cutoff and removed == 72 - len(kept)
    else:
        assert removed >= 1  # partitions dropped
        with read_transaction(city.engine) as conn:
            days = store.partition_days(conn)
        assert min(days) == min(kept).date()
    # The unit's last-known position is untouched by retention.
    assert stored_position(city)[2] == clock.now  # type: ignore[index]


def test_sqlite_retention_stops_at_its_time_budget_and_resumes(
    city: Services, clock: FakeClock, migrated_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not migrated_database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL drops whole partitions")
    from jingwu.service import positions as module

    monkeypatch.setattr(module, "DELETE_BATCH", 3)
    start = clock.now
    positions = _service(city, clock, days=1)
    for minute in range(10):
        clock.now = start + timedelta(minutes=minute)
        positions.ingest([("u1", at(clock)), ("u2", at(clock))], source=Source.OSMAND)
    clock.now = start + timedelta(days=2)
    assert positions.maintain(budget_s=0.0) == 0  # out of time before the first batch
    assert positions.maintain(budget_s=60.0) == 20
    assert history(city, "u1") == history(city, "u2") == []


def test_postgres_makes_partitions_ahead_and_on_demand_for_a_late_fix(
    city: Services, clock: FakeClock, migrated_database_url: str
) -> None:
    if migrated_database_url.startswith("sqlite"):
        pytest.skip("SQLite keeps one table")
    city.positions.maintain()
    today = clock.now.date()
    with read_transaction(city.engine) as conn:
        days = store.partition_days(conn)
    assert {today, today + timedelta(days=1), today + timedelta(days=2)} <= days
    # A phone back from three days in a dead zone uploads its buffered fixes.
    old = at(clock, -3 * 86400.0)
    result = city.positions.ingest([("u1", old)], source=Source.OSMAND)
    assert (result.outcomes[0].verdict, result.outcomes[0].reason) == (Verdict.HISTORY, Reason.LATE)
    with read_transaction(city.engine) as conn:
        assert old.ts.date() in store.partition_days(conn)
    assert history(city)[0].ts == old.ts


def test_a_partition_another_process_dropped_is_made_again_and_the_batch_stored(
    city: Services, clock: FakeClock, migrated_database_url: str
) -> None:
    # The driver's own errors on the ingest's statements must reach the retry like any other.
    if migrated_database_url.startswith("sqlite"):
        pytest.skip("SQLite keeps one table")
    city.positions.maintain()  # this process now believes today's partition is there
    with write_transaction(city.engine) as conn:
        store.drop_partition(conn, clock.now.date())
    result = city.positions.ingest([("u1", at(clock, -1.0, east_m=30.0))], source=Source.GATEWAY)
    assert result.accepted == 1 and len(history(city)) == 1


def test_a_deadlock_on_the_ingest_is_retried(
    city: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jingwu.service import positions as service

    real = store.update_last_known
    calls = []

    def deadlocked_once(conn: Any, latest: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            # What the database says when it picks this transaction as the victim, through the
            # store's own statements (on SQLite, as SQLAlchemy wraps its busy lock).
            if conn.dialect.name == "postgresql":
                store._cursor(conn).execute(
                    "DO $$ BEGIN RAISE EXCEPTION 'deadlock' USING ERRCODE = '40P01'; END $$"
                )
            else:
                dbapi = conn.dialect.loaded_dbapi
                raise DBAPIError.instance(
                    "UPDATE units", None, dbapi.OperationalError("database is locked"), dbapi.Error
                )
        real(conn, latest)

    monkeypatch.setattr(service.store, "update_last_known", deadlocked_once)
    result = city.positions.ingest([("u1", at(clock, -1.0, east_m=30.0))], source=Source.GATEWAY)
    assert result.accepted == 1 and len(calls) == 2 and len(history(city)) == 1
