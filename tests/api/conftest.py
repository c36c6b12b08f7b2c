"""API fixtures: a small city of six units on real Harbin roads, behind the real app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from jingwu.api.factory import create_app
from jingwu.composition import Services
from jingwu.routing import RoadNetwork
from jingwu.service.auth import Role, passwords
from tests.conftest import PASSWORD, ServicesFactory, add_user, make_unit

CENTRE = {"lat": 45.7560, "lon": 126.6420}


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every API test creates two users and logs in a few times; at the production argon2 cost
    (64 MiB, 3 passes) that is most of the run. The API tests are about routes, not hashing
    (tests/service/auth/ keeps the real cost)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    # The hash checked for unknown users carries its own (production) cost in its parameters: a
    # flood of log-ins as unknown users would otherwise take seconds, and the log-in rate-limit
    # test would see its bucket refill meanwhile on a busy machine.
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("jingwu-no-such-user"))


def _city(make_services: ServicesFactory, network: RoadNetwork, *, use_clock: bool) -> Services:
    rng = np.random.default_rng(21)
    units = []
    for i in range(6):
        p = network.random_road_point(rng)
        units.append(make_unit(f"u{i}", p.lat, p.lon))
    built = make_services(units, use_clock=use_clock)
    add_user(built, "dispatcher", Role.DISPATCHER)
    add_user(built, "u0", Role.OFFICER, unit_id="u0")
    return built


@pytest.fixture
def services(make_services: ServicesFactory, network: RoadNetwork) -> Services:
    return _city(make_services, network, use_clock=False)


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as test_client:
        yield test_client


@pytest.fixture
def clocked_services(make_services: ServicesFactory, network: RoadNetwork) -> Services:
    """The same city on the test's FakeClock (``clock`` fixture), for figures that depend on time."""
    return _city(make_services, network, use_clock=True)


@pytest.fixture
def clocked_client(clocked_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(clocked_services)) as test_client:
        yield test_client


def login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    return {"Authorization": f"Bearer {body['access_token']}"}


def create(client: TestClient, headers: dict[str, str], **overrides: Any) -> Any:
    body = {"type_code": "crim.robbery", "priority": 1, "location": CENTRE, "source": "call_110"} | overrides
    return client.post("/api/incidents", json=body, headers=headers)
