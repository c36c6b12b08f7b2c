"""The dispute rules: risk from the stated factors, overdue follow-ups in the bureau's zone,
escalation by a new call, and what counts as "the same address"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jingwu.domain.disputes import (
    DisputeKind,
    MatchBy,
    RiskFactor,
    RiskLevel,
    address_key,
    address_matches,
    assess_risk,
    combined_level,
    days_overdue,
    escalate,
    is_rising,
    parse_kind,
    parse_risk_level,
)
from jingwu.domain.geo import GeoPoint
from jingwu.errors import ValidationFailed

SHANGHAI = ZoneInfo("Asia/Shanghai")
F = RiskFactor


@pytest.mark.parametrize(
    ("factors", "kind", "level"),
    [
        (set(), DisputeKind.NEIGHBOUR, RiskLevel.LOW),
        ({F.PREVIOUS_CALLS}, DisputeKind.DEBT, RiskLevel.LOW),
        ({F.PREVIOUS_CALLS, F.ALCOHOL_OR_DRUGS}, DisputeKind.DEBT, RiskLevel.MEDIUM),
        ({F.REPEATED_CONFLICT}, DisputeKind.NEIGHBOUR, RiskLevel.MEDIUM),
        ({F.VIOLENCE_THREATENED}, DisputeKind.NEIGHBOUR, RiskLevel.MEDIUM),
        ({F.VIOLENCE_THREATENED}, DisputeKind.FAMILY, RiskLevel.HIGH),  # domestic: one more
        ({F.WEAPONS}, DisputeKind.LABOUR, RiskLevel.HIGH),
        ({F.WEAPONS, F.PREVIOUS_CALLS, F.ALCOHOL_OR_DRUGS}, DisputeKind.LABOUR, RiskLevel.CRITICAL),
        (
            {F.VIOLENCE_THREATENED, F.VULNERABLE_PARTIES, F.REPEATED_CONFLICT},
            DisputeKind.PROPERTY,
            RiskLevel.CRITICAL,
        ),
    ],
)
def test_the_stated_factors_give_the_level(
    factors: set[RiskFactor], kind: DisputeKind, level: RiskLevel
) -> None:
    assert assess_risk(factors, kind=kind).level is level


def test_each_factor_is_a_reason_gravest_first_in_both_languages() -> None:
    reasons = assess_risk({F.PREVIOUS_CALLS, F.WEAPONS}, kind=DisputeKind.OTHER).reasons
    assert [r.code for r in reasons] == ["weapons", "previous_calls"]
    assert reasons[0].zh == "涉及刀具等凶器" and reasons[0].en == "weapons mentioned or held"
    assert [r.code for r in assess_risk(set(), kind=DisputeKind.OTHER).reasons] == ["no_factors"]


def test_unknown_kinds_and_levels_are_refused_with_their_codes() -> None:
    with pytest.raises(ValidationFailed) as kind:
        parse_kind("Family")
    assert kind.value.code == "bad_dispute_kind" and "family" in kind.value.params["allowed"]
    with pytest.raises(ValidationFailed) as level:
        parse_risk_level("severe")
    assert level.value.code == "bad_risk_level"


def test_a_follow_up_is_overdue_from_the_next_local_midnight() -> None:
    due = date(2026, 12, 7)
    # 23:30 on the 7th in Harbin is 15:30 UTC: still due, not overdue.
    assert days_overdue(due, done=False, now=datetime(2026, 12, 7, 15, 30, tzinfo=UTC), zone=SHANGHAI) == 0
    # 00:30 on the 8th in Harbin is 16:30 UTC on the 7th: one day overdue, though UTC says the 7th.
    assert days_overdue(due, done=False, now=datetime(2026, 12, 7, 16, 30, tzinfo=UTC), zone=SHANGHAI) == 1
    assert days_overdue(due, done=False, now=datetime(2026, 12, 7, 16, 30, tzinfo=UTC), zone=UTC) == 0
    assert days_overdue(due, done=True, now=datetime(2026, 12, 20, tzinfo=UTC), zone=SHANGHAI) == 0


def test_a_new_call_raises_the_risk_one_level_and_violence_to_high_at_least() -> None:
    one_up = escalate(
        RiskLevel.LOW, incident_id="INC-1", incident_type="order.noise", matched_by={MatchBy.ADDRESS}
    )
    assert one_up.level is RiskLevel.MEDIUM
    assert one_up.reason.code == "new_call" and one_up.reason.en == "new call INC-1 from this address"
    violent = escalate(
        RiskLevel.LOW,
        incident_id="INC-2",
        incident_type="order.domestic_violence",
        matched_by={MatchBy.PARTY},
    )
    assert violent.level is RiskLevel.HIGH and violent.reason.zh == "新警情 INC-2 来自当事人"
    top = escalate(
        RiskLevel.CRITICAL, incident_id="INC-3", incident_type="order.fight", matched_by=set(MatchBy)
    )
    assert top.level is RiskLevel.CRITICAL and "this address and a party" in top.reason.en


def test_the_escalated_level_is_a_floor_the_factors_do_not_lower() -> None:
    assert combined_level(RiskLevel.LOW, RiskLevel.HIGH) is RiskLevel.HIGH
    assert combined_level(RiskLevel.CRITICAL, RiskLevel.HIGH) is RiskLevel.CRITICAL
    assert combined_level(RiskLevel.MEDIUM, None) is RiskLevel.MEDIUM


def test_rising_is_a_raise_within_the_last_week() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    assert is_rising(now - timedelta(days=6), now)
    assert not is_rising(now - timedelta(days=8), now)
    assert not is_rising(None, now)


def test_the_same_address_is_near_the_point_or_the_same_text() -> None:
    home = GeoPoint(45.7560, 126.6420)
    key = address_key("保健路１２号 3单元-501")
    assert key == address_key("保健路12号3单元501") and key == "保健路12号3单元501"
    assert address_matches(home, key, GeoPoint(45.7563, 126.6420), None)  # about 33 m
    assert not address_matches(home, key, GeoPoint(45.7570, 126.6420), None)  # about 111 m
    assert address_matches(home, key, GeoPoint(45.80, 126.60), "保健路 12号 3单元 501")
    assert not address_matches(home, "", GeoPoint(45.80, 126.60), "")
