"""Field collections (采集): what a community officer submits from the terminal, reviewed at the
station. A submission carries a client-made id, so the terminal's retry of the same submission
changes nothing (and its Idempotency-Key is honoured too); approving applies it to the registry
with its history, unless it would put one person at two actual addresses: then a conflict waits
for a reviewer and nothing is overwritten."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from jingwu.domain.attachments import UploadTooLarge, check_image
from jingwu.domain.geo import GeoPoint
from jingwu.domain.registry import (
    Channel,
    CollectionStatus,
    ConflictStatus,
    HouseAddress,
    RecordKind,
    parse_business,
    parse_house,
    parse_household,
    parse_resident,
    residence_conflict,
)
from jingwu.errors import Conflict, NotFound, ValidationFailed
from jingwu.service import audit
from jingwu.service.idempotency import IdempotencyClaim, record_claim
from jingwu.service.ids import new_id
from jingwu.service.records import sealing as s
from jingwu.service.records.registry_store import (
    Change,
    active_residence,
    put_business,
    put_house,
    put_household,
    put_resident,
)
from jingwu.store import records_tables as rt
from jingwu.store.fieldcrypt import KeyRing

COLLECTION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_PHOTOS = 6
MAX_NOTE = 500
#: The table that holds each kind of record, for checking a ``target_id``.
RECORD_TABLES = {
    RecordKind.HOUSE: rt.records_houses,
    RecordKind.HOUSEHOLD: rt.records_households,
    RecordKind.RESIDENT: rt.records_residents,
    RecordKind.BUSINESS: rt.records_businesses,
}

StationCheck = Callable[[str | None], None]


@dataclass(frozen=True, slots=True)
class NewCollection:
    """A submission as it arrives: ``record`` holds the fields of ``kind``; a record other than a
    house names its house by ``house_id`` or describes a new one in ``house``."""

    id: str
    kind: str
    record: dict[str, Any]
    target_id: str | None = None
    house_id: str | None = None
    house: dict[str, Any] | None = None
    household_id: str | None = None
    note: str = ""
    channel: str = "terminal"
    photos: list[dict[str, str]] = field(default_factory=list)  # {"content_type", "data": base64}


def parse_kind(kind: str) -> RecordKind:
    try:
        return RecordKind(kind)
    except ValueError:
        raise ValidationFailed(
            "kind is one of " + ", ".join(k.value for k in RecordKind), code="bad_collection_kind"
        ) from None


def check_record(kind: RecordKind, record: dict[str, Any], today: date) -> Any:
    """The record's checked fields (422 with the field's code when a value is wrong)."""
    if not isinstance(record, dict):
        raise ValidationFailed("record must be an object", code="bad_field", field="record")
    if kind is RecordKind.HOUSE:
        return parse_house(record)
    if kind is RecordKind.HOUSEHOLD:
        return parse_household(record)
    if kind is RecordKind.RESIDENT:
        return parse_resident(record, today=today)
    return parse_business(record, today=today)


def decode_photos(photos: list[dict[str, str]], limit: int) -> list[tuple[str, bytes]]:
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(f"at most {MAX_PHOTOS} photos a collection", code="too_many_photos")
    out = []
    for photo in photos:
        try:
            data = base64.b64decode(photo.get("data", ""), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed("a photo's data is base64", code="bad_photo") from None
        if len(data) > limit:
            raise UploadTooLarge(limit)
        out.append((check_image(photo.get("content_type"), data), data))
    return out


def fingerprint(payload: dict[str, Any], photos: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode())
    for content_type, data in photos:
        digest.update(content_type.encode() + hashlib.sha256(data).digest())
    return digest.hexdigest()


def insert_photo(
    conn: Connection, collection_id: str, kind: str, content_type: str, data: bytes, actor: str, now: datetime
) -> str:
    photo_id = new_id("rph")
    conn.execute(
        insert(rt.records_photos).values(
            id=photo_id,
            collection_id=collection_id,
            record_kind=kind,
            record_id=None,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            created_at=now,
            created_by=actor,
            data=data,
        )
    )
    return photo_id


@dataclass(frozen=True, slots=True)
class Located:
    """Where a submission's house is: its id if on record, else its checked address; and the station."""

    house_id: str | None
    address: HouseAddress | None
    station_id: str


def locate(
    conn: Connection,
    kind: RecordKind,
    checked: Any,
    new: NewCollection,
    station_for: Callable[[GeoPoint], str | None],
) -> Located:
    if kind is RecordKind.HOUSE:
        address: HouseAddress | None = checked
        house_id = None
    elif new.house_id is not None:
        row = conn.execute(select(rt.records_houses).where(rt.records_houses.c.id == new.house_id)).first()
        if row is None:
            raise ValidationFailed(f"no house {new.house_id}", code="unknown_house", house_id=new.house_id)
        if row.station_id is None:
            raise ValidationFailed("the house lies outside every station", code="outside_every_station")
        return Located(row.id, None, row.station_id)
    elif new.house is not None:
        address, house_id = parse_house(new.house), None
    else:
        raise ValidationFailed("name the house (house_id) or describe it (house)", code="missing_house")
    assert address is not None
    station_id = station_for(GeoPoint(address.lat, address.lon))
    if station_id is None:
        raise ValidationFailed(
            "the house lies outside every station's jurisdiction", code="outside_every_station"
        )
    return Located(house_id, address, station_id)


def check_references(conn: Connection, kind: RecordKind, new: NewCollection, house_id: str | None) -> None:
    if new.target_id is not None:
        table = RECORD_TABLES[kind]
        if conn.execute(select(table.c.id).where(table.c.id == new.target_id)).first() is None:
            raise ValidationFailed(
                f"no {kind} {new.target_id} to change", code="unknown_record", target_id=new.target_id
            )
    if new.household_id is not None:
        row = conn.execute(
            select(rt.records_households.c.house_id).where(rt.records_households.c.id == new.household_id)
        ).first()
        if row is None or (house_id is not None and row.house_id != house_id):
            raise ValidationFailed(
                f"no household {new.household_id} in this house",
                code="unknown_household",
                household_id=new.household_id,
            )


def load_collection(conn: Connection, collection_id: str) -> Any:
    row = conn.execute(
        select(rt.records_collections).where(rt.records_collections.c.id == collection_id)
    ).first()
    if row is None:
        raise NotFound(
            f"no collection {collection_id}", code="collection_not_found", collection_id=collection_id
        )
    return row


def require_pending(row: Any) -> None:
    if row.status != CollectionStatus.PENDING:
        raise Conflict(
            f"the collection is {row.status}, not pending",
            code="collection_not_pending",
            collection_id=row.id,
            status=row.status,
        )


@dataclass(frozen=True, slots=True)
class Applied:
    record_id: str | None
    conflict_id: str | None


def apply_collection(
    conn: Connection,
    keys: KeyRing,
    row: Any,
    *,
    reviewer: str,
    now: datetime,
    today: date,
    station_for: Callable[[GeoPoint], str | None],
) -> Applied:
    """Apply an approved collection to the registry, or open a conflict for it."""
    payload = s.unseal_json(keys, row.payload, s.PAYLOAD)
    kind = RecordKind(row.kind)
    change = Change(row.collected_by, reviewer, Channel(row.channel), row.id, now)
    checked = check_record(kind, payload["record"], today)
    if kind is RecordKind.HOUSE:
        station = station_for(GeoPoint(checked.lat, checked.lon))
        return Applied(put_house(conn, keys, checked, station, change, target_id=row.target_id), None)
    house_id = payload.get("house_id")
    if house_id is None:
        address = parse_house(payload["house"])
        house_id = put_house(conn, keys, address, station_for(GeoPoint(address.lat, address.lon)), change)
    if kind is RecordKind.HOUSEHOLD:
        return Applied(put_household(conn, keys, checked, house_id, change, target_id=row.target_id), None)
    if kind is RecordKind.BUSINESS:
        return Applied(put_business(conn, keys, checked, house_id, change, target_id=row.target_id), None)
    current = active_residence(conn, keys, checked.id_number)
    if residence_conflict(
        current, claimed_house_id=house_id, target_id=row.target_id, moved_out=checked.moved_out
    ):
        assert current is not None
        conflict_id = new_id("rcf")
        stations = dict(
            conn.execute(
                select(rt.records_houses.c.id, rt.records_houses.c.station_id).where(
                    rt.records_houses.c.id.in_([house_id, current.house_id])
                )
            ).all()
        )
        conn.execute(
            insert(rt.records_conflicts).values(
                id=conflict_id,
                collection_id=row.id,
                resident_id=current.resident_id,
                existing_house_id=current.house_id,
                claimed_house_id=house_id,
                station_id=stations.get(house_id),
                existing_station_id=stations.get(current.house_id),
                status=str(ConflictStatus.OPEN),
                opened_at=now,
            )
        )
        return Applied(None, conflict_id)
    target = row.target_id
    if target is None and current is not None and current.house_id == house_id:
        target = current.resident_id
    resident_id = put_resident(
        conn, keys, checked, house_id, payload.get("household_id"), change, target_id=target
    )
    return Applied(resident_id, None)


def finish(conn: Connection, row: Any, applied: Applied, *, reviewer: str, now: datetime) -> None:
    status = CollectionStatus.CONFLICT if applied.conflict_id else CollectionStatus.APPROVED
    conn.execute(
        update(rt.records_collections)
        .where(rt.records_collections.c.id == row.id)
        .values(status=str(status), reviewed_by=reviewer, reviewed_at=now, record_id=applied.record_id)
    )
    if applied.record_id is not None:
        conn.execute(
            update(rt.records_photos)
            .where(rt.records_photos.c.collection_id == row.id)
            .values(record_id=applied.record_id)
        )


def audit_and_claim(conn: Connection, now: datetime, **entry: Any) -> IdempotencyClaim | None:
    """Audit the command and store the request's idempotency key in the same transaction; the
    caller marks the returned claim ``recorded`` once that transaction has committed."""
    audit.append(conn, ts=now, **entry)
    return record_claim(conn, now)


def photos_of(conn: Connection, collection_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    if not collection_ids:
        return out
    rows = conn.execute(
        select(
            rt.records_photos.c.id,
            rt.records_photos.c.collection_id,
            rt.records_photos.c.content_type,
            rt.records_photos.c.size,
        )
        .where(rt.records_photos.c.collection_id.in_(collection_ids))
        .order_by(rt.records_photos.c.created_at, rt.records_photos.c.id)
    ).all()
    for r in rows:
        out.setdefault(r.collection_id, []).append(
            {"id": r.id, "content_type": r.content_type, "size": r.size}
        )
    return out


def open_conflict_ids(conn: Connection, collection_ids: list[str]) -> dict[str, str]:
    if not collection_ids:
        return {}
    rows = conn.execute(
        select(rt.records_conflicts.c.collection_id, rt.records_conflicts.c.id).where(
            and_(
                rt.records_conflicts.c.collection_id.in_(collection_ids),
                rt.records_conflicts.c.status == str(ConflictStatus.OPEN),
            )
        )
    ).all()
    return {r.collection_id: r.id for r in rows}


def collection_view(
    keys: KeyRing, row: Any, *, full: bool, photos: list[dict[str, Any]], conflict_id: str | None
) -> dict[str, Any]:
    payload = s.unseal_json(keys, row.payload, s.PAYLOAD)
    record = dict(payload.get("record") or {})
    if row.kind == RecordKind.RESIDENT:
        record = s.mask_person(record, full=full)
    elif row.kind == RecordKind.BUSINESS:
        record["people_in_charge"] = [
            s.mask_person(p, full=full) if isinstance(p, dict) else p
            for p in record.get("people_in_charge") or []
        ]
    return {
        "id": row.id,
        "kind": row.kind,
        "target_id": row.target_id,
        "status": row.status,
        "station_id": row.station_id,
        "label": row.label,
        "note": row.note,
        "channel": row.channel,
        "collected_by": row.collected_by,
        "submitted_at": row.submitted_at,
        "reviewed_by": row.reviewed_by,
        "reviewed_at": row.reviewed_at,
        "return_reason": row.return_reason,
        "record_id": row.record_id,
        "conflict_id": conflict_id,
        "record": record,
        "house_id": payload.get("house_id"),
        "house": payload.get("house"),
        "household_id": payload.get("household_id"),
        "photos": photos,
        "masked": not full,
    }


def channel_of(text: str) -> Channel:
    try:
        return Channel(text)
    except ValueError:
        raise ValidationFailed("channel is terminal or station", code="bad_channel") from None


__all__ = [
    "COLLECTION_ID",
    "MAX_NOTE",
    "Applied",
    "Located",
    "NewCollection",
    "StationCheck",
    "apply_collection",
    "audit_and_claim",
    "channel_of",
    "check_record",
    "check_references",
    "collection_view",
    "decode_photos",
    "fingerprint",
    "finish",
    "insert_photo",
    "load_collection",
    "locate",
    "open_conflict_ids",
    "parse_kind",
    "photos_of",
    "require_pending",
]
