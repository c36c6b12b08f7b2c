"""Situation analytics (大数据研判) for the console and the printable report: CompStat, response
times and hotspots over the bureau's own incidents and over files imported from other forces and
years, answered by DuckDB from Parquet kept beside the operational database (analytics/).

The operational database is read only to bring the monthly files up to date (at most once a
``max_age_s``); the questions never touch it. Imports and their removal are audited; the answers
are aggregates and hold no person's data."""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine

from jingwu.analytics.compstat import compstat
from jingwu.analytics.heat import DEFAULT_HEAT_CELL_M, check_period, heat_cells
from jingwu.analytics.hotspot_forecast import forecast_summary, score_months
from jingwu.analytics.hotspots.projection import Projection
from jingwu.analytics.mapping import load_builtin
from jingwu.analytics.own_incidents import DATASET as OWN
from jingwu.analytics.periods import parse_period
from jingwu.analytics.reader import read_files
from jingwu.analytics.response_times import Scope, response_times
from jingwu.analytics.store import AnalyticStore
from jingwu.errors import NotFound, ValidationFailed
from jingwu.service import audit
from jingwu.service.analytics.live_export import Refreshed, refresh_live
from jingwu.service.analytics.report import build_report, report_pdf
from jingwu.store.db import write_transaction

_DATASET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


@dataclass(frozen=True)
class Dataset:
    name: str
    files: int
    records: int
    first: datetime | None
    last: datetime | None
    own: bool  # the bureau's own incidents (kept up to date), not an import


class AnalyticsService:
    def __init__(
        self,
        engine: Engine,
        folder: Path,
        zone: tzinfo,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_age_s: float = 60.0,
        urban_districts: frozenset[str] | None = None,
    ) -> None:
        self.engine = engine
        self.folder = folder
        self.zone = zone
        self.clock = clock
        self.max_age_s = max_age_s
        self.urban_districts = urban_districts
        self._lock = threading.RLock()  # one DuckDB connection, one question at a time
        self._store: AnalyticStore | None = None
        self._signature: tuple[tuple[str, int, int], ...] = ()
        self._refreshed_at: float | None = None

    # ---------------------------------------------------------------- the store

    @property
    def live_folder(self) -> Path:
        return self.folder / "live"

    @property
    def imports_folder(self) -> Path:
        return self.folder / "imports"

    def refresh(self) -> Refreshed:
        """The bureau's incidents brought up to date now (the timer does it every few minutes)."""
        with self._lock:
            done = refresh_live(
                self.engine, self.live_folder, self.zone, urban_districts=self.urban_districts
            )
            self._refreshed_at = time.monotonic()
            return done

    @contextmanager
    def _records(self) -> Iterator[AnalyticStore]:
        with self._lock:
            if self._refreshed_at is None or time.monotonic() - self._refreshed_at > self.max_age_s:
                self.refresh()
            files = self._files()
            signature = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
            if self._store is None or signature != self._signature:
                if self._store is not None:
                    self._store.close()
                self._store = AnalyticStore.of_parquet(files, in_memory=True)
                self._signature = signature
            yield self._store

    @contextmanager
    def _dataset(self, dataset: str) -> Iterator[AnalyticStore]:
        """The store, once ``dataset`` is known to be in it (404 otherwise)."""
        with self._records() as store:
            self._known(store, dataset)
            yield store

    def _files(self) -> list[Path]:
        return sorted([*self.live_folder.glob("*.parquet"), *self.imports_folder.glob("*/*.parquet")])

    # ---------------------------------------------------------------- datasets

    def datasets(self) -> list[Dataset]:
        with self._records() as store:
            rows = store.db.execute(
                "SELECT dataset, count(*), min(occurred_at), max(occurred_at) FROM records GROUP BY ALL "
                "ORDER BY dataset"
            ).fetchall()
        found = {r[0]: Dataset(r[0], 0, int(r[1]), r[2], r[3], r[0] == OWN) for r in rows}
        if OWN not in found:
            found[OWN] = Dataset(OWN, 0, 0, None, None, True)
        for name in found:
            folder = self.live_folder if name == OWN else self.imports_folder / name
            found[name] = Dataset(**{**found[name].__dict__, "files": len(list(folder.glob("*.parquet")))})
        return sorted(found.values(), key=lambda d: (not d.own, d.name))

    def import_csv(
        self,
        dataset: str,
        data: bytes,
        *,
        format_name: str,
        filename: str,
        actor: str,
        source: str | None,
    ) -> dict[str, Any]:
        """Read one CSV export through a built-in mapping and keep its records under ``dataset``.
        A file with a bad header is refused whole; bad rows are counted by reason and reported."""
        name = self._dataset_name(dataset)
        mapping = load_builtin(format_name)
        with tempfile.TemporaryDirectory(prefix="jingwu-import-") as scratch:
            path = Path(scratch) / (Path(filename).name or "upload.csv")
            path.write_bytes(data)
            loaded = read_files([path], mapping, dataset=name)
        report = loaded.report.as_json()
        if loaded.table.num_rows == 0:
            raise ValidationFailed(
                f"{filename}: no row could be read ({report['bad']} bad): nothing was kept",
                code="nothing_to_import",
                report=report,
            )
        folder = self.imports_folder / name
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{self.clock():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.parquet"
        with self._lock:
            _write_parquet(loaded.table, target)
            try:
                with write_transaction(self.engine) as conn:
                    audit.append(
                        conn,
                        ts=self.clock(),
                        action="analytics.import",
                        actor=actor,
                        target=f"dataset:{name}",
                        source=source,
                        details={"file": filename, "format": format_name, **_counts(report)},
                    )
            except BaseException:
                target.unlink(missing_ok=True)  # not audited, not kept
                raise
        return {"dataset": name, "file": target.name, "records": report}

    def drop_dataset(self, dataset: str, *, actor: str, source: str | None) -> int:
        """Remove an imported dataset (the bureau's own incidents cannot be removed here)."""
        name = self._dataset_name(dataset)
        folder = self.imports_folder / name
        if not folder.is_dir():
            raise NotFound(f"no imported dataset {name!r}", code="dataset_not_found", dataset=name)
        with self._lock:
            files = len(list(folder.glob("*.parquet")))
            with write_transaction(self.engine) as conn:
                audit.append(
                    conn,
                    ts=self.clock(),
                    action="analytics.drop",
                    actor=actor,
                    target=f"dataset:{name}",
                    source=source,
                    details={"files": files},
                )
            shutil.rmtree(folder)
        return files

    @staticmethod
    def _dataset_name(dataset: str) -> str:
        if not _DATASET_NAME.fullmatch(dataset) or dataset == OWN:
            raise ValidationFailed(
                f"dataset name {dataset!r}: lower-case letters, digits and -, up to 40, not {OWN!r}",
                code="bad_dataset_name",
                dataset=dataset,
            )
        return dataset

    # ---------------------------------------------------------------- questions

    def compstat(
        self,
        period: str,
        *,
        by: str,
        dataset: str,
        station_ids: Collection[str] | None,
        basis: str = "records",
    ) -> dict[str, Any]:
        asked = parse_period(period)
        with self._dataset(dataset) as store:
            return compstat(
                store, asked, by=by, dataset=dataset, stations=_scope(dataset, station_ids), basis=basis
            ).as_json()

    def response_times(
        self, period: str | None, *, dataset: str, station_ids: Collection[str] | None, trend: str = "auto"
    ) -> dict[str, Any]:
        scope = Scope(
            period=parse_period(period) if period else None,
            dataset=dataset,
            stations=_scope(dataset, station_ids),
        )
        with self._dataset(dataset) as store:
            return response_times(store, scope, trend=trend)

    def _located(self, store: AnalyticStore, dataset: str, station_ids: Collection[str] | None) -> pa.Table:
        """The dataset's records that have coordinates (and are in reach), for maps."""
        stations = _scope(dataset, station_ids)
        clause, params = "dataset = ? AND lat IS NOT NULL", list[Any]([dataset])
        if stations is not None:
            clause += " AND list_contains(?, station)"
            params.append(sorted(stations))
        return store.db.execute(
            f"SELECT lat, lon, occurred_at FROM records WHERE {clause}", params
        ).to_arrow_table()

    def hotspots(
        self,
        month: str,
        *,
        area_share: float,
        method: str,
        dataset: str,
        station_ids: Collection[str] | None,
    ) -> dict[str, Any]:
        with self._dataset(dataset) as store:
            located = self._located(store, dataset, station_ids)
        return forecast_summary(located, month=month, area_share=area_share, method=method)

    def hotspot_scores(
        self, months: Sequence[str], *, dataset: str, station_ids: Collection[str] | None
    ) -> dict[str, Any]:
        with self._dataset(dataset) as store:
            located = self._located(store, dataset, station_ids)
        return score_months(located, months, cell_m=150.0)

    def heat(
        self,
        period: str,
        *,
        dataset: str,
        station_ids: Collection[str] | None,
        cell_m: float = DEFAULT_HEAT_CELL_M,
    ) -> dict[str, Any]:
        """The period's located records counted in square cells, for the heat layer of the map,
        and how many of the period's records it leaves off for want of coordinates."""
        asked = parse_period(period)
        stations = _scope(dataset, station_ids)
        scope, params = "dataset = ?", list[Any]([dataset])
        if stations is not None:
            scope += " AND list_contains(?, station)"
            params.append(sorted(stations))
        has_place = "lat IS NOT NULL AND lon IS NOT NULL"
        located = f"{scope} AND {has_place}"
        in_period = "occurred_at >= ? AND occurred_at < ?"
        with self._dataset(dataset) as store:
            check_period(store.span(dataset), asked)
            # Centred on the whole dataset (in reach), not on the period: the cells stay put as
            # the analyst steps through periods.
            centre = store.db.execute(f"SELECT median(lon), median(lat) FROM records WHERE {located}", params)
            lon0, lat0 = centre.fetchone() or (None, None)
            points = store.db.execute(
                f"SELECT lon, lat FROM records WHERE {located} AND {in_period}",
                [*params, asked.start, asked.end],
            ).fetchnumpy()
            unlocated = store.db.execute(
                f"SELECT count(*) FROM records WHERE {scope} AND {in_period} AND NOT ({has_place})",
                [*params, asked.start, asked.end],
            ).fetchone()
        # No record with coordinates at all: an empty map (the tables still count them), not an error.
        projection = Projection(0.0, 0.0) if lon0 is None else Projection(float(lon0), float(lat0))
        cells = heat_cells(points["lon"], points["lat"], projection, cell_m)
        return {
            "period": asked.label,
            "dataset": dataset,
            **cells,
            "without_coordinates": int(unlocated[0]) if unlocated else 0,
        }

    def report(
        self,
        period: str,
        *,
        dataset: str,
        station_ids: Collection[str] | None,
        language: str,
        bureau: str,
        scope: str,
        actor: str,
        source: str | None,
    ) -> bytes:
        """The printable report (PDF) of ``period``; its leaving the system is audited."""
        built = build_report(
            self,
            period=period,
            dataset=dataset,
            station_ids=station_ids,
            language=language,
            bureau=bureau,
            scope=scope,
            now=self.clock().astimezone(self.zone),
        )
        document = report_pdf(built)
        with write_transaction(self.engine) as conn:
            audit.append(
                conn,
                ts=self.clock(),
                action="analytics.report",
                actor=actor,
                target=f"dataset:{dataset}",
                source=source,
                details={"period": period, "scope": scope, "bytes": len(document)},
            )
        return document

    @staticmethod
    def _known(store: AnalyticStore, dataset: str) -> None:
        if dataset == OWN:
            return
        found = store.db.execute("SELECT 1 FROM records WHERE dataset = ? LIMIT 1", [dataset]).fetchone()
        if found is None:
            raise NotFound(f"no dataset {dataset!r}", code="dataset_not_found", dataset=dataset)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


def _scope(dataset: str, station_ids: Collection[str] | None) -> Collection[str] | None:
    """The stations a caller may count: their own reach in the bureau's incidents; other forces'
    files are reference data, not anyone's jurisdiction here."""
    return station_ids if dataset == OWN else None


def _counts(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report[k] for k in ("read", "loaded", "bad", "without_coordinates")}


def _write_parquet(table: pa.Table, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temporary)
    temporary.replace(path)


__all__ = ["AnalyticsService", "Dataset"]
