"""Reading and showing the models' rows: a model's rule back from its row, the row locked for a
change, and the views every answer shows (JSON-ready where they travel on the bus)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from jingwu.domain.warning_models import Rule, parse_rule
from jingwu.errors import NotFound
from jingwu.store import warning_models_tables as w

#: Raises (403) when the caller may not hold a record of that station; given by the API.
Reach = Callable[[str | None], None]


def everywhere(_station_id: str | None) -> None:
    """The reach of the system itself (the scheduler, the demo's seeding)."""


def not_found(model_id: str) -> NotFound:
    return NotFound(f"no model {model_id!r}", code="model_not_found", model_id=model_id)


def model_row(conn: Connection, model_id: str, *, lock: bool = False) -> Any:
    """The model's row (PostgreSQL: locked FOR UPDATE with ``lock``; SQLite: the write lock)."""
    query = select(w.warning_models).where(w.warning_models.c.id == model_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise not_found(model_id)
    return row


def rule_of(row: Any) -> Rule:
    """The stored rule, checked again as it is read (a stored model was checked when it was saved)."""
    return parse_rule(row.kind, row.params, row.sources)


def latest_backtest(conn: Connection, model_id: str, version: int) -> Any:
    b = w.warning_model_backtests
    return conn.execute(
        select(b)
        .where(b.c.model_id == model_id, b.c.model_version == version)
        .order_by(b.c.created_at.desc(), b.c.id.desc())
        .limit(1)
    ).first()


def backtest_view(row: Any, *, details: bool = True) -> dict[str, Any]:
    view = {
        "id": row.id,
        "model_id": row.model_id,
        "model_version": row.model_version,
        "period_start": row.period_start,
        "period_end": row.period_end,
        "follow_up_days": row.follow_up_days,
        "steps": row.steps,
        "warnings": row.warnings,
        "judged": row.judged,
        "followed": row.followed,
        "pending": row.warnings - row.judged,
        "precision": row.precision,
        "records_read": dict(row.records_read),
        "created_at": row.created_at,
        "created_by": row.created_by,
        "duration_ms": row.duration_ms,
    }
    if details:
        view["details"] = dict(row.details)
    return view


def model_view(row: Any, backtest: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "owner": row.owner,
        "purpose": row.purpose,
        "kind": row.kind,
        "params": dict(row.params),
        "sources": sorted(row.sources),
        "every_minutes": row.every_minutes,
        "enabled": bool(row.enabled),
        "version": row.version,
        "created_at": row.created_at,
        "created_by": row.created_by,
        "updated_at": row.updated_at,
        "updated_by": row.updated_by,
        "last_run_at": row.last_run_at,
        # The newest back-test of the current version (null: none yet; it cannot be switched on).
        "backtest": backtest_view(backtest, details=False) if backtest is not None else None,
    }


def run_view(row: Any, warning_ids: list[str] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": row.id,
        "model_id": row.model_id,
        "model_version": row.model_version,
        "trigger": row.trigger,
        "actor": row.actor,
        "started_at": row.started_at,
        "duration_ms": row.duration_ms,
        "records_read": dict(row.records_read),
        "warnings_found": row.warnings_found,
        "warnings_raised": row.warnings_raised,
    }
    if warning_ids is not None:
        view["warning_ids"] = warning_ids
    return view


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def warning_view(row: Any, *, model_name: str, kind: str, json_ready: bool = False) -> dict[str, Any]:
    """A warning as lists and the live stream show it. ``json_ready``: times as ISO text (for the
    event log and the bus)."""

    def when(value: datetime | None) -> datetime | str | None:
        return _iso(value) if json_ready else value

    return {
        "id": row.id,
        "model_id": row.model_id,
        "model_name": model_name,
        "model_version": row.model_version,
        "kind": kind,
        "station_id": row.station_id,
        "place": {"lat": row.lat, "lon": row.lon, "address": row.address},
        "title": {"zh": row.title_zh, "en": row.title_en},
        "evidence": dict(row.evidence),
        "window_start": when(row.window_start),
        "window_end": when(row.window_end),
        "status": row.status,
        "raised_at": when(row.raised_at),
        "acted_by": row.acted_by,
        "acted_at": when(row.acted_at),
        "note": row.note,
    }


__all__ = [
    "Reach",
    "backtest_view",
    "everywhere",
    "latest_backtest",
    "model_row",
    "model_view",
    "not_found",
    "rule_of",
    "run_view",
    "warning_view",
]
