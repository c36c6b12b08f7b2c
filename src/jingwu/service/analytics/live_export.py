"""The operational incidents kept as Parquet for the analytical store, one file a month, brought up
to date by what changed since the last time (the events logged since then).

A month's file is rewritten whole from the database, so it is always a consistent picture of
that month. Event ids follow commit order (store.events draws them under the event log's lock),
so "after the last id seen" misses nothing, and a refresh with nothing new rewrites nothing."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import Engine, func, select

from jingwu.analytics.own_incidents import COLUMNS, incident_records
from jingwu.domain.incident_types import INCIDENT_TYPES
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.cases_tables import incident_cases
from jingwu.store.db import read_transaction

log = logging.getLogger(__name__)

STATE = "state.json"


@dataclass(frozen=True)
class Refreshed:
    months: list[str]  # YYYY-MM (UTC) rewritten
    incidents: int
    left_out: int  # merged duplicates and unknown types


def refresh_live(
    engine: Engine, folder: Path, zone: tzinfo, *, urban_districts: frozenset[str] | None = None
) -> Refreshed:
    """Bring the monthly files in ``folder`` up to date with the database. Files written under
    other settings (the zone, the urban districts) are all rewritten."""
    folder.mkdir(parents=True, exist_ok=True)
    state_path = folder / STATE
    written_as = {
        "zone": str(zone),
        "urban": sorted(urban_districts) if urban_districts is not None else None,
    }
    seen = _read_state(state_path, written_as)
    with read_transaction(engine) as conn:
        last_event = conn.execute(select(func.max(t.events.c.id))).scalar_one_or_none() or 0
        if seen is None:
            created = conn.execute(select(t.incidents.c.created_at).distinct()).scalars()
        else:
            touched = select(t.events.c.incident_id).where(
                t.events.c.id > seen, t.events.c.incident_id.is_not(None)
            )
            created = conn.execute(
                select(t.incidents.c.created_at).where(t.incidents.c.id.in_(touched)).distinct()
            ).scalars()
        months = sorted({_utc(c).strftime("%Y-%m") for c in created})
        districts = {s.id: s.district for s in repo.list_stations(conn)}
    incidents = left_out = 0
    for month in months:
        written, skipped = _write_month(engine, folder, month, districts, zone, urban_districts)
        incidents += written
        left_out += skipped
    _write_state(state_path, int(last_event), written_as)
    if months:
        log.info("analytics: %d month(s) of incidents rewritten (%d incidents)", len(months), incidents)
    return Refreshed(months, incidents, left_out)


def _write_month(
    engine: Engine,
    folder: Path,
    month: str,
    districts: Mapping[str, str],
    zone: tzinfo,
    urban_districts: frozenset[str] | None,
) -> tuple[int, int]:
    start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    columns = [
        *(t.incidents.c[name] for name in COLUMNS),
        incident_cases.c.filed_at.label("case_filed_at"),
        incident_cases.c.solved_at.label("case_solved_at"),
    ]
    joined = t.incidents.outerjoin(incident_cases, incident_cases.c.incident_id == t.incidents.c.id)
    with read_transaction(engine) as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(
                select(*columns)
                .select_from(joined)
                .where(t.incidents.c.created_at >= start, t.incidents.c.created_at < end)
            )
        ]
    flat = incident_records(
        rows, types=INCIDENT_TYPES, districts=districts, zone=zone, urban_districts=urban_districts
    )
    path = folder / f"incidents-{month}.parquet"
    if flat.table.num_rows == 0:
        path.unlink(missing_ok=True)
    else:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            pq.write_table(flat.table, temporary)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return flat.table.num_rows, flat.merged + flat.unknown_type


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _read_state(path: Path, written_as: Mapping[str, object]) -> int | None:
    try:
        state = json.loads(path.read_text())
        if state.get("written_as") != written_as:
            return None  # other settings: a full export rewrites every month under these
        return int(state["last_event"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # none yet, or unreadable: a full export rebuilds it


def _write_state(path: Path, last_event: int, written_as: Mapping[str, object]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"last_event": last_event, "written_as": written_as}))
    os.replace(temporary, path)


__all__ = ["Refreshed", "refresh_live"]
