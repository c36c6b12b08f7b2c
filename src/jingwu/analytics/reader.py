"""Reading other forces' CSV exports through a mapping into analytic records (an Arrow table).

Every row either becomes a record or is counted as bad under a reason, with the first few line
numbers, so that an analyst sees what was left out and why; nothing is dropped silently. A
record without coordinates is not bad: it counts in every table and is left out of maps only."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from jingwu.analytics.mapping import Mapping, MappingError, TimeSpec
from jingwu.analytics.records import RECORD_SCHEMA

#: How many line numbers each reason keeps as examples.
EXAMPLES = 5


class BadRow(Exception):
    """One row that cannot become a record: the reason's code and the column at fault."""

    def __init__(self, reason: str, column: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column


@dataclass
class RowReport:
    """What reading left out, by reason: the count and the first lines of each."""

    read: int = 0
    without_coordinates: int = 0
    bad: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)  # (file, reason, column)
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def add_bad(self, source: str, line: int, problem: BadRow) -> None:
        key = (source, problem.reason, problem.column)
        self.counts[key] = self.counts.get(key, 0) + 1
        lines = self.bad.setdefault(key, [])
        if len(lines) < EXAMPLES:
            lines.append(line)

    @property
    def bad_total(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "loaded": self.read - self.bad_total,
            "bad": self.bad_total,
            "without_coordinates": self.without_coordinates,
            "bad_by_reason": [
                {"file": f, "reason": r, "column": c, "count": self.counts[(f, r, c)], "lines": lines}
                for (f, r, c), lines in sorted(self.bad.items())
            ],
        }


@dataclass(frozen=True)
class Loaded:
    table: pa.Table
    report: RowReport


def read_files(paths: Sequence[Path], mapping: Mapping, *, dataset: str | None = None) -> Loaded:
    """Every file read through ``mapping`` into one table of analytic records."""
    report = RowReport()
    columns: dict[str, list[Any]] = {name: [] for name in RECORD_SCHEMA.names}
    seen: set[str] = set()  # record ids, across the files
    for path in paths:
        _read_one(path, mapping, dataset or mapping.name, columns, report, seen)
    table = pa.Table.from_pydict(columns, schema=RECORD_SCHEMA)
    return Loaded(table, report)


def _read_one(
    path: Path,
    mapping: Mapping,
    dataset: str,
    columns: dict[str, list[Any]],
    report: RowReport,
    seen: set[str],
) -> None:
    source = str(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise MappingError(f"cannot read {source}: {exc.strerror or exc}", code="unreadable_file") from exc
    with handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader, [])]
            if not any(header):
                raise MappingError(f"{source}: empty file, no header line", code="empty_file", file=source)
            mapping.check_header(header, source)
            convert = _row_converter(mapping, header)
            id_column = mapping.text["record_id"].column if "record_id" in mapping.text else "record_id"
            line = reader.line_num + 1
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    line = reader.line_num + 1
                    continue  # a blank line is not a record
                report.read += 1
                try:
                    if len(row) != len(header):
                        raise BadRow(
                            "wrong_field_count", f"(the row has {len(row)} fields, the header {len(header)})"
                        )
                    record = convert(row)
                    key = record["record_id"]
                    if key is not None:
                        # The same crime twice (a file given twice, overlapping downloads) would
                        # count twice: the repeats are bad rows, told, not counted.
                        if key in seen:
                            raise BadRow("duplicate_record", id_column)
                        seen.add(key)
                except BadRow as problem:
                    report.add_bad(source, line, problem)
                else:
                    if record["lat"] is None:
                        report.without_coordinates += 1
                    record["dataset"] = dataset
                    record["time_precision"] = mapping.time_precision
                    record["source_file"] = path.name
                    record["source_line"] = line
                    for name, value in record.items():
                        columns[name].append(value)
                line = reader.line_num + 1
        except UnicodeDecodeError as exc:
            raise MappingError(
                f"{source}: not a UTF-8 text file (near line {reader.line_num + 1}): {exc.reason}",
                code="not_csv",
                file=source,
            ) from exc
        except csv.Error as exc:
            raise MappingError(
                f"{source}: not a CSV file (line {reader.line_num}): {exc}", code="not_csv", file=source
            ) from exc


def _row_converter(mapping: Mapping, header: list[str]) -> Callable[[list[str]], dict[str, Any]]:
    """A function from one CSV row to a record's fields, with the columns' positions resolved once."""
    at = {name: i for i, name in reversed(list(enumerate(header)))}

    def getter(column: str | None) -> Callable[[list[str]], str]:
        if column is None or column not in at:  # an optional column this file lacks
            return lambda row: ""
        index = at[column]
        return lambda row: row[index].strip()

    texts = [(name, getter(spec.column)) for name, spec in mapping.text.items()]
    times = [
        (name, spec, getter(spec.column), getter(spec.time_column)) for name, spec in mapping.times.items()
    ]
    flags = [(name, spec.true_values, getter(spec.column)) for name, spec in mapping.flags.items()]
    lat_get = getter(mapping.lat.column) if mapping.lat else None
    lon_get = getter(mapping.lon.column) if mapping.lon else None
    point = mapping.point
    point_get = getter(point.column) if point else None
    solved_field, solved_values = mapping.solved_field, mapping.solved_values
    blank = {name: None for name in RECORD_SCHEMA.names}

    def convert(row: list[str]) -> dict[str, Any]:
        record = dict(blank)
        for name, get in texts:
            record[name] = get(row) or None
        if record.get("category") is None:
            raise BadRow("missing_value", mapping.text["category"].column)
        for name, spec, get, get_time in times:
            record[name] = _parse_time(spec, get(row), get_time(row) if spec.time_column else "")
        if record["occurred_at"] is None:
            raise BadRow("missing_value", mapping.times["occurred_at"].column)
        for name, true_values, get in flags:
            value = get(row)
            record[name] = value.upper() in true_values if value else None
        if lat_get is not None and lon_get is not None:
            record["lat"], record["lon"] = _coordinates(lat_get(row), lon_get(row), mapping)
        elif point is not None and point_get is not None:
            text = point_get(row)
            found = point.pattern.search(text) if text else None
            if found is not None:
                record["lat"], record["lon"] = _coordinates(found["lat"], found["lon"], mapping)
        if solved_field is not None:
            outcome = record.get(solved_field)
            record["solved"] = None if outcome is None else outcome in solved_values
        return record

    return convert


def _parse_time(spec: TimeSpec, text: str, time_text: str) -> datetime | None:
    if not text:
        return None
    try:
        if spec.format == "iso":
            moment = datetime.fromisoformat(text).replace(tzinfo=None)
        else:
            moment = datetime.strptime(text, spec.format)
        if spec.time_column:
            if not time_text:
                raise BadRow("missing_value", spec.time_column)
            try:
                of_day = datetime.strptime(time_text, spec.time_format)
            except ValueError as exc:
                raise BadRow("bad_time", spec.time_column) from exc
            moment = moment.replace(hour=of_day.hour, minute=of_day.minute, second=of_day.second)
    except ValueError as exc:
        raise BadRow("bad_time", spec.column) from exc
    return moment.replace(microsecond=0)


def _coordinates(lat_text: str, lon_text: str, mapping: Mapping) -> tuple[float | None, float | None]:
    """WGS-84 degrees, or none where the row gives none (blank, or the 0,0 that exports write)."""
    lat_column = mapping.lat.column if mapping.lat else mapping.point.column if mapping.point else "lat"
    lon_column = mapping.lon.column if mapping.lon else lat_column
    if not lat_text and not lon_text:
        return None, None
    if not lat_text or not lon_text:
        raise BadRow("bad_coordinates", lat_column if not lat_text else lon_column)
    try:
        lat = float(lat_text)
    except ValueError as exc:
        raise BadRow("bad_coordinates", lat_column) from exc
    try:
        lon = float(lon_text)
    except ValueError as exc:
        raise BadRow("bad_coordinates", lon_column) from exc
    if not math.isfinite(lat):
        raise BadRow("bad_coordinates", lat_column)
    if not math.isfinite(lon):
        raise BadRow("bad_coordinates", lon_column)
    if lat == 0 and lon == 0:
        return None, None
    if not -90 <= lat <= 90:
        raise BadRow("coordinates_out_of_range", lat_column)
    if not -180 <= lon <= 180:
        raise BadRow("coordinates_out_of_range", lon_column)
    return lat, lon


__all__ = ["EXAMPLES", "BadRow", "Loaded", "RowReport", "read_files"]
