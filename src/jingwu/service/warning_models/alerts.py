"""The warnings the models raised, as the stations see them: listed for the caller's stations,
acknowledged (someone is on it) or dismissed (nothing to do), each with who and when, audited."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update

from jingwu.errors import Conflict, NotFound, ValidationFailed
from jingwu.service import audit
from jingwu.service.idempotency import record_claim
from jingwu.service.warning_models.records import Reach, warning_view
from jingwu.store import warning_models_tables as w
from jingwu.store.db import read_transaction, write_transaction

STATUSES = ("new", "acknowledged", "dismissed")
#: From each status, where a station may take a warning.
NEXT: dict[str, frozenset[str]] = {
    "new": frozenset({"acknowledged", "dismissed"}),
    "acknowledged": frozenset({"dismissed"}),
    "dismissed": frozenset(),
}

_WITH_MODEL = select(
    w.model_warnings, w.warning_models.c.name.label("model_name"), w.warning_models.c.kind
).join(w.warning_models, w.model_warnings.c.model_id == w.warning_models.c.id)


def _view(row: Any) -> dict[str, Any]:
    return warning_view(row, model_name=row.model_name, kind=row.kind)


class Alerts:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def list(
        self,
        *,
        station_ids: Collection[str] | None,
        status: str | None = None,
        model_id: str | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Warnings of ``station_ids`` (None: every one, those of no station included), newest first."""
        if status is not None and status not in STATUSES:
            raise ValidationFailed(
                f"unknown warning status {status!r}", code="bad_warning_status", allowed=list(STATUSES)
            )
        q = w.model_warnings.c
        query = _WITH_MODEL.order_by(q.raised_at.desc(), q.id.desc()).limit(limit)
        if station_ids is not None:
            query = query.where(q.station_id.in_(sorted(station_ids)))
        if status is not None:
            query = query.where(q.status == status)
        if model_id is not None:
            query = query.where(q.model_id == model_id)
        with read_transaction(self.engine) as conn:
            return [_view(r) for r in conn.execute(query)]

    def act(
        self,
        warning_id: str,
        *,
        to: str,
        actor: str,
        note: str | None,
        reach: Reach,
        source: str | None = None,
    ) -> dict[str, Any]:
        """Acknowledge or dismiss a warning of a station in reach (403 otherwise); 409
        ``warning_closed`` when its status does not allow it."""
        now = self.clock()
        q = w.model_warnings.c
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                _WITH_MODEL.where(q.id == warning_id).with_for_update(of=w.model_warnings)
            ).first()
            if row is None:
                raise NotFound(f"no warning {warning_id!r}", code="warning_not_found", warning_id=warning_id)
            reach(row.station_id)
            if to not in NEXT[row.status]:
                raise Conflict(
                    f"warning {warning_id} is {row.status}: it cannot be {to}",
                    code="warning_closed",
                    warning_id=warning_id,
                    status=row.status,
                    to=to,
                )
            conn.execute(
                update(w.model_warnings)
                .where(q.id == warning_id)
                .values(status=to, acted_by=actor, acted_at=now, note=note)
            )
            audit.append(
                conn,
                ts=now,
                action=f"warning.{to}",
                actor=actor,
                target=f"warning:{warning_id}",
                source=source,
                reason=note,
                details={"model_id": row.model_id, "station_id": row.station_id, "from": row.status},
            )
            claim = record_claim(conn, now)
            updated = conn.execute(_WITH_MODEL.where(q.id == warning_id)).one()
        if claim is not None:
            claim.recorded = True
        return _view(updated)


__all__ = ["NEXT", "STATUSES", "Alerts"]
