"""The community registry (实有人口 / 实有房屋 / 实有单位): houses on standard addresses, households,
residents and businesses, and the rules that keep it honest.

Pure: the parsers turn what a collector typed into checked values or refuse it with a stable
``code`` (:class:`~jingwu.errors.ValidationFailed`); ``today`` is passed in. The store seals the
personal fields; this module only decides what is valid, what changed (:func:`changes`) and when a
new record would put one person at two actual addresses (:func:`residence_conflict`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from jingwu.domain.geo import GeoPoint
from jingwu.domain.identity import parse_id_number, parse_phone, parse_plate
from jingwu.errors import ValidationFailed


class RecordKind(enum.StrEnum):
    HOUSE = "house"
    HOUSEHOLD = "household"
    RESIDENT = "resident"
    BUSINESS = "business"


class Relation(enum.StrEnum):
    """A member's relation to the head of the household (与户主关系)."""

    HEAD = "head"  # 户主
    SPOUSE = "spouse"  # 配偶
    CHILD = "child"  # 子女
    PARENT = "parent"  # 父母
    GRANDCHILD = "grandchild"  # 孙子女
    SIBLING = "sibling"  # 兄弟姐妹
    TENANT = "tenant"  # 租住人员
    OTHER = "other"  # 其他


class BusinessKind(enum.StrEnum):
    SHOP = "shop"  # 商铺
    RESTAURANT = "restaurant"  # 餐饮
    HOTEL = "hotel"  # 旅馆 (a 特种行业: registers its guests)
    ENTERTAINMENT = "entertainment"  # 娱乐场所
    OFFICE = "office"  # 办公
    FACTORY = "factory"  # 工厂
    REPAIR = "repair"  # 修理 (another 特种行业)
    OTHER = "other"


class Channel(enum.StrEnum):
    """Where a change was made: collected in the field, or entered at the station."""

    TERMINAL = "terminal"
    STATION = "station"


class CollectionStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for review
    APPROVED = "approved"  # applied to the registry
    RETURNED = "returned"  # sent back to the collector with a reason
    CONFLICT = "conflict"  # approved, but held: the person lives elsewhere on record


class ConflictStatus(enum.StrEnum):
    OPEN = "open"
    SETTLED = "settled"


class Resolution(enum.StrEnum):
    KEEP_EXISTING = "keep_existing"  # the record stays; the collection is returned
    MOVE_TO_NEW = "move_to_new"  # the person moved: the old address ends, the new one applies


# --------------------------------------------------------------------------------------------
# Business licences: the unified social credit code (统一社会信用代码, GB 32100-2015)
# --------------------------------------------------------------------------------------------

#: The 31 characters of the code (no I, O, S, V, Z), each worth its index.
LICENCE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_LICENCE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_LICENCE = re.compile(f"[{LICENCE_CHARS}]{{2}}[0-9]{{6}}[{LICENCE_CHARS}]{{10}}")


def licence_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters (ISO 7064 MOD 31-3 weights)."""
    if len(first17) != 17 or any(c not in LICENCE_CHARS for c in first17):
        raise ValueError("the check character is computed from 17 code characters")
    total = sum(LICENCE_CHARS.index(c) * w for c, w in zip(first17, _LICENCE_WEIGHTS, strict=True))
    return LICENCE_CHARS[(31 - total % 31) % 31]


def parse_licence_number(text: str) -> str:
    """A unified social credit code, upper-cased and without spaces; ``bad_licence_number`` when
    it is not 18 characters of the code's alphabet with a six-digit region and a matching check."""
    value = re.sub(r"\s", "", text).upper() if isinstance(text, str) else ""
    if not _LICENCE.fullmatch(value) or licence_check_char(value[:17]) != value[17]:
        raise ValidationFailed(
            "a licence number is an 18-character unified social credit code with a valid check character",
            code="bad_licence_number",
        )
    return value


# --------------------------------------------------------------------------------------------
# The records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HouseAddress:
    """A standard address (标准地址): the street address it hangs on, then 社区 / 楼 / 单元 / 室."""

    street_address: str  # 红军街85号
    community: str  # 社区 (without the word: 保健路)
    building: str  # 楼 / 号 / 栋
    unit: str  # 单元, "" for a building without stairwells
    room: str  # 室, "" for a whole building (a shop, a house)
    lat: float
    lon: float

    @property
    def label(self) -> str:
        """``红军街85号 保健路社区 3号楼2单元501室``: how the registry writes it."""
        community = self.community if self.community.endswith("社区") else self.community + "社区"
        parts = [f"{self.building}{'' if self.building.endswith(('楼', '号', '栋')) else '号楼'}"]
        if self.unit:
            parts.append(f"{self.unit}{'' if self.unit.endswith('单元') else '单元'}")
        if self.room:
            parts.append(f"{self.room}{'' if self.room.endswith('室') else '室'}")
        return f"{self.street_address} {community} {''.join(parts)}"

    @property
    def key(self) -> str:
        """What makes two addresses the same house: the text parts, spaces and case ignored."""
        parts = (self.street_address, self.community, self.building, self.unit, self.room)
        return "|".join(re.sub(r"\s", "", p).upper() for p in parts)


@dataclass(frozen=True, slots=True)
class ResidentFields:
    name: str
    id_number: str
    phone: str | None  # E.164
    relation: Relation
    registered_address: str  # 户籍地址
    moved_in: date | None
    moved_out: date | None
    plates: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HouseholdFields:
    number: str  # 户号, "" when not known


@dataclass(frozen=True, slots=True)
class PersonInCharge:
    name: str
    phone: str | None
    id_number: str | None
    role: str  # 法定代表人 / 负责人 / 治安保卫负责人


@dataclass(frozen=True, slots=True)
class BusinessFields:
    name: str
    licence_number: str
    kind: BusinessKind
    people_in_charge: tuple[PersonInCharge, ...]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One field of one record changed: who, when, from where, before → after."""

    record_kind: RecordKind
    record_id: str
    ts: datetime
    actor: str  # the collector (or the station's user who entered it)
    reviewer: str | None  # who approved it
    channel: Channel
    collection_id: str | None
    field: str
    before: str | None
    after: str | None


# Fields that name a person: sealed at rest, masked when shown (history included).
PERSONAL_FIELDS = frozenset({"name", "id_number", "phone", "people_in_charge"})

_MAX_TEXT = 120


def _text(data: Mapping[str, Any], key: str, *, required: bool, max_len: int = _MAX_TEXT) -> str:
    value = data.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{key} must be text", code="bad_field", field=key)
    value = " ".join(value.split())
    if required and not value:
        raise ValidationFailed(f"{key} is required", code="missing_field", field=key)
    if len(value) > max_len:
        raise ValidationFailed(f"{key} is at most {max_len} characters", code="bad_field", field=key)
    return value


def _only(data: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(f"unknown fields: {', '.join(unknown)}", code="unknown_field", fields=unknown)


def _date(data: Mapping[str, Any], key: str, *, today: date) -> date | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        day = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None or day > today or day.year < 1900:
        raise ValidationFailed(
            f"{key} must be a date (YYYY-MM-DD) not in the future", code="bad_date", field=key
        )
    return day


def parse_house(data: Mapping[str, Any]) -> HouseAddress:
    """A house from a collection: the standard address parts and its WGS-84 point."""
    _only(data, {"street_address", "community", "building", "unit", "room", "lat", "lon"})
    point = GeoPoint(lat=data.get("lat"), lon=data.get("lon"))  # type: ignore[arg-type]
    return HouseAddress(
        street_address=_text(data, "street_address", required=True),
        community=_text(data, "community", required=True, max_len=40),
        building=_text(data, "building", required=True, max_len=20),
        unit=_text(data, "unit", required=False, max_len=20),
        room=_text(data, "room", required=False, max_len=20),
        lat=point.lat,
        lon=point.lon,
    )


def parse_household(data: Mapping[str, Any]) -> HouseholdFields:
    _only(data, {"number"})
    return HouseholdFields(number=_text(data, "number", required=False, max_len=32))


def parse_name(value: Any, *, field: str = "name") -> str:
    name = _text({field: value}, field, required=True, max_len=40)
    if any(c.isdigit() for c in name):
        raise ValidationFailed("a name has no digits", code="bad_name", field=field)
    return name


def parse_resident(data: Mapping[str, Any], *, today: date) -> ResidentFields:
    """A resident: the identity number checked (``bad_id_*``), the phone (``bad_phone``), the plates
    (``bad_plate``), the relation, and moved-in / moved-out dates in order."""
    _only(
        data,
        {"name", "id_number", "phone", "relation", "registered_address", "moved_in", "moved_out", "plates"},
    )
    id_number = parse_id_number(data.get("id_number"), today=today).number  # type: ignore[arg-type]
    phone_text = data.get("phone")
    phone = parse_phone(phone_text).normalised if phone_text not in (None, "") else None
    try:
        relation = Relation(data.get("relation") or Relation.OTHER)
    except ValueError:
        raise ValidationFailed(
            "relation is one of " + ", ".join(r.value for r in Relation), code="bad_relation"
        ) from None
    plates_in = data.get("plates") or []
    if not isinstance(plates_in, list) or len(plates_in) > 10:
        raise ValidationFailed("plates is a list of at most 10 plate numbers", code="bad_plate")
    plates = tuple(dict.fromkeys(parse_plate(p).number for p in plates_in))
    moved_in = _date(data, "moved_in", today=today)
    moved_out = _date(data, "moved_out", today=today)
    if moved_in and moved_out and moved_out < moved_in:
        raise ValidationFailed("moved_out is before moved_in", code="bad_date", field="moved_out")
    return ResidentFields(
        name=parse_name(data.get("name")),
        id_number=id_number,
        phone=phone,
        relation=relation,
        registered_address=_text(data, "registered_address", required=False),
        moved_in=moved_in,
        moved_out=moved_out,
        plates=plates,
    )


def parse_business(data: Mapping[str, Any], *, today: date) -> BusinessFields:
    _only(data, {"name", "licence_number", "kind", "people_in_charge"})
    try:
        kind = BusinessKind(data.get("kind") or BusinessKind.OTHER)
    except ValueError:
        raise ValidationFailed(
            "kind is one of " + ", ".join(k.value for k in BusinessKind), code="bad_business_kind"
        ) from None
    people_in = data.get("people_in_charge") or []
    if not isinstance(people_in, list) or len(people_in) > 5:
        raise ValidationFailed("people_in_charge is a list of at most 5 people", code="bad_field")
    people = []
    for person in people_in:
        if not isinstance(person, dict):
            raise ValidationFailed("each person in charge is an object", code="bad_field")
        _only(person, {"name", "phone", "id_number", "role"})
        phone, number = person.get("phone"), person.get("id_number")
        people.append(
            PersonInCharge(
                name=parse_name(person.get("name")),
                phone=parse_phone(phone).normalised if phone not in (None, "") else None,
                id_number=parse_id_number(number, today=today).number if number not in (None, "") else None,
                role=_text(person, "role", required=False, max_len=20) or "负责人",
            )
        )
    return BusinessFields(
        name=_text(data, "name", required=True),
        licence_number=parse_licence_number(data.get("licence_number")),  # type: ignore[arg-type]
        kind=kind,
        people_in_charge=tuple(people),
    )


def as_values(
    record: ResidentFields | HouseholdFields | BusinessFields | HouseAddress,
) -> dict[str, str | None]:
    """Each field as the text the history keeps (dates ISO, lists joined, people as one line)."""
    out: dict[str, str | None] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if value is None or isinstance(value, str):
            out[f.name] = value
        elif isinstance(value, date | float | enum.Enum):
            out[f.name] = value.isoformat() if isinstance(value, date) else str(value)
        elif f.name == "people_in_charge":
            out[f.name] = "; ".join(f"{p.role}:{p.name}:{p.phone or ''}:{p.id_number or ''}" for p in value)
        else:
            out[f.name] = ",".join(value)
    return out


def changes(
    before: Mapping[str, str | None], after: Mapping[str, str | None]
) -> list[tuple[str, str | None, str | None]]:
    """The fields that differ, as (field, before, after), in the order of ``after``."""
    return [(k, before.get(k), v) for k, v in after.items() if before.get(k) != v]


@dataclass(frozen=True, slots=True)
class Residence:
    """Where the registry has a person living now: their record and its house."""

    resident_id: str
    house_id: str


def residence_conflict(
    current: Residence | None, *, claimed_house_id: str, target_id: str | None, moved_out: date | None
) -> bool:
    """Whether applying a resident record would put one identity number at two actual addresses.

    No conflict when nobody lives anywhere under that number, when it is the same house, when the
    collection names the record it changes (the collector says the person moved), or when the new
    record itself says the person has moved out. Otherwise the registry keeps what it has and a
    reviewer decides: never a silent overwrite."""
    if current is None or current.house_id == claimed_house_id or moved_out is not None:
        return False
    return target_id != current.resident_id


__all__ = [
    "LICENCE_CHARS",
    "PERSONAL_FIELDS",
    "BusinessFields",
    "BusinessKind",
    "Channel",
    "CollectionStatus",
    "ConflictStatus",
    "HistoryEntry",
    "HouseAddress",
    "HouseholdFields",
    "PersonInCharge",
    "RecordKind",
    "Relation",
    "Residence",
    "ResidentFields",
    "Resolution",
    "as_values",
    "changes",
    "licence_check_char",
    "parse_business",
    "parse_house",
    "parse_household",
    "parse_licence_number",
    "parse_name",
    "parse_resident",
    "residence_conflict",
]
