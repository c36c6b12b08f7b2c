"""Shared fixtures: the real Harbin road network (loaded once), and real databases — SQLite always,
PostgreSQL when one is reachable (required under CI)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from jingwu.app import assemble
from jingwu.domain.model import Position, Station, Unit
from jingwu.domain.status import UnitKind, UnitStatus
from jingwu.routing import RoadNetwork, load_network
from jingwu.service.auth import Role
from jingwu.services import Services
from jingwu.settings import Settings, bundled_osm_file
from jingwu.store import repository as repo
from jingwu.store.db import make_engine, upgrade_schema, write_transaction

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's JINGWU_* settings must not leak into tests."""
    for key in list(os.environ):
        if key.startswith("JINGWU_") and not key.startswith("JINGWU_TEST_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def graph_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("graph-cache")


@pytest.fixture(scope="session")
def network(graph_cache_dir: Path) -> RoadNetwork:
    return load_network(bundled_osm_file(), graph_cache_dir)


def _postgres_admin_url() -> str:
    return os.environ.get("JINGWU_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a reachable PostgreSQL, or a skip (a failure under CI=true)."""
    url = _postgres_admin_url()
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        message = (
            f"PostgreSQL not reachable at {make_url(url).render_as_string(hide_password=True)} "
            f"({type(exc).__name__}). "
            "Start one (e.g. `pg_ctlcluster 15 main start`) or point JINGWU_TEST_POSTGRES_URL at one "
            "to run these tests."
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " Under CI a missing PostgreSQL is a failure.")
        pytest.skip(message)
    return url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"jingwu_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


async def _jetstream_check(url: str) -> None:
    import nats

    nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)
    try:
        await nc.jetstream().account_info()
    finally:
        await nc.close()


@pytest.fixture(scope="session")
def nats_url() -> str:
    """A reachable NATS server with JetStream (JINGWU_TEST_NATS_URL), or a skip (a failure
    under CI=true)."""
    import asyncio

    url = os.environ.get("JINGWU_TEST_NATS_URL", DEFAULT_NATS_URL)
    try:
        asyncio.run(asyncio.wait_for(_jetstream_check(url), timeout=5))
    except Exception as exc:
        message = (
            f"NATS with JetStream not reachable at {url} ({type(exc).__name__}). Start one (e.g. "
            "`nats-server -js -a 127.0.0.1 -p 4222 -sd /var/lib/nats-server`) or point "
            "JINGWU_TEST_NATS_URL at one to run these tests."
        )
        if _under_ci():
            pytest.fail(message + " Under CI a missing NATS is a failure.")
        pytest.skip(message)
    return url


async def _delete_stream(url: str, stream: str) -> None:
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)
    try:
        with contextlib.suppress(NotFoundError):
            await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()


@pytest.fixture
def bus_stream(nats_url: str) -> Iterator[str]:
    """A fresh JetStream stream name (and subject prefix) for one test, deleted afterwards, so
    that tests and concurrent runs on one NATS never hear each other."""
    import asyncio

    name = f"jingwu_test_{uuid.uuid4().hex[:12]}"
    yield name
    with contextlib.suppress(Exception):
        asyncio.run(asyncio.wait_for(_delete_stream(nats_url, name), timeout=10))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jingwu.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


class FakeClock:
    """A clock the test moves by hand, for acknowledgment timers and timelines."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# Stations of the test city: a south-bank one and a north-bank (Songbei) one, covering the extract.
SOUTH = Station(
    "south",
    "南岗分局保健路派出所",
    "南岗区",
    ((126.50, 45.65), (126.80, 45.65), (126.80, 45.785), (126.50, 45.765)),
)
NORTH = Station(
    "north",
    "松北分局太阳岛派出所",
    "松北区",
    ((126.50, 45.765), (126.80, 45.785), (126.80, 45.84), (126.50, 45.84)),
)


def make_unit(
    unit_id: str,
    lat: float,
    lon: float,
    *,
    kind: UnitKind = UnitKind.PATROL_CAR,
    station: str = "south",
    status: UnitStatus = UnitStatus.AVAILABLE,
    capabilities: frozenset[str] = frozenset({"traffic", "armed"}),
    at: datetime | None = None,
) -> Unit:
    at = at or datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    return Unit(
        id=unit_id,
        callsign=unit_id.upper(),
        kind=kind,
        station_id=station,
        status=status,
        capabilities=capabilities,
        position=Position(lat=lat, lon=lon, ts=at, heading=0.0, speed=0.0),
        status_changed_at=at,
    )


ServicesFactory = Callable[..., Services]


@pytest.fixture
def make_services(
    network: RoadNetwork, database_url: str, clock: FakeClock, tmp_path: Path
) -> Iterator[ServicesFactory]:
    built: list[Services] = []

    def factory(units: list[Unit] = (), *, ack_timeout_s: float = 30.0, use_clock: bool = True) -> Services:  # type: ignore[assignment]
        settings = Settings(data_dir=tmp_path, database_url=database_url, ack_timeout_s=ack_timeout_s)
        engine = make_engine(database_url)
        upgrade_schema(engine)
        with write_transaction(engine) as conn:
            if not repo.list_stations(conn):
                repo.insert_station(conn, SOUTH)
                repo.insert_station(conn, NORTH)
            for unit in units:
                repo.insert_unit(conn, unit)
        services = assemble(settings, engine, network, clock=clock if use_clock else None)
        built.append(services)
        return services

    yield factory
    for services in built:
        services.close()


def add_user(services: Services, username: str, role: Role, unit_id: str | None = None) -> None:
    services.auth.create_user(username, PASSWORD, role, unit_id=unit_id)
