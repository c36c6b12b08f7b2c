"""The community registry (实有人口 / 房屋 / 单位) on standard addresses: houses, households, residents
and businesses, collected in the field, reviewed at the station, searched with a reason and audited.

The commands here: submit a collection (idempotent on its client-made id), approve or return it,
add a photo, settle a conflict; the reads: the collections, the conflicts, searches and one record
with its history. Every read that shows a person is audited in the transaction that reads it."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, and_, insert, select, update

from jingwu.bus import Bus
from jingwu.domain.attachments import UploadTooLarge, check_image
from jingwu.domain.geo import GeoPoint
from jingwu.domain.registry import (
    Channel,
    CollectionStatus,
    ConflictStatus,
    RecordKind,
    Resolution,
    parse_resident,
)
from jingwu.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jingwu.service.audit import append as append_audit
from jingwu.service.records import collections as col
from jingwu.service.records import lookups
from jingwu.service.records import sealing as s
from jingwu.service.records.reads import RegistryReads, reason_text
from jingwu.service.records.registry_store import Change, put_resident
from jingwu.settings import Settings
from jingwu.store import records_tables as rt
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.fieldcrypt import KeyRing

if TYPE_CHECKING:
    from jingwu.service.audit import AuditService
    from jingwu.service.dispatching import DispatchService
    from jingwu.service.geocoding import GeocodingService

NewCollection = col.NewCollection
StationCheck = Callable[[str | None], None]
KEPT_EXISTING = "冲突处理：保留原实际居住地址 / conflict: the existing address stays."


class CommunityRecords(RegistryReads):
    def __init__(
        self,
        engine: Engine,
        *,
        bus: Bus,
        keys: KeyRing,
        audit: AuditService,
        dispatch: DispatchService,
        geocoding: GeocodingService,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.bus = bus
        self.keys = keys
        self.audit = audit
        self.dispatch = dispatch
        self.geocoding = geocoding
        self.settings = settings
        self.clock = clock

    # ----------------------------------------------------------------------------------------
    # helpers
    # ----------------------------------------------------------------------------------------

    def today(self) -> date:
        return self.clock().astimezone(self.settings.zone).date()

    def station_for(self, point: GeoPoint) -> str | None:
        return self.dispatch.station_for(point)

    @property
    def photo_limit(self) -> int:
        return self.settings.max_upload_bytes

    # ----------------------------------------------------------------------------------------
    # collections
    # ----------------------------------------------------------------------------------------

    def submit(
        self, new: NewCollection, *, actor: str, source: str | None, check_station: StationCheck
    ) -> tuple[dict[str, Any], bool]:
        """Store a collection for review; ``(view, created)``. The same id sent again by the same
        collector with the same content is answered with what is stored (``created`` False);
        with other content it is 409 ``collection_id_taken``. Nothing is applied to the registry
        until a reviewer approves it."""
        if not isinstance(new.id, str) or not col.COLLECTION_ID.fullmatch(new.id):
            raise ValidationFailed(
                "id is 8-64 letters, digits, '-' or '_', made by the client", code="bad_collection_id"
            )
        kind = col.parse_kind(new.kind)
        channel = col.channel_of(new.channel)
        checked = col.check_record(kind, new.record, self.today())
        note = " ".join((new.note or "").split())
        if len(note) > col.MAX_NOTE:
            raise ValidationFailed(
                f"a note is at most {col.MAX_NOTE} characters", code="bad_field", field="note"
            )
        photos = col.decode_photos(new.photos, self.photo_limit)
        payload = {
            "record": new.record,
            "house_id": new.house_id if kind is not RecordKind.HOUSE else None,
            "house": new.house if kind is not RecordKind.HOUSE and new.house_id is None else None,
            "household_id": new.household_id,
        }
        digest = col.fingerprint(
            {**payload, "kind": str(kind), "target_id": new.target_id, "note": note}, photos
        )
        now = self.clock()
        claim = None
        with write_transaction(self.engine) as conn:
            existing = conn.execute(
                select(rt.records_collections).where(rt.records_collections.c.id == new.id)
            ).first()
            if existing is not None:
                if existing.collected_by != actor or existing.payload_sha256 != digest:
                    raise Conflict(
                        "this collection id is taken by another submission; make a new id",
                        code="collection_id_taken",
                        collection_id=new.id,
                    )
                view = self._view(conn, existing, full=False)
                replayed = True
            else:
                located = col.locate(conn, kind, checked, new, self.station_for)
                check_station(located.station_id)
                col.check_references(conn, kind, new, located.house_id)
                label = (
                    located.address.label
                    if located.address is not None
                    else self._house_label(conn, located.house_id)
                )
                conn.execute(
                    insert(rt.records_collections).values(
                        id=new.id,
                        kind=str(kind),
                        target_id=new.target_id,
                        station_id=located.station_id,
                        label=label,
                        payload=s.seal_json(self.keys, payload, s.PAYLOAD),
                        payload_sha256=digest,
                        note=note,
                        channel=str(channel),
                        status=str(CollectionStatus.PENDING),
                        collected_by=actor,
                        submitted_at=now,
                    )
                )
                for content_type, data in photos:
                    col.insert_photo(conn, new.id, str(kind), content_type, data, actor, now)
                claim = col.audit_and_claim(
                    conn,
                    now,
                    action="records.collection.submitted",
                    actor=actor,
                    target=f"collection:{new.id}",
                    source=source,
                    details={"kind": str(kind), "station_id": located.station_id, "photos": len(photos)},
                )
                row = col.load_collection(conn, new.id)
                view = self._view(conn, row, full=False)
                replayed = False
        if not replayed and claim is not None:
            claim.recorded = True
        return view, not replayed

    def _house_label(self, conn: Any, house_id: str | None) -> str:
        label = conn.execute(
            select(rt.records_houses.c.label).where(rt.records_houses.c.id == house_id)
        ).scalar()
        return str(label or "")

    def _view(self, conn: Any, row: Any, *, full: bool) -> dict[str, Any]:
        photos = col.photos_of(conn, [row.id]).get(row.id, [])
        conflict = col.open_conflict_ids(conn, [row.id]).get(row.id)
        return col.collection_view(self.keys, row, full=full, photos=photos, conflict_id=conflict)

    def collections(
        self,
        *,
        actor: str,
        source: str | None,
        station_ids: Collection[str] | None,
        collected_by: str | None,
        status: str | None,
        full: bool,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Collections, newest first: a station's (``station_ids``; None: all) or one collector's
        own (``collected_by``). Lists people, so the read is audited."""
        if status is not None and status not in {x.value for x in CollectionStatus}:
            raise ValidationFailed(
                "status is one of " + ", ".join(x.value for x in CollectionStatus), code="bad_status"
            )
        c = rt.records_collections
        query = select(c).order_by(c.c.submitted_at.desc(), c.c.id).limit(limit)
        if status is not None:
            query = query.where(c.c.status == status)
        if collected_by is not None:
            query = query.where(c.c.collected_by == collected_by)
        if station_ids is not None:
            query = query.where(c.c.station_id.in_(list(station_ids)))
        with write_transaction(self.engine) as conn:
            rows = conn.execute(query).all()
            append_audit(
                conn,
                ts=self.clock(),
                action="records.collections.read",
                actor=actor,
                target="collections" + (f":{collected_by}" if collected_by else ""),
                source=source,
                reason="采集审核工作清单 / collection work list",
                details={"status": status, "count": len(rows), "full": full},
            )
            ids = [x.id for x in rows]
            photos = col.photos_of(conn, ids)
            conflicts = col.open_conflict_ids(conn, ids)
        return [
            col.collection_view(
                self.keys, x, full=full, photos=photos.get(x.id, []), conflict_id=conflicts.get(x.id)
            )
            for x in rows
        ]

    def approve(
        self, collection_id: str, *, actor: str, source: str | None, check_station: StationCheck
    ) -> dict[str, Any]:
        """Apply a pending collection to the registry (with its history), or hold it as a conflict."""
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = col.load_collection(conn, collection_id)
            check_station(row.station_id)
            col.require_pending(row)
            applied = col.apply_collection(
                conn,
                self.keys,
                row,
                reviewer=actor,
                now=now,
                today=self.today(),
                station_for=self.station_for,
            )
            col.finish(conn, row, applied, reviewer=actor, now=now)
            claim = col.audit_and_claim(
                conn,
                now,
                action="records.collection.approved",
                actor=actor,
                target=f"collection:{collection_id}",
                source=source,
                details={"record_id": applied.record_id, "conflict_id": applied.conflict_id},
            )
            view = self._view(conn, col.load_collection(conn, collection_id), full=False)
        if claim is not None:
            claim.recorded = True
        return view

    def return_collection(
        self, collection_id: str, reason: str, *, actor: str, source: str | None, check_station: StationCheck
    ) -> dict[str, Any]:
        """Send a pending collection back to its collector with the reason, which they see."""
        text = reason_text(reason, "why it goes back to the collector")
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = col.load_collection(conn, collection_id)
            check_station(row.station_id)
            col.require_pending(row)
            conn.execute(
                update(rt.records_collections)
                .where(rt.records_collections.c.id == collection_id)
                .values(
                    status=str(CollectionStatus.RETURNED),
                    reviewed_by=actor,
                    reviewed_at=now,
                    return_reason=text,
                )
            )
            claim = col.audit_and_claim(
                conn,
                now,
                action="records.collection.returned",
                actor=actor,
                target=f"collection:{collection_id}",
                source=source,
                reason=text,
            )
            view = self._view(conn, col.load_collection(conn, collection_id), full=False)
        if claim is not None:
            claim.recorded = True
        return view

    def add_photo(
        self, collection_id: str, content_type: str | None, data: bytes, *, actor: str, source: str | None
    ) -> dict[str, Any]:
        """Add a photo to one's own collection while it waits for review."""
        if len(data) > self.photo_limit:
            raise UploadTooLarge(self.photo_limit)
        declared = check_image(content_type, data)
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = col.load_collection(conn, collection_id)
            if row.collected_by != actor:
                raise Forbidden("only the collector adds photos to a collection", code="not_own_collection")
            col.require_pending(row)
            photo_id = col.insert_photo(conn, collection_id, row.kind, declared, data, actor, now)
            claim = col.audit_and_claim(
                conn,
                now,
                action="records.photo.added",
                actor=actor,
                target=f"collection:{collection_id}",
                source=source,
                details={"photo_id": photo_id, "size": len(data)},
            )
        if claim is not None:
            claim.recorded = True
        return {"id": photo_id, "content_type": declared, "size": len(data)}

    def photo(self, photo_id: str) -> tuple[dict[str, Any], bytes]:
        """A photo's bytes and what decides who may see it (its collection's station and collector)."""
        p, c = rt.records_photos, rt.records_collections
        with read_transaction(self.engine) as conn:
            row = conn.execute(
                select(p, c.c.station_id, c.c.collected_by)
                .join(c, c.c.id == p.c.collection_id)
                .where(p.c.id == photo_id)
            ).first()
        if row is None:
            raise NotFound(f"no photo {photo_id}", code="photo_not_found", photo_id=photo_id)
        info = {
            "id": row.id,
            "content_type": row.content_type,
            "sha256": row.sha256,
            "station_id": row.station_id,
            "collected_by": row.collected_by,
        }
        return info, bytes(row.data)

    # ----------------------------------------------------------------------------------------
    # conflicts
    # ----------------------------------------------------------------------------------------

    def conflicts(
        self,
        *,
        actor: str,
        source: str | None,
        station_ids: Collection[str] | None,
        status: str | None,
        full: bool,
    ) -> list[dict[str, Any]]:
        if status is not None and status not in {x.value for x in ConflictStatus}:
            raise ValidationFailed("status is open or settled", code="bad_status")
        with write_transaction(self.engine) as conn:
            found = lookups.conflicts(conn, self.keys, status=status, station_ids=station_ids, full=full)
            append_audit(
                conn,
                ts=self.clock(),
                action="records.conflicts.read",
                actor=actor,
                target="conflicts",
                source=source,
                reason="冲突审核 / conflict review",
                details={"count": len(found), "full": full},
            )
        return found

    def settle(
        self,
        conflict_id: str,
        resolution: str,
        note: str,
        *,
        actor: str,
        source: str | None,
        station_ids: Collection[str] | None,
    ) -> dict[str, Any]:
        """Settle a conflict: ``move_to_new`` moves the person's record to the claimed house (the
        history shows the move), ``keep_existing`` returns the collection with the note."""
        try:
            chosen = Resolution(resolution)
        except ValueError:
            raise ValidationFailed(
                "resolution is keep_existing or move_to_new", code="bad_resolution"
            ) from None
        text = reason_text(note, "how the conflict was settled")
        now = self.clock()
        c = rt.records_conflicts
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(c).where(c.c.id == conflict_id)).first()
            if row is None:
                raise NotFound(
                    f"no conflict {conflict_id}", code="conflict_not_found", conflict_id=conflict_id
                )
            if not (
                lookups.within(row.station_id, station_ids)
                or lookups.within(row.existing_station_id, station_ids)
            ):
                raise Forbidden("this conflict lies outside your jurisdiction", code="out_of_jurisdiction")
            if row.status != ConflictStatus.OPEN:
                raise Conflict(
                    "the conflict is already settled", code="conflict_settled", conflict_id=conflict_id
                )
            collection = col.load_collection(conn, row.collection_id)
            if chosen is Resolution.MOVE_TO_NEW:
                payload = s.unseal_json(self.keys, collection.payload, s.PAYLOAD)
                fields = parse_resident(payload["record"], today=self.today())
                change = Change(
                    collection.collected_by, actor, Channel(collection.channel), collection.id, now
                )
                record_id = put_resident(
                    conn, self.keys, fields, row.claimed_house_id, payload.get("household_id"), change,
                    target_id=row.resident_id,
                )  # fmt: skip
                values: dict[str, Any] = {"status": str(CollectionStatus.APPROVED), "record_id": record_id}
                conn.execute(
                    update(rt.records_photos)
                    .where(rt.records_photos.c.collection_id == collection.id)
                    .values(record_id=record_id)
                )
            else:
                values = {
                    "status": str(CollectionStatus.RETURNED),
                    "return_reason": f"{KEPT_EXISTING} {text}",
                }
            conn.execute(
                update(rt.records_collections)
                .where(rt.records_collections.c.id == collection.id)
                .values(reviewed_by=actor, reviewed_at=now, **values)
            )
            conn.execute(
                update(c)
                .where(and_(c.c.id == conflict_id, c.c.status == str(ConflictStatus.OPEN)))
                .values(
                    status=str(ConflictStatus.SETTLED),
                    settled_by=actor,
                    settled_at=now,
                    resolution=str(chosen),
                    note=text,
                )
            )
            claim = col.audit_and_claim(
                conn,
                now,
                action="records.conflict.settled",
                actor=actor,
                target=f"conflict:{conflict_id}",
                source=source,
                reason=text,
                details={"resolution": str(chosen), "collection_id": collection.id},
            )
            found = [
                x
                for x in lookups.conflicts(conn, self.keys, status=None, station_ids=None, full=False)
                if x["id"] == conflict_id
            ]
        if claim is not None:
            claim.recorded = True
        return found[0]


__all__ = ["CommunityRecords", "NewCollection"]
