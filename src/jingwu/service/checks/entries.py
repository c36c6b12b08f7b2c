"""Watch-list entries in the store: added (sealed, indexed, audited), removed (the row kept, who
removed it recorded), listed a page at a time, and found by a subject's blind index."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from jingwu.domain.identity import mask_name
from jingwu.domain.watchlists import LIST_NAMES, Entry, SubjectKind, WatchList, mask_subject
from jingwu.errors import Forbidden, NotFound
from jingwu.service.checks.sealing import ENTRY_LABEL, ENTRY_SUBJECT, seal, unseal
from jingwu.store.checks_tables import watchlist_entries as we
from jingwu.store.fieldcrypt import KeyRing


@dataclass(frozen=True, slots=True)
class EntryView:
    """An entry as shown: the subject and a person's name masked unless the viewer may see them."""

    id: str
    list: WatchList
    subject: str
    label: str | None
    reason: str
    added_by: str
    station_id: str | None
    added_at: datetime
    expires_at: datetime | None
    removed_at: datetime | None
    removed_by: str | None
    in_force: bool
    masked: bool

    def as_dict(self) -> dict[str, Any]:
        zh, en = LIST_NAMES[self.list]
        return {
            "entry_id": self.id,
            "list": str(self.list),
            "list_name": {"zh-CN": zh, "en": en},
            "subject": self.subject,
            "label": self.label,
            "reason": self.reason,
            "added_by": self.added_by,
            "station_id": self.station_id,
            "added_at": self.added_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "removed_at": self.removed_at.isoformat() if self.removed_at else None,
            "removed_by": self.removed_by,
            "in_force": self.in_force,
            "masked": self.masked,
        }


def view(entry: Entry, *, removed_by: str | None, now: datetime, full: bool) -> EntryView:
    kind = entry.list.subject
    label = entry.label
    if label and not full and kind is SubjectKind.PERSON:
        label = mask_name(label)  # a vehicle's description ("白色轿车") is not a person's name
    return EntryView(
        id=entry.id,
        list=entry.list,
        subject=entry.subject if full else mask_subject(kind, entry.subject),
        label=label,
        reason=entry.reason,
        added_by=entry.added_by,
        station_id=entry.station_id,
        added_at=entry.added_at,
        expires_at=entry.expires_at,
        removed_at=entry.removed_at,
        removed_by=removed_by,
        in_force=entry.in_force(now),
        masked=not full,
    )


def entry_from_row(keys: KeyRing, row: Any, *, with_subject: bool = True) -> Entry:
    """The entry of a row, opened. ``with_subject=False`` leaves the subject sealed (a check
    already knows it: the blind index matched)."""
    subject = unseal(keys, row.subject, context=ENTRY_SUBJECT) if with_subject else ""
    return Entry(
        id=row.id,
        list=WatchList(row.list),
        subject=subject or "",
        label=unseal(keys, row.label, context=ENTRY_LABEL),
        reason=row.reason,
        added_by=row.added_by,
        added_at=row.added_at,
        station_id=row.station_id,
        expires_at=row.expires_at,
        removed_at=row.removed_at,
    )


def insert_entry(conn: Connection, keys: KeyRing, entry: Entry, *, index: str) -> None:
    conn.execute(
        insert(we).values(
            id=entry.id,
            list=str(entry.list),
            subject=seal(keys, entry.subject, context=ENTRY_SUBJECT),
            subject_index=index,
            label=seal(keys, entry.label, context=ENTRY_LABEL) if entry.label else None,
            reason=entry.reason,
            added_by=entry.added_by,
            station_id=entry.station_id,
            added_at=entry.added_at,
            expires_at=entry.expires_at,
        )
    )


# Built once: a check is on the hot path, and a statement built per call costs SQLAlchemy more
# (its cache key) than SQLite takes to answer it.
_MATCHING = select(we).where(we.c.subject_index == bindparam("index"), we.c.removed_at.is_(None))


def matching_rows(conn: Connection, index: str) -> list[Any]:
    """Every entry not removed whose subject has this blind index: one indexed equality."""
    return list(conn.execute(_MATCHING, {"index": index}).all())


def remove_entry(
    conn: Connection,
    list_: WatchList,
    entry_id: str,
    *,
    actor: str,
    now: datetime,
    station_ids: Collection[str] | None,
) -> Any:
    """Mark the entry removed; 404 ``watchlist_entry_not_found`` for an unknown or already
    removed entry (or one of another list), 403 ``out_of_jurisdiction`` for a station's entry
    out of the caller's reach (an entry added city-wide needs a city-wide caller)."""
    row = conn.execute(select(we).where(we.c.id == entry_id, we.c.list == str(list_))).first()
    if row is None or row.removed_at is not None:
        raise NotFound(
            f"no entry {entry_id} in the {list_} list", code="watchlist_entry_not_found", entry_id=entry_id
        )
    if station_ids is not None and row.station_id not in station_ids:
        raise Forbidden(
            "this entry was added by a station outside your jurisdiction",
            code="out_of_jurisdiction",
            entry_id=entry_id,
        )
    conn.execute(update(we).where(we.c.id == entry_id).values(removed_at=now, removed_by=actor))
    return row


def _in_force(now: datetime) -> Any:
    return and_(we.c.removed_at.is_(None), or_(we.c.expires_at.is_(None), we.c.expires_at > now))


def page_rows(
    conn: Connection, list_: WatchList, *, now: datetime, include_inactive: bool, limit: int, offset: int
) -> tuple[list[Any], int]:
    """A page of a list, newest first, and how many the list holds (in force, or all)."""
    where = [we.c.list == str(list_)]
    if not include_inactive:
        where.append(_in_force(now))
    total = int(conn.execute(select(func.count()).select_from(we).where(*where)).scalar_one())
    rows = conn.execute(
        select(we).where(*where).order_by(we.c.added_at.desc(), we.c.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


__all__ = [
    "EntryView",
    "entry_from_row",
    "insert_entry",
    "matching_rows",
    "page_rows",
    "remove_entry",
    "view",
]
