"""The analytical store: DuckDB over analytic records, so that a year of a city's incidents answers
a CompStat question in well under a second without touching the operational database.

Records come from an Arrow table (files just read) or from Parquet files (imports and the
operational store's exports, written once and read many times)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from jingwu.analytics.records import RECORD_SCHEMA


@dataclass(frozen=True)
class Span:
    """The time the records cover: [first, end), ``end`` past the last record's own precision."""

    first: datetime
    end: datetime
    monthly: bool  # some records know only their month


class AnalyticStore:
    """A DuckDB connection with the view ``records`` (RECORD_SCHEMA's columns)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.db = connection

    @classmethod
    def of_table(cls, table: pa.Table, *, threads: int | None = None) -> AnalyticStore:
        connection = duckdb.connect(":memory:", config=_config(threads))
        connection.register("loaded_records", table)
        connection.execute("CREATE VIEW records AS SELECT * FROM loaded_records")
        return cls(connection)

    @classmethod
    def of_parquet(cls, paths: Sequence[Path], *, threads: int | None = None) -> AnalyticStore:
        connection = duckdb.connect(":memory:", config=_config(threads))
        files = [str(p) for p in paths]
        if not files:
            connection.register("loaded_records", RECORD_SCHEMA.empty_table())
            connection.execute("CREATE VIEW records AS SELECT * FROM loaded_records")
        else:
            connection.execute(
                "CREATE VIEW records AS SELECT * FROM read_parquet(?, union_by_name = true)", [files]
            )
        return cls(connection)

    def span(self, dataset: str | None = None) -> Span | None:
        """What the records cover; None when there are none."""
        row = self.db.execute(
            """SELECT min(occurred_at),
                      max(CASE WHEN time_precision = 'month'
                               THEN occurred_at + INTERVAL 1 MONTH
                               WHEN time_precision = 'day' THEN occurred_at + INTERVAL 1 DAY
                               WHEN time_precision = 'minute' THEN occurred_at + INTERVAL 1 MINUTE
                               ELSE occurred_at + INTERVAL 1 SECOND END),
                      bool_or(time_precision = 'month')
               FROM records WHERE ? IS NULL OR dataset = ?""",
            [dataset, dataset],
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return Span(row[0], row[1], bool(row[2]))

    def close(self) -> None:
        self.db.close()


def _config(threads: int | None) -> dict[str, str | bool | int | float | list[str]]:
    # Extensions would be fetched from the internet on first use: never, here.
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads:
        config["threads"] = threads
    return config


__all__ = ["AnalyticStore", "Span"]
