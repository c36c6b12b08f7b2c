"""Shared fixtures: the real Harbin road network (loaded once), and real databases — SQLite always,
PostgreSQL when one is reachable (required under CI).

Two kinds of fresh database: ``database_url`` / ``postgres_url`` are empty, for the tests of the
migrations and of what runs them; ``migrated_database_url`` / ``migrated_postgres_url`` (and
``make_services``) are at head already, copies of a template migrated once per session."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from jingwu.composition import Services, assemble
from jingwu.domain.areas import Area
from jingwu.domain.model import Position, Station, Unit
from jingwu.domain.status import UnitKind, UnitStatus
from jingwu.routing import RoadNetwork, load_network
from jingwu.service.auth import Role, passwords
from jingwu.settings import Settings, bundled_osm_file
from jingwu.store import repository as repo
from jingwu.store.db import make_engine, upgrade_schema, write_transaction

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "correct-horse-battery"


# ------------------------------------------------------------------ parallel runs (pytest-xdist)
#
# `make test` runs the suite on three workers (`-n 3 --dist loadgroup`). Most tests wait on
# PostgreSQL, NATS, subprocesses or a clock, and share nothing: each has its own databases, streams,
# ports and files. What would not bear a neighbour:
#
# * the browser tests (tests/browser) run on one worker, one after another as before, in one
#   Chromium (the group "browser");
# * the tests of the real MQTT broker (marked ``broker``) subscribe with wildcards that would hear
#   each other's devices: one worker, in turn (the group "mqtt");
# * a test marked ``alone`` bounds a time that the other workers' load would stretch (a page's
#   frame times, a latency), or runs a race that such load makes it lose: while it runs no other
#   test does. It waits for the tests running on the other workers to end, which wait for it.
#
# Without xdist (`pytest` as such, `-n 0`) all of this is a no-op.

_BROWSER_TESTS = Path(__file__).parent / "browser"
_LOCK_DIR = "jingwu_lock_dir"  # the key in each xdist worker's workerinput
_lock_dir_key = pytest.StashKey[Path]()


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the groups into the test ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        # By path: tests/browser/conftest.py adds the `browser` marker only after this hook.
        if item.path.is_relative_to(_BROWSER_TESTS):
            item.add_marker(pytest.mark.xdist_group("browser"))
        elif item.get_closest_marker("broker") is not None:
            item.add_marker(pytest.mark.xdist_group("mqtt"))


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        # The controller of a parallel run: a folder of its own for the workers' locks.
        config.stash[_lock_dir_key] = Path(tempfile.mkdtemp(prefix="jingwu-tests-"))


def pytest_unconfigure(config: pytest.Config) -> None:
    lock_dir = config.stash.get(_lock_dir_key, None)
    if lock_dir is not None:
        shutil.rmtree(lock_dir, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist's hook, on the controller, for each worker it starts."""
    lock_dir = node.config.stash.get(_lock_dir_key, None)
    if lock_dir is not None:
        node.workerinput[_LOCK_DIR] = str(lock_dir)


class _RunLock:
    """Who may run now, across the workers: a test marked ``alone`` holds the lock "run"
    exclusively, any other test holds it shared. The lock "gate" keeps a waiting ``alone`` test
    from being overtaken: it is held while taking "run" (and by an ``alone`` test until its end),
    so that no other worker starts a test once an ``alone`` one waits. flock locks end with their
    process: a worker that dies holds nothing."""

    def __init__(self, directory: Path) -> None:
        self._gate = (directory / "gate").open("a")
        self._run = (directory / "run").open("a")

    @contextlib.contextmanager
    def hold(self, *, alone: bool) -> Iterator[None]:
        fcntl.flock(self._gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._run, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
            try:
                if not alone:
                    fcntl.flock(self._gate, fcntl.LOCK_UN)  # the other worker may start its next
                yield
            finally:
                fcntl.flock(self._run, fcntl.LOCK_UN)
        finally:
            fcntl.flock(self._gate, fcntl.LOCK_UN)  # a no-op where let go above


_run_lock_key = pytest.StashKey[_RunLock]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Set-up, call and teardown of each test within the run lock, on an xdist worker."""
    config = item.config
    lock = config.stash.get(_run_lock_key, None)
    if lock is None:
        lock_dir = getattr(config, "workerinput", {}).get(_LOCK_DIR)
        if lock_dir is None:
            return (yield)
        lock = config.stash[_run_lock_key] = _RunLock(Path(lock_dir))
    with lock.hold(alone=item.get_closest_marker("alone") is not None):
        return (yield)


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


# Run in a process of its own: this one may hold them in memory already, and then writes no file.
_BUILD_CITY_CACHES = """
import sys
from pathlib import Path
from jingwu.geocode import load_geocoder
from jingwu.geocode.basemap import load_basemap
from jingwu.geocode.buildings import load_buildings
osm, folder = Path(sys.argv[1]), Path(sys.argv[2])
load_geocoder(osm, folder)
load_basemap(osm, folder)
load_buildings(osm, folder)
"""


@pytest.fixture(scope="session")
def city_cache_dir(
    graph_cache_dir: Path, network: RoadNetwork, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A cache folder holding all that a server derives from the bundled OSM file and caches beside
    its road graph: the compiled graph, the address index, the base map and the building footprints,
    built once per session (per pytest process, about 12 s). The tests that start `jingwu serve` or
    `jingwu demo` processes copy it into their data folders; each process otherwise built the index
    and the base map again at its start (about 13 s of a core, the demo waiting for the index). Its
    own folder: graph_cache_dir stays as the tests of those caches find it."""
    folder = tmp_path_factory.mktemp("city-cache")
    shutil.copytree(graph_cache_dir, folder, dirs_exist_ok=True)
    build = [sys.executable, "-c", _BUILD_CITY_CACHES, str(bundled_osm_file()), str(folder)]
    subprocess.run(build, check=True)
    return folder


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


def _database_url(server: str, name: str) -> str:
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def _create_database(admin: Engine, template: str | None = None) -> str:
    name = f"jingwu_test_{uuid.uuid4().hex[:12]}"
    # The default strategy: STRATEGY FILE_COPY (PostgreSQL 15) was quicker alone but slower
    # within the suite, whose earlier writes each of its checkpoints must flush first.
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    return name


def _drop_database(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class _DatabaseSupply:
    """Each test's fresh PostgreSQL database, made one test ahead and dropped after it, both on a
    thread of their own: CREATE DATABASE copies its template (about 0.18 s even for an empty one)
    and DROP removes the files, work the server does while the next test runs instead of before.

    A database handed out was made for that test alone, from ``template`` (None: template1, an
    empty database), and nothing connected to it before. One spare is kept per template asked for.
    """

    def __init__(self, admin: Engine) -> None:
        self._admin = admin
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-databases")
        self._spares: dict[str | None, Future[str]] = {}
        self._drops: list[Future[None]] = []

    def take(self, template: str | None = None) -> str:
        spare = self._spares.pop(template, None)
        name = (spare or self._worker.submit(_create_database, self._admin, template)).result()
        self._spares[template] = self._worker.submit(_create_database, self._admin, template)
        return name

    def give_back(self, name: str) -> None:
        # A failed drop is raised at the end of the session (close).
        self._drops.append(self._worker.submit(_drop_database, self._admin, name))

    def close(self) -> None:
        for spare in self._spares.values():
            self.give_back(spare.result())
        self._spares.clear()
        self._worker.shutdown(wait=True)
        for drop in self._drops:
            drop.result()


@pytest.fixture(scope="session")
def postgres_admin(postgres_server: str) -> Iterator[Engine]:
    """One admin engine for the session, its connections pooled (not two new ones per test)."""
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    yield admin
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases(postgres_admin: Engine, postgres_template: str) -> Iterator[_DatabaseSupply]:
    # After the template, so closed before it is dropped: no copy of it is still being made then.
    supply = _DatabaseSupply(postgres_admin)
    try:
        yield supply
    finally:
        supply.close()


@pytest.fixture
def postgres_url(postgres_server: str, postgres_databases: _DatabaseSupply) -> Iterator[str]:
    """A fresh, empty (unmigrated) database for one test, dropped afterwards: for the tests of the
    migrations themselves and of what runs them. A test that only wants the schema in place
    takes ``migrated_postgres_url``."""
    name = postgres_databases.take()
    try:
        yield _database_url(postgres_server, name)
    finally:
        postgres_databases.give_back(name)


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str, postgres_admin: Engine) -> Iterator[str]:
    """The name of a database migrated to head by the app's own ``upgrade_schema``, built afresh
    once per session (per pytest process), never kept across runs: a migration changed since the
    last run is always in it. Tests get copies of it (``migrated_postgres_url``), which saves
    migrating a new database (about 0.2 s) for every test."""
    name = _create_database(postgres_admin)
    try:
        engine = make_engine(_database_url(postgres_server, name))
        try:
            upgrade_schema(engine)
        finally:
            # CREATE DATABASE ... TEMPLATE refuses while any session is connected to the template.
            engine.dispose()
        yield name
    finally:
        _drop_database(postgres_admin, name)


@pytest.fixture
def migrated_postgres_url(
    postgres_server: str, postgres_template: str, postgres_databases: _DatabaseSupply
) -> Iterator[str]:
    """A fresh database for one test, already at the head revision (a copy of the session's
    template), dropped afterwards."""
    name = postgres_databases.take(postgres_template)
    try:
        yield _database_url(postgres_server, name)
    finally:
        postgres_databases.give_back(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head by the app's own ``upgrade_schema``, built afresh once per
    session (never kept across runs). ``copy_sqlite_template`` gives a test its own copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "jingwu.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade_schema(engine)
    finally:
        engine.dispose()
    # Closing the last connection checkpoints the WAL into the file and deletes it: the one file
    # is then the whole database, and copying it alone copies everything.
    assert not path.with_name(path.name + "-wal").exists(), "the SQLite template kept a WAL"
    return path


def copy_sqlite_template(template: Path, path: Path) -> str:
    """Copy the migrated template to ``path`` (a test's own file); returns its database URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


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
    """An empty, unmigrated database on each backend: for the tests of the migrations and of
    whatever runs them. A test that only wants the schema in place takes
    ``migrated_database_url``."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jingwu.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def migrated_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database on each backend already at the head revision: a copy of the session's
    template, cheaper than migrating a new one for every test."""
    if request.param == "sqlite":
        return copy_sqlite_template(request.getfixturevalue("sqlite_template"), tmp_path / "jingwu.db")
    url: str = request.getfixturevalue("migrated_postgres_url")
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
    Area.ring((126.50, 45.65), (126.80, 45.65), (126.80, 45.785), (126.50, 45.765)),
)
NORTH = Station(
    "north",
    "松北分局太阳岛派出所",
    "松北区",
    Area.ring((126.50, 45.765), (126.80, 45.785), (126.80, 45.84), (126.50, 45.84)),
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
    network: RoadNetwork, migrated_database_url: str, clock: FakeClock, tmp_path: Path
) -> Iterator[ServicesFactory]:
    database_url = migrated_database_url
    built: list[Services] = []

    def factory(units: list[Unit] = (), *, ack_timeout_s: float = 30.0, use_clock: bool = True) -> Services:  # type: ignore[assignment]
        settings = Settings(
            data_dir=tmp_path, database_url=database_url, ack_timeout_s=ack_timeout_s, sms_sender="demo"
        )
        engine = make_engine(database_url)
        # A no-op on the migrated copy, kept as the app's start-up runs it: were the template ever
        # behind head, the upgrade (and any bug in it) would still run here.
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


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at a test's cost (1 pass over 1 MiB) instead of production's (3 passes over 64 MiB,
    about 0.2 s a hash or check here), for tests about something else than hashing that create
    many users, such as the demo's seeding. tests/service/auth/ keeps the production cost (the API
    tests and auth/test_second_factor.py patch it the same way, on their own). Not the browser tests,
    whose log-ins take what a user's do: the terminal fetches the map and the incident types at
    log-in, and its service worker keeps them for offline use only once it controls the page, a
    race that a quicker log-in may lose (see test_offline_taps_wait_in_the_outbox_across_a_reload...)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    # The hash checked for unknown users carries its own (production) cost in its parameters.
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("jingwu-no-such-user"))


def add_user(services: Services, username: str, role: Role, unit_id: str | None = None) -> None:
    services.auth.accounts.create_user(username, PASSWORD, role, unit_id=unit_id)
