"""Incident search: the filters of :class:`~jingwu.domain.incident_query.IncidentFilter` as SQL,
read as the queue (most urgent first, a bounded list) or as pages newest first by
(created_at, id) after a cursor. Rows come back without their sealed personal data, as
everywhere (see repository.incident_from_row)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, exists, or_, select, true

from jingwu.domain.incident_query import IncidentFilter
from jingwu.domain.model import Incident
from jingwu.store import tables as t
from jingwu.store.repository import incident_from_row


def _conditions(
    found: IncidentFilter, *, station_ids: Collection[str] | None, created_by: str | None
) -> list[Any]:
    """``station_ids`` is the caller's reach (None: the city); ``created_by`` a resident's own."""
    c = t.incidents.c
    where: list[Any] = [true() if station_ids is None else c.station_id.in_(sorted(station_ids))]
    if created_by is not None:
        where.append(c.created_by == created_by)
    if found.station_ids:
        where.append(c.station_id.in_(sorted(found.station_ids)))
    if found.statuses:
        where.append(c.status.in_(sorted(str(s) for s in found.statuses)))
    if found.type_codes:
        where.append(c.type_code.in_(sorted(found.type_codes)))
    if found.priorities:
        where.append(c.priority.in_(sorted(found.priorities)))
    if found.created_from is not None:
        where.append(c.created_at >= found.created_from)
    if found.created_to is not None:
        where.append(c.created_at < found.created_to)
    for word in found.words:
        # LIKE with the word's own % and _ escaped: a search for "10%" finds "10%", not "10".
        where.append(
            or_(c.address.icontains(word, autoescape=True), c.description.icontains(word, autoescape=True))
        )
    if found.unit_ids:
        a = t.assignments.c
        where.append(exists().where(and_(a.incident_id == c.id, a.unit_id.in_(sorted(found.unit_ids)))))
    return where


def _select(
    found: IncidentFilter, station_ids: Collection[str] | None, created_by: str | None
) -> Select[Any]:
    return select(t.incidents).where(*_conditions(found, station_ids=station_ids, created_by=created_by))


def queue(
    conn: Connection,
    found: IncidentFilter,
    *,
    limit: int,
    station_ids: Collection[str] | None = None,
    created_by: str | None = None,
) -> list[Incident]:
    """The queue's order: most urgent first, then newest; at most ``limit``."""
    c = t.incidents.c
    query = _select(found, station_ids, created_by).order_by(c.priority, c.created_at.desc(), c.id.desc())
    return [incident_from_row(r) for r in conn.execute(query.limit(limit))]


def page(
    conn: Connection,
    found: IncidentFilter,
    *,
    limit: int,
    after: tuple[datetime, str] | None = None,
    station_ids: Collection[str] | None = None,
    created_by: str | None = None,
) -> tuple[list[Incident], bool]:
    """One page newest first, after the (created_at, id) of the previous page's last row; and
    whether more follow (one row more is read to know)."""
    c = t.incidents.c
    query = _select(found, station_ids, created_by)
    if after is not None:
        created, ident = after
        query = query.where(or_(c.created_at < created, and_(c.created_at == created, c.id < ident)))
    query = query.order_by(c.created_at.desc(), c.id.desc()).limit(limit + 1)
    rows = [incident_from_row(r) for r in conn.execute(query)]
    return rows[:limit], len(rows) > limit


def incident_exists(conn: Connection, incident_id: str) -> bool:
    return conn.execute(select(t.incidents.c.id).where(t.incidents.c.id == incident_id)).first() is not None


__all__ = ["incident_exists", "page", "queue"]
