"""A dispute case's life: opened with its parties and risk, edited (versioned, each change in its
history), closed; read whole, and its parties' personal data read on purpose (audited)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select

from jingwu.domain.disputes import (
    DisputeKind,
    DisputeStatus,
    RiskFactor,
    address_key,
)
from jingwu.domain.geo import GeoPoint
from jingwu.domain.identity import mask_id_number, mask_name, mask_phone
from jingwu.errors import Conflict, NotFound, ValidationFailed
from jingwu.service import audit
from jingwu.service.disputes.records import (
    PARTY_ID_NUMBER,
    PARTY_NAME,
    PARTY_PHONE,
    NewParty,
    case_view,
    changed,
    escalation_reasons,
    lock_case,
    masked_party,
    party_rows,
    require_open,
    risk_columns,
    sealed_party,
    writing,
)
from jingwu.service.ids import new_id
from jingwu.service.personal_data import open_field
from jingwu.store import disputes_tables as d
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.fieldcrypt import KeyRing

#: Raises (403) when the caller may not hold a record of that station; given by the API.
Reach = Callable[[str | None], None]
OUTCOMES = frozenset({"resolved", "referred", "withdrawn", "other"})
MAX_PARTIES = 20


def everywhere(_station_id: str | None) -> None:
    """The reach of the system itself (the demo's seeding, the escalation)."""


@dataclass(frozen=True, slots=True)
class NewDispute:
    kind: DisputeKind
    summary: str
    address: str
    location: GeoPoint
    parties: Sequence[NewParty]
    factors: frozenset[RiskFactor] = frozenset()
    officer: str | None = None


@dataclass(frozen=True, slots=True)
class DisputeEdit:
    """The fields to change (None: unchanged); ``version`` the one the editor saw."""

    version: int
    kind: DisputeKind | None = None
    summary: str | None = None
    address: str | None = None
    location: GeoPoint | None = None
    factors: frozenset[RiskFactor] | None = None
    officer: str | None = None
    parties: Sequence[NewParty] | None = None


def check_parties(parties: Sequence[NewParty]) -> None:
    if not parties:
        raise ValidationFailed("a dispute has at least one party", code="parties_required")
    if len(parties) > MAX_PARTIES:
        raise ValidationFailed(f"at most {MAX_PARTIES} parties", code="too_many_parties", limit=MAX_PARTIES)


class Cases:
    def __init__(
        self,
        engine: Engine,
        keys: KeyRing,
        *,
        station_for: Callable[[GeoPoint], str | None],
        clock: Callable[[], datetime],
        zone: tzinfo,
    ) -> None:
        self.engine = engine
        self.keys = keys
        self.station_for = station_for
        self.clock = clock
        self.zone = zone

    # ------------------------------------------------------------ reading

    def view(self, conn: Connection, row: Any) -> dict[str, Any]:
        parties = party_rows(conn, [row.id])[row.id]
        return case_view(row, parties, self.keys, now=self.clock(), zone=self.zone)

    def get(self, dispute_id: str, *, reach: Reach) -> dict[str, Any]:
        """The case with its visits (and their photos' descriptions), agreements, follow-ups and
        the calls that escalated it. Names masked; the parties' data is read with :meth:`parties`."""
        with read_transaction(self.engine) as conn:
            row = conn.execute(select(d.disputes).where(d.disputes.c.id == dispute_id)).first()
            if row is None:
                raise NotFound(f"no dispute {dispute_id!r}", code="dispute_not_found", dispute_id=dispute_id)
            reach(row.station_id)
            view = self.view(conn, row)
            photos: dict[str, list[dict[str, Any]]] = {}
            for p in conn.execute(
                select(
                    d.dispute_photos.c.id,
                    d.dispute_photos.c.visit_id,
                    d.dispute_photos.c.content_type,
                    d.dispute_photos.c.size,
                    d.dispute_photos.c.created_at,
                )
                .where(d.dispute_photos.c.dispute_id == dispute_id)
                .order_by(d.dispute_photos.c.created_at, d.dispute_photos.c.id)
            ):
                photos.setdefault(p.visit_id, []).append(
                    {
                        "id": p.id,
                        "content_type": p.content_type,
                        "size": int(p.size),
                        "created_at": p.created_at,
                    }
                )
            view["visits"] = [
                {
                    "id": v.id,
                    "visited_at": v.visited_at,
                    "note": v.note,
                    "created_by": v.created_by,
                    "photos": photos.get(v.id, []),
                }
                for v in conn.execute(
                    select(d.dispute_visits)
                    .where(d.dispute_visits.c.dispute_id == dispute_id)
                    .order_by(d.dispute_visits.c.visited_at, d.dispute_visits.c.id)
                )
            ]
            view["agreements"] = [
                {"id": a.id, "text": a.text, "agreed_on": a.agreed_on, "created_by": a.created_by}
                for a in conn.execute(
                    select(d.dispute_agreements)
                    .where(d.dispute_agreements.c.dispute_id == dispute_id)
                    .order_by(d.dispute_agreements.c.created_at, d.dispute_agreements.c.id)
                )
            ]
            view["follow_ups"] = [
                {
                    "id": f.id,
                    "due_on": f.due_on,
                    "note": f.note,
                    "done_at": f.done_at,
                    "done_by": f.done_by,
                    "done_note": f.done_note,
                }
                for f in conn.execute(
                    select(d.dispute_follow_ups)
                    .where(d.dispute_follow_ups.c.dispute_id == dispute_id)
                    .order_by(d.dispute_follow_ups.c.due_on, d.dispute_follow_ups.c.id)
                )
            ]
            view["incidents"] = [
                {
                    "incident_id": link.incident_id,
                    "matched_by": list(link.matched_by),
                    "risk_before": link.risk_before,
                    "risk_after": link.risk_after,
                    "linked_at": link.linked_at,
                }
                for link in conn.execute(
                    select(d.dispute_incident_links)
                    .where(d.dispute_incident_links.c.dispute_id == dispute_id)
                    .order_by(d.dispute_incident_links.c.linked_at)
                )
            ]
        return view

    def check_reach(self, dispute_id: str, *, reach: Reach) -> None:
        """404 / 403 for a case that is not there or not the caller's, before a body is read."""
        with read_transaction(self.engine) as conn:
            row = conn.execute(select(d.disputes.c.station_id).where(d.disputes.c.id == dispute_id)).first()
        if row is None:
            raise NotFound(f"no dispute {dispute_id!r}", code="dispute_not_found", dispute_id=dispute_id)
        reach(row.station_id)

    def history(self, dispute_id: str, *, reach: Reach) -> list[dict[str, Any]]:
        with read_transaction(self.engine) as conn:
            station = conn.execute(
                select(d.disputes.c.station_id).where(d.disputes.c.id == dispute_id)
            ).first()
            if station is None:
                raise NotFound(f"no dispute {dispute_id!r}", code="dispute_not_found", dispute_id=dispute_id)
            reach(station.station_id)
            rows = conn.execute(
                select(d.dispute_changes)
                .where(d.dispute_changes.c.dispute_id == dispute_id)
                .order_by(d.dispute_changes.c.version, d.dispute_changes.c.id)
            ).all()
        return [
            {"version": r.version, "at": r.at, "actor": r.actor, "action": r.action, "changes": r.changes}
            for r in rows
        ]

    def parties(
        self, dispute_id: str, *, actor: str, reason: str, full: bool, source: str | None, reach: Reach
    ) -> list[dict[str, Any]]:
        """The parties' names, phones and ID numbers: masked unless ``full``; the read is written to
        the audit chain (who, which case, why, masked or not) before anything is shown."""
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(d.disputes.c.station_id).where(d.disputes.c.id == dispute_id)).first()
            if row is None:
                raise NotFound(f"no dispute {dispute_id!r}", code="dispute_not_found", dispute_id=dispute_id)
            reach(row.station_id)
            parties = party_rows(conn, [dispute_id])[dispute_id]
            audit.append(
                conn,
                ts=self.clock(),
                action="personal_data.read",
                actor=actor,
                target=f"dispute:{dispute_id}",
                source=source,
                reason=reason,
                details={"what": "dispute_parties", "full": full, "parties": len(parties)},
            )
        shown = []
        for p in parties:
            name = open_field(self.keys, p.name, context=PARTY_NAME) or ""
            phone = open_field(self.keys, p.phone, context=PARTY_PHONE)
            id_number = open_field(self.keys, p.id_number, context=PARTY_ID_NUMBER)
            if not full:
                name = mask_name(name)
                phone = mask_phone(phone) if phone else None
                id_number = mask_id_number(id_number) if id_number else None
            shown.append(
                {
                    "id": p.id,
                    "role": p.role,
                    "name": name,
                    "phone": phone,
                    "id_number": id_number,
                    "resident_id": p.resident_id,
                    "masked": not full,
                }
            )
        return shown

    # ------------------------------------------------------------ changing

    def _check_officer(self, conn: Connection, officer: str | None) -> None:
        if officer is None:
            return
        found = conn.execute(
            select(t.users.c.username).where(func.lower(t.users.c.username) == officer.lower())
        ).first()
        if found is None:
            raise ValidationFailed(f"no user {officer!r}", code="unknown_officer", officer=officer)

    def _insert_parties(self, conn: Connection, dispute_id: str, parties: Sequence[NewParty]) -> None:
        for position, party in enumerate(parties):
            conn.execute(
                insert(d.dispute_parties).values(
                    id=new_id("dpp"),
                    dispute_id=dispute_id,
                    position=position,
                    **sealed_party(self.keys, party),
                )
            )

    def open(self, new: NewDispute, *, actor: str, reach: Reach) -> dict[str, Any]:
        check_parties(new.parties)
        station_id = self.station_for(new.location)
        reach(station_id)
        dispute_id = new_id("dsp")
        risk = risk_columns([f.value for f in new.factors], new.kind.value, None, [])
        with writing(self.engine, self.clock) as (conn, now):
            self._check_officer(conn, new.officer)
            conn.execute(
                insert(d.disputes).values(
                    id=dispute_id,
                    kind=new.kind.value,
                    summary=new.summary,
                    address=new.address,
                    address_key=address_key(new.address)[:400],
                    lat=new.location.lat,
                    lon=new.location.lon,
                    station_id=station_id,
                    officer=new.officer,
                    status=DisputeStatus.OPEN.value,
                    risk_floor=None,
                    risk_raised_at=None,
                    next_follow_up_on=None,
                    created_at=now,
                    created_by=actor,
                    updated_at=now,
                    version=1,
                    **risk,
                )
            )
            self._insert_parties(conn, dispute_id, new.parties)
            conn.execute(
                insert(d.dispute_changes).values(
                    dispute_id=dispute_id,
                    version=1,
                    at=now,
                    actor=actor,
                    action="opened",
                    changes={
                        "kind": new.kind.value,
                        "risk_level": risk["risk_level"],
                        "station_id": station_id,
                        "parties": len(new.parties),
                    },
                )
            )
            row = conn.execute(select(d.disputes).where(d.disputes.c.id == dispute_id)).one()
            return self.view(conn, row)

    def edit(self, dispute_id: str, edit: DisputeEdit, *, actor: str, reach: Reach) -> dict[str, Any]:
        if edit.parties is not None:
            check_parties(edit.parties)
        with writing(self.engine, self.clock) as (conn, now):
            row = lock_case(conn, dispute_id)
            reach(row.station_id)
            require_open(row)
            if row.version != edit.version:
                raise Conflict(
                    "this dispute was changed by someone else; reload it",
                    code="stale_dispute",
                    dispute_id=dispute_id,
                    version=row.version,
                )
            values: dict[str, Any] = {}
            changes: dict[str, Any] = {}
            for field, new in (
                ("kind", edit.kind.value if edit.kind else None),
                ("summary", edit.summary),
                ("address", edit.address),
                ("officer", edit.officer),
            ):
                if new is not None and new != getattr(row, field):
                    values[field] = new
                    changes[field] = [getattr(row, field), new]
            if "officer" in values:
                self._check_officer(conn, edit.officer)
            if "address" in values:
                values["address_key"] = address_key(edit.address)[:400]
            if edit.location is not None and (edit.location.lat, edit.location.lon) != (row.lat, row.lon):
                station_id = self.station_for(edit.location)
                reach(station_id)  # a case is not moved out of the editor's own reach
                values |= {"lat": edit.location.lat, "lon": edit.location.lon, "station_id": station_id}
                changes["location"] = [[row.lat, row.lon], [edit.location.lat, edit.location.lon]]
                if station_id != row.station_id:
                    changes["station_id"] = [row.station_id, station_id]
            factors = (
                sorted(f.value for f in edit.factors) if edit.factors is not None else list(row.risk_factors)
            )
            if factors != sorted(row.risk_factors):
                changes["risk_factors"] = [sorted(row.risk_factors), factors]
            if "kind" in values or "risk_factors" in changes:
                risk = risk_columns(
                    factors, values.get("kind", row.kind), row.risk_floor, escalation_reasons(row)
                )
                values |= risk
                if risk["risk_level"] != row.risk_level:
                    changes["risk_level"] = [row.risk_level, risk["risk_level"]]
            if edit.parties is not None:
                before = [
                    masked_party(self.keys, p)["name"] for p in party_rows(conn, [dispute_id])[dispute_id]
                ]
                conn.execute(delete(d.dispute_parties).where(d.dispute_parties.c.dispute_id == dispute_id))
                self._insert_parties(conn, dispute_id, edit.parties)
                # The history keeps who was a party only masked: it is read without a reason.
                changes["parties"] = [before, [mask_name(p.name) for p in edit.parties]]
            if not changes:
                return self.view(conn, row)
            changed(conn, row, now=now, actor=actor, action="edited", changes=changes, values=values)
            return self.view(conn, lock_case(conn, dispute_id))

    def close(self, dispute_id: str, *, outcome: str, note: str, actor: str, reach: Reach) -> dict[str, Any]:
        if outcome not in OUTCOMES:
            raise ValidationFailed(
                f"unknown outcome {outcome!r}", code="bad_outcome", outcome=outcome, allowed=sorted(OUTCOMES)
            )
        with writing(self.engine, self.clock) as (conn, now):
            row = lock_case(conn, dispute_id)
            reach(row.station_id)
            require_open(row)
            changed(
                conn,
                row,
                now=now,
                actor=actor,
                action="closed",
                changes={"status": [row.status, "closed"], "outcome": outcome, "note": note},
                values={
                    "status": DisputeStatus.CLOSED.value,
                    "closed_at": now,
                    "closed_by": actor,
                    "outcome": outcome,
                    "closing_note": note,
                    "next_follow_up_on": None,
                },
            )
            return self.view(conn, lock_case(conn, dispute_id))


__all__ = ["OUTCOMES", "Cases", "DisputeEdit", "NewDispute", "Reach", "check_parties", "everywhere"]
