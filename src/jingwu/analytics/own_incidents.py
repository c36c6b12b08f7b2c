"""Jingwu's own incidents as analytic records: the operational rows, flattened.

An incident counts under its type's Chinese name, grouped by the type's class (刑事案件, 治安案件 …);
its times are the bureau's local wall-clock times, and its stages come from the times each status
was first reached. A duplicate folded into another incident (merged) is not counted twice: it is
left out, as are incidents whose type the registry no longer knows (counted, and told)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import pyarrow as pa

from jingwu.analytics.records import RECORD_SCHEMA
from jingwu.domain.incident_types import IncidentType
from jingwu.domain.status import IncidentStatus, SourceChannel

DATASET = "jingwu"

#: The operational columns this needs (incidents table).
COLUMNS = (
    "id",
    "type_code",
    "priority",
    "lat",
    "lon",
    "source",
    "station_id",
    "status",
    "created_at",
    "stage_times",
    "disposition",
)


@dataclass(frozen=True)
class Flattened:
    table: pa.Table
    merged: int  # left out: counted in the incident they were merged into
    unknown_type: int  # left out: a type the registry no longer holds


def incident_records(
    rows: Iterable[Mapping[str, Any]],
    *,
    types: Mapping[str, IncidentType],
    districts: Mapping[str, str],
    zone: tzinfo,
    urban_districts: frozenset[str] | None = None,
) -> Flattened:
    """``rows`` (dicts of COLUMNS, and ``case_filed_at`` / ``case_solved_at`` where a case was
    filed; times aware or UTC) as analytic records."""
    columns: dict[str, list[Any]] = {name: [] for name in RECORD_SCHEMA.names}
    merged = unknown = 0
    for row in rows:
        if row["status"] == IncidentStatus.MERGED:
            merged += 1
            continue
        kind = types.get(row["type_code"])
        if kind is None:
            unknown += 1
            continue
        stages = row["stage_times"] or {}
        called = _local(row["created_at"], zone)
        record = {
            "dataset": DATASET,
            "record_id": row["id"],
            "category": kind.name_zh,
            "group": kind.category_zh,
            "occurred_at": called,
            "time_precision": "second",
            "lat": row["lat"],
            "lon": row["lon"],
            "district": districts.get(row["station_id"] or ""),
            "station": row["station_id"],
            "area": None,
            "priority": str(row["priority"]),
            "outcome": row["disposition"],
            "filed_at": _optional_local(row.get("case_filed_at"), zone),
            "solved": None if row.get("case_filed_at") is None else row.get("case_solved_at") is not None,
            "solved_at": _optional_local(row.get("case_solved_at"), zone),
            "self_initiated": row["source"] == SourceChannel.OFFICER,
            # Urban where the bureau names its urban districts; unknown (None) where it does not.
            "urban": None
            if urban_districts is None
            else districts.get(row["station_id"] or "") in urban_districts,
            "call_at": called,
            "dispatch_at": _stage(stages, IncidentStatus.DISPATCHED, zone),
            "arrive_at": _stage(stages, IncidentStatus.ON_SCENE, zone),
            "closed_at": _stage(stages, IncidentStatus.CLOSED, zone),
            "source_file": None,
            "source_line": None,
        }
        for name, value in record.items():
            columns[name].append(value)
    return Flattened(pa.Table.from_pydict(columns, schema=RECORD_SCHEMA), merged, unknown)


def _local(moment: datetime, zone: tzinfo) -> datetime:
    """Local wall time, whole seconds (a naive UTC time from SQLite is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


def _optional_local(moment: datetime | None, zone: tzinfo) -> datetime | None:
    return None if moment is None else _local(moment, zone)


def _stage(stages: Mapping[str, Any], status: IncidentStatus, zone: tzinfo) -> datetime | None:
    value = stages.get(status.value)
    if value is None:
        return None
    return _local(value if isinstance(value, datetime) else datetime.fromisoformat(value), zone)


__all__ = ["COLUMNS", "DATASET", "Flattened", "incident_records"]
