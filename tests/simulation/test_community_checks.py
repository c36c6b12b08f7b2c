"""The demo's watch lists: seeded once, and each documented demo subject hits."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select

from jingwu.domain.watchlists import SubjectKind
from jingwu.simulation.community_checks import DEMO_SUBJECTS, seed_checks
from jingwu.store.checks_tables import watchlist_entries
from jingwu.store.db import read_transaction
from tests.conftest import FakeClock, ServicesFactory


def test_seeding_is_idempotent_and_the_demo_subjects_hit(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    seed_checks(services, rng=np.random.default_rng(7), now=clock.now)
    with read_transaction(services.engine) as conn:
        seeded = conn.execute(select(func.count()).select_from(watchlist_entries)).scalar_one()
    assert 30 <= seeded <= 60
    seed_checks(services, rng=np.random.default_rng(8), now=clock.now)
    with read_transaction(services.engine) as conn:
        assert conn.execute(select(func.count()).select_from(watchlist_entries)).scalar_one() == seeded
    for demo in DEMO_SUBJECTS:
        outcome = services.checks.check(
            demo.list.subject, demo.subject, reason="演示", location=None, officer="demo", unit_id=None
        )
        assert outcome.result == "hit" and demo.list in {h.list for h in outcome.hits}, demo
    assert {d.list.subject for d in DEMO_SUBJECTS} == set(SubjectKind)
