"""The rules evaluated over plain records: repeat calls at one address (same text however typed,
or within the radius; with an open dispute when asked), one plate in two far places within
minutes, a spike of one type in one grid cell against the cell's own history; what the evidence
holds; and de-duplication across runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jingwu.domain.disputes import address_key
from jingwu.domain.warning_models import Rule, Source, parse_rule
from jingwu.domain.warning_rules import (
    DisputeRecord,
    IncidentRecord,
    Raised,
    Records,
    Sighting,
    evaluate,
    fresh,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
HOME = (45.7560, 126.6420)
NEAR = (45.7562, 126.6421)  # about 25 m from HOME
FAR = (45.7420, 126.6600)  # about 2 km away
ALL = frozenset(Source)
DOMESTIC = ["order.domestic_violence", "dispute.family"]


def call(
    n: int,
    days_ago: float,
    *,
    at: tuple[float, float] = HOME,
    address: str | None = "保健路 12 号",
    type_code: str = "dispute.family",
    station: str | None = "south",
) -> IncidentRecord:
    return IncidentRecord(
        id=f"J{n}",
        type_code=type_code,
        at=NOW - timedelta(days=days_ago),
        lat=at[0],
        lon=at[1],
        station_id=station,
        address=address,
        address_key=address_key(address),
    )


def repeat(**params: Any) -> Rule:
    sources = ["incidents", "disputes"] if params.get("require_open_dispute") else ["incidents"]
    return parse_rule("repeat_address", {"incident_types": DOMESTIC} | params, sources)


def test_three_domestic_calls_at_one_address_in_thirty_days_raise_one_warning() -> None:
    calls = (
        call(1, 20, address="保健路12号"),
        call(2, 9, address="保健路 １２ 号", type_code="order.domestic_violence"),  # full-width digits
        call(3, 1, at=FAR, address="保健路12号"),  # geocoded elsewhere, but the same address text
        call(4, 2, at=FAR, address="红军街 5 号"),  # another place
        call(5, 3, type_code="crim.theft"),  # not a watched type
        call(6, 31),  # before the window
    )
    found = evaluate(repeat(), Records(ALL, incidents=calls), NOW)
    assert len(found) == 1
    warning = found[0]
    assert warning.evidence["incidents"] == 3
    assert warning.evidence["incident_ids"] == ["J1", "J2", "J3"]
    assert warning.evidence["by_type"] == {"dispute.family": 2, "order.domestic_violence": 1}
    assert [s.station_id for s in warning.sites] == ["south"]
    assert (warning.lat, warning.lon) == HOME
    assert warning.title_zh.startswith("保健路12号：30 天内 3 起")
    assert warning.window_start == NOW - timedelta(days=30) and warning.window_end == NOW
    # Two calls are not enough.
    assert evaluate(repeat(), Records(ALL, incidents=calls[:2]), NOW) == []


def test_calls_without_an_address_group_within_the_radius() -> None:
    calls = (call(1, 5, address=None), call(2, 4, at=NEAR, address=None), call(3, 3, address=None))
    assert len(evaluate(repeat(radius_m=50), Records(ALL, incidents=calls), NOW)) == 1
    assert evaluate(repeat(radius_m=10), Records(ALL, incidents=calls), NOW) == []
    # Radius 0: only the same address counts.
    assert evaluate(repeat(radius_m=0), Records(ALL, incidents=calls), NOW) == []


def test_a_warning_concerns_every_station_whose_calls_it_counts() -> None:
    calls = (call(1, 5, station="south"), call(2, 4, station="north"), call(3, 3, station="south"))
    (warning,) = evaluate(repeat(), Records(ALL, incidents=calls), NOW)
    assert [s.station_id for s in warning.sites] == ["south", "north"]


def test_an_open_dispute_at_the_address_is_required_when_asked() -> None:
    calls = (call(1, 5), call(2, 4), call(3, 3))
    rule = repeat(require_open_dispute=True)
    assert evaluate(rule, Records(ALL, incidents=calls), NOW) == []
    closed = DisputeRecord(
        "dsp_1",
        *HOME,
        address_key("保健路 12 号"),
        "south",
        NOW - timedelta(days=60),
        NOW - timedelta(days=1),
    )
    assert evaluate(rule, Records(ALL, incidents=calls, disputes=(closed,)), NOW) == []
    elsewhere = DisputeRecord("dsp_2", *FAR, address_key("红军街 5 号"), "south", NOW - timedelta(days=60))
    assert evaluate(rule, Records(ALL, incidents=calls, disputes=(elsewhere,)), NOW) == []
    by_text = DisputeRecord("dsp_3", *FAR, address_key("保健路12号"), "south", NOW - timedelta(days=60))
    (warning,) = evaluate(rule, Records(ALL, incidents=calls, disputes=(by_text, elsewhere)), NOW)
    assert warning.evidence["dispute_ids"] == ["dsp_3"]
    assert warning.title_en.endswith("with an open dispute there")
    # Read without the disputes (not handed in as read): nothing is assumed open.
    assert (
        evaluate(rule, Records(frozenset({Source.INCIDENTS}), incidents=calls, disputes=(by_text,)), NOW)
        == []
    )


def test_the_same_place_and_window_raise_one_warning_not_one_per_run() -> None:
    rule = repeat()
    calls = (call(1, 5), call(2, 4), call(3, 3))
    first = fresh(rule, evaluate(rule, Records(ALL, incidents=calls), NOW), [])
    assert len(first) == 1
    raised = [Raised.of(w) for w in first]
    # Ten minutes later, and the next day with one more call: the same place and window.
    for later, more in ((NOW + timedelta(minutes=10), ()), (NOW + timedelta(days=1), (call(4, -0.5),))):
        again = evaluate(rule, Records(ALL, incidents=calls + more), later)
        assert len(again) == 1 and fresh(rule, again, raised) == []
    # A month on, three new calls there: a new window, a new warning.
    month = NOW + timedelta(days=31)
    newer = tuple(call(10 + n, -30 + n) for n in range(3))
    assert len(fresh(rule, evaluate(rule, Records(ALL, incidents=calls + newer), month), raised)) == 1
    # Within one run's findings too: two places, two warnings; the same twice, one.
    other = tuple(call(20 + n, 2, at=FAR, address="红军街 5 号") for n in range(3))
    found = evaluate(rule, Records(ALL, incidents=calls + other), NOW)
    assert len(fresh(rule, found + found, [])) == 2


# --------------------------------------------------------------------------------------- plates


def seen(
    n: int,
    plate: str,
    minutes: float,
    at: tuple[float, float],
    *,
    source: Source = Source.ACCESS_EVENTS,
    station: str = "south",
    hit: bool = False,
) -> Sighting:
    return Sighting(
        source, f"s{n}", plate, "黑A***27", NOW - timedelta(minutes=minutes), at[0], at[1], station, hit
    )


def test_one_plate_far_apart_within_minutes_is_a_warning_for_both_stations() -> None:
    rule = parse_rule("plate_far_apart", {"min_km": 5, "max_minutes": 30}, ["access_events", "checks"])
    far_north = (45.8300, 126.6200)  # about 8 km north
    sightings = (
        seen(1, "idx-A", 20, HOME),
        seen(2, "idx-A", 8, far_north, source=Source.CHECKS, station="north"),
        seen(3, "idx-B", 20, HOME),
        seen(4, "idx-B", 10, FAR),  # 2 km: a car can be there
        seen(5, "idx-C", 200, HOME),
        seen(6, "idx-C", 10, far_north, station="north"),  # far, but over three hours later
    )
    (warning,) = evaluate(rule, Records(ALL, sightings=sightings), NOW, since=NOW - timedelta(hours=4))
    assert warning.place_key == "plate:idx-A" and warning.plate == "idx-A"
    assert [s.station_id for s in warning.sites] == ["south", "north"]
    assert (warning.sites[1].lat, warning.sites[1].lon) == far_north
    evidence = warning.evidence
    assert evidence["plate"] == "黑A***27" and evidence["pair_count"] == 1
    assert [s["id"] for s in evidence["sightings"]] == ["s1", "s2"]
    assert evidence["pairs"][0]["minutes"] == 12.0 and 8 < evidence["pairs"][0]["km"] < 9
    assert "idx-A" not in str(evidence)  # the keyed index stays in the place key, never shown
    # The rule reads only what the model lists: without the checks there is no pair.
    gates = parse_rule("plate_far_apart", {"min_km": 5, "max_minutes": 30}, ["access_events"])
    assert evaluate(gates, Records(ALL, sightings=sightings), NOW, since=NOW - timedelta(hours=4)) == []
