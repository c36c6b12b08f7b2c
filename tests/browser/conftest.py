"""Real-browser fixtures: the real app under uvicorn on a loopback port, driven by Debian's Chromium
through Playwright.

* ``live_server`` — the app as ``jingwu serve`` runs it (real clock, SQLite in ``tmp_path``, the test
  stations SOUTH and NORTH, a ``dispatcher`` user), in a background thread. ``restart()`` stops it
  and starts fresh services over the same database on the same port, so that a page's WebSocket
  can reconnect to it.
* ``browser`` — one headless Chromium for the whole ``tests/browser`` package (never downloaded:
  Playwright drives ``/usr/bin/chromium``, which ``make browser-deps`` installs).
* ``new_context`` / ``open_page`` — browser contexts (zh-CN, Asia/Shanghai, optional geolocation),
  closed after the test; every page in them reports uncaught errors and ``console.error`` messages
  to ``page_errors``.
* ``screenshot_dir`` — ``test-artifacts/screenshots/`` at the repository root (git-ignored).

Playwright's sync API marks its event loop as running in the main thread while it is open, which
would break ``asyncio.run`` in later tests: hence ``browser`` is package-scoped, not session-scoped.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import numpy as np
import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from jingwu.api.factory import create_app
from jingwu.composition import Services, assemble
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Unit, station_containing
from jingwu.domain.status import UnitKind
from jingwu.geocode.basemap import load_basemap
from jingwu.routing import RoadNetwork
from jingwu.service.auth import Role
from jingwu.service.basemap import MapService
from jingwu.settings import Settings, bundled_osm_file
from jingwu.store import repository as repo
from jingwu.store.db import make_engine, read_transaction, upgrade_schema, write_transaction
from tests.conftest import NORTH, PASSWORD, SOUTH, copy_sqlite_template, make_unit
from tests.video.rig import rtsp_server  # noqa: F401 (the video rig's fixture, for the journeys on real streams)

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"

CHROMIUM = Path("/usr/bin/chromium")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DISPATCHER = "dispatcher"
START_TIMEOUT_S = 30.0
#: How long an expectation waits for the page (Playwright's default is 5 s). The tests check what a
#: page shows, not how fast: three test workers on two slow cores made a log-in's first answer
#: miss 5 s now and then.
expect.set_options(timeout=15_000)
STOP_TIMEOUT_S = 15.0

__all__ = [
    "DISPATCHER",
    "PASSWORD",
    "LiveServer",
    "PageErrors",
    "units_on_roads",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser carries the `browser` marker (`-m "not browser"` skips them)."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----------------------------------------------------------------------------------- the server


def units_on_roads(
    network: RoadNetwork,
    count: int,
    *,
    seed: int = 7,
    prefix: str = "u",
    kind: UnitKind = UnitKind.PATROL_CAR,
) -> list[Unit]:
    """`count` available units at random points on drivable roads (ids u0, u1, …; call signs U0, …),
    each belonging to the test station whose jurisdiction holds it, positioned now."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    units = []
    for i in range(count):
        p = network.random_road_point(rng)
        station = station_containing(GeoPoint(lat=p.lat, lon=p.lon), [SOUTH, NORTH]) or SOUTH
        units.append(make_unit(f"{prefix}{i}", p.lat, p.lon, kind=kind, station=station.id, at=now))
    return units


class LiveServer:
    """The real app (``create_app`` over real services) under uvicorn in a background thread.

    ``url`` (``http://127.0.0.1:PORT``) and ``port`` never change, across ``restart()`` too.
    ``services`` is the running server's bundle; it is replaced on every start.

    ``maps``: a base map service whose layers are built already, served in place of the new one
    each start would build (the roads and the features serialized and gzipped, about 1 s of
    the first page's wait); used only where it answers the same map config.
    """

    def __init__(self, network: RoadNetwork, data_dir: Path, maps: MapService | None = None) -> None:
        self.network = network
        self.data_dir = data_dir
        self.maps = maps
        self.database_url = f"sqlite:///{data_dir / 'jingwu.db'}"
        self.port = _free_port()
        self.host = "127.0.0.1"
        self.url = f"http://{self.host}:{self.port}"
        self.ws_url = f"ws://{self.host}:{self.port}"
        self._services: Services | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._clients: list[httpx.Client] = []

    # -- life cycle

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the live server is stopped")
        return self._services

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Build fresh services over the database (migrating it, seeding the stations once) and serve
        them on the same port; returns once the port accepts connections."""
        if self.running:
            raise RuntimeError("the live server is already running")
        settings = Settings(data_dir=self.data_dir, database_url=self.database_url, sms_sender="demo")
        engine = make_engine(self.database_url)
        try:
            upgrade_schema(engine)
            with write_transaction(engine) as conn:
                if not repo.list_stations(conn):
                    repo.insert_station(conn, SOUTH)
                    repo.insert_station(conn, NORTH)
            services = assemble(settings, engine, self.network)  # the real clock
            if self.maps is not None and _same_map(self.maps, services.maps):
                services.maps = self.maps
        except BaseException:
            engine.dispose()
            raise
        config = uvicorn.Config(
            create_app(services),
            host=self.host,
            port=self.port,
            ws="websockets-sansio",  # as `jingwu serve` runs it
            lifespan="on",
            log_config=None,  # leave logging alone: records go to pytest's log capture
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"live-server-{self.port}", daemon=True)
        self._services, self._server, self._thread = services, server, thread
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self._halt()
                raise RuntimeError(
                    f"the live server did not start on port {self.port} (see the captured log)"
                )
            time.sleep(0.02)

    def stop(self) -> None:
        """Shut the server down as SIGTERM would (WebSockets get close code 1012), then close the
        services. The port is free afterwards: connections to it are refused until `start()`."""
        if self._thread is None:
            return
        self._halt()

    def restart(self) -> None:
        """Stop, then start fresh services (a new bus, board and timers) over the same database on
        the same port, as a process restart would."""
        self.stop()
        self.start()

    def _halt(self) -> None:
        server, thread, services = self._server, self._thread, self._services
        self._server = self._thread = self._services = None
        try:
            if server is not None and thread is not None:
                server.should_exit = True
                thread.join(STOP_TIMEOUT_S)
                if thread.is_alive():
                    server.force_exit = True
                    thread.join(STOP_TIMEOUT_S)
                if thread.is_alive():
                    raise RuntimeError(f"the live server on port {self.port} did not stop")
        finally:
            if services is not None:
                services.close()

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        self.stop()

    # -- data

    def seed_units(self, units: Iterable[Unit]) -> list[Unit]:
        """Store units directly (no events, as a roster import would) and reload the live board."""
        units = list(units)
        with write_transaction(self.services.engine) as conn:
            for unit in units:
                repo.insert_unit(conn, unit)
        self.services.dispatch.refresh_board()
        return units

    def add_user(
        self,
        username: str,
        role: Role = Role.DISPATCHER,
        *,
        unit_id: str | None = None,
        station_id: str | None = None,
        password: str = PASSWORD,
    ) -> str:
        self.services.auth.accounts.create_user(
            username, password, role, unit_id=unit_id, station_id=station_id
        )
        return username

    def add_officer(self, unit: Unit, username: str | None = None) -> str:
        """An officer user bound to `unit` (stored first if it is not yet); the user name is the
        unit's call sign unless given. Returns the user name."""
        with read_transaction(self.services.engine) as conn:
            known = {u.id for u in repo.list_units(conn, ids=[unit.id])}
        if unit.id not in known:
            self.seed_units([unit])
        return self.add_user(username or unit.callsign, Role.OFFICER, unit_id=unit.id)

    # -- HTTP

    def login(self, username: str = DISPATCHER, password: str = PASSWORD) -> dict[str, Any]:
        """`POST /api/auth/login` over HTTP; the whole answer (`access_token`, `role`, `unit_id`, …)."""
        response = httpx.post(
            f"{self.url}/api/auth/login", json={"username": username, "password": password}, timeout=10
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def client(self, username: str | None = DISPATCHER) -> httpx.Client:
        """An HTTP client on the server, logged in as `username` (None: anonymous); closed at teardown."""
        headers = {}
        if username is not None:
            headers["Authorization"] = f"Bearer {self.login(username)['access_token']}"
        client = httpx.Client(base_url=self.url, headers=headers, timeout=10)
        self._clients.append(client)
        return client


def _same_map(built: MapService, fresh: MapService) -> bool:
    """Whether `built` serves what `fresh` would: the same road graph, OSM file and map config."""
    return (
        built.network is fresh.network
        and built.settings.osm_file == fresh.settings.osm_file
        and built.config() == fresh.config()
    )


@pytest.fixture(scope="session")
def basemap(graph_cache_dir: Path) -> None:
    """The base map's water, parks and names, built once per worker (about 4 s) and then held in
    memory, as `jingwu serve` warms it up at start: else the first page in a worker to ask for
    them waits, and a test that stops the server meanwhile sees a 500."""
    load_basemap(bundled_osm_file(), graph_cache_dir)


@pytest.fixture(scope="session")
def map_layers(network: RoadNetwork, basemap: None, tmp_path_factory: pytest.TempPathFactory) -> MapService:
    """A base map service with its layers built, once per worker: the GET /api/map/roads and
    /api/map/features answers (serialized and gzipped) depend on the road graph and the OSM file
    alone, which every live server shares. Each new server would otherwise build them again on
    its first page with a map (about 1 s, in the server's threads, while that page waits)."""
    maps = MapService(network, Settings(data_dir=tmp_path_factory.mktemp("map-layers")))
    maps.roads()
    maps.features()
    return maps


@pytest.fixture
def live_server(
    network: RoadNetwork, map_layers: MapService, sqlite_template: Path, tmp_path: Path
) -> Iterator[LiveServer]:
    """The real app on a free 127.0.0.1 port, with stations SOUTH and NORTH and a `dispatcher`
    user (password `PASSWORD`). Add units with `seed_units(units_on_roads(server.network, n))`
    and officers with `add_officer(unit)`."""
    server = LiveServer(network, tmp_path / "live", map_layers)
    # Its database starts as a copy of the session's migrated template (start() still runs the
    # upgrade, then a no-op): cheaper than migrating a new file for every test.
    copy_sqlite_template(sqlite_template, server.data_dir / "jingwu.db")
    server.start()
    try:
        server.add_user(DISPATCHER, Role.DISPATCHER)
        yield server
    finally:
        server.close()


# ---------------------------------------------------------------------------------- the browser


def _browser_deps_missing() -> str | None:
    missing = [str(p) for p in (CHROMIUM, CJK_FONT) if not p.exists()]
    if not missing:
        return None
    return (
        f"missing {', '.join(missing)}: the browser tests need Debian's Chromium and a CJK font. "
        "Run `make browser-deps` as root, or `apt-get install -y chromium fonts-wqy-zenhei`."
    )


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    problem = _browser_deps_missing()
    if problem:
        if _under_ci():
            pytest.fail(problem + " Under CI a missing browser is a failure.")
        pytest.skip(problem)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium (never a downloaded build), one for the whole package."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()


def wait_until(page: Page, script: str, *, timeout_s: float = 10.0, what: str = "") -> Any:
    """Poll ``script`` (a function, async or not) in the page until it returns a truthy value, and
    return that. Unlike ``page.wait_for_function``, which takes a returned promise itself for a
    truthy answer, it awaits what an async function returns."""
    deadline = time.monotonic() + timeout_s
    while not (answer := page.evaluate(script)):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what or script}")
        page.wait_for_timeout(100)
    return answer


class PageErrors(list[str]):
    """Uncaught page errors and `console.error` messages from every page a test opened, in order."""

    def excluding(self, *substrings: str) -> list[str]:
        """The errors that contain none of `substrings` (e.g. the expected
        "WebSocket connection to … failed" while the server is down)."""
        return [e for e in self if not any(s in e for s in substrings)]


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


def _watch(page: Page, errors: PageErrors) -> None:
    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location or {}
            errors.append(
                f"console.error at {where.get('url', '?')}:{where.get('lineNumber', '?')}: {message.text}"
            )

    page.on("pageerror", lambda exc: errors.append(f"uncaught at {page.url}: {exc.name}: {exc.message}"))
    page.on("console", on_console)


ContextFactory = Callable[..., BrowserContext]


@pytest.fixture
def new_context(browser: Browser, page_errors: PageErrors) -> Iterator[ContextFactory]:
    """A factory of browser contexts, all closed after the test.

    `new_context(viewport=(1280, 800), locale="zh-CN", geolocation=(lat, lon) | None,
    permissions=(), **playwright_options)`. With `geolocation`, the permission is granted. Every
    page of the context (popups too) reports its errors to `page_errors`.
    """
    contexts: list[BrowserContext] = []

    def factory(
        *,
        viewport: tuple[int, int] = (1280, 800),
        locale: str = "zh-CN",
        timezone_id: str = "Asia/Shanghai",
        geolocation: tuple[float, float] | None = None,
        permissions: Sequence[str] = (),
        **options: Any,
    ) -> BrowserContext:
        granted = list(permissions)
        if geolocation is not None:
            options["geolocation"] = {"latitude": geolocation[0], "longitude": geolocation[1]}
            if "geolocation" not in granted:
                granted.append("geolocation")
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            locale=locale,
            timezone_id=timezone_id,
            permissions=granted,
            **options,
        )
        context.on("page", lambda page: _watch(page, page_errors))
        contexts.append(context)
        return context

    yield factory
    for context in contexts:
        context.close()


PageOpener = Callable[..., Page]


@pytest.fixture
def open_page(live_server: LiveServer, new_context: ContextFactory) -> PageOpener:
    """`open_page(path="/", *, context=None, wait_until="load", **context_options)`: a new page of
    `context` (or of a new context made with `context_options`) at `live_server.url + path`."""

    def opener(
        path: str = "/",
        *,
        context: BrowserContext | None = None,
        wait_until: Literal["commit", "domcontentloaded", "load", "networkidle"] = "load",
        **options: Any,
    ) -> Page:
        page = (context or new_context(**options)).new_page()
        url = path if "://" in path else live_server.url + path
        page.goto(url, wait_until=wait_until)
        return page

    return opener


@pytest.fixture
def screenshot_dir() -> Path:
    """`test-artifacts/screenshots/` at the repository root (git-ignored), created if missing."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
