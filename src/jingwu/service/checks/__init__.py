"""Patrol checks (巡逻盘查): a person or a vehicle against the watch lists, every check audited, a hit
announced to the command room with backup suggested by road travel time.

A check is one indexed equality on the subject's keyed blind index (service.checks.sealing) in
the store, not an in-memory copy of the lists: every server process sees an entry the moment it
commits, nothing has to be kept in step by events, and the lists cost no memory per process.
``jingwu bench checks`` measures it against a million entries (docs/checks.md).

Every check is stored (who, unit, reason, what: sealed, where, result) and written to the audit
chain in the same transaction. A clear result ends there. A hit goes down the dispatch service's
one write path (service.commands): the check, its audit record and a ``check.hit`` event commit
together, then the event is published on the bus, where the live stream carries it to the
consoles whose jurisdiction holds the officer's unit or the place of the check.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, insert, select

from jingwu.bus import Bus
from jingwu.domain.events import DomainEvent, EventType
from jingwu.domain.geo import GeoPoint
from jingwu.domain.rules import Decision
from jingwu.domain.watchlists import (
    Entry,
    Instruction,
    SubjectKind,
    WatchList,
    check_expiry,
    hits,
    instruction_for,
    mask_subject,
    optional_label,
    stated_reason,
    subject_of,
)
from jingwu.service import audit as audit_chain
from jingwu.service.checks import entries as store
from jingwu.service.checks.backup import Backup, suggest_backup
from jingwu.service.checks.entries import EntryView
from jingwu.service.checks.sealing import CHECK_SUBJECT, seal, subject_index, unseal
from jingwu.service.idempotency import record_claim
from jingwu.service.ids import new_id
from jingwu.settings import Settings
from jingwu.store.checks_tables import patrol_checks as pc
from jingwu.store.db import write_transaction
from jingwu.store.fieldcrypt import KeyRing

if TYPE_CHECKING:
    from jingwu.service.audit import AuditService
    from jingwu.service.dispatching import DispatchService
    from jingwu.service.geocoding import GeocodingService


_INSERT_CHECK = insert(pc)  # with the row as parameters: compiled once, not per check


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    check_id: str
    kind: SubjectKind
    subject: str  # as the checker may see it (masked unless full)
    result: str  # clear | hit
    hits: list[EntryView]
    instruction: Instruction | None
    backup: list[Backup]
    station_id: str | None
    location: GeoPoint | None
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class EntryPage:
    entries: list[EntryView]
    total: int
    offset: int


class PatrolChecks:
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

    # ------------------------------------------------------------ watch lists

    def add_entry(
        self,
        list_: WatchList,
        *,
        subject: str,
        reason: str,
        label: str | None = None,
        expires_at: datetime | None = None,
        actor: str,
        station_id: str | None,
        source: str | None = None,
        full: bool = True,
    ) -> EntryView:
        """Add an entry (422 ``bad_id_*`` / ``bad_plate`` / ``reason_required`` /
        ``expiry_in_past`` before anything is stored); the addition is audited with it."""
        now = self.clock()
        kind = list_.subject
        number = subject_of(kind, subject, today=now.astimezone(self.settings.zone).date())
        why = stated_reason(reason)
        name = optional_label(label)
        check_expiry(expires_at, now=now)
        entry = Entry(
            id=new_id("wl"),
            list=list_,
            subject=number,
            label=name,
            reason=why,
            added_by=actor,
            added_at=now,
            station_id=station_id,
            expires_at=expires_at,
        )
        with write_transaction(self.engine) as conn:
            store.insert_entry(conn, self.keys, entry, index=subject_index(self.keys, kind, number))
            audit_chain.append(
                conn,
                ts=now,
                action="watchlist.add",
                actor=actor,
                target=f"watchlist:{list_}:{entry.id}",
                source=source,
                reason=why,
                details={"subject": mask_subject(kind, number), "expires_at": _iso(expires_at)},
            )
            claim = record_claim(conn, now)
        if claim is not None:
            claim.recorded = True
        return store.view(entry, removed_by=None, now=now, full=full)

    def remove_entry(
        self,
        list_: WatchList,
        entry_id: str,
        *,
        actor: str,
        station_ids: Collection[str] | None,
        source: str | None = None,
    ) -> None:
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = store.remove_entry(conn, list_, entry_id, actor=actor, now=now, station_ids=station_ids)
            audit_chain.append(
                conn,
                ts=now,
                action="watchlist.remove",
                actor=actor,
                target=f"watchlist:{list_}:{entry_id}",
                source=source,
                details={"added_by": row.added_by},
            )
            claim = record_claim(conn, now)
        if claim is not None:
            claim.recorded = True

    def list_entries(
        self,
        list_: WatchList,
        *,
        actor: str,
        full: bool,
        limit: int = 50,
        offset: int = 0,
        include_inactive: bool = False,
        source: str | None = None,
    ) -> EntryPage:
        """A page of a list, newest first; the read of people in it is audited before it is shown."""
        now = self.clock()
        with write_transaction(self.engine) as conn:
            rows, total = store.page_rows(
                conn, list_, now=now, include_inactive=include_inactive, limit=limit, offset=offset
            )
            audit_chain.append(
                conn,
                ts=now,
                action="watchlist.read",
                actor=actor,
                target=f"watchlist:{list_}",
                source=source,
                details={"offset": offset, "shown": len(rows), "full": full},
            )
        shown = [
            store.view(store.entry_from_row(self.keys, r), removed_by=r.removed_by, now=now, full=full)
            for r in rows
        ]
        return EntryPage(shown, total, offset)

    # ------------------------------------------------------------ checks

    def check(
        self,
        kind: SubjectKind,
        subject: str,
        *,
        reason: str,
        location: GeoPoint | None,
        officer: str,
        unit_id: str | None,
        full: bool = True,
        source: str | None = None,
    ) -> CheckOutcome:
        """Check a person (identity number) or a vehicle (plate). 422 ``bad_id_*`` /
        ``bad_plate`` / ``reason_required`` store nothing. Without ``location``, the unit's last
        known position stands for the place."""
        now = self.clock()
        number = subject_of(kind, subject, today=now.astimezone(self.settings.zone).date())
        why = stated_reason(reason)
        index = subject_index(self.keys, kind, number)
        place = location
        if place is None and unit_id is not None:
            fix = self.dispatch.board.position_of(unit_id)
            place = GeoPoint(fix.lat, fix.lon) if fix is not None else None
        station_id = self.dispatch.station_for(place) if place is not None else None
        if station_id is None and unit_id is not None:
            station_id = self.dispatch.board.station_of(unit_id)
        check_id = new_id("chk")
        masked = mask_subject(kind, number)
        sealed = seal(self.keys, number, context=CHECK_SUBJECT)

        def store_check(conn: Connection, found: list[Entry]) -> None:
            """The check's row and its audit record (who, why, what: masked, where, result)."""
            row = {
                "id": check_id,
                "kind": str(kind),
                "subject": sealed,
                "subject_index": index,
                "subject_masked": masked,
                "officer": officer,
                "unit_id": unit_id,
                "station_id": station_id,
                "reason": why,
                "lat": place.lat if place else None,
                "lon": place.lon if place else None,
                "result": "hit" if found else "clear",
                "hits": [{"entry_id": e.id, "list": str(e.list)} for e in found],
                "checked_at": now,
            }
            conn.execute(_INSERT_CHECK, row)
            audit_chain.append(
                conn,
                ts=now,
                action=f"check.{kind}",
                actor=officer,
                target=f"check:{check_id}",
                source=source,
                reason=why,
                details={
                    "subject": masked,
                    "result": row["result"],
                    "hits": row["hits"],
                    "unit_id": unit_id,
                    "station_id": station_id,
                    "lat": row["lat"],
                    "lon": row["lon"],
                },
            )

        # One transaction for a clear check (most of them): the look-up, the row, the audit.
        with write_transaction(self.engine) as conn:
            rows = store.matching_rows(conn, index)
            # The blind index matched, so the subject is the one typed: no need to decrypt it.
            opened = [
                replace(store.entry_from_row(self.keys, r, with_subject=False), subject=number) for r in rows
            ]
            found = hits(opened, kind=kind, now=now)
            claim = None
            if not found:
                store_check(conn, found)
                claim = record_claim(conn, now)
        if claim is not None:
            claim.recorded = True
        instruction = instruction_for(found)
        backup: list[Backup] = []
        if found and place is not None:
            # Outside any transaction: the road search must not hold the store's writer lock.
            backup = suggest_backup(
                self.dispatch.board,
                check_id=check_id,
                at=place,
                now=now,
                exclude=() if unit_id is None else (unit_id,),
            )
        if found:
            data = {
                "check": {
                    "check_id": check_id,
                    "kind": str(kind),
                    "subject": masked,
                    "officer": officer,
                    "unit_id": unit_id,
                    "station_id": station_id,
                    "position": None if place is None else {"lat": place.lat, "lon": place.lon},
                    "reason": why,
                    "checked_at": now.isoformat(),
                    # Masked here whoever the viewer: the event log and the live stream are read
                    # by roles that may not see people in full.
                    "hits": [store.view(e, removed_by=None, now=now, full=False).as_dict() for e in found],
                    "instruction": instruction.as_dict() if instruction else None,
                    "backup": [b.as_dict() for b in backup],
                }
            }
            event = DomainEvent(EventType.CHECK_HIT, at=now, unit_id=unit_id, actor=officer, data=data)

            def decide(conn: Connection, _: datetime) -> Decision:
                store_check(conn, found)
                return Decision(events=(event,))

            self.dispatch.commit(decide)
        return CheckOutcome(
            check_id=check_id,
            kind=kind,
            subject=number if full else masked,
            result="hit" if found else "clear",
            hits=[store.view(e, removed_by=None, now=now, full=full) for e in found],
            instruction=instruction,
            backup=backup,
            station_id=station_id,
            location=place,
            checked_at=now,
        )

    def recent_checks(
        self,
        *,
        actor: str,
        full: bool,
        station_ids: Collection[str] | None,
        officer: str | None = None,
        limit: int = 50,
        before: datetime | None = None,
        source: str | None = None,
    ) -> list[dict[str, Any]]:
        """The latest checks made in ``station_ids`` (None: everywhere; ``officer``: only theirs),
        newest first; the look is audited before it is shown."""
        now = self.clock()
        query = select(pc).order_by(pc.c.checked_at.desc(), pc.c.id.desc()).limit(limit)
        if station_ids is not None:
            query = query.where(pc.c.station_id.in_(sorted(station_ids)))
        if officer is not None:
            query = query.where(pc.c.officer == officer)
        if before is not None:
            query = query.where(pc.c.checked_at < before)
        with write_transaction(self.engine) as conn:
            rows = conn.execute(query).all()
            audit_chain.append(
                conn,
                ts=now,
                action="checks.read",
                actor=actor,
                target="checks",
                source=source,
                details={"shown": len(rows), "full": full},
            )
        return [_check_view(self.keys, r, full=full) for r in rows]


def _check_view(keys: KeyRing, row: Any, *, full: bool) -> dict[str, Any]:
    subject = unseal(keys, row.subject, context=CHECK_SUBJECT) if full else row.subject_masked
    return {
        "check_id": row.id,
        "kind": row.kind,
        "subject": subject,
        "officer": row.officer,
        "unit_id": row.unit_id,
        "station_id": row.station_id,
        "reason": row.reason,
        "location": None if row.lat is None else {"lat": row.lat, "lon": row.lon},
        "result": row.result,
        "hits": row.hits,
        "checked_at": row.checked_at.isoformat(),
        "masked": not full,
    }


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts else None


__all__ = ["CheckOutcome", "EntryPage", "PatrolChecks"]
