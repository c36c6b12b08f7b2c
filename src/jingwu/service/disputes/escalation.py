"""A new 110 call from a dispute's address or from one of its parties escalates the dispute.

How, robustly in a cluster: every server process subscribes to the bus and, hearing
``incident.created`` (its own or another process's), matches the call against the open disputes
and escalates each match down the dispatch service's one write path (so the
``dispute.escalated`` event is in the log and on the live stream like any other). The link row
(dispute, incident) has a primary key, and the case's row is locked before the link is looked for:
the first process to get there escalates, every other one finds the link and changes nothing. A
call that no process heard (all down at that moment) is still shown beside the incident, since
:meth:`Escalation.for_incident` also matches live."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, and_, insert, or_, select
from sqlalchemy.exc import IntegrityError

from jingwu.bus import BusMessage
from jingwu.domain.disputes import (
    ESCALATION_RADIUS_M,
    DisputeStatus,
    MatchBy,
    RiskLevel,
    address_key,
    address_matches,
    escalate,
)
from jingwu.domain.events import DomainEvent, EventType
from jingwu.domain.geo import GeoPoint
from jingwu.domain.rules import Decision
from jingwu.errors import JingwuError, SystemFault
from jingwu.service.disputes.records import case_view, changed, lock_case, party_rows
from jingwu.store import disputes_tables as d
from jingwu.store import tables as t
from jingwu.store.db import read_transaction
from jingwu.store.fieldcrypt import KeyRing

if TYPE_CHECKING:
    from jingwu.service.dispatching import DispatchService

log = logging.getLogger(__name__)

_M_PER_DEG_LAT = 111_320.0
_DONE = frozenset({"closed", "merged"})


def _incident_row(conn: Connection, incident_id: str) -> Any:
    return conn.execute(
        select(
            t.incidents.c.id,
            t.incidents.c.type_code,
            t.incidents.c.lat,
            t.incidents.c.lon,
            t.incidents.c.address,
            t.incidents.c.reporter_phone_index,
            t.incidents.c.reporter_id_index,
        ).where(t.incidents.c.id == incident_id)
    ).first()


def matching_disputes(conn: Connection, incident: Any) -> dict[str, set[MatchBy]]:
    """The open disputes the call touches, each with how: near its point or at the same address
    text, or called in by one of its parties (phone or ID number, by their blind indexes)."""
    dlat = ESCALATION_RADIUS_M / _M_PER_DEG_LAT
    dlon = ESCALATION_RADIUS_M / (_M_PER_DEG_LAT * max(0.1, math.cos(math.radians(incident.lat))))
    key = address_key(incident.address)
    place = and_(
        d.disputes.c.lat.between(incident.lat - dlat, incident.lat + dlat),
        d.disputes.c.lon.between(incident.lon - dlon, incident.lon + dlon),
    )
    near = [place] + ([d.disputes.c.address_key == key] if key else [])
    found: dict[str, set[MatchBy]] = {}
    point = GeoPoint(incident.lat, incident.lon)
    for row in conn.execute(
        select(d.disputes.c.id, d.disputes.c.lat, d.disputes.c.lon, d.disputes.c.address_key).where(
            d.disputes.c.status == DisputeStatus.OPEN.value, or_(*near)
        )
    ):
        if address_matches(GeoPoint(row.lat, row.lon), row.address_key, point, incident.address):
            found.setdefault(row.id, set()).add(MatchBy.ADDRESS)
    indexes = []
    if incident.reporter_phone_index:
        indexes.append(d.dispute_parties.c.phone_index == incident.reporter_phone_index)
    if incident.reporter_id_index:
        indexes.append(d.dispute_parties.c.id_index == incident.reporter_id_index)
    if indexes:
        for row in conn.execute(
            select(d.dispute_parties.c.dispute_id)
            .join(d.disputes, d.disputes.c.id == d.dispute_parties.c.dispute_id)
            .where(d.disputes.c.status == DisputeStatus.OPEN.value, or_(*indexes))
        ):
            found.setdefault(row.dispute_id, set()).add(MatchBy.PARTY)
    return found


def _ordered(by: Collection[MatchBy]) -> list[str]:
    return sorted(m.value for m in by)


class Escalation:
    def __init__(
        self,
        engine: Engine,
        keys: KeyRing,
        dispatch: DispatchService,
        *,
        clock: Callable[[], datetime],
        zone: tzinfo,
    ) -> None:
        self.engine = engine
        self.keys = keys
        self.dispatch = dispatch
        self.clock = clock
        self.zone = zone

    def hear(self, message: BusMessage) -> None:
        """The bus subscriber: escalate on every new call, this process's or another's, and on a
        call whose place or address was corrected while open (the call taker's first pin is often
        off; the corrected address is the one the dispute is at)."""
        if message.type == EventType.INCIDENT_UPDATED:
            data = message.payload.get("data") or {}
            moved = {"location", "address"} & set(data.get("changes") or {})
            status = (data.get("incident") or {}).get("status")
            if not moved or status in _DONE:
                return
        elif message.type != EventType.INCIDENT_CREATED:
            return
        incident_id = message.payload.get("incident_id")
        if not isinstance(incident_id, str):
            return
        try:
            self.escalate_for_incident(incident_id)
        except JingwuError as exc:  # logged; the console still matches the call live
            log.warning("disputes: escalation for %s failed: %s", incident_id, exc)

    def escalate_for_incident(self, incident_id: str) -> list[str]:
        """Escalate each open dispute the call touches, once per (dispute, call): the ids of the
        disputes escalated now (those another process escalated already are left out)."""
        with read_transaction(self.engine) as conn:
            incident = _incident_row(conn, incident_id)
            if incident is None:
                return []
            matches = matching_disputes(conn, incident)
        escalated = []
        for dispute_id, by in sorted(matches.items()):
            try:
                decision = self.dispatch.commit(self._decide(dispute_id, incident, by))
            except SystemFault as exc:
                if isinstance(exc.__cause__, IntegrityError):
                    continue  # another process linked the pair between our check and our insert
                raise
            if decision.events:
                escalated.append(dispute_id)
        return escalated

    def _decide(
        self, dispute_id: str, incident: Any, by: set[MatchBy]
    ) -> Callable[[Connection, datetime], Decision]:
        def decide(conn: Connection, now: datetime) -> Decision:
            row = lock_case(conn, dispute_id)  # the lock orders racing processes; the second sees the link
            if row.status != DisputeStatus.OPEN.value:
                return Decision()
            linked = conn.execute(
                select(d.dispute_incident_links.c.incident_id).where(
                    d.dispute_incident_links.c.dispute_id == dispute_id,
                    d.dispute_incident_links.c.incident_id == incident.id,
                )
            ).first()
            if linked is not None:
                return Decision()
            before = RiskLevel(row.risk_level)
            up = escalate(before, incident_id=incident.id, incident_type=incident.type_code, matched_by=by)
            conn.execute(
                insert(d.dispute_incident_links).values(
                    dispute_id=dispute_id,
                    incident_id=incident.id,
                    matched_by=_ordered(by),
                    risk_before=before.value,
                    risk_after=up.level.value,
                    linked_at=now,
                )
            )
            values: dict[str, Any] = {
                "risk_level": up.level.value,
                "risk_floor": up.level.value,
                "risk_reasons": [*row.risk_reasons, up.reason.as_dict()],
            }
            if up.level.rank > before.rank:
                values["risk_raised_at"] = now
            changed(
                conn,
                row,
                now=now,
                actor=None,
                action="escalated",
                changes={
                    "incident_id": incident.id,
                    "matched_by": _ordered(by),
                    "risk_level": [before.value, up.level.value],
                },
                values=values,
            )
            event = DomainEvent(
                EventType.DISPUTE_ESCALATED,
                now,
                incident_id=incident.id,
                data={
                    "dispute": {
                        "id": dispute_id,
                        "kind": row.kind,
                        "address": row.address,
                        "station_id": row.station_id,
                        "risk_before": before.value,
                        "risk_level": up.level.value,
                        "reason": up.reason.as_dict(),
                        "matched_by": _ordered(by),
                    }
                },
            )
            return Decision(events=(event,))

        return decide

    def for_incident(self, incident_id: str, *, station_ids: Collection[str] | None) -> list[dict[str, Any]]:
        """The open disputes beside a call, for the console: those it escalated and those it
        matches now (a call no process heard, or a dispute opened after it), within ``station_ids``
        (None: all); gravest risk first."""
        with read_transaction(self.engine) as conn:
            incident = _incident_row(conn, incident_id)
            if incident is None:
                return []
            by: dict[str, set[MatchBy]] = matching_disputes(conn, incident)
            links: Mapping[str, Any] = {
                r.dispute_id: r
                for r in conn.execute(
                    select(d.dispute_incident_links).where(
                        d.dispute_incident_links.c.incident_id == incident_id
                    )
                )
            }
            for dispute_id, link in links.items():
                by.setdefault(dispute_id, set()).update(MatchBy(m) for m in link.matched_by)
            if not by:
                return []
            query = select(d.disputes).where(
                d.disputes.c.id.in_(sorted(by)), d.disputes.c.status == DisputeStatus.OPEN.value
            )
            if station_ids is not None:
                query = query.where(d.disputes.c.station_id.in_(sorted(station_ids)))
            rows = conn.execute(query).all()
            parties = party_rows(conn, [r.id for r in rows])
        now = self.clock()
        shown = []
        for row in rows:
            view = case_view(row, parties[row.id], self.keys, now=now, zone=self.zone)
            view["matched_by"] = _ordered(by[row.id])
            view["escalated"] = row.id in links
            shown.append(view)
        shown.sort(key=lambda v: (-RiskLevel(v["risk_level"]).rank, v["id"]))
        return shown


__all__ = ["Escalation", "matching_disputes"]
