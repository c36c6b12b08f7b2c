"""The demo's disputes: seeded once in the demo stations, the demo community officer's work list
led by overdue follow-ups, one family dispute at high risk, synthetic parties with valid numbers."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from jingwu.domain.identity import parse_id_number
from jingwu.service.disputes import everywhere
from jingwu.simulation.community_disputes import HOME_CASES, OFFICER, OTHER_CASES, seed_disputes
from jingwu.simulation.seed import seed_demo_city
from jingwu.store import disputes_tables as d
from tests.conftest import FakeClock, ServicesFactory

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def test_the_demo_disputes_are_seeded_once_with_a_work_list_for_the_community_officer(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    with services.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM stations")
    seed_demo_city(services, units=6, password="demo-password", rng=np.random.default_rng(3), now=clock.now)
    seed_disputes(services, rng=np.random.default_rng(5), now=clock.now)
    with services.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(d.disputes)).scalar_one()
    assert count == len(HOME_CASES) + len(OTHER_CASES)
    seed_disputes(services, rng=np.random.default_rng(6), now=clock.now)  # a second start: left alone
    with services.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(d.disputes)).scalar_one() == count

    work = services.disputes.lists.list(station_ids=None, officer=OFFICER)
    assert len(work) == len(HOME_CASES)
    assert {c["station_id"] for c in work} == {"nangang-baojianlu"}
    overdue = [c["overdue_days"] for c in work if c["overdue_days"] > 0]
    assert len(overdue) == 4 and overdue == sorted(overdue, reverse=True)
    assert [c["overdue_days"] > 0 for c in work] == [True] * 4 + [False] * (len(work) - 4)
    high = [c for c in work if c["risk_level"] in ("high", "critical")]
    assert len(high) == 1 and high[0]["kind"] == "family"
    parties = services.disputes.cases.parties(
        work[0]["id"], actor="test", reason="演示数据核对", full=True, source=None, reach=everywhere
    )
    for party in parties:
        assert parse_id_number(party["id_number"], today=clock.now.date()).number == party["id_number"]
        assert party["phone"].startswith("+861")
