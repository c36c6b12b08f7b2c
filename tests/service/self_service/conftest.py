"""Self-service over real services (SQLite, and PostgreSQL where marked) on the test's clock."""

from __future__ import annotations

import pytest

from jingwu.composition import Services
from jingwu.service.self_service import DemoSender
from tests.conftest import ServicesFactory

PHONE = "13800138000"
OTHER_PHONE = "13900139000"
# A synthetic, checksum-valid number (GB 11643) of a Harbin 南岗区 birth in 1990.
ID_NUMBER = "230103199003071233"


@pytest.fixture
def services(make_services: ServicesFactory, cheap_password_hashing: None) -> Services:
    built = make_services()
    built.self_service.sender = DemoSender()
    return built
