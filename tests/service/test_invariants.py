"""Random sequences of legal and illegal commands never leave incidents, units and assignments
inconsistent with each other (a property test over the real store and road graph)."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from jingwu.composition import Services
from jingwu.domain.status import ASSIGNED_STATUSES, UnitStatus
from jingwu.errors import JingwuError
from jingwu.routing import RoadNetwork
from jingwu.store import tables as t
from tests.conftest import FakeClock, ServicesFactory, copy_sqlite_template, make_unit
from tests.service.test_dispatching import road_points, robbery_at

STEPS = 250
BUSY_INCIDENT = ("dispatched", "acknowledged", "en_route")
NO_UNITS_INCIDENT = ("pending", "closed", "merged", "cleared")


@pytest.fixture
def migrated_database_url(sqlite_template: Path, tmp_path: Path) -> str:
    # The rules are storage-agnostic; SQLite keeps it quick.
    return copy_sqlite_template(sqlite_template, tmp_path / "jingwu.db")


def inconsistencies(services: Services) -> list[str]:
    with services.engine.connect() as conn:
        units = {r.id: r for r in conn.execute(select(t.units))}
        incidents = {r.id: r for r in conn.execute(select(t.incidents))}
        assignments = list(conn.execute(select(t.assignments)))
        escalations = Counter(
            (e.incident_id, e.unit_id)
            for e in conn.execute(select(t.events).where(t.events.c.type == "dispatch.ack_overdue"))
        )
    active = [a for a in assignments if a.released_at is None]
    per_unit = Counter(a.unit_id for a in active)
    found = []
    for unit in units.values():
        assigned = UnitStatus(unit.status) in ASSIGNED_STATUSES
        if per_unit[unit.id] > 1:
            found.append(f"unit {unit.id} holds {per_unit[unit.id]} assignments")
        if unit.incident_id is None:
            if assigned:
                found.append(f"unit {unit.id} is {unit.status} on no incident")
            continue
        if not assigned:
            found.append(f"unit {unit.id} is {unit.status} yet on {unit.incident_id}")
        if incidents[unit.incident_id].status in ("closed", "merged"):
            found.append(f"unit {unit.id} is on a {incidents[unit.incident_id].status} incident")
        if not any(a.unit_id == unit.id and a.incident_id == unit.incident_id for a in active):
            found.append(f"unit {unit.id} is on {unit.incident_id} without an assignment")
    for a in active:
        if units[a.unit_id].incident_id != a.incident_id:
            found.append(f"assignment {a.incident_id}/{a.unit_id} but the unit is elsewhere")
    for incident in incidents.values():
        working = sum(1 for a in active if a.incident_id == incident.id)
        if incident.status in BUSY_INCIDENT and not working:
            found.append(f"incident {incident.id} is {incident.status} with no unit")
        if incident.status in NO_UNITS_INCIDENT and working:
            found.append(f"incident {incident.id} is {incident.status} with {working} units")
    per_assignment = Counter((a.incident_id, a.unit_id) for a in assignments)
    found += [f"{k} escalated {n} times" for k, n in escalations.items() if n > per_assignment[k]]
    return found


@pytest.mark.parametrize("seed", range(6))
def test_random_commands_keep_incidents_units_and_assignments_consistent(
    make_services: ServicesFactory, network: RoadNetwork, clock: FakeClock, seed: int
) -> None:
    rnd = random.Random(seed)
    units = [make_unit(f"u{k}", *p) for k, p in enumerate(road_points(network, 6, seed))]
    services = make_services(units, ack_timeout_s=5)
    dispatch = services.dispatch
    places = road_points(network, 30, seed + 100)
    incidents: list[str] = []
    history: list[str] = []
    for _ in range(STEPS):
        roll = rnd.random()
        try:
            if roll < 0.08 or not incidents:
                incidents.append(dispatch.create_incident(robbery_at(*rnd.choice(places)), actor="x").id)
                history.append(f"create {incidents[-1]}")
            elif roll < 0.35:
                incident_id = rnd.choice(incidents)
                chosen = rnd.sample([u.id for u in units], rnd.randint(1, 2))
                history.append(f"dispatch {chosen} to {incident_id}")
                dispatch.dispatch(incident_id, chosen, actor="x")
            elif roll < 0.8:
                unit_id, status = rnd.choice(units).id, rnd.choice(list(UnitStatus))
                history.append(f"{unit_id} → {status}")
                dispatch.set_unit_status(unit_id, status, actor="x")
            elif roll < 0.88:
                incident_id = rnd.choice(incidents)
                history.append(f"close {incident_id}")
                dispatch.close_incident(incident_id, disposition=None, actor="x")
            elif roll < 0.93 and len(incidents) > 1:
                duplicate, into = rnd.sample(incidents, 2)
                history.append(f"merge {duplicate} into {into}")
                dispatch.merge_incident(duplicate, into, actor="x")
            else:
                clock.advance(rnd.choice([1, 6]))
                history.append("sweep")
                dispatch.escalate_overdue()
        except JingwuError:
            history[-1] += " (refused)"
        problems = inconsistencies(services)
        assert not problems, (problems, history[-12:])
