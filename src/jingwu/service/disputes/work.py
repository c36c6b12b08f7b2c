"""The mediation work on a case: visits with their notes and photos, agreements reached, and the
follow-ups the officer sets and does. Each is a change of the case (versioned, in its history)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import Engine, insert, select, update

from jingwu.domain.attachments import check_image
from jingwu.domain.disputes import local_day
from jingwu.errors import Conflict, NotFound, ValidationFailed
from jingwu.service.disputes.cases import Reach
from jingwu.service.disputes.records import changed, lock_case, next_follow_up, require_open, writing
from jingwu.service.ids import new_id
from jingwu.store import disputes_tables as d
from jingwu.store.db import read_transaction

# A terminal names its visit itself, so that the photos it queues offline can follow the visit.
_CLIENT_VISIT_ID = re.compile(r"dvs_[A-Za-z0-9_-]{8,48}")


class Work:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime], zone: tzinfo) -> None:
        self.engine = engine
        self.clock = clock
        self.zone = zone

    def add_visit(
        self,
        dispute_id: str,
        *,
        note: str,
        visited_at: datetime | None,
        visit_id: str | None,
        actor: str,
        reach: Reach,
    ) -> dict[str, Any]:
        if visit_id is not None and not _CLIENT_VISIT_ID.fullmatch(visit_id):
            raise ValidationFailed(
                "a visit id is dvs_ and 8-48 letters, digits, _ or -", code="bad_visit_id", visit_id=visit_id
            )
        visit_id = visit_id or new_id("dvs")
        with writing(self.engine, self.clock) as (conn, now):
            when = visited_at or now
            if when > now:
                raise ValidationFailed("a visit cannot be in the future", code="visit_in_future")
            row = lock_case(conn, dispute_id)
            reach(row.station_id)
            require_open(row)
            taken = conn.execute(
                select(d.dispute_visits.c.id).where(d.dispute_visits.c.id == visit_id)
            ).first()
            if taken is not None:
                raise Conflict(f"visit {visit_id} exists already", code="visit_exists", visit_id=visit_id)
            conn.execute(
                insert(d.dispute_visits).values(
                    id=visit_id,
                    dispute_id=dispute_id,
                    visited_at=when,
                    note=note,
                    created_at=now,
                    created_by=actor,
                )
            )
            changed(
                conn, row, now=now, actor=actor, action="visit", changes={"visit_id": visit_id, "note": note}
            )
        return {"id": visit_id, "visited_at": when, "note": note, "created_by": actor, "photos": []}

    def add_photo(
        self, dispute_id: str, visit_id: str, content_type: str, data: bytes, *, actor: str, reach: Reach
    ) -> dict[str, Any]:
        """A photo of a visit; the bytes must be the declared JPEG, PNG or WebP (the API bounds the size)."""
        declared = check_image(content_type, data)
        photo_id = new_id("dph")
        with writing(self.engine, self.clock) as (conn, now):
            row = lock_case(conn, dispute_id)
            reach(row.station_id)
            require_open(row)
            visit = conn.execute(
                select(d.dispute_visits.c.id).where(
                    d.dispute_visits.c.id == visit_id, d.dispute_visits.c.dispute_id == dispute_id
                )
            ).first()
            if visit is None:
                raise NotFound(
                    f"no visit {visit_id!r} of {dispute_id}", code="visit_not_found", visit_id=visit_id
                )
            conn.execute(
                insert(d.dispute_photos).values(
                    id=photo_id,
                    dispute_id=dispute_id,
                    visit_id=visit_id,
                    content_type=declared,
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    created_at=now,
                    created_by=actor,
                    data=data,
                )
            )
            changed(
                conn,
                row,
                now=now,
                actor=actor,
                action="photo",
                changes={"visit_id": visit_id, "photo_id": photo_id},
            )
        return {
            "id": photo_id,
            "visit_id": visit_id,
            "content_type": declared,
            "size": len(data),
            "created_at": now,
        }

    def photo(self, photo_id: str, *, reach: Reach) -> tuple[str, str, bytes]:
        """(content type, sha256, bytes) of a visit's photo."""
        with read_transaction(self.engine) as conn:
            row = conn.execute(
                select(d.dispute_photos, d.disputes.c.station_id)
                .join(d.disputes, d.disputes.c.id == d.dispute_photos.c.dispute_id)
                .where(d.dispute_photos.c.id == photo_id)
            ).first()
        if row is None:
            raise NotFound(f"no photo {photo_id!r}", code="photo_not_found", photo_id=photo_id)
        reach(row.station_id)
        return row.content_type, row.sha256, bytes(row.data)

    def add_agreement(
        self, dispute_id: str, *, text: str, agreed_on: date | None, actor: str, reach: Reach
    ) -> dict[str, Any]:
        agreement_id = new_id("dag")
        with writing(self.engine, self.clock) as (conn, now):
            day = agreed_on or local_day(now, self.zone)
            if day > local_day(now, self.zone):
                raise ValidationFailed(
                    "an agreement cannot be dated in the future", code="agreement_in_future"
                )
            row = lock_case(conn, dispute_id)
            reach(row.station_id)
            require_open(row)
            conn.execute(
                insert(d.dispute_agreements).values(
                    id=agreement_id,
                    dispute_id=dispute_id,
                    text=text,
                    agreed_on=day,
                    created_at=now,
                    created_by=actor,
                )
            )
            changed(
                conn,
                row,
                now=now,
                actor=actor,
                action="agreement",
                changes={"agreement_id": agreement_id, "text": text},
            )
        return {"id": agreement_id, "text": text, "agreed_on": day, "created_by": actor}

    def add_follow_up(
        self,
        dispute_id: str,
        *,
        due_on: date,
        note: str | None,
        actor: str,
        reach: Reach,
        backdated: bool = False,
    ) -> dict[str, Any]:
        """``backdated``: a day already past is taken (the demo's history), never from the API."""
        follow_up_id = new_id("dfu")
        with writing(self.engine, self.clock) as (conn, now):
            if due_on < local_day(now, self.zone) and not backdated:
                raise ValidationFailed("a follow-up is set for today or later", code="follow_up_in_past")
            row = lock_case(conn, dispute_id)
            reach(row.station_id)
            require_open(row)
            conn.execute(
                insert(d.dispute_follow_ups).values(
                    id=follow_up_id,
                    dispute_id=dispute_id,
                    due_on=due_on,
                    note=note,
                    created_at=now,
                    created_by=actor,
                )
            )
            changed(
                conn,
                row,
                now=now,
                actor=actor,
                action="follow_up",
                changes={"follow_up_id": follow_up_id, "due_on": due_on},
                values={"next_follow_up_on": next_follow_up(conn, dispute_id)},
            )
        return {
            "id": follow_up_id,
            "due_on": due_on,
            "note": note,
            "done_at": None,
            "done_by": None,
            "done_note": None,
        }

    def complete_follow_up(
        self, dispute_id: str, follow_up_id: str, *, note: str | None, actor: str, reach: Reach
    ) -> dict[str, Any]:
        with writing(self.engine, self.clock) as (conn, now):
            row = lock_case(conn, dispute_id)
            reach(row.station_id)
            require_open(row)
            found = conn.execute(
                select(d.dispute_follow_ups).where(
                    d.dispute_follow_ups.c.id == follow_up_id, d.dispute_follow_ups.c.dispute_id == dispute_id
                )
            ).first()
            if found is None:
                raise NotFound(
                    f"no follow-up {follow_up_id!r} of {dispute_id}",
                    code="follow_up_not_found",
                    follow_up_id=follow_up_id,
                )
            if found.done_at is not None:
                raise Conflict(
                    "this follow-up is done already", code="follow_up_done", follow_up_id=follow_up_id
                )
            conn.execute(
                update(d.dispute_follow_ups)
                .where(d.dispute_follow_ups.c.id == follow_up_id)
                .values(done_at=now, done_by=actor, done_note=note)
            )
            changed(
                conn,
                row,
                now=now,
                actor=actor,
                action="follow_up_done",
                changes={"follow_up_id": follow_up_id, "note": note},
                values={"next_follow_up_on": next_follow_up(conn, dispute_id)},
            )
        return {
            "id": follow_up_id,
            "due_on": found.due_on,
            "note": found.note,
            "done_at": now,
            "done_by": actor,
            "done_note": note,
        }


__all__ = ["Work"]
