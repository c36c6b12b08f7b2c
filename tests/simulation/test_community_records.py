"""The demo's registry: residents on real addresses in the demo stations, businesses on the
extract's POIs, a work list for the community officer with one conflict; seeded once, quickly."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pytest
from sqlalchemy import func, select

from jingwu.composition import Services
from jingwu.domain.geo import GeoPoint
from jingwu.domain.identity import parse_id_number
from jingwu.simulation.community_records import BAOJIANLU, COLLECTOR, seed_records
from jingwu.simulation.seed import seed_demo_city
from jingwu.store import records_tables as rt
from tests.conftest import FakeClock, ServicesFactory

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def _count(services: Services, table: object, *where: object) -> int:
    with services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore[arg-type]


def test_the_demo_registry_is_seeded_once_in_the_demo_stations(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    with services.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM stations")
    seed_demo_city(services, units=6, password="demo-password", rng=np.random.default_rng(3), now=clock.now)
    services.geocoding.geocoder()  # loaded at start-up by the demo anyway
    started = time.perf_counter()
    seed_records(services, rng=np.random.default_rng(15), now=clock.now)
    took = time.perf_counter() - started
    assert took < 8.0, took  # the demo starts in ~20 s; this adds little (the test machine is slow)

    with services.engine.connect() as conn:
        houses = conn.execute(select(rt.records_houses)).all()
        residents = conn.execute(
            select(rt.records_residents.c.id, rt.records_houses.c.station_id).join(
                rt.records_houses, rt.records_houses.c.id == rt.records_residents.c.house_id
            )
        ).all()
    per_station = Counter(r.station_id for r in residents)
    assert per_station[BAOJIANLU] >= 300
    for house in houses:
        assert services.dispatch.station_for(GeoPoint(house.lat, house.lon)) == house.station_id
    assert _count(services, rt.records_businesses) >= 10

    # Real people are never stored in the clear; the synthetic ones validate.
    found = services.records.search(
        "address",
        houses[0].street_address,
        "演示数据核查",
        actor="admin",
        source=None,
        station_ids=None,
        full=True,
    )
    for resident in found["residents"]:
        parse_id_number(resident["id_number"], today=clock.now.date())

    pending = _count(services, rt.records_collections, rt.records_collections.c.status == "pending")
    assert pending >= 4
    mine = services.records.collections(
        actor=COLLECTOR, source=None, station_ids=None, collected_by=COLLECTOR, status=None, full=False
    )
    assert {c["status"] for c in mine} == {"pending", "returned", "conflict"}
    assert _count(services, rt.records_conflicts, rt.records_conflicts.c.status == "open") == 1

    before = (_count(services, rt.records_residents), _count(services, rt.records_collections))
    seed_records(services, rng=np.random.default_rng(16), now=clock.now)
    assert (_count(services, rt.records_residents), _count(services, rt.records_collections)) == before
