"""`jingwu bench ingest`: unit positions per second accepted and stored, and the lag to the live
stream, for a fleet of simulated units reporting through the real HTTP API.

The server is the real app (``create_app`` over real services, uvicorn) in a child process, as
``jingwu serve`` runs it; this process is the load: a few gateway connections posting batches of
fixes to ``POST /api/units/positions`` (each 2xx means the batch is committed), and one live
stream client (``/api/events``) timing each batch from the moment it was sent to the moment its
fixes arrive on the stream. Both share the machine's cores, so the figures are what one box does
with the gateway on it too (a conservative reading).

Every unit moves a few metres between its fixes, and each fix is later than the unit's previous
one, so that the GPS filters accept them as they would a real car's.
"""

from __future__ import annotations

import json
import multiprocessing
import queue
import socket
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from jingwu.bench.dispatch import machine

DEFAULT_UNITS = 5000
DEFAULT_SECONDS = 10.0
DEFAULT_BATCH = 500
DEFAULT_CONNECTIONS = 4
STATION_ID = "bench"
PASSWORD = "gw-correct-horse-battery-1"
GATEWAY = "bench-gateway"


@dataclass(frozen=True, slots=True)
class IngestConfig:
    units: int = DEFAULT_UNITS
    seconds: float = DEFAULT_SECONDS
    batch: int = DEFAULT_BATCH
    connections: int = DEFAULT_CONNECTIONS
    database_url: str | None = None
    data_dir: Path | None = None
    osm_file: Path | None = None
    seed: int = 7


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settings(config: IngestConfig, data_dir: Path) -> Any:
    from jingwu.settings import Settings

    overrides: dict[str, Any] = {"data_dir": data_dir}
    if config.database_url:
        overrides["database_url"] = config.database_url
    if config.osm_file:
        overrides["osm_file"] = config.osm_file
    return Settings(**overrides)


def _prepare(config: IngestConfig, data_dir: Path, graph_cache: Path) -> list[tuple[float, float]]:
    """Migrate, seed one station and ``units`` patrol cars on real roads, and the gateway user.
    Returns the units' starting points."""
    from jingwu.domain.access import Role
    from jingwu.domain.model import Position, Station, Unit
    from jingwu.domain.status import UnitKind, UnitStatus
    from jingwu.routing import load_network
    from jingwu.store import repository as repo
    from jingwu.store.db import make_engine, upgrade_schema, write_transaction

    settings = _settings(config, data_dir)
    network = load_network(settings.osm_file, graph_cache)
    engine = make_engine(settings.resolved_database_url)
    upgrade_schema(engine)
    rng = np.random.default_rng(config.seed)
    now = datetime.now(UTC) - timedelta(minutes=1)
    points = []
    with write_transaction(engine) as conn:
        repo.insert_station(
            conn,
            Station(
                STATION_ID,
                "基准测试站",
                "基准区",
                ((126.4, 45.6), (126.9, 45.6), (126.9, 45.9), (126.4, 45.9)),
            ),
        )
        for i in range(config.units):
            p = network.random_road_point(rng)
            points.append((p.lat, p.lon))
            repo.insert_unit(
                conn,
                Unit(
                    id=f"ingest-{i:05d}",
                    callsign=f"I{i:05d}",
                    kind=UnitKind.PATROL_CAR,
                    station_id=STATION_ID,
                    status=UnitStatus.AVAILABLE,
                    position=Position(lat=p.lat, lon=p.lon, ts=now),
                    status_changed_at=now,
                ),
            )
    from jingwu.service.auth import AuthService

    # A city-wide dispatcher's account stands in for a gateway: it may place every unit.
    AuthService(engine).create_user(GATEWAY, PASSWORD, Role.DISPATCHER)
    engine.dispose()
    return points


def _serve(config: IngestConfig, data_dir: str, graph_cache: str, port: int) -> None:
    """The server process: the real app over real services."""
    import logging

    import uvicorn

    from jingwu.api.app import create_app
    from jingwu.app import assemble
    from jingwu.routing import load_network
    from jingwu.store.db import make_engine

    logging.basicConfig(level=logging.WARNING)
    settings = _settings(config, Path(data_dir))
    network = load_network(settings.osm_file, Path(graph_cache))
    services = assemble(settings, make_engine(settings.resolved_database_url), network)
    uvicorn.run(create_app(services), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _wait_up(url: str, timeout_s: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the bench server did not start")


class _Lag:
    """Send times of batches by their fix time, and the lag of each batch's first arrival."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.lags_ms: list[float] = []
        self.arrived = 0
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def mark_sent(self, stamp: str) -> None:
        with self._lock:
            self.sent[stamp] = time.perf_counter()

    def on_message(self, message: dict[str, Any]) -> None:
        if message.get("type") != "unit.positions":
            return
        now = time.perf_counter()
        positions = message.get("positions") or []
        with self._lock:
            self.arrived += len(positions)
            for p in positions[:1]:
                stamp = p.get("ts")
                if stamp in self.sent and stamp not in self._seen:
                    self._seen.add(stamp)
                    self.lags_ms.append((now - self.sent[stamp]) * 1000)


def _listen(url: str, token: str, lag: _Lag, stop: threading.Event, ready: threading.Event) -> None:
    from websockets.sync.client import connect

    ws_url = url.replace("http://", "ws://") + f"/api/events?access_token={token}"
    with connect(ws_url, max_size=None, open_timeout=30) as ws:
        ready.set()
        while not stop.is_set():
            try:
                raw = ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            lag.on_message(json.loads(raw))


def _percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values), q)) if values else None


def run_ingest_bench(config: IngestConfig, graph_cache: Path) -> dict[str, Any]:
    import httpx

    own_dir = config.data_dir is None
    data_dir = (
        Path(tempfile.mkdtemp(prefix="jingwu-bench-ingest-")) if own_dir else Path(config.data_dir or ".")
    )
    points = _prepare(config, data_dir, graph_cache)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(config, str(data_dir), str(graph_cache), port), daemon=True
    )
    server.start()
    try:
        _wait_up(url)
        token = httpx.post(
            f"{url}/api/auth/login", json={"username": GATEWAY, "password": PASSWORD}, timeout=30
        ).json()["access_token"]
        lag = _Lag()
        stop, listening = threading.Event(), threading.Event()
        listener = threading.Thread(target=_listen, args=(url, token, lag, stop, listening), daemon=True)
        listener.start()
        listening.wait(30)
        accepted = refused = 0
        counts_lock = threading.Lock()
        work: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        lat0 = np.array([p[0] for p in points])
        lon0 = np.array([p[1] for p in points])
        batches_per_round = max(1, (config.units + config.batch - 1) // config.batch)
        started = time.perf_counter()
        deadline = started + config.seconds

        def gateway(seed: int) -> None:
            nonlocal accepted, refused
            rng = np.random.default_rng(seed)
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
                while True:
                    index = work.get()
                    if index is None:
                        return
                    first = (index % batches_per_round) * config.batch
                    ids = range(first, min(first + config.batch, config.units))
                    stamp = datetime.now(UTC).isoformat(timespec="microseconds")
                    # A few metres from the start, a little further each round: plausible motion.
                    jitter = rng.normal(0, 2e-5, size=(len(ids), 2))
                    body = {
                        "positions": [
                            {
                                "unit_id": f"ingest-{i:05d}",
                                "lat": float(lat0[i] + jitter[k, 0]),
                                "lon": float(lon0[i] + jitter[k, 1]),
                                "heading": 90.0,
                                "speed": 8.0,
                                "ts": stamp,
                            }
                            for k, i in enumerate(ids)
                        ]
                    }
                    lag.mark_sent(stamp)
                    answer = client.post("/api/units/positions", json=body)
                    with counts_lock:
                        if answer.is_success:
                            accepted += len(ids)
                        else:
                            refused += len(ids)

        threads = [
            threading.Thread(target=gateway, args=(config.seed + 1 + n,), daemon=True)
            for n in range(config.connections)
        ]
        for t in threads:
            t.start()
        index = 0
        # Keep the gateways busy (never more than two batches queued per connection) until the
        # time is up; the rate is what the server sustains, not a target we impose.
        while time.perf_counter() < deadline:
            if work.qsize() < 2 * config.connections:
                work.put(index)
                index += 1
                # Two batches of one unit never share a timestamp: a new round starts later.
                if index % batches_per_round == 0:
                    time.sleep(0.001)
            else:
                time.sleep(0.001)
        for _ in threads:
            work.put(None)
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        time.sleep(1.0)  # the last batches reach the stream
        stop.set()
        listener.join(timeout=5)
    finally:
        server.terminate()
        server.join(timeout=10)
    return {
        "bench": "ingest",
        "units": config.units,
        "positions": accepted,
        "refused": refused,
        "seconds": round(elapsed, 2),
        "positions_per_s": round(accepted / elapsed, 1) if elapsed else 0.0,
        "batch": config.batch,
        "connections": config.connections,
        "streamed": lag.arrived,
        "lag_p50_ms": None if (v := _percentile(lag.lags_ms, 50)) is None else round(v, 1),
        "lag_p99_ms": None if (v := _percentile(lag.lags_ms, 99)) is None else round(v, 1),
        "lag_max_ms": round(max(lag.lags_ms), 1) if lag.lags_ms else None,
        "database": "postgresql" if (config.database_url or "").startswith("postgresql") else "sqlite",
        "machine": machine(),
    }


__all__ = ["IngestConfig", "run_ingest_bench"]
