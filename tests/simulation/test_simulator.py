from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from jingwu.composition import Services
from jingwu.domain.geo import GeoPoint, haversine_m
from jingwu.domain.model import station_containing
from jingwu.domain.status import IncidentStatus, SourceChannel, UnitStatus
from jingwu.errors import Unauthenticated
from jingwu.routing import RoadNetwork
from jingwu.service.dispatching import NewIncident
from jingwu.simulation.city import STATION_PLANS
from jingwu.simulation.seed import seed_demo_city
from jingwu.simulation.simulator import CitySimulator, SimConfig
from jingwu.store import tables as t
from jingwu.store.db import read_transaction
from tests.conftest import FakeClock, ServicesFactory

# Seeding the demo city creates a dozen accounts and more (each officer's): at production argon2
# cost that was most of these tests' time, and none of them is about hashing.
pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def demo_city(make_services: ServicesFactory, clock: FakeClock, units: int = 12) -> Services:
    services = make_services()
    # The conftest city has two stations; the demo seeds its own four into an empty store.
    with services.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM stations")
    seed_demo_city(
        services, units=units, password="demo-password", rng=np.random.default_rng(1), now=clock.now
    )
    return services


def run(sim: CitySimulator, clock: FakeClock, seconds: float, tick: float = 2.0) -> None:
    for _ in range(int(seconds / tick)):
        clock.advance(tick)
        sim.step(clock.now)


def test_seeded_units_stand_on_roads_inside_their_own_jurisdiction(
    make_services: ServicesFactory, clock: FakeClock, network: RoadNetwork
) -> None:
    services = demo_city(make_services, clock, units=20)
    stations = services.dispatch.stations
    assert {s.name for s in stations} >= {
        "南岗分局保健路派出所",
        "道里分局新发派出所",
        "道外分局东莱街派出所",
        "香坊分局香坊大街派出所",
    }
    for unit in services.dispatch.list_units():
        assert unit.position is not None
        point = GeoPoint(unit.position.lat, unit.position.lon)
        assert network.snap(point.lat, point.lon).offset_m < 1.0
        home = station_containing(point, stations)
        assert home is not None and home.id == unit.station_id


def test_patrolling_units_move_along_roads(
    make_services: ServicesFactory, clock: FakeClock, network: RoadNetwork
) -> None:
    services = demo_city(make_services, clock)
    sim = CitySimulator(services, np.random.default_rng(2), SimConfig(call_rate_scale=1e-9))
    before = {u.id: u.position for u in services.dispatch.list_units()}
    run(sim, clock, 30)
    moved = 0
    for unit in services.dispatch.list_units():
        assert unit.position is not None
        assert network.snap(unit.position.lat, unit.position.lon).offset_m < 5.0
        old = before[unit.id]
        assert old is not None
        moved += haversine_m(GeoPoint(old.lat, old.lon), GeoPoint(unit.position.lat, unit.position.lon)) > 20
    assert moved >= len(before) // 2


def test_dispatched_crew_acknowledges_drives_arrives_and_clears(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = demo_city(make_services, clock)
    config = SimConfig(call_rate_scale=1e-9, min_on_scene_s=20, max_on_scene_s=20, clear_to_available_s=10)
    sim = CitySimulator(services, np.random.default_rng(3), config)
    incident = services.dispatch.create_incident(
        NewIncident("order.fight", GeoPoint(45.7610, 126.6290), SourceChannel.CALL_110), actor="dispatcher"
    )
    unit_id = services.dispatch.recommend(incident.id, limit=1)[0].unit.id
    services.dispatch.dispatch(incident.id, [unit_id], actor="dispatcher")
    seen: list[UnitStatus] = []
    for _ in range(1200):
        clock.advance(2)
        sim.step(clock.now)
        status = services.dispatch.get_unit(unit_id).status
        if not seen or seen[-1] is not status:
            seen.append(status)
        if status is UnitStatus.AVAILABLE:
            break
    assert seen == [
        UnitStatus.DISPATCHED,
        UnitStatus.EN_ROUTE,
        UnitStatus.ON_SCENE,
        UnitStatus.CLEARED,
        UnitStatus.AVAILABLE,
    ]
    stored = services.dispatch.get_incident(incident.id)
    assert {IncidentStatus.ACKNOWLEDGED, IncidentStatus.ON_SCENE} <= set(stored.stage_times)


def test_calls_arrive_and_the_stand_in_dispatcher_sends_units(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = demo_city(make_services, clock)
    sim = CitySimulator(
        services, np.random.default_rng(4), SimConfig(call_rate_scale=30, auto_dispatch_after_s=10)
    )
    run(sim, clock, 600, tick=5)
    incidents = services.dispatch.list_incidents()
    assert len(incidents) >= 5
    assert any(i.status is not IncidentStatus.PENDING for i in incidents)
    assert {i.source for i in incidents} <= set(SourceChannel)


def test_simulated_fixes_pass_the_gps_filter_and_are_kept_in_the_history(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = demo_city(make_services, clock)
    sim = CitySimulator(
        services, np.random.default_rng(7), SimConfig(call_rate_scale=30, auto_dispatch_after_s=10)
    )
    run(sim, clock, 240)
    p = t.positions.c
    with read_transaction(services.engine) as conn:
        rows = conn.execute(
            select(p.source, p.verdict, p.reason, func.count()).group_by(p.source, p.verdict, p.reason)
        )
        kept = {(source, verdict, reason): n for source, verdict, reason, n in rows}
    # Patrols and drives to incidents alike: every fix believed, none taken for a jump.
    assert set(kept) == {("gateway", "current", None)}, kept
    assert kept["gateway", "current", None] >= 12 * 60  # most of the 12 units move most of 120 ticks
    assert not services.positions.rejections


def test_officer_action_takes_the_unit_over_from_the_simulator(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = demo_city(make_services, clock)
    sim = CitySimulator(services, np.random.default_rng(5), SimConfig(call_rate_scale=1e-9))
    incident = services.dispatch.create_incident(
        NewIncident("order.fight", GeoPoint(45.7610, 126.6290), SourceChannel.CALL_110), actor="dispatcher"
    )
    unit = services.dispatch.recommend(incident.id, limit=1)[0].unit
    services.dispatch.dispatch(incident.id, [unit.id], actor="dispatcher")
    services.dispatch.set_unit_status(unit.id, UnitStatus.ACKNOWLEDGED, actor=unit.callsign)
    services.bus.close()  # deliver the event to the simulator's listener
    assert sim.is_human(unit.id)
    run(sim, clock, 120)
    assert services.dispatch.get_unit(unit.id).status is UnitStatus.ACKNOWLEDGED


def test_officer_take_over_survives_a_restart_of_the_simulator(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = demo_city(make_services, clock)
    unit = services.dispatch.list_units()[0]
    services.dispatch.set_unit_status(unit.id, UnitStatus.BUSY, actor=unit.callsign.lower())
    restarted = CitySimulator(services, np.random.default_rng(6), SimConfig(call_rate_scale=1e-9))
    assert restarted.is_human(unit.id)
    assert not restarted.is_human(services.dispatch.list_units()[1].id)


def test_restarting_the_demo_with_the_same_password_keeps_sessions_and_a_new_one_ends_them(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = demo_city(make_services, clock, units=4)
    token = services.auth.logins.login("dispatcher", "demo-password").access_token
    rng = np.random.default_rng(1)
    seed_demo_city(services, units=4, password="demo-password", rng=rng, now=clock.now)
    assert services.auth.sessions.authenticate(token).username == "dispatcher"
    seed_demo_city(services, units=4, password="another-password", rng=rng, now=clock.now)
    with pytest.raises(Unauthenticated):
        services.auth.sessions.authenticate(token)
    assert services.auth.logins.login("dispatcher", "another-password").principal.username == "dispatcher"


def test_the_demo_has_someone_to_log_in_as_in_every_role_but_device(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    from jingwu.domain.access import Jurisdiction, Role
    from jingwu.simulation.seed import DEMO_ACCOUNTS

    services = make_services()
    with services.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM stations")
    logins = seed_demo_city(
        services, units=5, password="demo-password", rng=np.random.default_rng(1), now=clock.now
    )
    station_ids = {p.station.id for p in STATION_PLANS}
    districts = {p.station.district for p in STATION_PLANS}
    seen = {}
    for account in DEMO_ACCOUNTS:
        principal = services.auth.logins.login(account.username, "demo-password").principal
        assert (principal.role, principal.jurisdiction) == (account.role, account.jurisdiction)
        seen[principal.role] = principal.jurisdiction
        # Every station and district named is one of the demo city's.
        assert principal.station_id in {None, *station_ids}
        if principal.jurisdiction.name is not None:
            assert principal.jurisdiction.name in station_ids | districts
    officer = services.auth.logins.login(logins.officer_usernames[0], "demo-password").principal
    assert officer.unit_id is not None  # bound to the unit of their shift
    seen[officer.role] = officer.jurisdiction
    assert set(seen) == set(Role) - {Role.DEVICE}
    scopes = {str(a.jurisdiction) for a in DEMO_ACCOUNTS}
    assert {"city", "own", "district:道里区", "station:nangang-baojianlu"} <= scopes
    assert Jurisdiction.parse("station:nangang-baojianlu").name in station_ids
