"""The demo city's past: closed incidents with ordered stage times, in the stations whose
jurisdiction holds them, criminal cases falling year on year, written once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import numpy as np
from sqlalchemy import select

from jingwu.domain.geo import GeoPoint
from jingwu.domain.status import IncidentStatus
from jingwu.simulation.history import PREFIX, seed_history
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.db import read_transaction
from tests.conftest import NORTH, SOUTH, FakeClock, ServicesFactory


def test_two_years_of_the_past_are_written_once_in_their_stations(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    written = seed_history(services, rng=np.random.default_rng(4), now=clock.now, per_day=20.0)
    assert 730 * 20 * 0.85 < written < 730 * 20 * 1.15
    assert seed_history(services, rng=np.random.default_rng(5), now=clock.now, per_day=20.0) == 0
    with read_transaction(services.engine) as conn:
        rows = conn.execute(select(t.incidents).where(t.incidents.c.id.like(f"{PREFIX}%"))).all()
        incidents = [repo.incident_from_row(r) for r in rows]
    assert len(incidents) == written
    stations = {SOUTH.id: SOUTH, NORTH.id: NORTH}
    for incident in incidents[:500]:
        assert incident.status is IncidentStatus.CLOSED and incident.created_at < clock.now
        times = incident.stage_times
        assert incident.created_at < times[IncidentStatus.DISPATCHED] < times[IncidentStatus.ON_SCENE]
        station = stations[incident.station_id or ""]
        assert station.jurisdiction.contains(GeoPoint(incident.location.lat, incident.location.lon))
    year_ago = clock.now - timedelta(days=365)
    crime = Counter(i.created_at >= year_ago for i in incidents if i.type_code.startswith("crim."))
    traffic = Counter(i.created_at >= year_ago for i in incidents if i.type_code.startswith("traffic."))
    assert 0.5 < crime[True] / crime[False] < 0.75  # about −38 %
    assert 0.95 < traffic[True] / traffic[False] < 1.2
