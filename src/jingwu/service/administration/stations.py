"""Stations: created, edited and retired by an admin; every process sees the change at once (the
``station.changed`` event makes each reload its stations)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from jingwu.domain.areas import Area, overlapping
from jingwu.domain.events import DomainEvent, EventType
from jingwu.domain.model import Station
from jingwu.domain.roster import check_name
from jingwu.domain.rules import Decision
from jingwu.errors import Conflict, ValidationFailed
from jingwu.service.dispatching import DispatchService
from jingwu.service.ids import new_id
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.db import read_transaction

#: A station id chosen by the bureau: readable in URLs and files (``nangang-baojianlu``).
_STATION_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True, slots=True)
class StationDraft:
    """A station as an admin (or an import file) describes it; checked before anything is written."""

    name: str
    district: str
    jurisdiction: Area
    address: str | None = None
    id: str | None = None  # None: one is made


def station_view(station: Station) -> dict[str, Any]:
    return {
        "id": station.id,
        "name": station.name,
        "district": station.district,
        "jurisdiction": station.jurisdiction.to_geojson(),
        "address": station.address,
        "retired_at": station.retired_at.isoformat() if station.retired_at else None,
        "version": station.version,
    }


def check_station_id(station_id: str) -> str:
    if not _STATION_ID.match(station_id):
        raise ValidationFailed(
            f"{station_id!r} is not a station id (lower-case letters, digits, - and _, at most 64)",
            code="invalid_station_id",
        )
    return station_id


def _refuse_overlap(conn: Connection, station_id: str, area: Area) -> None:
    others = {
        s.id: s.jurisdiction for s in repo.list_stations(conn, include_retired=False) if s.id != station_id
    }
    clash = overlapping(area, others)
    if clash:
        raise Conflict(
            f"the jurisdiction overlaps that of {', '.join(clash)}: a place must belong to one station",
            code="overlapping_jurisdiction",
            stations=clash,
        )


def _event(station: Station, now: datetime, actor: str | None, changes: Mapping[str, Any]) -> DomainEvent:
    return DomainEvent(
        EventType.STATION_CHANGED,
        now,
        actor=actor,
        data={"station": {**station_view(station), "jurisdiction": None}, "changes": dict(changes)},
    )


class StationAdmin:
    def __init__(self, engine: Engine, dispatch: DispatchService, *, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.dispatch = dispatch
        self.clock = clock

    def list(self, *, include_retired: bool = False) -> list[Station]:
        with read_transaction(self.engine) as conn:
            return repo.list_stations(conn, include_retired=include_retired)

    def get(self, station_id: str) -> Station:
        with read_transaction(self.engine) as conn:
            return repo.get_station(conn, station_id)

    def check_new(self, conn: Connection, draft: StationDraft) -> Station:
        """The station the draft would make, checked against the others in ``conn``."""
        station_id = check_station_id(draft.id) if draft.id else new_id("st")
        if conn.execute(select(t.stations.c.id).where(t.stations.c.id == station_id)).first():
            raise Conflict(
                f"station {station_id!r} exists already", code="station_exists", station_id=station_id
            )
        station = Station(
            id=station_id,
            name=check_name(draft.name),
            district=check_name(draft.district, what="district"),
            jurisdiction=draft.jurisdiction,
            address=_address(draft.address),
            version=1,
        )
        _refuse_overlap(conn, station_id, station.jurisdiction)
        taken = conn.execute(
            select(t.stations.c.id).where(
                func.lower(t.stations.c.name) == station.name.lower(), t.stations.c.retired_at.is_(None)
            )
        ).first()
        if taken:
            raise Conflict(
                f"a station is named {station.name!r} already", code="station_exists", station_id=taken.id
            )
        return station

    def write_new(self, conn: Connection, station: Station, now: datetime, actor: str | None) -> DomainEvent:
        repo.insert_station(conn, replace(station, version=1))
        return _event(station, now, actor, {"created": True})

    def create(self, draft: StationDraft, *, actor: str | None) -> Station:
        made: list[Station] = []

        def decide(conn: Connection, now: datetime) -> Decision:
            station = self.check_new(conn, draft)
            made.append(station)
            return Decision(events=(self.write_new(conn, station, now, actor),))

        self.dispatch.commit(decide)
        self.dispatch.reload_stations()
        return made[0]

    def update(
        self, station_id: str, changes: Mapping[str, Any], *, version: int | None, actor: str | None
    ) -> Station:
        """Change name, district, address or jurisdiction. ``version``: the one the editor saw
        (409 stale_station if it moved on); None skips the check."""
        made: list[Station] = []
        allowed = {"name", "district", "address", "jurisdiction"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationFailed(f"cannot change {', '.join(sorted(unknown))}", code="invalid_change")

        def decide(conn: Connection, now: datetime) -> Decision:
            before = repo.get_station(conn, station_id)
            if before.retired_at is not None:
                raise Conflict(
                    f"station {station_id} is retired", code="station_retired", station_id=station_id
                )
            if version is not None and version != before.version:
                raise Conflict("the station was changed by someone else; reload", code="stale_station")
            after = before
            diff: dict[str, Any] = {}
            for name, value in changes.items():
                if name == "name":
                    value = check_name(value)
                elif name == "district":
                    value = check_name(value, what="district")
                elif name == "address":
                    value = _address(value)
                if getattr(before, name) != value:
                    after = replace(after, **{name: value})
                    # A jurisdiction's polygons would swell the event: the station row keeps them.
                    was = None if name == "jurisdiction" else getattr(before, name)
                    diff[name] = {"before": was, "after": None if name == "jurisdiction" else value}
            if "jurisdiction" in diff:
                _refuse_overlap(conn, station_id, after.jurisdiction)
            if diff:
                repo.update_station(conn, after)
                after = replace(after, version=before.version + 1)
            made.append(after)
            return Decision(events=(_event(after, now, actor, diff),) if diff else ())

        self.dispatch.commit(decide)
        self.dispatch.reload_stations()
        return made[0]

    def retire(self, station_id: str, *, actor: str | None) -> Station:
        """Close a station: refused while units or people still belong to it (move them first).
        Its incidents keep their station; new places in its area belong to no station until
        another covers them."""
        made: list[Station] = []

        def decide(conn: Connection, now: datetime) -> Decision:
            before = repo.get_station(conn, station_id)
            if before.retired_at is not None:
                raise Conflict(f"station {station_id} is retired already", code="station_retired")
            left = {
                what: conn.execute(
                    select(func.count()).where(table.c.station_id == station_id, table.c.retired_at.is_(None))
                ).scalar_one()
                for table, what in ((t.units, "units"), (t.personnel, "personnel"))
            }
            if any(left.values()):
                raise Conflict(
                    f"station {before.name} still has {left['units']} units and {left['personnel']} "
                    "people: move or retire them first",
                    code="station_in_use",
                    station_id=station_id,
                    **left,
                )
            after = replace(before, retired_at=now)
            repo.update_station(conn, after)
            after = replace(after, version=before.version + 1)
            made.append(after)
            return Decision(events=(_event(after, now, actor, {"retired": True}),))

        self.dispatch.commit(decide)
        self.dispatch.reload_stations()
        return made[0]


def _address(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > 300:
        raise ValidationFailed("the address must be at most 300 characters", code="invalid_address")
    return value or None


__all__ = ["StationAdmin", "StationDraft", "check_station_id", "station_view"]
