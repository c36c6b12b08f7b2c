"""The demo's self-service: the demo resident signs in with the documented phone and finds their
applications (one certificate that verifies, one sent back); the 保健路 station has work in each
stage; seeding twice changes nothing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import func, select

from jingwu.composition import Services
from jingwu.domain.self_service import CertificateStanding
from jingwu.service.auth import Role
from jingwu.simulation.city import STATION_PLANS
from jingwu.simulation.community_service import DEMO_PHONE, seed_service
from jingwu.store import repository as repo
from jingwu.store import self_service_tables as st
from jingwu.store.db import read_transaction, write_transaction
from tests.conftest import PASSWORD, ServicesFactory

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def _demo(make_services: ServicesFactory) -> Services:
    services = make_services()
    services.demo = True
    with write_transaction(services.engine) as conn:
        repo.insert_station(
            conn, next(p.station for p in STATION_PLANS if p.station.id == "nangang-baojianlu")
        )
    services.dispatch.reload_stations()
    services.auth.accounts.create_user("resident", PASSWORD, Role.RESIDENT)
    return services


def test_the_demo_resident_signs_in_by_phone_and_finds_their_applications(
    make_services: ServicesFactory, cheap_password_hashing: None
) -> None:
    services = _demo(make_services)
    seed_service(services, rng=np.random.default_rng(5), now=NOW)
    sign_in = services.self_service.sign_in
    code = sign_in.request_code(DEMO_PHONE, source="demo").demo_code
    assert code is not None  # the demo's sender shows it
    signed = sign_in.verify(DEMO_PHONE, code, source="demo")
    assert signed.principal.username == "resident" and not signed.new_account
    mine = services.self_service.applications.find(user_id=signed.principal.user_id)
    assert sorted(str(a.status) for a in mine) == ["approved", "missing_documents"]
    approved = next(a for a in mine if a.certificate_code)
    assert approved.certificate_code is not None
    standing = services.self_service.certificates.standing(approved.certificate_code)
    assert standing.standing is CertificateStanding.VALID and standing.station_name == "南岗分局保健路派出所"
    stages = Counter(
        str(a.status) for a in services.self_service.applications.find(station_ids={"nangang-baojianlu"})
    )
    assert stages["submitted"] >= 2 and stages["verified"] == 1


def test_seeding_twice_changes_nothing(make_services: ServicesFactory, cheap_password_hashing: None) -> None:
    services = _demo(make_services)
    seed_service(services, rng=np.random.default_rng(5), now=NOW)
    with read_transaction(services.engine) as conn:
        before = [
            conn.execute(select(func.count()).select_from(table)).scalar()
            for table in st.metadata.sorted_tables
        ]
    seed_service(services, rng=np.random.default_rng(6), now=NOW)
    with read_transaction(services.engine) as conn:
        after = [
            conn.execute(select(func.count()).select_from(table)).scalar()
            for table in st.metadata.sorted_tables
        ]
    assert before == after
