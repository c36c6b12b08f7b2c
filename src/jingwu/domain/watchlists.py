"""Watch lists (布控名单) and what a patrol check (巡逻盘查) against them means.

Pure: the four lists, which subject each holds (a person's identity number or a vehicle's plate),
when an entry is in force, what the officer is told in plain words on a hit, and the checks of a
check's or an entry's input. Times are passed in; nothing here reads a clock or stores anything.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from jingwu.domain.identity import mask_id_number, parse_id_number, parse_plate
from jingwu.errors import NotFound, ValidationFailed

MAX_REASON_CHARS = 200
MAX_LABEL_CHARS = 100


class SubjectKind(enum.StrEnum):
    PERSON = "person"  # by resident identity number
    VEHICLE = "vehicle"  # by plate


class WatchList(enum.StrEnum):
    WANTED = "wanted"  # 在逃人员
    MISSING = "missing"  # 失踪人员
    STOLEN_VEHICLE = "stolen_vehicle"  # 被盗抢车辆
    VEHICLE_OF_INTEREST = "vehicle_of_interest"  # 关注车辆

    @property
    def subject(self) -> SubjectKind:
        return SubjectKind.PERSON if self in (WatchList.WANTED, WatchList.MISSING) else SubjectKind.VEHICLE


class Danger(enum.StrEnum):
    """How the officer should approach: ``danger`` needs backup before anything else."""

    DANGER = "danger"
    CARE = "care"
    WATCH = "watch"


@dataclass(frozen=True, slots=True)
class Instruction:
    """What the officer does on a hit, in plain words, in both languages."""

    danger: Danger
    zh_cn: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"danger": str(self.danger), "zh-CN": self.zh_cn, "en": self.en}


LIST_NAMES: Mapping[WatchList, tuple[str, str]] = {
    WatchList.WANTED: ("在逃人员", "Wanted person"),
    WatchList.MISSING: ("失踪人员", "Missing person"),
    WatchList.STOLEN_VEHICLE: ("被盗抢车辆", "Stolen vehicle"),
    WatchList.VEHICLE_OF_INTEREST: ("关注车辆", "Vehicle of interest"),
}

INSTRUCTIONS: Mapping[WatchList, Instruction] = {
    WatchList.WANTED: Instruction(
        Danger.DANGER,
        "在逃人员：保持安全距离，不要单独控制，稳住对方，等待增援。",
        "Wanted person: keep a safe distance, do not try to detain alone, keep them calm, wait for backup.",
    ),
    WatchList.STOLEN_VEHICLE: Instruction(
        Danger.DANGER,
        "被盗抢车辆：不要单独拦截，记下位置、车型和行驶方向，等待增援。",
        "Stolen vehicle: do not stop it alone; note where it is, what it looks like and where it is going; "
        "wait for backup.",
    ),
    WatchList.MISSING: Instruction(
        Danger.CARE,
        "失踪人员：确认本人是否安全，安抚并陪同在原地，指挥中心通知家属。",
        "Missing person: make sure they are safe, stay with them calmly where you are; "
        "the command room tells the family.",
    ),
    WatchList.VEHICLE_OF_INTEREST: Instruction(
        Danger.WATCH,
        "关注车辆：不要惊动车上人员，记下人员和去向，报告指挥中心。",
        "Vehicle of interest: do not alert the occupants; note who is in it and where it goes; "
        "report to the command room.",
    ),
}

_DANGER_ORDER = (Danger.DANGER, Danger.CARE, Danger.WATCH)
_LIST_ORDER = (WatchList.WANTED, WatchList.STOLEN_VEHICLE, WatchList.MISSING, WatchList.VEHICLE_OF_INTEREST)


def watch_list(name: str) -> WatchList:
    """The list named in a path (404 ``unknown_watchlist`` for anything else: the list is a
    resource, and one that does not exist is not found)."""
    try:
        return WatchList(name)
    except ValueError:
        raise NotFound(
            f"no watch list {name!r}; the lists are {', '.join(w.value for w in WatchList)}",
            code="unknown_watchlist",
            list=name,
            lists=[w.value for w in WatchList],
        ) from None


def _words(text: object) -> str:
    """Text as stored: control characters dropped (a NUL cannot be stored in PostgreSQL's text),
    runs of white space made one space."""
    if not isinstance(text, str):
        return ""
    return " ".join("".join(c for c in text if c.isprintable() or c.isspace()).split())


def stated_reason(text: object) -> str:
    """A check's or an entry's reason, white space collapsed: 422 ``reason_required`` when empty
    or blank, ``reason_too_long`` past 200 characters."""
    value = _words(text)
    if not value:
        raise ValidationFailed("state the reason (盘查事由 / 布控事由)", code="reason_required")
    if len(value) > MAX_REASON_CHARS:
        raise ValidationFailed(
            f"the reason has at most {MAX_REASON_CHARS} characters",
            code="reason_too_long",
            max=MAX_REASON_CHARS,
        )
    return value


def optional_label(text: object) -> str | None:
    """An entry's optional name or description (blank: none); 422 ``label_too_long``."""
    if text is None:
        return None
    value = _words(text)
    if len(value) > MAX_LABEL_CHARS:
        raise ValidationFailed(
            f"the name or description has at most {MAX_LABEL_CHARS} characters",
            code="label_too_long",
            max=MAX_LABEL_CHARS,
        )
    return value or None


def subject_of(kind: SubjectKind, text: object, *, today: date) -> str:
    """The normalised subject of a check or an entry: a checked identity number (``bad_id_*``)
    or plate (``bad_plate``)."""
    raw = text if isinstance(text, str) else ""
    if kind is SubjectKind.PERSON:
        return parse_id_number(raw, today=today).number
    return parse_plate(raw).number


def mask_subject(kind: SubjectKind, subject: str) -> str:
    """``2301**********123X`` / ``黑A***45``: enough to tell two entries apart on a screen, not
    enough to search anyone by."""
    if kind is SubjectKind.PERSON:
        return mask_id_number(subject)
    if len(subject) <= 4:
        return "*" * len(subject)
    return subject[:2] + "*" * (len(subject) - 4) + subject[-2:]


def check_expiry(expires_at: datetime | None, *, now: datetime) -> None:
    """An entry added already expired would never hit: 422 ``expiry_in_past``."""
    if expires_at is None:
        return
    if expires_at.tzinfo is None:
        raise ValidationFailed("give the expiry with its time zone (e.g. +08:00)", code="naive_datetime")
    if expires_at <= now:
        raise ValidationFailed("the expiry is not in the future", code="expiry_in_past")


@dataclass(frozen=True, slots=True)
class Entry:
    """One watch-list entry, opened (the subject in the clear) for a check or a listing."""

    id: str
    list: WatchList
    subject: str
    label: str | None
    reason: str
    added_by: str
    added_at: datetime
    station_id: str | None = None
    expires_at: datetime | None = None
    removed_at: datetime | None = None

    def in_force(self, now: datetime) -> bool:
        """Expired and removed entries never hit."""
        return self.removed_at is None and (self.expires_at is None or self.expires_at > now)


def hits(entries: Iterable[Entry], *, kind: SubjectKind, now: datetime) -> list[Entry]:
    """The entries in force on a list of ``kind``, the most urgent first (wanted before stolen
    before missing before of-interest; then the newest)."""
    found = [e for e in entries if e.list.subject is kind and e.in_force(now)]
    found.sort(key=lambda e: (_LIST_ORDER.index(e.list), -e.added_at.timestamp()))
    return found


def instruction_for(found: Iterable[Entry]) -> Instruction | None:
    """What to tell the officer for a set of hits: the most dangerous list's words."""
    lists = {e.list for e in found}
    if not lists:
        return None
    return min((INSTRUCTIONS[w] for w in lists), key=lambda i: _DANGER_ORDER.index(i.danger))


__all__ = [
    "INSTRUCTIONS",
    "LIST_NAMES",
    "MAX_LABEL_CHARS",
    "MAX_REASON_CHARS",
    "Danger",
    "Entry",
    "Instruction",
    "SubjectKind",
    "WatchList",
    "check_expiry",
    "hits",
    "instruction_for",
    "mask_subject",
    "optional_label",
    "stated_reason",
    "subject_of",
    "watch_list",
]
