"""Exports for analysts: incidents of a period as CSV, recorded in the audit log before the first
byte leaves (who, which period, how many rows, from where)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from sqlalchemy import Engine

from jingwu.domain.export import EXPORT_COLUMNS, export_range, export_row
from jingwu.service import audit
from jingwu.store import repository as repo
from jingwu.store.db import read_transaction, write_transaction

PAGE = 2000
# Excel opens a UTF-8 CSV with Chinese text correctly only when it starts with a byte-order mark.
UTF8_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Export:
    rows: int
    lines: Iterator[str]


def _line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


class ExportService:
    def __init__(
        self, engine: Engine, zone: tzinfo, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.engine = engine
        self.zone = zone
        self.clock = clock

    def incidents_csv(
        self,
        first: date,
        last: date,
        *,
        actor: str,
        source: str | None,
        station_ids: Collection[str] | None,
        jurisdiction: str,
    ) -> Export:
        """Incidents opened on local days ``first`` … ``last`` within ``station_ids`` (None: all).
        The audit record is committed here; the lines are read page by page as they are sent."""
        start, end = export_range(first, last, self.zone)
        with write_transaction(self.engine) as conn:
            rows = repo.count_incidents_created(conn, start, end, station_ids=station_ids)
            audit.append(
                conn,
                ts=self.clock(),
                action="export.incidents",
                actor=actor,
                target=f"incidents:{first.isoformat()}..{last.isoformat()}",
                source=source,
                details={"rows": rows, "format": "csv", "jurisdiction": jurisdiction},
            )
        return Export(rows, self._lines(start, end, station_ids))

    def _lines(self, start: datetime, end: datetime, station_ids: Collection[str] | None) -> Iterator[str]:
        yield UTF8_BOM + _line(list(EXPORT_COLUMNS))
        after: tuple[datetime, str] | None = None
        while True:
            # A short read transaction per page: a year's export does not hold one open for minutes.
            with read_transaction(self.engine) as conn:
                page = repo.incidents_created_page(
                    conn, start, end, station_ids=station_ids, after=after, limit=PAGE
                )
            for incident in page:
                yield _line(export_row(incident, self.zone))
            if len(page) < PAGE:
                return
            after = (page[-1].created_at, page[-1].id)


__all__ = ["Export", "ExportService"]
