"""Reading the registry: searches by address, name, identity number, phone or plate, and one
house, resident or business with its history. Each runs inside the write transaction that audits
it, so the look is on the audit chain before anything is answered; the caller masks nothing
itself: ``full`` says whether the caller may see names and numbers unmasked."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from jingwu.domain.identity import (
    mask_id_number,
    mask_name,
    mask_phone,
    parse_id_number,
    parse_phone,
    parse_plate,
)
from jingwu.domain.registry import RecordKind, parse_name
from jingwu.errors import Forbidden, NotFound, ValidationFailed
from jingwu.service.records import sealing as s
from jingwu.service.records.registry_store import (
    business_view,
    house_view,
    read_history,
    resident_view,
)
from jingwu.store import records_tables as rt
from jingwu.store.fieldcrypt import KeyRing

SEARCH_KINDS = ("address", "name", "id_number", "phone", "plate")
MAX_RESULTS = 100

h = rt.records_houses
r = rt.records_residents
b = rt.records_businesses


def normalise_search(by: str, value: str, *, today: Any) -> tuple[str, str]:
    """The value to search for, checked for its kind, and how the audit log names it (masked)."""
    if by not in SEARCH_KINDS:
        raise ValidationFailed("search by " + ", ".join(SEARCH_KINDS), code="bad_search_kind")
    if by == "id_number":
        number = parse_id_number(value, today=today).number
        return number, mask_id_number(number)
    if by == "phone":
        phone = parse_phone(value).normalised
        return phone, mask_phone(phone)
    if by == "plate":
        plate = parse_plate(value).number
        return plate, plate
    if by == "name":
        name = "".join(parse_name(value).split())
        return name, mask_name(name)
    text = " ".join(str(value).split())
    if len(text) < 2:
        raise ValidationFailed("type at least two characters of the address", code="query_too_short")
    return text, text


def within(station_id: str | None, station_ids: Collection[str] | None) -> bool:
    return station_ids is None or station_id in station_ids


def _house_filter(station_ids: Collection[str] | None) -> Any:
    return True if station_ids is None else h.c.station_id.in_(list(station_ids))


def _resident_out(keys: KeyRing, row: Any, *, full: bool) -> dict[str, Any]:
    view = s.mask_person(resident_view(keys, row), full=full)
    view["house_label"] = row.label
    view["station_id"] = row.station_id
    return view


def _business_out(keys: KeyRing, row: Any, *, full: bool) -> dict[str, Any]:
    view = business_view(keys, row)
    view["people_in_charge"] = [s.mask_person(p, full=full) for p in view["people_in_charge"]]
    view["house_label"] = row.label
    view["station_id"] = row.station_id
    return view


def search(
    conn: Connection, keys: KeyRing, by: str, value: str, *, station_ids: Collection[str] | None, full: bool
) -> dict[str, Any]:
    residents_q = (
        select(r, h.c.label, h.c.station_id).join(h, h.c.id == r.c.house_id).where(_house_filter(station_ids))
    )
    businesses: Sequence[Any] = []
    houses: Sequence[Any] = []
    if by == "id_number":
        residents_q = residents_q.where(r.c.id_index == s.id_index(keys, value))
    elif by == "phone":
        residents_q = residents_q.where(r.c.phone_index == s.phone_index(keys, value))
    elif by == "name":
        residents_q = residents_q.where(r.c.name_index == s.name_index(keys, value))
        businesses = conn.execute(
            select(b, h.c.label, h.c.station_id)
            .join(h, h.c.id == b.c.house_id)
            .where(and_(_house_filter(station_ids), b.c.name.contains(value, autoescape=True)))
            .limit(MAX_RESULTS)
        ).all()
    elif by == "plate":
        residents_q = residents_q.where(
            r.c.id.in_(select(rt.records_plates.c.resident_id).where(rt.records_plates.c.plate == value))
        )
    else:
        words = value.split()
        matches = and_(*(or_(h.c.label.contains(w, autoescape=True)) for w in words))
        houses = conn.execute(
            select(h).where(and_(_house_filter(station_ids), matches)).order_by(h.c.label).limit(MAX_RESULTS)
        ).all()
        ids = [x.id for x in houses]
        residents_q = residents_q.where(r.c.house_id.in_(ids))
        businesses = conn.execute(
            select(b, h.c.label, h.c.station_id).join(h, h.c.id == b.c.house_id).where(b.c.house_id.in_(ids))
        ).all()
    residents = conn.execute(residents_q.order_by(h.c.label, r.c.id).limit(MAX_RESULTS)).all()
    return {
        "by": by,
        "houses": [house_view(x) for x in houses],
        "residents": [_resident_out(keys, x, full=full) for x in residents],
        "businesses": [_business_out(keys, x, full=full) for x in businesses],
        "masked": not full,
    }


def _outside(kind: str, record_id: str) -> Forbidden:
    return Forbidden(f"this {kind} lies outside your jurisdiction", code="out_of_jurisdiction", id=record_id)


def house_row(conn: Connection, house_id: str, station_ids: Collection[str] | None) -> Any:
    row = conn.execute(select(h).where(h.c.id == house_id)).first()
    if row is None:
        raise NotFound(f"no house {house_id}", code="house_not_found", house_id=house_id)
    if not within(row.station_id, station_ids):
        raise _outside("house", house_id)
    return row


def photos_of_record(conn: Connection, kind: RecordKind, record_id: str) -> list[dict[str, Any]]:
    p = rt.records_photos
    rows = conn.execute(
        select(p.c.id, p.c.content_type, p.c.size, p.c.created_at, p.c.created_by, p.c.collection_id)
        .where(and_(p.c.record_kind == str(kind), p.c.record_id == record_id))
        .order_by(p.c.created_at, p.c.id)
    ).all()
    return [dict(x._mapping) for x in rows]


def house_detail(conn: Connection, keys: KeyRing, row: Any, *, full: bool) -> dict[str, Any]:
    """A house with its households, residents (moved-out ones too, marked), businesses, photos
    and its history."""
    view = house_view(row)
    households = conn.execute(
        select(rt.records_households)
        .where(rt.records_households.c.house_id == row.id)
        .order_by(rt.records_households.c.id)
    ).all()
    residents = conn.execute(
        select(r, h.c.label, h.c.station_id)
        .join(h, h.c.id == r.c.house_id)
        .where(r.c.house_id == row.id)
        .order_by(r.c.id)
    ).all()
    businesses = conn.execute(
        select(b, h.c.label, h.c.station_id).join(h, h.c.id == b.c.house_id).where(b.c.house_id == row.id)
    ).all()
    view["households"] = [{"id": x.id, "number": x.number} for x in households]
    view["residents"] = [_resident_out(keys, x, full=full) for x in residents]
    view["businesses"] = [_business_out(keys, x, full=full) for x in businesses]
    view["photos"] = photos_of_record(conn, RecordKind.HOUSE, row.id)
    view["history"] = read_history(conn, keys, RecordKind.HOUSE, row.id, full=full)
    view["masked"] = not full
    return view


def resident_detail(
    conn: Connection, keys: KeyRing, resident_id: str, *, station_ids: Collection[str] | None, full: bool
) -> dict[str, Any]:
    row = conn.execute(
        select(r, h.c.label, h.c.station_id).join(h, h.c.id == r.c.house_id).where(r.c.id == resident_id)
    ).first()
    if row is None:
        raise NotFound(f"no resident {resident_id}", code="resident_not_found", resident_id=resident_id)
    if not within(row.station_id, station_ids):
        raise _outside("resident", resident_id)
    view = _resident_out(keys, row, full=full)
    view["photos"] = photos_of_record(conn, RecordKind.RESIDENT, resident_id)
    view["history"] = read_history(conn, keys, RecordKind.RESIDENT, resident_id, full=full)
    view["masked"] = not full
    return view


def business_detail(
    conn: Connection, keys: KeyRing, business_id: str, *, station_ids: Collection[str] | None, full: bool
) -> dict[str, Any]:
    row = conn.execute(
        select(b, h.c.label, h.c.station_id).join(h, h.c.id == b.c.house_id).where(b.c.id == business_id)
    ).first()
    if row is None:
        raise NotFound(f"no business {business_id}", code="business_not_found", business_id=business_id)
    if not within(row.station_id, station_ids):
        raise _outside("business", business_id)
    view = _business_out(keys, row, full=full)
    view["photos"] = photos_of_record(conn, RecordKind.BUSINESS, business_id)
    view["history"] = read_history(conn, keys, RecordKind.BUSINESS, business_id, full=full)
    view["masked"] = not full
    return view


def conflicts(
    conn: Connection, keys: KeyRing, *, status: str | None, station_ids: Collection[str] | None, full: bool
) -> list[dict[str, Any]]:
    """Conflicts where either address lies in the jurisdiction, newest first."""
    c = rt.records_conflicts
    existing = h.alias("existing")
    claimed = h.alias("claimed")
    query = (
        select(
            c,
            existing.c.label.label("existing_label"),
            claimed.c.label.label("claimed_label"),
            r.c.name,
            r.c.id_number,
        )
        .join(existing, existing.c.id == c.c.existing_house_id)
        .join(claimed, claimed.c.id == c.c.claimed_house_id)
        .join(r, r.c.id == c.c.resident_id)
        .order_by(c.c.opened_at.desc(), c.c.id)
        .limit(200)
    )
    if status is not None:
        query = query.where(c.c.status == status)
    if station_ids is not None:
        ids = list(station_ids)
        query = query.where(or_(c.c.station_id.in_(ids), c.c.existing_station_id.in_(ids)))
    out = []
    for x in conn.execute(query).all():
        person = s.mask_person(
            {"name": s.unseal(keys, x.name, s.NAME), "id_number": s.unseal(keys, x.id_number, s.ID_NUMBER)},
            full=full,
        )
        out.append(
            {
                "id": x.id,
                "status": x.status,
                "collection_id": x.collection_id,
                "resident_id": x.resident_id,
                "name": person["name"],
                "id_number": person["id_number"],
                "existing_house": {
                    "id": x.existing_house_id,
                    "label": x.existing_label,
                    "station_id": x.existing_station_id,
                },
                "claimed_house": {
                    "id": x.claimed_house_id,
                    "label": x.claimed_label,
                    "station_id": x.station_id,
                },
                "opened_at": x.opened_at,
                "settled_by": x.settled_by,
                "settled_at": x.settled_at,
                "resolution": x.resolution,
                "note": x.note,
                "masked": not full,
            }
        )
    return out


__all__ = [
    "SEARCH_KINDS",
    "business_detail",
    "conflicts",
    "house_detail",
    "house_row",
    "normalise_search",
    "resident_detail",
    "search",
    "within",
]
