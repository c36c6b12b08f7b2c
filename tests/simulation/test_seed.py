"""The demo's city is a bureau like any other: real district boundaries, personnel on a roster,
officers bound to their shift's unit; a restart tops the roster up and rehashes nothing."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from jingwu.composition import Services
from jingwu.domain.geo import GeoPoint
from jingwu.service.auth import passwords
from jingwu.simulation.seed import seed_demo_city
from jingwu.store import tables as t
from tests.conftest import FakeClock, ServicesFactory

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def _demo(make_services: ServicesFactory) -> Services:
    services = make_services()
    with services.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM stations")
    return services


def test_the_demo_stations_cover_their_real_districts(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = _demo(make_services)
    seed_demo_city(services, units=10, password="demo-password", rng=np.random.default_rng(3), now=clock.now)
    stations = {s.district: s for s in services.dispatch.stations}
    assert set(stations) == {"南岗区", "道里区", "道外区", "松北区", "香坊区"}
    # Boundaries of the real districts, not rectangles: hundreds of vertices between them.
    assert sum(len(s.jurisdiction.polygons[0][0]) for s in stations.values()) > 300
    # Central Street (中央大街) is in Daoli, the Harbin Institute of Technology in Nangang, Sun
    # Island in Songbei (where OSM puts them).
    assert services.dispatch.station_for(GeoPoint(45.7721, 126.6129)) == stations["道里区"].id
    assert services.dispatch.station_for(GeoPoint(45.7414, 126.6265)) == stations["南岗区"].id
    assert services.dispatch.station_for(GeoPoint(45.7854, 126.5875)) == stations["松北区"].id


def test_every_unit_is_crewed_on_duty_and_its_officers_log_in_bound_to_it(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = _demo(make_services)
    logins = seed_demo_city(
        services, units=10, password="demo-password", rng=np.random.default_rng(3), now=clock.now
    )
    units = {u.id: u for u in services.dispatch.list_units()}
    crews = {unit_id for _, _, unit_id in services.admin.personnel.list() if unit_id}
    assert crews == set(units)
    assert all(u.status == "available" for u in units.values())
    officer = services.auth.logins.login(logins.officer_usernames[-1], "demo-password").principal
    assert officer.unit_id in units and officer.username.isdigit()


def test_a_restart_tops_the_roster_up_and_checks_the_password_once(
    make_services: ServicesFactory, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _demo(make_services)
    seed_demo_city(services, units=10, password="demo-password", rng=np.random.default_rng(3), now=clock.now)

    def shifts() -> int:
        with services.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.shifts)).scalar_one())

    before = shifts()
    hashed, checked = [], []
    real_hash, real_verify = passwords.hash_password, passwords.verify_password
    monkeypatch.setattr("jingwu.simulation.seed.hash_password", lambda p: hashed.append(p) or real_hash(p))
    monkeypatch.setattr(
        "jingwu.simulation.seed.verify_password", lambda h, p: checked.append(p) or real_verify(h, p)
    )
    seed_demo_city(services, units=10, password="demo-password", rng=np.random.default_rng(3), now=clock.now)
    assert (len(hashed), len(checked)) == (0, 1)
    assert shifts() == before
    clock.advance(3 * 86400)
    seed_demo_city(services, units=10, password="demo-password", rng=np.random.default_rng(3), now=clock.now)
    assert shifts() == before + 3 * 2 * 5  # three more days of day and night shifts at five stations
