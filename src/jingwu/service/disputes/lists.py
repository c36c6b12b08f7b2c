"""The work lists: a community officer's cases and a station's, overdue follow-ups first (the most
overdue at the top), then the cases whose risk rose lately, then by risk and the next follow-up."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import Engine, select

from jingwu.domain.disputes import RiskLevel
from jingwu.service.disputes.records import case_view, party_rows
from jingwu.store import disputes_tables as d
from jingwu.store.db import read_transaction
from jingwu.store.fieldcrypt import KeyRing

#: Read at most this many cases for one list before ordering (a station follows hundreds, not more).
SCAN_LIMIT = 5000


def work_order(view: dict[str, Any]) -> tuple[Any, ...]:
    overdue = int(view["overdue_days"])
    due: date | None = view["next_follow_up_on"]
    return (
        0 if overdue > 0 else 1,
        -overdue,
        0 if view["risk_rising"] else 1,
        -RiskLevel(view["risk_level"]).rank,
        due or date.max,
        view["id"],
    )


class Lists:
    def __init__(self, engine: Engine, keys: KeyRing, *, clock: Callable[[], datetime], zone: tzinfo) -> None:
        self.engine = engine
        self.keys = keys
        self.clock = clock
        self.zone = zone

    def list(
        self,
        *,
        station_ids: Collection[str] | None,
        station_id: str | None = None,
        status: str | None = "open",
        officer: str | None = None,
        overdue: bool | None = None,
        risk: RiskLevel | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Cases within ``station_ids`` (None: all), filtered, in work order; names masked."""
        query = select(d.disputes)
        if station_ids is not None:
            query = query.where(d.disputes.c.station_id.in_(sorted(station_ids)))
        if station_id is not None:
            query = query.where(d.disputes.c.station_id == station_id)
        if status is not None:
            query = query.where(d.disputes.c.status == status)
        if officer is not None:
            query = query.where(d.disputes.c.officer == officer)
        if risk is not None:
            query = query.where(d.disputes.c.risk_level == risk.value)
        with read_transaction(self.engine) as conn:
            rows = conn.execute(query.order_by(d.disputes.c.updated_at.desc()).limit(SCAN_LIMIT)).all()
            parties = party_rows(conn, [r.id for r in rows])
        now = self.clock()
        views = [case_view(r, parties[r.id], self.keys, now=now, zone=self.zone) for r in rows]
        if overdue is not None:
            views = [v for v in views if (v["overdue_days"] > 0) == overdue]
        views.sort(key=work_order)
        return views[:limit]


__all__ = ["SCAN_LIMIT", "Lists", "work_order"]
