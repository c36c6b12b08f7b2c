"""Door and gate passages: kept as a message reports them (the card or face reference indexed
and masked, the plate sealed, indexed and masked), and read back, newest first, with the look
written to the audit log (who came and went is personal data)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from jingwu.devices.protocol import AccessReport
from jingwu.service import audit
from jingwu.service.community_devices.registry import device_not_found
from jingwu.service.community_devices.sealing import sealed_credentials
from jingwu.store import tables as t
from jingwu.store.db import write_transaction
from jingwu.store.fieldcrypt import KeyRing

ACCESS_EVENTS_MAX = 500


@dataclass(frozen=True, slots=True)
class AccessEvent:
    id: int
    device_id: str
    ts: datetime
    received_at: datetime
    kind: str
    direction: str
    credential_type: str
    credential_masked: str | None
    plate_masked: str | None
    result: str


def access_from_row(row: Any) -> AccessEvent:
    return AccessEvent(
        id=row.id,
        device_id=row.device_id,
        ts=row.ts,
        received_at=row.received_at,
        kind=row.kind,
        direction=row.direction,
        credential_type=row.credential_type,
        credential_masked=row.credential_masked,
        plate_masked=row.plate_masked,
        result=row.result,
    )


def insert_access(
    conn: Connection, keys: KeyRing, device_id: str, report: AccessReport, now: datetime
) -> None:
    """Keep one passage, in the transaction that claims its message."""
    conn.execute(
        insert(t.access_events).values(
            device_id=device_id,
            ts=report.ts,
            received_at=now,
            seq=report.seq,
            kind=str(report.access),
            direction=str(report.direction),
            credential_type=str(report.credential),
            **sealed_credentials(keys, report.ref, report.plate),
            result=str(report.result),
        )
    )


def read_access_events(
    engine: Engine,
    device_id: str,
    *,
    clock: Callable[[], datetime],
    actor: str,
    reason: str,
    source: str | None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AccessEvent]:
    """A door's or gate's passages, newest first: who came and went is personal data, so the
    look is written to the audit log, with its reason, in the transaction that reads it."""
    c = t.access_events.c
    query = select(t.access_events).where(c.device_id == device_id)
    if before_id is not None:
        query = query.where(c.id < before_id)
    query = query.order_by(c.id.desc()).limit(min(max(limit, 1), ACCESS_EVENTS_MAX))
    with write_transaction(engine) as conn:
        exists = conn.execute(
            select(t.community_devices.c.id).where(t.community_devices.c.id == device_id)
        ).first()
        if exists is None:
            raise device_not_found(device_id)
        found = [access_from_row(r) for r in conn.execute(query)]
        audit.append(
            conn,
            ts=clock(),
            action="access_events.read",
            actor=actor,
            target=f"device:{device_id}",
            source=source,
            reason=reason,
            details={"events": len(found), "before_id": before_id},
        )
    return found


__all__ = ["ACCESS_EVENTS_MAX", "AccessEvent", "access_from_row", "insert_access", "read_access_events"]
