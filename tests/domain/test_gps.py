"""The GPS filter (domain.gps): every fault real receivers produce, one test each, and the
property that matters most — a unit driven plausibly is never rejected, and nothing rejected
ever becomes the unit's position."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jingwu.domain.gps import (
    Fix,
    GpsRules,
    Reason,
    TrackState,
    Verdict,
    distance_m,
    implied_speed_mps,
    judge,
    normalise,
    plainly_current,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
# Harbin, 南岗区. At this latitude 0.001° of longitude is about 77.7 m, of latitude 111 m.
LAT, LON = 45.7560, 126.6420
RULES = GpsRules()


def fix(seconds: float = 0.0, *, east_m: float = 0.0, north_m: float = 0.0, **extra: object) -> Fix:
    """A fix ``seconds`` after NOW, displaced from the centre by metres east and north."""
    lat = LAT + north_m / 111_195.0
    lon = LON + east_m / (111_195.0 * math.cos(math.radians(LAT)))
    return Fix(ts=NOW + timedelta(seconds=seconds), lat=lat, lon=lon, **extra)  # type: ignore[arg-type]


def anchored(at: Fix) -> TrackState:
    return TrackState(anchor=at)


def verdict_of(state: TrackState, f: Fix, **kw: object) -> tuple[Verdict, Reason | None]:
    judgement, _ = judge(state, f, now=NOW + timedelta(minutes=5), **kw)  # type: ignore[arg-type]
    return judgement.verdict, judgement.reason


# ------------------------------------------------------------------------- a fix on its own


def test_first_fix_of_a_unit_is_accepted_as_current_and_becomes_the_anchor() -> None:
    first = fix(accuracy=8.0)
    judgement, state = judge(TrackState(), first, now=NOW)
    assert (judgement.verdict, judgement.reason) == (Verdict.CURRENT, None)
    assert judgement.moves_unit and judgement.kept
    assert state == TrackState(anchor=first)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (math.nan, LON),
        (LAT, math.inf),
        (LAT, -math.inf),
        (90.0001, LON),
        (-91.0, LON),
        (LAT, 180.5),
        (LAT, -181.0),
    ],
)
def test_coordinates_outside_wgs84_are_rejected_and_not_kept(lat: float, lon: float) -> None:
    judgement, state = judge(TrackState(), Fix(NOW, lat, lon), now=NOW)
    assert (judgement.verdict, judgement.reason) == (Verdict.REJECTED, Reason.INVALID_COORDINATES)
    assert not judgement.kept and not judgement.moves_unit
    assert state == TrackState()


def test_the_poles_and_the_antimeridian_are_valid_coordinates() -> None:
    for lat, lon in ((90.0, 0.5), (-90.0, 0.5), (10.0, 180.0), (10.0, -180.0)):
        assert judge(TrackState(), Fix(NOW, lat, lon), now=NOW)[0].verdict is Verdict.CURRENT


def test_null_island_is_no_fix_and_is_not_kept() -> None:
    judgement, _ = judge(TrackState(), Fix(NOW, 0.0, 0.0), now=NOW)
    assert (judgement.verdict, judgement.reason, judgement.kept) == (
        Verdict.REJECTED,
        Reason.NULL_ISLAND,
        False,
    )
    # Only exactly 0, 0: the equator and the prime meridian are real places.
    assert judge(TrackState(), Fix(NOW, 0.0, 9.7), now=NOW)[0].verdict is Verdict.CURRENT


@pytest.mark.parametrize("faulty", [{"valid": False}, {"accuracy": -1.0}])
def test_a_fix_the_device_calls_invalid_is_rejected_but_kept_for_diagnosis(faulty: dict[str, object]) -> None:
    # valid=false: the device says so; a negative accuracy: iOS's mark of invalid coordinates.
    judgement, state = judge(TrackState(), fix(**faulty), now=NOW)
    assert (judgement.verdict, judgement.reason, judgement.kept) == (
        Verdict.REJECTED,
        Reason.INVALID_FIX,
        True,
    )
    assert state == TrackState()


def test_a_fix_worse_than_one_kilometre_is_rejected_but_kept_and_one_kilometre_is_accepted() -> None:
    vague, _ = judge(TrackState(), fix(accuracy=1000.5), now=NOW)
    assert (vague.verdict, vague.reason, vague.kept) == (Verdict.REJECTED, Reason.INACCURATE, True)
    assert judge(TrackState(), fix(accuracy=1000.0), now=NOW)[0].verdict is Verdict.CURRENT


def test_a_fix_more_than_a_minute_ahead_of_the_server_is_rejected_and_not_kept() -> None:
    ahead, _ = judge(TrackState(), fix(61.0), now=NOW)
    assert (ahead.verdict, ahead.reason, ahead.kept) == (Verdict.REJECTED, Reason.FUTURE, False)
    assert judge(TrackState(), fix(60.0), now=NOW)[0].verdict is Verdict.CURRENT


def test_a_fix_older_than_the_retention_is_rejected_and_not_kept() -> None:
    rules = GpsRules(max_age=timedelta(days=30))
    old, _ = judge(TrackState(), fix(-30 * 86400 - 1), now=NOW, rules=rules)
    assert (old.verdict, old.reason, old.kept) == (Verdict.REJECTED, Reason.TOO_OLD, False)
    kept, _ = judge(TrackState(), fix(-30 * 86400 + 1), now=NOW, rules=rules)
    assert (kept.verdict, kept.reason) == (Verdict.HISTORY, Reason.STALE)


def test_auxiliary_values_are_normalised_and_never_reject_a_good_position() -> None:
    raw = fix(speed=-1.0, heading=-1.0, accuracy=0.0, altitude=math.nan, battery=150.0)
    judgement, _ = judge(TrackState(), raw, now=NOW)
    assert judgement.verdict is Verdict.CURRENT
    clean = judgement.fix
    assert (clean.speed, clean.heading, clean.accuracy, clean.altitude, clean.battery) == (None,) * 5
    assert normalise(fix(heading=370.0, speed=math.inf, battery=87.5)).heading == pytest.approx(10.0)
    assert normalise(fix(speed=math.inf)).speed is None
    assert normalise(fix(battery=87.5, altitude=-12.0)) == fix(battery=87.5, altitude=-12.0)


# ------------------------------------------------------------------------ against the track


def test_a_fix_with_the_anchors_time_is_a_duplicate() -> None:
    anchor = fix(0.0)
    judgement, state = judge(anchored(anchor), fix(0.0, east_m=5.0), now=NOW)
    assert (judgement.verdict, judgement.reason, judgement.kept) == (
        Verdict.REJECTED,
        Reason.DUPLICATE,
        False,
    )
    assert state == anchored(anchor)


def test_a_fix_older_than_the_anchor_is_history_and_never_moves_the_unit_back() -> None:
    anchor = fix(60.0, east_m=600.0)
    judgement, state = judge(anchored(anchor), fix(30.0, east_m=300.0), now=NOW + timedelta(minutes=2))
    assert (judgement.verdict, judgement.reason) == (Verdict.HISTORY, Reason.LATE)
    assert judgement.kept and not judgement.moves_unit
    assert state == anchored(anchor)


def test_a_fix_older_than_twelve_hours_is_history_only_even_with_no_track() -> None:
    judgement, state = judge(TrackState(), fix(-12 * 3600 - 1), now=NOW)
    assert (judgement.verdict, judgement.reason) == (Verdict.HISTORY, Reason.STALE)
    assert state == TrackState()
    assert judge(TrackState(), fix(-12 * 3600 + 1), now=NOW)[0].verdict is Verdict.CURRENT


def test_a_plausible_move_is_accepted_and_moves_the_anchor() -> None:
    anchor = fix(0.0, accuracy=5.0)
    # 600 m in 30 s: 20 m/s, 72 km/h.
    nxt = fix(30.0, east_m=600.0, accuracy=5.0)
    judgement, state = judge(anchored(anchor), nxt, now=NOW + timedelta(minutes=1))
    assert (judgement.verdict, judgement.reason) == (Verdict.CURRENT, None)
    assert state == anchored(nxt)


def test_a_jump_implying_an_impossible_speed_is_rejected_but_kept_as_a_suspect() -> None:
    anchor = fix(0.0, accuracy=5.0)
    # 10 km in 10 s: 1000 m/s.
    jump = fix(10.0, east_m=10_000.0, accuracy=5.0)
    judgement, state = judge(anchored(anchor), jump, now=NOW + timedelta(minutes=1))
    assert (judgement.verdict, judgement.reason) == (Verdict.REJECTED, Reason.IMPOSSIBLE_JUMP)
    assert judgement.kept and not judgement.moves_unit
    assert state == TrackState(anchor=anchor, suspects=(jump,))


def test_the_speed_limit_is_seventy_metres_a_second_after_both_accuracy_radii() -> None:
    anchor = fix(0.0, accuracy=10.0)
    # 20 s at 70 m/s is 1400 m, plus 10 + 10 m of accuracy.
    assert verdict_of(anchored(anchor), fix(20.0, east_m=1419.0, accuracy=10.0))[0] is Verdict.CURRENT
    assert verdict_of(anchored(anchor), fix(20.0, east_m=1421.0, accuracy=10.0))[1] is Reason.IMPOSSIBLE_JUMP
    # An unknown accuracy counts as 25 m.
    assert verdict_of(anchored(fix(0.0)), fix(20.0, east_m=1449.0))[0] is Verdict.CURRENT
    assert verdict_of(anchored(fix(0.0)), fix(20.0, east_m=1451.0))[1] is Reason.IMPOSSIBLE_JUMP


def test_fixes_a_fraction_of_a_second_apart_are_judged_over_at_least_one_second() -> None:
    anchor = fix(0.0, accuracy=5.0)
    # 60 m in 0.1 s would be 600 m/s; over the one-second floor it is 50 m/s after accuracy.
    near = fix(0.1, east_m=60.0, accuracy=5.0)
    assert verdict_of(anchored(anchor), near)[0] is Verdict.CURRENT
    assert implied_speed_mps(anchor, near, RULES) == pytest.approx(distance_m(anchor, near) - 10.0)


def test_a_late_fix_is_held_to_the_speed_limit_backwards_in_time() -> None:
    anchor = fix(60.0)
    # Seen here at +60 s, it cannot have been 50 km away at +59 s.
    far_earlier = fix(59.0, east_m=50_000.0)
    judgement, state = judge(anchored(anchor), far_earlier, now=NOW + timedelta(minutes=2))
    assert (judgement.verdict, judgement.reason) == (Verdict.REJECTED, Reason.IMPOSSIBLE_JUMP)
    assert state == anchored(anchor)  # a late fix never becomes a re-anchoring suspect


def test_one_glitch_never_moves_the_unit_and_the_next_true_fix_is_accepted() -> None:
    anchor = fix(0.0, accuracy=5.0)
    state = anchored(anchor)
    glitch, state = judge(state, fix(5.0, north_m=8_000.0, accuracy=5.0), now=NOW + timedelta(minutes=1))
    assert glitch.reason is Reason.IMPOSSIBLE_JUMP
    back = fix(10.0, east_m=100.0, accuracy=5.0)
    judgement, state = judge(state, back, now=NOW + timedelta(minutes=1))
    assert (judgement.verdict, judgement.reason) == (Verdict.CURRENT, None)
    assert state == anchored(back)  # the suspect is forgotten


def test_three_consistent_fixes_elsewhere_re_anchor_the_track() -> None:
    # The anchor was wrong (or the car was ferried with its device off): the device has been
    # reporting a steady drive 8 km away ever since.
    state = anchored(fix(0.0, accuracy=5.0))
    now = NOW + timedelta(minutes=5)
    first, state = judge(state, fix(10.0, north_m=8_000.0, accuracy=5.0), now=now)
    second, state = judge(state, fix(20.0, north_m=8_150.0, accuracy=5.0), now=now)
    third_fix = fix(30.0, north_m=8_300.0, accuracy=5.0)
    third, state = judge(state, third_fix, now=now)
    assert [j.verdict for j in (first, second, third)] == [
        Verdict.REJECTED,
        Verdict.REJECTED,
        Verdict.CURRENT,
    ]
    assert third.reason is Reason.REANCHORED
    assert state == anchored(third_fix)


def test_scattered_glitches_that_disagree_with_each_other_never_re_anchor() -> None:
    state = anchored(fix(0.0, accuracy=5.0))
    now = NOW + timedelta(minutes=5)
    for i, (east, north) in enumerate([(9_000, 0), (0, 9_000), (-9_000, 0), (0, -9_000), (9_000, 9_000)]):
        judgement, state = judge(
            state, fix(10.0 * (i + 1), east_m=east, north_m=north, accuracy=5.0), now=now
        )
        assert judgement.reason is Reason.IMPOSSIBLE_JUMP
    assert len(state.suspects) == RULES.reanchor_after - 1


def test_a_dispatchers_manual_placement_is_never_a_jump() -> None:
    state = anchored(fix(0.0, accuracy=5.0))
    placed = fix(10.0, north_m=20_000.0)
    judgement, state = judge(state, placed, now=NOW + timedelta(minutes=1), manual=True)
    assert (judgement.verdict, judgement.reason) == (Verdict.CURRENT, None)
    assert state == anchored(placed)
    # ... but it is still checked on its own.
    assert judge(state, fix(600.0), now=NOW, manual=True)[0].reason is Reason.FUTURE


# ------------------------------------------------------------------------------ properties

STEP = st.tuples(
    st.floats(min_value=1.0, max_value=300.0),  # seconds since the previous fix
    st.floats(min_value=0.0, max_value=35.0),  # true speed, m/s (126 km/h)
    st.floats(min_value=0.0, max_value=2 * math.pi),  # direction
    st.floats(min_value=3.0, max_value=50.0),  # reported accuracy, m
    st.floats(min_value=0.0, max_value=1.0),  # how much of the accuracy the error uses
    st.floats(min_value=0.0, max_value=2 * math.pi),  # direction of the error
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(STEP, min_size=1, max_size=40))
def test_a_unit_driven_plausibly_with_errors_within_accuracy_is_never_rejected(
    steps: list[tuple[float, float, float, float, float, float]],
) -> None:
    state = TrackState()
    t, east, north = 0.0, 0.0, 0.0
    for gap, speed, heading, accuracy, error, error_heading in steps:
        t += gap
        east += speed * gap * math.sin(heading)
        north += speed * gap * math.cos(heading)
        seen = fix(
            t,
            east_m=east + error * accuracy * math.sin(error_heading),
            north_m=north + error * accuracy * math.cos(error_heading),
            accuracy=accuracy,
        )
        judgement, state = judge(state, seen, now=NOW + timedelta(seconds=t))
        assert judgement.verdict is Verdict.CURRENT, (judgement, steps)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=-7200.0, max_value=7200.0),
            st.floats(min_value=-200_000.0, max_value=200_000.0),
            st.floats(min_value=-200_000.0, max_value=200_000.0),
            st.one_of(st.none(), st.floats(min_value=-5.0, max_value=2000.0)),
            st.booleans(),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_the_anchor_is_only_ever_a_fix_judged_current(
    reports: list[tuple[float, float, float, float | None, bool]],
) -> None:
    state = TrackState()
    current: list[Fix] = []
    for seconds, east, north, accuracy, valid in reports:
        judgement, state = judge(
            state, fix(seconds, east_m=east, north_m=north, accuracy=accuracy, valid=valid), now=NOW
        )
        if judgement.verdict is Verdict.CURRENT:
            current.append(judgement.fix)
        assert state.anchor is None or state.anchor == current[-1]
        # The anchor's time only ever moves forward.
        assert [c.ts for c in current] == sorted(c.ts for c in current)


# ---------------------------------------------------------------- a batch at once

# Values around every limit of the filter, and the faults, for the batch check to be held to.
_AUX = st.one_of(
    st.none(),
    st.sampled_from([0.0, -0.0, -1.0, 360.0, 359.999, 100.0, 100.5, 1000.0, 1000.001, math.nan, math.inf]),
    st.floats(min_value=-10.0, max_value=1200.0),
)
_SECONDS = st.one_of(
    st.sampled_from([0.0, 60.0, 59.9995, 60.0005, -12 * 3600.0, -12 * 3600.0 + 0.0005, -30 * 86400.0]),
    st.floats(min_value=-13 * 3600.0, max_value=120.0),
)


@st.composite
def _fix_pairs(draw: st.DrawFn) -> tuple[Fix | None, Fix]:
    """An anchor (or none) and a fix: mostly a plausible drive, often one fault or a value near
    one of the limits."""
    odd = st.integers(0, 4).map(lambda k: k == 0)  # one time in five
    seen_at = draw(_SECONDS) if draw(odd) else draw(st.floats(-3600.0, 30.0))
    east = draw(st.floats(-3000.0, 3000.0))
    anchor = None
    if not draw(odd):
        gap = draw(st.one_of(st.sampled_from([0.0, 0.0005, 1.0, -1.0]), st.floats(-60.0, 600.0)))
        if not draw(odd):
            gap = draw(st.floats(1.0, 300.0))
        moved = draw(st.floats(-5000.0, 5000.0)) if draw(odd) else draw(st.floats(-30.0, 30.0)) * gap
        anchor = fix(
            seen_at - gap,
            east_m=east - moved,
            accuracy=draw(st.one_of(st.none(), st.sampled_from([5.0, 25.0, math.nan]))),
        )
        if draw(odd) and gap > 0:  # just at the speed limit
            reach = RULES.max_speed_mps * max(gap, RULES.min_gap_s) + 2 * RULES.assumed_accuracy_m
            anchor = anchor._replace(lat=LAT, lon=LON, accuracy=None)
            return anchor, fix(
                seen_at, east_m=reach * draw(st.sampled_from([0.999, 0.9999, 1.0, 1.0001, 0.5]))
            )
    # A plausible fix with (mostly) one of its values drawn from around the limits.
    seen = fix(seen_at, east_m=east, speed=8.0, heading=90.0, accuracy=10.0)
    for name in draw(
        st.lists(st.sampled_from(["speed", "heading", "altitude", "accuracy", "battery"]), max_size=2)
    ):
        seen = seen._replace(**{name: draw(_AUX)})
    if draw(odd):
        faults: list[dict[str, object]] = [
            {"valid": False},
            {"lat": 0.0, "lon": 0.0},
            {"lat": math.nan},
            {"lon": 181.0},
        ]
        seen = seen._replace(**draw(st.sampled_from(faults)))
    return anchor, seen


@settings(max_examples=300)
@given(st.lists(_fix_pairs(), min_size=1, max_size=20), st.booleans())
def test_a_fix_the_batch_check_passes_is_one_judge_accepts_as_it_is(
    pairs: list[tuple[Fix | None, Fix]], manual: bool
) -> None:
    anchors, fixes = [a for a, _ in pairs], [f for _, f in pairs]
    plain = plainly_current(anchors, fixes, now=NOW, rules=RULES, manual=manual)
    assert plain.shape == (len(fixes),)
    for anchor, seen, passed in zip(anchors, fixes, plain.tolist(), strict=True):
        if passed:
            judgement, after = judge(TrackState(anchor), seen, now=NOW, rules=RULES, manual=manual)
            assert judgement == (seen, Verdict.CURRENT, None) and judgement.fix is seen
            assert after == TrackState(anchor=seen)


def test_a_working_fleets_fixes_pass_the_batch_check_and_faults_do_not() -> None:
    anchors = [fix(-10.0 - k, east_m=10.0 * k, accuracy=8.0) for k in range(6)] + [None]
    fixes = [fix(-1.0, east_m=10.0 * k + 40.0, speed=8.0, heading=90.0, accuracy=6.0) for k in range(6)]
    fixes.append(fix(-1.0))  # a unit never placed before
    assert plainly_current(anchors, fixes, now=NOW, rules=RULES).tolist() == [True] * 7
    faulty = [
        fixes[0]._replace(valid=False),
        fixes[1]._replace(accuracy=1500.0),  # vague
        fixes[2]._replace(ts=anchors[2].ts),  # type: ignore[union-attr]  # duplicate
        fixes[3]._replace(ts=NOW - timedelta(minutes=20)),  # late
        fixes[4]._replace(lon=LON + 1.0),  # 77 km in 14 s
        fixes[5]._replace(heading=-1.0),  # unknown: normalised, so left to judge
        fixes[6]._replace(ts=NOW + timedelta(minutes=5)),  # future
    ]
    assert plainly_current(anchors, faulty, now=NOW, rules=RULES).tolist() == [False] * 7
    assert plainly_current(
        anchors, [fixes[4]._replace(lon=LON + 1.0)] * 7, now=NOW, rules=RULES, manual=True
    )[4]
    for mended in ({"altitude": math.nan}, {"battery": 101.0}, {"accuracy": 0.0}, {"speed": math.inf}):
        assert not plainly_current(anchors[:1], [fixes[0]._replace(**mended)], now=NOW, rules=RULES)[0]
    assert plainly_current([], [], now=NOW).shape == (0,)
