"""A column mapping: how one force's CSV export becomes Jingwu's analytic records.

A mapping is a small TOML file (the built-in ones are in ``analytics/mappings/``; docs/analytics.md
describes the format). It names, for each field of an analytic record, the column it comes from
and how to read it: a time format, a pattern that finds the coordinates in a text, the values that
mean yes. Loading checks the mapping itself; :meth:`Mapping.check_header` checks a file against
it, so that a file in the wrong format is refused naming the columns it lacks."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping as AnyMapping
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from jingwu.errors import ValidationFailed

#: Fields read as text as they are (stripped; empty is none).
TEXT_FIELDS = ("record_id", "category", "group", "district", "station", "area", "priority", "outcome")
#: Fields read as local wall-clock times.
TIME_FIELDS = ("occurred_at", "filed_at", "call_at", "dispatch_at", "arrive_at", "closed_at")
#: Fields read as yes/no.
FLAG_FIELDS = ("self_initiated", "urban")
#: What every record needs: a mapping that lacks one of these cannot be used.
REQUIRED_FIELDS = ("category", "occurred_at")
PRECISIONS = ("month", "day", "minute", "second")


class MappingError(ValidationFailed):
    """A mapping file that cannot be used, or a data file that does not fit its mapping."""

    code = "bad_mapping"


@dataclass(frozen=True)
class ColumnSpec:
    column: str
    optional: bool = False  # the column may be missing from a file (then the field is empty)


@dataclass(frozen=True)
class TimeSpec(ColumnSpec):
    format: str = "iso"  # strptime format, or "iso" for ISO 8601 (fromisoformat)
    time_column: str | None = None  # a separate column with the time of day
    time_format: str = "%H:%M"


@dataclass(frozen=True)
class PointSpec(ColumnSpec):
    pattern: re.Pattern[str] = re.compile(r"")  # named groups lat and lon


@dataclass(frozen=True)
class FlagSpec(ColumnSpec):
    true_values: frozenset[str] = frozenset({"Y", "YES", "TRUE", "1", "是"})


@dataclass(frozen=True)
class Mapping:
    name: str
    title: str
    time_precision: str
    text: dict[str, ColumnSpec] = field(default_factory=dict)
    times: dict[str, TimeSpec] = field(default_factory=dict)
    flags: dict[str, FlagSpec] = field(default_factory=dict)
    lat: ColumnSpec | None = None
    lon: ColumnSpec | None = None
    point: PointSpec | None = None
    solved_field: str | None = None
    solved_values: frozenset[str] = frozenset()

    def columns(self) -> dict[str, tuple[str, bool]]:
        """Every column the mapping reads → (the field it feeds, whether it may be missing)."""
        found: dict[str, tuple[str, bool]] = {}
        specs: list[tuple[str, ColumnSpec]] = [*self.text.items(), *self.times.items(), *self.flags.items()]
        specs += [(n, s) for n, s in (("lat", self.lat), ("lon", self.lon), ("point", self.point)) if s]
        for name, spec in specs:
            found.setdefault(spec.column, (name, spec.optional))
            if isinstance(spec, TimeSpec) and spec.time_column:
                found.setdefault(spec.time_column, (name, spec.optional))
        return found

    def check_header(self, header: Sequence[str], source: str) -> None:
        """Refuse a file whose header lacks a column the mapping needs, naming each one."""
        present = {h.strip() for h in header}
        missing = [
            f"{column!r} ({field_name})"
            for column, (field_name, optional) in self.columns().items()
            if column not in present and not optional
        ]
        if missing:
            raise MappingError(
                f"{source}: not a {self.name} file: it has no column {', '.join(missing)}"
                f" (its columns: {', '.join(h for h in header if h) or 'none'})",
                code="missing_column",
                file=source,
                columns=[m.split("'")[1] for m in missing],
            )


def load_mapping(name_or_path: str) -> Mapping:
    """A built-in mapping by name (``police-uk``, ``nopd``, ``berkeley``), or a TOML file."""
    path = Path(name_or_path)
    # A built-in name is the built-in mapping even beside a folder of that name (a data layout).
    if name_or_path in builtin_formats():
        return load_builtin(name_or_path)
    if path.suffix == ".toml" or path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MappingError(f"cannot read mapping {path}: {exc}", file=str(path)) from exc
        return parse_mapping(text, source=str(path))
    return load_builtin(name_or_path)


def load_builtin(name: str) -> Mapping:
    """A built-in mapping by name only: what a request from the network may name (never a path)."""
    resource = resources.files("jingwu.analytics") / "mappings" / f"{name}.toml"
    if not (name in builtin_formats() and resource.is_file()):
        raise MappingError(
            f"unknown format {name!r}: use one of {', '.join(builtin_formats())} "
            "or the path of a mapping .toml file",
            code="unknown_format",
            format=name,
        )
    return parse_mapping(resource.read_text(encoding="utf-8"), source=name)


def builtin_formats() -> list[str]:
    folder = resources.files("jingwu.analytics") / "mappings"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def parse_mapping(text: str, *, source: str) -> Mapping:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"mapping {source}: not TOML: {exc}", file=source) from exc
    fields = raw.get("fields")
    if not isinstance(fields, dict):
        raise MappingError(f"mapping {source}: no [fields] table", file=source)
    known = {*TEXT_FIELDS, *TIME_FIELDS, *FLAG_FIELDS, "lat", "lon", "point"}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise MappingError(
            f"mapping {source}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
            file=source,
        )
    lacking = [name for name in REQUIRED_FIELDS if name not in fields]
    if lacking:
        raise MappingError(
            f"mapping {source}: the required field(s) {', '.join(lacking)} are not mapped",
            file=source,
            fields=lacking,
        )
    if ("lat" in fields) != ("lon" in fields):
        raise MappingError(f"mapping {source}: lat and lon are mapped together or not at all", file=source)
    precision = raw.get("time_precision", "second")
    if precision not in PRECISIONS:
        raise MappingError(f"mapping {source}: time_precision is one of {', '.join(PRECISIONS)}", file=source)
    solved = raw.get("solved", {})
    solved_field = solved.get("field") if isinstance(solved, dict) else None
    if solved_field is not None and solved_field not in fields:
        raise MappingError(f"mapping {source}: [solved] reads field {solved_field!r}, which is not mapped")
    return Mapping(
        name=str(raw.get("name", source)),
        title=str(raw.get("title", raw.get("name", source))),
        time_precision=precision,
        text={n: _column(fields[n], n, source) for n in TEXT_FIELDS if n in fields},
        times={n: _time(fields[n], n, source) for n in TIME_FIELDS if n in fields},
        flags={n: _flag(fields[n], n, source) for n in FLAG_FIELDS if n in fields},
        lat=_column(fields["lat"], "lat", source) if "lat" in fields else None,
        lon=_column(fields["lon"], "lon", source) if "lon" in fields else None,
        point=_point(fields["point"], source) if "point" in fields else None,
        solved_field=solved_field,
        solved_values=frozenset(str(v) for v in solved.get("values", ())) if solved_field else frozenset(),
    )


def _table(raw: Any, name: str, source: str) -> AnyMapping[str, Any]:
    if isinstance(raw, str):
        return {"column": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("column"), str) or not raw["column"]:
        raise MappingError(f"mapping {source}: field {name} needs a column name", file=source, field=name)
    return raw


def _column(raw: Any, name: str, source: str) -> ColumnSpec:
    spec = _table(raw, name, source)
    return ColumnSpec(spec["column"], bool(spec.get("optional", False)))


def _time(raw: Any, name: str, source: str) -> TimeSpec:
    spec = _table(raw, name, source)
    time_format = str(spec.get("format", "iso"))
    if time_format != "iso":
        try:
            datetime.now().strftime(time_format)
        except ValueError as exc:
            raise MappingError(f"mapping {source}: field {name}: bad format {time_format!r}") from exc
    return TimeSpec(
        spec["column"],
        bool(spec.get("optional", False)),
        format=time_format,
        time_column=spec.get("time_column"),
        time_format=str(spec.get("time_format", "%H:%M")),
    )


def _point(raw: Any, source: str) -> PointSpec:
    spec = _table(raw, "point", source)
    try:
        pattern = re.compile(str(spec.get("pattern", "")))
    except re.error as exc:
        raise MappingError(f"mapping {source}: field point: bad pattern: {exc}", file=source) from exc
    if not {"lat", "lon"} <= set(pattern.groupindex):
        raise MappingError(
            f"mapping {source}: field point: the pattern needs the named groups (?P<lat>…) and (?P<lon>…)",
            file=source,
        )
    return PointSpec(spec["column"], bool(spec.get("optional", False)), pattern=pattern)


def _flag(raw: Any, name: str, source: str) -> FlagSpec:
    spec = _table(raw, name, source)
    values = spec.get("true_values")
    if values is None:
        return FlagSpec(spec["column"], bool(spec.get("optional", False)))
    return FlagSpec(
        spec["column"], bool(spec.get("optional", False)), frozenset(str(v).upper() for v in values)
    )


__all__ = [
    "FLAG_FIELDS",
    "REQUIRED_FIELDS",
    "TEXT_FIELDS",
    "TIME_FIELDS",
    "ColumnSpec",
    "FlagSpec",
    "Mapping",
    "MappingError",
    "PointSpec",
    "TimeSpec",
    "builtin_formats",
    "load_builtin",
    "load_mapping",
    "parse_mapping",
]
