"""Cases for incidents: filed (立案) and solved (破案) by the station, each a command on the incident
whose event (case.filed, case.solved) joins its timeline and brings the analytical store's month
up to date."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from jingwu.domain.cases import Case, CaseKind, file_case, solve_case
from jingwu.domain.events import DomainEvent, EventType
from jingwu.domain.rules import Decision
from jingwu.domain.status import IncidentStatus
from jingwu.errors import Conflict
from jingwu.service.dispatching import DispatchService
from jingwu.store import repository as repo
from jingwu.store.cases_tables import incident_cases
from jingwu.store.db import read_transaction


class IncidentCases:
    def __init__(self, engine: Engine, dispatch: DispatchService) -> None:
        self.engine = engine
        self.dispatch = dispatch

    def get(self, incident_id: str) -> Case | None:
        with read_transaction(self.engine) as conn:
            repo.get_incident(conn, incident_id)  # 404 for an unknown incident
            return _load(conn, incident_id)

    def file(self, incident_id: str, *, number: str, kind: CaseKind, actor: str | None) -> Case:
        filed: list[Case] = []

        def decide(conn: Connection, now: datetime) -> Decision:
            incident = repo.get_incident(conn, incident_id, for_update=True)
            if incident.status is IncidentStatus.MERGED:
                raise Conflict(
                    f"incident {incident_id} was merged into {incident.merged_into}: file the case there",
                    code="incident_merged",
                )
            case = file_case(
                incident_id, number=number, kind=kind, now=now, actor=actor, existing=_load(conn, incident_id)
            )
            taken = conn.execute(
                select(incident_cases.c.incident_id).where(incident_cases.c.case_number == case.case_number)
            ).first()
            if taken is not None:
                raise Conflict(
                    f"case number {case.case_number} is taken by incident {taken[0]}",
                    code="case_number_taken",
                )
            conn.execute(insert(incident_cases).values(**_values(case)))
            filed.append(case)
            return Decision(events=(_event(EventType.CASE_FILED, case, now, actor, incident.station_id),))

        self.dispatch.commit(decide)
        return filed[-1]

    def solve(self, incident_id: str, *, actor: str | None) -> Case:
        solved: list[Case] = []

        def decide(conn: Connection, now: datetime) -> Decision:
            incident = repo.get_incident(conn, incident_id, for_update=True)
            case = solve_case(_load(conn, incident_id), incident_id, now=now, actor=actor)
            conn.execute(
                update(incident_cases)
                .where(incident_cases.c.incident_id == incident_id)
                .values(solved_at=case.solved_at, solved_by=case.solved_by)
            )
            solved.append(case)
            return Decision(events=(_event(EventType.CASE_SOLVED, case, now, actor, incident.station_id),))

        self.dispatch.commit(decide)
        return solved[-1]


def _load(conn: Connection, incident_id: str) -> Case | None:
    row = conn.execute(select(incident_cases).where(incident_cases.c.incident_id == incident_id)).first()
    if row is None:
        return None
    return Case(
        row.incident_id,
        row.case_number,
        CaseKind(row.kind),
        row.filed_at,
        row.filed_by,
        row.solved_at,
        row.solved_by,
    )


def _values(case: Case) -> dict[str, Any]:
    return {
        "incident_id": case.incident_id,
        "case_number": case.case_number,
        "kind": str(case.kind),
        "filed_at": case.filed_at,
        "filed_by": case.filed_by,
        "solved_at": case.solved_at,
        "solved_by": case.solved_by,
    }


def case_json(case: Case) -> dict[str, Any]:
    return {
        "incident_id": case.incident_id,
        "case_number": case.case_number,
        "kind": str(case.kind),
        "filed_at": case.filed_at.isoformat(),
        "filed_by": case.filed_by,
        "solved_at": case.solved_at.isoformat() if case.solved_at else None,
        "solved_by": case.solved_by,
    }


def _event(
    kind: EventType, case: Case, now: datetime, actor: str | None, station_id: str | None
) -> DomainEvent:
    return DomainEvent(
        kind,
        now,
        incident_id=case.incident_id,
        actor=actor,
        # The incident's station, so that the live stream carries it to that station's consoles.
        data={"case": case_json(case), "incident": {"id": case.incident_id, "station_id": station_id}},
    )


__all__ = ["IncidentCases", "case_json"]
