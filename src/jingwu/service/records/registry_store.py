"""Writing the registry inside a transaction: houses found by their standard address, residents by
their identity number's blind index, every changed field written to the history; and the rows
read back as plain views (personal fields opened, not yet masked)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from jingwu.domain.registry import (
    PERSONAL_FIELDS,
    BusinessFields,
    Channel,
    HouseAddress,
    HouseholdFields,
    RecordKind,
    Residence,
    ResidentFields,
    as_values,
    changes,
)
from jingwu.errors import Conflict, ValidationFailed
from jingwu.service.ids import new_id
from jingwu.service.records import sealing as s
from jingwu.store import records_tables as rt
from jingwu.store.fieldcrypt import KeyRing


@dataclass(frozen=True, slots=True)
class Change:
    """Who makes the changes of one applied collection, and from where."""

    actor: str
    reviewer: str | None
    channel: Channel
    collection_id: str | None
    now: datetime


def history_rows(
    keys: KeyRing,
    kind: RecordKind,
    record_id: str,
    change: Change,
    before: Mapping[str, str | None],
    after: Mapping[str, str | None],
) -> list[dict[str, Any]]:
    """The history rows of one record's changed fields; personal values sealed."""
    rows = []
    for field, old, new in changes(before, after):
        personal = field in PERSONAL_FIELDS
        rows.append(
            {
                "record_kind": str(kind),
                "record_id": record_id,
                "ts": change.now,
                "actor": change.actor,
                "reviewer": change.reviewer,
                "channel": str(change.channel),
                "collection_id": change.collection_id,
                "field": field,
                "before": s.seal(keys, old, s.HISTORY) if personal else old,
                "after": s.seal(keys, new, s.HISTORY) if personal else new,
            }
        )
    return rows


def write_history(
    conn: Connection,
    keys: KeyRing,
    kind: RecordKind,
    record_id: str,
    change: Change,
    before: Mapping[str, str | None],
    after: Mapping[str, str | None],
) -> int:
    """One history row per changed field. Returns how many."""
    rows = history_rows(keys, kind, record_id, change, before, after)
    if rows:
        conn.execute(insert(rt.records_history), rows)
    return len(rows)


def house_values(address: HouseAddress, station_id: str | None) -> dict[str, Any]:
    return {
        "street_address": address.street_address,
        "community": address.community,
        "building": address.building,
        "unit": address.unit,
        "room": address.room,
        "lat": address.lat,
        "lon": address.lon,
        "address_key": address.key,
        "label": address.label,
        "station_id": station_id,
    }


def house_history_values(values: dict[str, Any]) -> dict[str, str | None]:
    return {k: (None if v is None else str(v)) for k, v in values.items() if k != "address_key"}


def put_house(
    conn: Connection,
    keys: KeyRing,
    address: HouseAddress,
    station_id: str | None,
    change: Change,
    *,
    target_id: str | None = None,
) -> str:
    """The house at this standard address, created if new; with ``target_id``, that house
    corrected to this address (refused with 409 ``house_exists`` if another house holds it)."""
    values = house_values(address, station_id)
    same = conn.execute(
        select(rt.records_houses).where(rt.records_houses.c.address_key == address.key)
    ).first()
    if target_id is not None and same is not None and same.id != target_id:
        raise Conflict("another house has this address", code="house_exists", house_id=same.id)
    row = same
    if target_id is not None:
        row = conn.execute(select(rt.records_houses).where(rt.records_houses.c.id == target_id)).first()
        if row is None:
            raise ValidationFailed(f"no house {target_id}", code="unknown_record", target_id=target_id)
    if row is None:
        house_id = new_id("hse")
        conn.execute(
            insert(rt.records_houses).values(
                id=house_id, created_at=change.now, updated_at=change.now, **values
            )
        )
        write_history(conn, keys, RecordKind.HOUSE, house_id, change, {}, house_history_values(values))
        return str(house_id)
    before = house_history_values({k: getattr(row, k) for k in values})
    if write_history(conn, keys, RecordKind.HOUSE, row.id, change, before, house_history_values(values)):
        conn.execute(
            update(rt.records_houses)
            .where(rt.records_houses.c.id == row.id)
            .values(updated_at=change.now, **values)
        )
    return str(row.id)


def put_household(
    conn: Connection,
    keys: KeyRing,
    fields: HouseholdFields,
    house_id: str,
    change: Change,
    *,
    target_id: str | None,
) -> str:
    after = {"number": fields.number, "house_id": house_id}
    if target_id is None:
        household_id = new_id("hh")
        conn.execute(
            insert(rt.records_households).values(
                id=household_id,
                house_id=house_id,
                number=fields.number,
                created_at=change.now,
                updated_at=change.now,
            )
        )
        write_history(conn, keys, RecordKind.HOUSEHOLD, household_id, change, {}, after)
        return household_id
    row = conn.execute(select(rt.records_households).where(rt.records_households.c.id == target_id)).first()
    if row is None:
        raise ValidationFailed(f"no household {target_id}", code="unknown_record", target_id=target_id)
    if write_history(
        conn,
        keys,
        RecordKind.HOUSEHOLD,
        target_id,
        change,
        {"number": row.number, "house_id": row.house_id},
        after,
    ):
        conn.execute(
            update(rt.records_households)
            .where(rt.records_households.c.id == target_id)
            .values(number=fields.number, house_id=house_id, updated_at=change.now)
        )
    return target_id


def active_residence(conn: Connection, keys: KeyRing, id_number: str) -> Residence | None:
    """Where the registry has this identity number living now (not moved out), if anywhere."""
    row = conn.execute(
        select(rt.records_residents.c.id, rt.records_residents.c.house_id)
        .where(
            and_(
                rt.records_residents.c.id_index == s.id_index(keys, id_number),
                rt.records_residents.c.moved_out.is_(None),
            )
        )
        .order_by(rt.records_residents.c.updated_at.desc())
    ).first()
    return Residence(row.id, row.house_id) if row is not None else None


def resident_history_values(
    fields: ResidentFields, house_id: str, household_id: str | None
) -> dict[str, str | None]:
    return as_values(fields) | {"house_id": house_id, "household_id": household_id}


def _household_for(
    conn: Connection, keys: KeyRing, fields: ResidentFields, house_id: str, change: Change
) -> str | None:
    """The household a resident joins when the collection names none: the house's only household,
    or a new one for a head of household."""
    ids = (
        conn.execute(
            select(rt.records_households.c.id).where(rt.records_households.c.house_id == house_id).limit(2)
        )
        .scalars()
        .all()
    )
    if len(ids) == 1:
        return str(ids[0])
    if not ids and fields.relation == "head":
        return put_household(conn, keys, HouseholdFields(number=""), house_id, change, target_id=None)
    return None


def resident_values(
    keys: KeyRing, fields: ResidentFields, house_id: str, household_id: str | None, now: datetime
) -> dict[str, Any]:
    """A resident's columns: the personal ones sealed, with their blind indexes."""
    return {
        "house_id": house_id,
        "household_id": household_id,
        "relation": str(fields.relation),
        "name": s.seal(keys, fields.name, s.NAME),
        "name_index": s.name_index(keys, fields.name),
        "id_number": s.seal(keys, fields.id_number, s.ID_NUMBER),
        "id_index": s.id_index(keys, fields.id_number),
        "phone": s.seal(keys, fields.phone, s.PHONE),
        "phone_index": s.phone_index(keys, fields.phone) if fields.phone else None,
        "registered_address": fields.registered_address,
        "moved_in": fields.moved_in,
        "moved_out": fields.moved_out,
        "plates": ",".join(fields.plates),
        "updated_at": now,
    }


def put_resident(
    conn: Connection,
    keys: KeyRing,
    fields: ResidentFields,
    house_id: str,
    household_id: str | None,
    change: Change,
    *,
    target_id: str | None,
) -> str:
    """Create or update a resident (the caller has ruled out a conflict)."""
    if household_id is None:
        household_id = _household_for(conn, keys, fields, house_id, change)
    values = resident_values(keys, fields, house_id, household_id, change.now)
    after = resident_history_values(fields, house_id, household_id)
    if target_id is None:
        resident_id = new_id("res")
        conn.execute(insert(rt.records_residents).values(id=resident_id, created_at=change.now, **values))
        write_history(conn, keys, RecordKind.RESIDENT, resident_id, change, {}, after)
    else:
        row = conn.execute(select(rt.records_residents).where(rt.records_residents.c.id == target_id)).first()
        if row is None:
            raise ValidationFailed(f"no resident {target_id}", code="unknown_record", target_id=target_id)
        resident_id = target_id
        view = resident_view(keys, row) | {"plates": row.plates}
        before = {k: v for k, v in view.items() if k in after}
        if write_history(conn, keys, RecordKind.RESIDENT, resident_id, change, before, after):
            conn.execute(
                update(rt.records_residents).where(rt.records_residents.c.id == resident_id).values(**values)
            )
    conn.execute(delete(rt.records_plates).where(rt.records_plates.c.resident_id == resident_id))
    if fields.plates:
        conn.execute(
            insert(rt.records_plates), [{"plate": p, "resident_id": resident_id} for p in fields.plates]
        )
    return resident_id


def put_business(
    conn: Connection,
    keys: KeyRing,
    fields: BusinessFields,
    house_id: str,
    change: Change,
    *,
    target_id: str | None,
) -> str:
    """Create or update a business; one without ``target_id`` whose licence is on record updates it."""
    if target_id is None:
        target_id = conn.execute(
            select(rt.records_businesses.c.id).where(
                rt.records_businesses.c.licence_number == fields.licence_number
            )
        ).scalar()
    people = [
        {"name": p.name, "phone": p.phone, "id_number": p.id_number, "role": p.role}
        for p in fields.people_in_charge
    ]
    values = {
        "house_id": house_id,
        "name": fields.name,
        "licence_number": fields.licence_number,
        "kind": str(fields.kind),
        "people_in_charge": s.seal_json(keys, people, s.PEOPLE_IN_CHARGE),
        "updated_at": change.now,
    }
    after = as_values(fields) | {"house_id": house_id}
    if target_id is None:
        business_id = new_id("biz")
        conn.execute(insert(rt.records_businesses).values(id=business_id, created_at=change.now, **values))
        write_history(conn, keys, RecordKind.BUSINESS, business_id, change, {}, after)
        return business_id
    row = conn.execute(select(rt.records_businesses).where(rt.records_businesses.c.id == target_id)).first()
    if row is None:
        raise ValidationFailed(f"no business {target_id}", code="unknown_record", target_id=target_id)
    taken = conn.execute(
        select(rt.records_businesses.c.id).where(
            and_(
                rt.records_businesses.c.licence_number == fields.licence_number,
                rt.records_businesses.c.id != row.id,
            )
        )
    ).first()
    if taken is not None:
        raise Conflict(
            "another business has this licence number", code="licence_exists", business_id=taken.id
        )
    view = business_view(keys, row)
    before = {
        "name": view["name"],
        "licence_number": view["licence_number"],
        "kind": view["kind"],
        "people_in_charge": "; ".join(
            f"{p['role']}:{p['name']}:{p['phone'] or ''}:{p['id_number'] or ''}"
            for p in view["people_in_charge"]
        ),
        "house_id": view["house_id"],
    }
    if write_history(conn, keys, RecordKind.BUSINESS, row.id, change, before, after):
        conn.execute(
            update(rt.records_businesses).where(rt.records_businesses.c.id == row.id).values(**values)
        )
    return str(row.id)


# --------------------------------------------------------------------------------------------
# Views (personal fields opened; the caller masks them)
# --------------------------------------------------------------------------------------------


def house_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "station_id": row.station_id,
        "label": row.label,
        "street_address": row.street_address,
        "community": row.community,
        "building": row.building,
        "unit": row.unit,
        "room": row.room,
        "location": {"lat": row.lat, "lon": row.lon},
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def resident_view(keys: KeyRing, row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "house_id": row.house_id,
        "household_id": row.household_id,
        "relation": row.relation,
        "name": s.unseal(keys, row.name, s.NAME),
        "id_number": s.unseal(keys, row.id_number, s.ID_NUMBER),
        "phone": s.unseal(keys, row.phone, s.PHONE),
        "registered_address": row.registered_address,
        "moved_in": row.moved_in.isoformat() if row.moved_in else None,
        "moved_out": row.moved_out.isoformat() if row.moved_out else None,
        "plates": [p for p in row.plates.split(",") if p],
    }


def business_view(keys: KeyRing, row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "house_id": row.house_id,
        "name": row.name,
        "licence_number": row.licence_number,
        "kind": row.kind,
        "people_in_charge": s.unseal_json(keys, row.people_in_charge, s.PEOPLE_IN_CHARGE) or [],
    }


def history_view(keys: KeyRing, row: Any, *, full: bool) -> dict[str, Any]:
    personal = row.field in PERSONAL_FIELDS

    def value(stored: str | None) -> str | None:
        plain = s.unseal(keys, stored, s.HISTORY) if personal else stored
        return s.mask_value(row.field, plain, full=full)

    return {
        "ts": row.ts,
        "actor": row.actor,
        "reviewer": row.reviewer,
        "channel": row.channel,
        "collection_id": row.collection_id,
        "field": row.field,
        "before": value(row.before),
        "after": value(row.after),
    }


def read_history(
    conn: Connection, keys: KeyRing, kind: RecordKind, record_id: str, *, full: bool
) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(rt.records_history)
        .where(
            and_(rt.records_history.c.record_kind == str(kind), rt.records_history.c.record_id == record_id)
        )
        .order_by(rt.records_history.c.id)
    ).all()
    return [history_view(keys, r, full=full) for r in rows]


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


__all__ = [
    "Change",
    "active_residence",
    "business_view",
    "history_rows",
    "history_view",
    "house_history_values",
    "house_values",
    "house_view",
    "put_business",
    "put_house",
    "put_household",
    "put_resident",
    "read_history",
    "resident_history_values",
    "resident_values",
    "resident_view",
    "write_history",
]
