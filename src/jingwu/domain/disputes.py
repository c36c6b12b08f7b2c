"""Disputes (矛盾纠纷排查): the kinds, the risk levels and how a risk is assessed from the factors
an officer states, when a follow-up is overdue, and how a new 110 call escalates a dispute.

Pure: the time and the bureau's time zone are passed in; nothing here reads a clock or a store.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from jingwu.domain.geo import GeoPoint, haversine_m
from jingwu.errors import ValidationFailed


class DisputeKind(StrEnum):
    NEIGHBOUR = "neighbour"  # 邻里纠纷
    FAMILY = "family"  # 家庭纠纷
    LABOUR = "labour"  # 劳资纠纷
    PROPERTY = "property"  # 物业、房产纠纷
    DEBT = "debt"  # 债务纠纷
    OTHER = "other"


class DisputeStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def raised(self, steps: int = 1) -> RiskLevel:
        """``steps`` levels up, never past critical."""
        return _LEVELS[min(len(_LEVELS) - 1, self.rank + steps)]


_LEVELS = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.CRITICAL)
_RANK = {level: i for i, level in enumerate(_LEVELS)}


class RiskFactor(StrEnum):
    """What an officer can state about a dispute, each weighed in :func:`assess_risk`."""

    VIOLENCE_THREATENED = "violence_threatened"  # 扬言动手、威胁伤害
    WEAPONS = "weapons"  # 持有或提及刀具等凶器
    PREVIOUS_CALLS = "previous_calls"  # 此前已因此报警
    VULNERABLE_PARTIES = "vulnerable_parties"  # 涉及老人、儿童、残障或孕妇
    REPEATED_CONFLICT = "repeated_conflict"  # 反复发生冲突
    SELF_HARM_THREATENED = "self_harm_threatened"  # 扬言轻生
    ALCOHOL_OR_DRUGS = "alcohol_or_drugs"  # 酗酒或涉毒
    GROUP_INVOLVED = "group_involved"  # 多人卷入、可能群体性事件


# Weights: a threat of violence or a weapon weighs most, since that is what turns a quarrel into
# a call for help; two lesser signs together count as much as one grave one.
_WEIGHTS: dict[RiskFactor, int] = {
    RiskFactor.WEAPONS: 4,
    RiskFactor.VIOLENCE_THREATENED: 3,
    RiskFactor.SELF_HARM_THREATENED: 3,
    RiskFactor.VULNERABLE_PARTIES: 2,
    RiskFactor.REPEATED_CONFLICT: 2,
    RiskFactor.GROUP_INVOLVED: 2,
    RiskFactor.PREVIOUS_CALLS: 1,
    RiskFactor.ALCOHOL_OR_DRUGS: 1,
}
_FACTOR_TEXT: dict[RiskFactor, tuple[str, str]] = {
    RiskFactor.WEAPONS: ("涉及刀具等凶器", "weapons mentioned or held"),
    RiskFactor.VIOLENCE_THREATENED: ("扬言动手或威胁伤害", "violence threatened"),
    RiskFactor.SELF_HARM_THREATENED: ("当事人扬言轻生", "a party threatened self-harm"),
    RiskFactor.VULNERABLE_PARTIES: ("涉及老人、儿童等弱势人员", "vulnerable parties involved"),
    RiskFactor.REPEATED_CONFLICT: ("冲突反复发生", "repeated conflict"),
    RiskFactor.GROUP_INVOLVED: ("多人卷入", "several people involved"),
    RiskFactor.PREVIOUS_CALLS: ("此前已报警", "police called before"),
    RiskFactor.ALCOHOL_OR_DRUGS: ("酗酒或涉毒", "alcohol or drugs"),
}
# Score thresholds, highest first.
_THRESHOLDS = ((6, RiskLevel.CRITICAL), (4, RiskLevel.HIGH), (2, RiskLevel.MEDIUM))
#: A dispute whose risk rose within this long is "rising" on the work lists.
RISING_WINDOW = timedelta(days=7)
#: A new call this close to a dispute's point is "at its address".
ESCALATION_RADIUS_M = 50.0
# Calls of these kinds are violence: a dispute they touch goes to high at least.
VIOLENT_INCIDENT_TYPES = frozenset(
    {
        "crim.homicide",
        "crim.assault",
        "crim.knife_attack",
        "crim.firearm",
        "crim.kidnapping",
        "crim.arson",
        "order.fight",
        "order.domestic_violence",
        "order.mass_disturbance",
        "help.suicide",
    }
)


@dataclass(frozen=True, slots=True)
class RiskReason:
    """One reason for a risk level: a stable ``code`` for clients, and its text in both languages."""

    code: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "zh": self.zh, "en": self.en}


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    level: RiskLevel
    reasons: tuple[RiskReason, ...]


def parse_kind(text: str) -> DisputeKind:
    try:
        return DisputeKind(text)
    except ValueError:
        raise ValidationFailed(
            f"unknown dispute kind {text!r}: one of {', '.join(k.value for k in DisputeKind)}",
            code="bad_dispute_kind",
            kind=text,
            allowed=[k.value for k in DisputeKind],
        ) from None


def parse_risk_level(text: str) -> RiskLevel:
    try:
        return RiskLevel(text)
    except ValueError:
        raise ValidationFailed(
            f"unknown risk level {text!r}: one of {', '.join(r.value for r in RiskLevel)}",
            code="bad_risk_level",
            risk=text,
            allowed=[r.value for r in RiskLevel],
        ) from None


def parse_factors(texts: Iterable[str]) -> frozenset[RiskFactor]:
    found: set[RiskFactor] = set()
    for text in texts:
        try:
            found.add(RiskFactor(text))
        except ValueError:
            raise ValidationFailed(
                f"unknown risk factor {text!r}",
                code="bad_risk_factor",
                factor=text,
                allowed=[f.value for f in RiskFactor],
            ) from None
    return frozenset(found)


def assess_risk(factors: Collection[RiskFactor], *, kind: DisputeKind) -> RiskAssessment:
    """The level the stated factors give, with one reason per factor (gravest first).

    A threat of violence inside a family weighs one more: domestic violence escalates behind
    closed doors, where no neighbour calls."""
    score = sum(_WEIGHTS[f] for f in factors)
    if kind is DisputeKind.FAMILY and RiskFactor.VIOLENCE_THREATENED in factors:
        score += 1
    level = next((lvl for threshold, lvl in _THRESHOLDS if score >= threshold), RiskLevel.LOW)
    ordered = sorted(factors, key=lambda f: (-_WEIGHTS[f], f.value))
    reasons = tuple(RiskReason(f.value, *_FACTOR_TEXT[f]) for f in ordered)
    if not reasons:
        reasons = (RiskReason("no_factors", "未发现风险因素", "no risk factor stated"),)
    return RiskAssessment(level, reasons)


def is_rising(raised_at: datetime | None, now: datetime) -> bool:
    """Whether the risk was raised recently enough to be flagged on the work lists."""
    return raised_at is not None and timedelta(0) <= now - raised_at <= RISING_WINDOW


def local_day(now: datetime, zone: tzinfo) -> date:
    """The bureau's calendar day at ``now`` (a follow-up is due on a day of the bureau's calendar)."""
    return now.astimezone(zone).date()


def days_overdue(due_on: date, *, done: bool, now: datetime, zone: tzinfo) -> int:
    """How many whole days past its day a follow-up is (0: not overdue). Due on a day means
    done by that day's end in the bureau's zone: overdue from the next local midnight."""
    if done:
        return 0
    return max(0, (local_day(now, zone) - due_on).days)


def address_key(text: str | None) -> str:
    """An address reduced for "the same address" comparison: NFKC (full-width digits and
    letters), lower case, without spaces and punctuation. Empty when nothing is left."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s\W_]+", "", folded)


class MatchBy(StrEnum):
    ADDRESS = "address"  # the call's point within ESCALATION_RADIUS_M, or the same address text
    PARTY = "party"  # the caller's phone or ID number is a party's


def address_matches(
    dispute_point: GeoPoint,
    dispute_address_key: str,
    call_point: GeoPoint,
    call_address: str | None,
    *,
    radius_m: float = ESCALATION_RADIUS_M,
) -> bool:
    if haversine_m(dispute_point, call_point) <= radius_m:
        return True
    key = address_key(call_address)
    return bool(key) and key == dispute_address_key


@dataclass(frozen=True, slots=True)
class Escalation:
    level: RiskLevel
    reason: RiskReason


def escalate(
    current: RiskLevel, *, incident_id: str, incident_type: str, matched_by: Collection[MatchBy]
) -> Escalation:
    """A new call from a dispute's address or one of its parties: one level up, and at least high
    when the call is violence. The reason names the call, so the officer can read it."""
    level = current.raised(1)
    if incident_type in VIOLENT_INCIDENT_TYPES and level.rank < RiskLevel.HIGH.rank:
        level = RiskLevel.HIGH
    by_party = MatchBy.PARTY in matched_by
    by_address = MatchBy.ADDRESS in matched_by
    where_zh = "此地址及当事人" if by_party and by_address else ("当事人" if by_party else "此地址")
    where_en = (
        "this address and a party" if by_party and by_address else ("a party" if by_party else "this address")
    )
    return Escalation(
        level,
        RiskReason(
            "new_call",
            f"新警情 {incident_id} 来自{where_zh}",
            f"new call {incident_id} from {where_en}",
        ),
    )


def combined_level(assessed: RiskLevel, floor: RiskLevel | None) -> RiskLevel:
    """The case's level: what the factors give, never below what escalations raised it to."""
    if floor is not None and floor.rank > assessed.rank:
        return floor
    return assessed


__all__ = [
    "ESCALATION_RADIUS_M",
    "RISING_WINDOW",
    "VIOLENT_INCIDENT_TYPES",
    "DisputeKind",
    "DisputeStatus",
    "Escalation",
    "MatchBy",
    "RiskAssessment",
    "RiskFactor",
    "RiskLevel",
    "RiskReason",
    "address_key",
    "address_matches",
    "assess_risk",
    "combined_level",
    "days_overdue",
    "escalate",
    "is_rising",
    "local_day",
    "parse_factors",
    "parse_kind",
    "parse_risk_level",
]
