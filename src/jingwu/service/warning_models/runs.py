"""Running a model: on its schedule (the leader's timer, :meth:`Runs.run_due`) or by hand.

A run reads what the model may read (service.warning_models.loading), evaluates the rule
(domain.warning_rules), and in one transaction of the dispatch service's write path keeps the run
(when, by whom, records read per source, warnings found and raised, duration), the new warnings
(one row per station concerned; those already raised for the same place and window are left out),
and its audit record ``model.run``; after the commit each new warning is published as a
``model.warning`` event, which the live stream carries to the station it concerns."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, insert, select, update

from jingwu.domain.events import DomainEvent, EventType
from jingwu.domain.rules import Decision
from jingwu.domain.warning_rules import Raised, Warning, evaluate, fresh
from jingwu.errors import Conflict
from jingwu.service import audit
from jingwu.service.ids import new_id
from jingwu.service.warning_models.loading import load
from jingwu.service.warning_models.records import model_row, not_found, rule_of, run_view, warning_view
from jingwu.store import warning_models_tables as w
from jingwu.store.db import read_transaction

if TYPE_CHECKING:
    from jingwu.service.dispatching import DispatchService

log = logging.getLogger(__name__)

#: A plate rule looks back to the previous run, but never farther than this (after a pause).
MAX_CATCH_UP = timedelta(days=1)


class Runs:
    def __init__(self, engine: Engine, dispatch: DispatchService, *, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.dispatch = dispatch
        self.clock = clock

    def run(
        self, model_id: str, *, actor: str | None, source: str | None = None, scheduled: bool = False
    ) -> dict[str, Any]:
        """Run a model that is switched on (409 ``model_not_enabled`` otherwise) now. Returns the
        run, with the ids of the warnings it raised."""
        started = time.perf_counter()
        now = self.clock()
        with read_transaction(self.engine) as conn:
            row = model_row(conn, model_id)
            if not row.enabled:
                raise Conflict(
                    f"model {model_id} is switched off: back-test it and switch it on first",
                    code="model_not_enabled",
                    model_id=model_id,
                )
            rule = rule_of(row)
            every = timedelta(minutes=row.every_minutes)
            since = max(row.last_run_at or now - every, now - MAX_CATCH_UP)
            start = min(now - rule.lookback, since - rule.window)
            records, read = load(conn, rule, start, now)
        found = evaluate(rule, records, now, since=since)
        run_id = new_id("mrn")
        raised_rows: list[dict[str, Any]] = []

        def decide(conn: Connection, _committed_at: datetime) -> Decision:
            locked = model_row(conn, model_id, lock=True)
            if locked.version != row.version or not locked.enabled:
                raise Conflict(
                    f"model {model_id} changed while it ran; run it again",
                    code="stale_model",
                    model_id=model_id,
                    version=locked.version,
                )
            new = fresh(rule, found, _raised(conn, model_id, found))
            raised_rows.clear()
            raised_rows.extend(_rows(new, model_id=model_id, version=row.version, run_id=run_id, now=now))
            duration_ms = int((time.perf_counter() - started) * 1000)
            conn.execute(
                insert(w.warning_model_runs).values(
                    id=run_id,
                    model_id=model_id,
                    model_version=row.version,
                    trigger="schedule" if scheduled else "manual",
                    actor=actor,
                    started_at=now,
                    duration_ms=duration_ms,
                    records_read=read,
                    warnings_found=len(found),
                    warnings_raised=len(raised_rows),
                )
            )
            if raised_rows:
                conn.execute(insert(w.model_warnings), raised_rows)
            conn.execute(
                update(w.warning_models).where(w.warning_models.c.id == model_id).values(last_run_at=now)
            )
            audit.append(
                conn,
                ts=now,
                action="model.run",
                actor=actor,
                target=f"model:{model_id}",
                source=source if not scheduled else "scheduler",
                details={
                    "run_id": run_id,
                    "version": row.version,
                    "trigger": "schedule" if scheduled else "manual",
                    "records_read": read,
                    "warnings_found": len(found),
                    "warnings_raised": len(raised_rows),
                    "stations": sorted({str(r["station_id"]) for r in raised_rows}),
                },
            )
            events = tuple(
                DomainEvent(
                    EventType.MODEL_WARNING,
                    now,
                    actor=actor,
                    data={
                        "warning": warning_view(
                            SimpleNamespace(**r), model_name=row.name, kind=row.kind, json_ready=True
                        ),
                        "model": {"id": model_id, "name": row.name, "kind": row.kind, "version": row.version},
                    },
                )
                for r in raised_rows
            )
            return Decision(events=events)

        self.dispatch.commit(decide)
        with read_transaction(self.engine) as conn:
            stored = conn.execute(
                select(w.warning_model_runs).where(w.warning_model_runs.c.id == run_id)
            ).one()
        return run_view(stored, [str(r["id"]) for r in raised_rows])

    def run_due(self) -> int:
        """Run every model switched on whose time has come (its last run ``every_minutes`` ago, or
        never). One failing model is logged and the others still run. Returns how many ran."""
        now = self.clock()
        m = w.warning_models.c
        with read_transaction(self.engine) as conn:
            rows = conn.execute(
                select(m.id, m.every_minutes, m.last_run_at).where(m.enabled.is_(True)).order_by(m.id)
            ).all()
        ran = 0
        for r in rows:
            if r.last_run_at is not None and r.last_run_at + timedelta(minutes=r.every_minutes) > now:
                continue
            try:
                self.run(r.id, actor=None, scheduled=True)
            except Conflict:
                continue  # switched off or edited meanwhile: its next turn decides
            except Exception:
                log.exception("model %s failed to run", r.id)
                continue
            ran += 1
        return ran

    def runs(self, model_id: str, *, limit: int = 50) -> list[dict[str, Any]]:
        """A model's runs, newest first."""
        with read_transaction(self.engine) as conn:
            if (
                conn.execute(select(w.warning_models.c.id).where(w.warning_models.c.id == model_id)).first()
                is None
            ):
                raise not_found(model_id)
            rows = conn.execute(
                select(w.warning_model_runs)
                .where(w.warning_model_runs.c.model_id == model_id)
                .order_by(w.warning_model_runs.c.started_at.desc(), w.warning_model_runs.c.id.desc())
                .limit(limit)
            ).all()
        return [run_view(r) for r in rows]


def _raised(conn: Connection, model_id: str, found: list[Warning]) -> list[Raised]:
    """The model's earlier warnings whose windows may overlap those found (by any version)."""
    if not found:
        return []
    earliest = min(f.window_start for f in found)
    q = w.model_warnings.c
    rows = conn.execute(
        select(q.place_key, q.lat, q.lon, q.window_start, q.window_end)
        .where(q.model_id == model_id, q.window_end > earliest)
        .distinct()
    )
    return [Raised(r.place_key, r.lat, r.lon, r.window_start, r.window_end) for r in rows]


def _rows(
    new: list[Warning], *, model_id: str, version: int, run_id: str, now: datetime
) -> list[dict[str, Any]]:
    """One row per station concerned of each new warning."""
    return [
        {
            "id": new_id("mwn"),
            "model_id": model_id,
            "model_version": version,
            "run_id": run_id,
            "station_id": site.station_id,
            "place_key": warning.place_key[:200],
            "lat": site.lat,
            "lon": site.lon,
            "address": site.address,
            "window_start": warning.window_start,
            "window_end": warning.window_end,
            "title_zh": warning.title_zh,
            "title_en": warning.title_en,
            "evidence": dict(warning.evidence),
            "status": "new",
            "raised_at": now,
            "acted_by": None,
            "acted_at": None,
            "note": None,
        }
        for warning in new
        for site in warning.sites
    ]


__all__ = ["MAX_CATCH_UP", "Runs"]
