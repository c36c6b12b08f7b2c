"""Reading and writing a dispute's rows: the sealed parties, the case's view, its history and the
version check every change goes through. The use cases (cases, work, lists, escalation) build on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from jingwu.domain.disputes import (
    DisputeKind,
    DisputeStatus,
    RiskLevel,
    assess_risk,
    combined_level,
    days_overdue,
    is_rising,
)
from jingwu.domain.identity import mask_name
from jingwu.errors import Conflict, NotFound
from jingwu.service.idempotency import record_claim
from jingwu.service.personal_data import id_number_index, open_field, phone_index
from jingwu.store import disputes_tables as d
from jingwu.store.db import write_transaction
from jingwu.store.fieldcrypt import KeyRing

PARTY_NAME = "dispute_parties.name"
PARTY_PHONE = "dispute_parties.phone"
PARTY_ID_NUMBER = "dispute_parties.id_number"
PARTY_ROLES = frozenset({"party", "applicant", "respondent"})


@dataclass(frozen=True, slots=True)
class NewParty:
    """A party as given: the phone already normalised (E.164), the ID number already checked."""

    name: str
    phone: str | None = None
    id_number: str | None = None
    role: str = "party"
    resident_id: str | None = None


def sealed_party(keys: KeyRing, party: NewParty) -> dict[str, Any]:
    """A party's columns, sealed, with the blind indexes a new call is matched by."""
    return {
        "role": party.role,
        "name": keys.encrypt(party.name, context=PARTY_NAME),
        "phone": keys.encrypt(party.phone, context=PARTY_PHONE) if party.phone else None,
        "phone_index": phone_index(keys, party.phone) if party.phone else None,
        "id_number": keys.encrypt(party.id_number, context=PARTY_ID_NUMBER) if party.id_number else None,
        "id_index": id_number_index(keys, party.id_number) if party.id_number else None,
        "resident_id": party.resident_id,
    }


def party_rows(conn: Connection, dispute_ids: Sequence[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {i: [] for i in dispute_ids}
    if not dispute_ids:
        return found
    rows = conn.execute(
        select(d.dispute_parties)
        .where(d.dispute_parties.c.dispute_id.in_(list(dispute_ids)))
        .order_by(d.dispute_parties.c.dispute_id, d.dispute_parties.c.position)
    )
    for row in rows:
        found[row.dispute_id].append(row)
    return found


def masked_party(keys: KeyRing, row: Any) -> dict[str, Any]:
    """A party as lists and the case view show it: the name masked, the numbers only as present."""
    name = open_field(keys, row.name, context=PARTY_NAME) or ""
    return {
        "id": row.id,
        "role": row.role,
        "name": mask_name(name),
        "has_phone": row.phone is not None,
        "has_id_number": row.id_number is not None,
        "resident_id": row.resident_id,
    }


def case_view(
    row: Any, parties: Sequence[Any], keys: KeyRing, *, now: datetime, zone: tzinfo
) -> dict[str, Any]:
    """A dispute as every answer shows it (JSON-ready); names masked."""
    due: date | None = row.next_follow_up_on
    overdue = days_overdue(due, done=False, now=now, zone=zone) if due is not None else 0
    open_ = row.status == DisputeStatus.OPEN
    return {
        "id": row.id,
        "kind": row.kind,
        "summary": row.summary,
        "address": row.address,
        "location": {"lat": row.lat, "lon": row.lon},
        "station_id": row.station_id,
        "officer": row.officer,
        "status": row.status,
        "risk_level": row.risk_level,
        "risk_factors": list(row.risk_factors),
        "risk_reasons": list(row.risk_reasons),
        "risk_raised_at": row.risk_raised_at,
        "risk_rising": open_ and is_rising(row.risk_raised_at, now),
        "next_follow_up_on": due,
        "overdue_days": overdue if open_ else 0,
        "parties": [masked_party(keys, p) for p in parties],
        "created_at": row.created_at,
        "created_by": row.created_by,
        "updated_at": row.updated_at,
        "closed_at": row.closed_at,
        "closed_by": row.closed_by,
        "outcome": row.outcome,
        "closing_note": row.closing_note,
        "version": row.version,
    }


def risk_columns(
    factors: Sequence[str], kind: str, floor: str | None, escalation_reasons: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The risk as the factors and the escalations so far make it."""
    from jingwu.domain.disputes import RiskFactor

    assessment = assess_risk(frozenset(RiskFactor(f) for f in factors), kind=DisputeKind(kind))
    level = combined_level(assessment.level, RiskLevel(floor) if floor else None)
    reasons = [r.as_dict() for r in assessment.reasons] + [dict(r) for r in escalation_reasons]
    return {"risk_level": level.value, "risk_reasons": reasons, "risk_factors": sorted(factors)}


def escalation_reasons(row: Any) -> list[Mapping[str, Any]]:
    return [r for r in row.risk_reasons if r.get("code") == "new_call"]


def lock_case(conn: Connection, dispute_id: str) -> Any:
    """The case's row, locked for the change (PostgreSQL: FOR UPDATE; SQLite: the write lock)."""
    row = conn.execute(select(d.disputes).where(d.disputes.c.id == dispute_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"no dispute {dispute_id!r}", code="dispute_not_found", dispute_id=dispute_id)
    return row


def require_open(row: Any) -> None:
    if row.status != DisputeStatus.OPEN:
        raise Conflict(
            f"dispute {row.id} is closed; reopen it as a new case", code="dispute_closed", dispute_id=row.id
        )


def next_follow_up(conn: Connection, dispute_id: str) -> date | None:
    due: date | None = conn.execute(
        select(d.dispute_follow_ups.c.due_on)
        .where(d.dispute_follow_ups.c.dispute_id == dispute_id, d.dispute_follow_ups.c.done_at.is_(None))
        .order_by(d.dispute_follow_ups.c.due_on)
        .limit(1)
    ).scalar()
    return due


def changed(
    conn: Connection,
    row: Any,
    *,
    now: datetime,
    actor: str | None,
    action: str,
    changes: Mapping[str, Any],
    values: Mapping[str, Any] | None = None,
) -> int:
    """Write a change of the case: its columns (``values``), one version up, and the history row
    (who, when, what). Returns the new version."""
    version = int(row.version) + 1
    conn.execute(
        update(d.disputes)
        .where(d.disputes.c.id == row.id)
        .values(**dict(values or {}), version=version, updated_at=now)
    )
    conn.execute(
        insert(d.dispute_changes).values(
            dispute_id=row.id,
            version=version,
            at=now,
            actor=actor,
            action=action,
            changes=_json_ready(dict(changes)),
        )
    )
    return version


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


@contextmanager
def writing(engine: Engine, clock: Callable[[], datetime]) -> Iterator[tuple[Connection, datetime]]:
    """A write transaction that also stores the request's idempotency key (a retried POST from an
    offline terminal is applied once; see service.idempotency)."""
    now = clock()
    with write_transaction(engine) as conn:
        yield conn, now
        claim = record_claim(conn, now)
    if claim is not None:
        claim.recorded = True


__all__ = [
    "PARTY_ID_NUMBER",
    "PARTY_NAME",
    "PARTY_PHONE",
    "PARTY_ROLES",
    "NewParty",
    "case_view",
    "changed",
    "escalation_reasons",
    "lock_case",
    "masked_party",
    "next_follow_up",
    "party_rows",
    "require_open",
    "risk_columns",
    "sealed_party",
    "writing",
]
