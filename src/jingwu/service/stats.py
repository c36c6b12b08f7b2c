"""Today's figures for the command-room dashboard (GET /api/stats/today)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime, tzinfo

from sqlalchemy import Engine

from jingwu.domain.arrivals import is_flagged
from jingwu.domain.stats import ArrivalReport, TodayStats, local_day, today_stats
from jingwu.store import events as stored_events
from jingwu.store import repository as repo
from jingwu.store.db import read_transaction


class StatsService:
    def __init__(
        self, engine: Engine, zone: tzinfo, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.engine = engine
        self.zone = zone
        self.clock = clock

    def today(self, *, station_ids: Collection[str] | None = None) -> TodayStats:
        """Today's figures, of the units and incidents of ``station_ids`` (None: the whole city)."""
        now = self.clock()
        day = local_day(now, self.zone)
        # One read transaction: the queue, the fleet and the day's incidents are one moment's view.
        with read_transaction(self.engine) as conn:
            incidents_by_status = repo.incident_counts_by_status(conn, station_ids=station_ids)
            units_by_status = repo.unit_counts_by_status(conn, station_ids=station_ids)
            opened_today = repo.incidents_created_between(conn, day.start, day.end, station_ids=station_ids)
            reported = stored_events.arrivals_of_incidents_created_between(
                conn, day.start, day.end, station_ids=station_ids
            )
        # Each unit's arrival, flagged where doubtful: a flagged one does not count as a response.
        arrivals: dict[str, list[ArrivalReport]] = {}
        for row in reported:
            data = row.data if isinstance(row.data, dict) else {}
            arrivals.setdefault(row.incident_id, []).append(ArrivalReport(row.ts, is_flagged(data)))
        return today_stats(
            now=now,
            zone=self.zone,
            incidents_by_status=incidents_by_status,
            units_by_status=units_by_status,
            incidents_opened_today=opened_today,
            arrivals=arrivals,
        )


__all__ = ["StatsService"]
