"""Bulk import of a bureau's stations, units, personnel and roster from CSV or GeoJSON files
(``jingwu import …``). Every row is checked, in order, against the store and the rows before it,
inside one write transaction: a file with any bad row is refused as a whole, each bad row named
with its line and reason, and nothing of it is written."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from jingwu.bus import Bus
from jingwu.domain.areas import area_from_geojson
from jingwu.domain.events import DomainEvent, EventType
from jingwu.errors import JingwuError, ValidationFailed
from jingwu.service.administration import Administration
from jingwu.service.administration.personnel import PersonDraft
from jingwu.service.administration.roster import ShiftDraft
from jingwu.service.administration.stations import StationDraft
from jingwu.service.administration.units import UnitDraft
from jingwu.service.commands import event_message
from jingwu.service.views import unit_view
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.db import write_transaction
from jingwu.store.events import append_events

log = logging.getLogger(__name__)

KINDS = ("stations", "units", "personnel", "roster")

#: More rows than a city's whole force: a bound on what one file may hold.
MAX_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # 1-based: the CSV line (the header is line 1) or the GeoJSON feature's number
    reason: str


class ImportRefused(ValidationFailed):
    """The file had bad rows; nothing was written."""

    code = "import_refused"

    def __init__(self, errors: list[RowError]) -> None:
        shown = "; ".join(f"line {e.line}: {e.reason}" for e in errors[:20])
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(
            f"{len(errors)} bad row(s), nothing written: {shown}{more}",
            errors=[{"line": e.line, "reason": e.reason} for e in errors],
        )
        self.errors = errors


@dataclass(frozen=True, slots=True)
class ImportResult:
    kind: str
    rows: int
    passwords: tuple[tuple[str, str], ...] = ()  # personnel: (police number, password made)


Row = tuple[int, dict[str, Any]]


def _csv_rows(text: str) -> Iterator[Row]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # a BOM, as spreadsheets save
    if not reader.fieldnames:
        raise ValidationFailed("the file is empty", code="import_refused")
    for row in reader:
        if None in row:
            raise ValidationFailed(
                f"line {reader.line_num}: more cells than the header has", code="import_refused"
            )
        yield reader.line_num, {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}


def rows_of(text: str, *, geojson: bool) -> list[Row]:
    """The rows of a file: a CSV with a header line, or a GeoJSON FeatureCollection (each
    feature's properties, and its geometry as ``jurisdiction``)."""
    if geojson:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(f"not JSON: {exc}", code="import_refused") from None
        if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
            raise ValidationFailed("a GeoJSON file must hold a FeatureCollection", code="import_refused")
        features = document.get("features")
        if not isinstance(features, list):
            raise ValidationFailed("the FeatureCollection has no features list", code="import_refused")
        rows = [
            (i, {**((f.get("properties") or {}) if isinstance(f, dict) else {}), "jurisdiction": f})
            for i, f in enumerate(features, start=1)
        ]
    else:
        rows = list(_csv_rows(text))
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(f"{len(rows)} rows; at most {MAX_ROWS} in one file", code="import_refused")
    if not rows:
        raise ValidationFailed("the file holds no rows", code="import_refused")
    return rows


def _need(row: dict[str, Any], name: str) -> Any:
    value = row.get(name)
    if value is None or value == "":
        raise ValidationFailed(f"{name} is missing", code="missing_field")
    return value


def _optional(row: dict[str, Any], name: str) -> Any:
    value = row.get(name)
    return None if value in (None, "") else value


def _list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part.strip() for part in str(value or "").replace(",", ";").split(";") if part.strip()]


class Importer:
    def __init__(self, admin: Administration, bus: Bus) -> None:
        self.admin = admin
        self.bus = bus

    def run(self, kind: str, text: str, *, geojson: bool = False, actor: str | None) -> ImportResult:
        if kind not in KINDS:
            raise ValidationFailed(
                f"unknown import {kind!r}; one of {', '.join(KINDS)}", code="import_refused"
            )
        rows = rows_of(text, geojson=geojson)
        step: Callable[[Connection, dict[str, Any], datetime], list[DomainEvent]]
        step = getattr(self, f"_{kind}")
        errors: list[RowError] = []
        events: list[DomainEvent] = []
        self._passwords: list[tuple[str, str]] = []
        clock = self.admin.stations.clock

        class _Refused(Exception):
            pass

        stored: list[tuple[int, DomainEvent]] = []
        try:
            with write_transaction(self.admin.stations.engine) as conn:
                now = clock()
                for line, row in rows:
                    # Each row in a savepoint: a refused one leaves the rows before it as they were,
                    # so that the rows after it are still checked against the file up to there.
                    savepoint = conn.begin_nested()
                    try:
                        events.extend(step(conn, row, now))
                        savepoint.commit()
                    except (JingwuError, ValueError, TypeError, KeyError) as exc:
                        savepoint.rollback()
                        errors.append(RowError(line, _reason(exc)))
                if errors:
                    raise _Refused
                stored = append_events(conn, events)
        except _Refused:
            raise ImportRefused(errors) from None
        for event_id, event in stored:
            self.bus.publish(event_message(event_id, event))
        dispatch = self.admin.stations.dispatch
        dispatch.reload_stations()
        dispatch.refresh_board()
        if kind == "roster":
            self.admin.roster.sync()
        return ImportResult(kind, len(rows), tuple(self._passwords))

    # ------------------------------------------------------------ one row of each kind

    def _stations(self, conn: Connection, row: dict[str, Any], now: datetime) -> list[DomainEvent]:
        geometry = row.get("jurisdiction")
        if isinstance(geometry, str):
            if not geometry:
                raise ValidationFailed("jurisdiction is missing", code="missing_field")
            geometry = json.loads(geometry)
        draft = StationDraft(
            name=str(_need(row, "name")),
            district=str(_need(row, "district")),
            jurisdiction=area_from_geojson(geometry),
            address=_optional(row, "address"),
            id=_optional(row, "id"),
        )
        station = self.admin.stations.check_new(conn, draft)
        return [self.admin.stations.write_new(conn, station, now, None)]

    def _units(self, conn: Connection, row: dict[str, Any], now: datetime) -> list[DomainEvent]:
        draft = UnitDraft(
            callsign=str(_need(row, "callsign")),
            kind=str(_need(row, "kind")),
            station_id=str(_need(row, "station_id")),
            capabilities=_list(row.get("capabilities")),
            radio_id=_optional(row, "radio_id"),
            terminal_id=_optional(row, "terminal_id"),
        )
        unit = replace(self.admin.units.check_new(conn, draft), status_changed_at=now, version=1)
        repo.insert_unit(conn, unit)
        return [
            DomainEvent(
                EventType.UNIT_CREATED,
                now,
                unit_id=unit.id,
                data={"unit": unit_view(unit, with_position=False)},
            )
        ]

    def _personnel(self, conn: Connection, row: dict[str, Any], now: datetime) -> list[DomainEvent]:
        draft = PersonDraft(
            police_number=str(_need(row, "police_number")),
            name=str(_need(row, "name")),
            rank=str(_need(row, "rank")),
            station_id=str(_need(row, "station_id")),
            role=str(_optional(row, "role") or "officer"),
        )
        person, role = self.admin.personnel.check_new(conn, draft)
        made = self.admin.personnel.write_new(conn, person, role, None, actor=None)
        if made is not None:
            self._passwords.append((person.police_number, made))
        return []

    def _roster(self, conn: Connection, row: dict[str, Any], now: datetime) -> list[DomainEvent]:
        kind = str(_need(row, "shift")).lower()
        station_id = str(_need(row, "station_id"))
        day = starts = ends = None
        if kind == "custom":
            starts = datetime.fromisoformat(str(_need(row, "starts_at")))
            ends = datetime.fromisoformat(str(_need(row, "ends_at")))
            zone = self.admin.roster.zone
            # A time written without a zone is the bureau's local time, as on a printed roster.
            starts, ends = (v if v.tzinfo else v.replace(tzinfo=zone) for v in (starts, ends))
        else:
            day = date.fromisoformat(str(_need(row, "date")))
        unit_ref = str(_need(row, "unit"))
        u = t.units.c
        unit = conn.execute(
            select(u.id).where(
                ((u.callsign == unit_ref.upper()) | (u.id == unit_ref)) & u.retired_at.is_(None)
            )
        ).first()
        if unit is None:
            raise ValidationFailed(f"no unit {unit_ref!r} in service", code="unit_not_found")
        numbers = [n.upper() for n in _list(_need(row, "officers"))]
        p = t.personnel.c
        found = {
            r.police_number: r.id
            for r in conn.execute(select(p.id, p.police_number).where(p.police_number.in_(numbers)))
        }
        missing = [n for n in numbers if n not in found]
        if missing:
            raise ValidationFailed(f"no officer {', '.join(missing)}", code="person_not_found")
        # One row is one unit's crew on one shift; rows of the same station, kind and times are
        # one shift (the same shift id), so that a roster lists a shift unit by unit.
        draft = ShiftDraft(
            station_id=station_id,
            kind=kind,
            day=day,
            starts_at=starts,
            ends_at=ends,
            crews=[(unit.id, [found[n] for n in numbers])],
        )
        roster = self.admin.roster
        shift, seats = roster.check_new(conn, draft)
        same = conn.execute(
            select(t.shifts.c.id).where(
                t.shifts.c.station_id == shift.station_id,
                t.shifts.c.kind == str(shift.kind),
                t.shifts.c.starts_at == shift.starts_at,
                t.shifts.c.ends_at == shift.ends_at,
            )
        ).first()
        if same is None:
            roster.write_new(conn, shift, seats, None)
        else:
            taken = conn.execute(
                select(t.crews.c.person_id).where(t.crews.c.shift_id == same.id, t.crews.c.unit_id == unit.id)
            ).first()
            if taken is not None:
                raise ValidationFailed(
                    "this unit's crew on that shift is listed already", code="double_booked"
                )
            conn.execute(
                t.crews.insert(),
                [{"shift_id": same.id, "person_id": s.person_id, "unit_id": s.unit_id} for s in seats],
            )
        return []


def _reason(exc: Exception) -> str:
    if isinstance(exc, JingwuError):
        return str(exc)
    if isinstance(exc, json.JSONDecodeError):
        return f"jurisdiction is not GeoJSON: {exc.msg}"
    return f"{type(exc).__name__}: {exc}"


__all__ = ["KINDS", "ImportRefused", "ImportResult", "Importer", "RowError", "rows_of"]
