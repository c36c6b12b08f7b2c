"""Back-testing a model: its current version run over a past period at daily steps, and its
precision measured on what followed (the definition: domain.warning_backtest). The back-test is
kept with the version it measured, and audited; a version without one cannot be switched on."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Engine, insert, select

from jingwu.domain.warning_backtest import DAY, MAX_PERIOD, backtest, summary
from jingwu.errors import Conflict, ValidationFailed
from jingwu.service import audit
from jingwu.service.idempotency import record_claim
from jingwu.service.ids import new_id
from jingwu.service.warning_models.loading import load
from jingwu.service.warning_models.records import backtest_view, model_row, not_found, rule_of
from jingwu.store import warning_models_tables as w
from jingwu.store.db import read_transaction, write_transaction

#: The period when none is given: the last this many days.
DEFAULT_DAYS = 90
#: How far into the past a back-test may start.
OLDEST = timedelta(days=20 * 366)


def period(
    *, days: int | None, start: datetime | None, end: datetime | None, now: datetime, zone: tzinfo
) -> tuple[datetime, datetime]:
    """The period a back-test covers: the last ``days`` days, or ``start`` to ``end`` (a time
    without a zone is the bureau's); its end brought back to now. At least a day (one step), at
    most ``MAX_PERIOD``, within the last 20 years (422 ``bad_backtest_period`` otherwise)."""

    def bad(message: str) -> ValidationFailed:
        return ValidationFailed(message, code="bad_backtest_period", max_days=MAX_PERIOD.days)

    if days is not None and start is not None:
        raise bad("give the period as days or as start and end, not both")
    if days is not None and end is not None:
        raise bad("days counts back from now: give no end with it")

    def zoned(when: datetime) -> datetime:
        return when.replace(tzinfo=zone) if when.tzinfo is None else when

    if start is None:
        end_at = now
        start_at = now - timedelta(days=days if days is not None else DEFAULT_DAYS)
    else:
        start_at = zoned(start)
        end_at = min(zoned(end), now) if end is not None else now
    if start_at < now - OLDEST:
        raise bad("a back-test starts within the last 20 years")
    if end_at - start_at < DAY or end_at - start_at > MAX_PERIOD:
        raise bad(f"a back-test covers one day to {MAX_PERIOD.days} days of the past")
    return start_at, end_at


class Backtests:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime], zone: tzinfo) -> None:
        self.engine = engine
        self.clock = clock
        self.zone = zone

    def run(
        self,
        model_id: str,
        *,
        actor: str,
        days: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        source: str | None = None,
    ) -> dict[str, Any]:
        """Back-test the model's current version over the period (:func:`period`). The records
        reach back the rule's look-back before its start and forward, for the follow-ups, to its
        end + the follow-up window (at most now)."""
        started = time.perf_counter()
        now = self.clock()
        start, end = period(days=days, start=start, end=end, now=now, zone=self.zone)
        with read_transaction(self.engine) as conn:
            row = model_row(conn, model_id)
            rule = rule_of(row)
            data_end = min(end + rule.follow_up, now)
            records, read = load(conn, rule, start - rule.lookback - rule.window, data_end)
        result = backtest(rule, records, start=start, end=end, data_end=data_end)
        backtest_id = new_id("mbt")
        with write_transaction(self.engine) as conn:
            locked = model_row(conn, model_id, lock=True)
            if locked.version != row.version:
                raise Conflict(
                    f"model {model_id} changed during the back-test; run it again",
                    code="stale_model",
                    model_id=model_id,
                    version=locked.version,
                )
            conn.execute(
                insert(w.warning_model_backtests).values(
                    id=backtest_id,
                    model_id=model_id,
                    model_version=row.version,
                    period_start=start,
                    period_end=end,
                    follow_up_days=rule.follow_up / timedelta(days=1),
                    steps=result.steps,
                    warnings=result.warnings,
                    judged=result.judged,
                    followed=result.followed,
                    precision=result.precision,
                    details=summary(result),
                    records_read=read,
                    created_at=now,
                    created_by=actor,
                    duration_ms=int((time.perf_counter() - started) * 1000),
                )
            )
            audit.append(
                conn,
                ts=now,
                action="model.backtest",
                actor=actor,
                target=f"model:{model_id}",
                source=source,
                details={
                    "backtest_id": backtest_id,
                    "version": row.version,
                    "period_start": start.isoformat(),
                    "period_end": end.isoformat(),
                    "records_read": read,
                    "warnings": result.warnings,
                    "judged": result.judged,
                    "followed": result.followed,
                    "precision": result.precision,
                },
            )
            claim = record_claim(conn, now)
            stored = conn.execute(
                select(w.warning_model_backtests).where(w.warning_model_backtests.c.id == backtest_id)
            ).one()
        if claim is not None:
            claim.recorded = True
        return backtest_view(stored)

    def list(self, model_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """A model's back-tests, newest first, without their details."""
        b = w.warning_model_backtests
        with read_transaction(self.engine) as conn:
            if (
                conn.execute(select(w.warning_models.c.id).where(w.warning_models.c.id == model_id)).first()
                is None
            ):
                raise not_found(model_id)
            rows = conn.execute(
                select(b)
                .where(b.c.model_id == model_id)
                .order_by(b.c.created_at.desc(), b.c.model_version.desc(), b.c.id.desc())
                .limit(limit)
            ).all()
        return [backtest_view(r, details=False) for r in rows]


__all__ = ["DEFAULT_DAYS", "Backtests", "period"]
