"""`jingwu bench ingest`: unit positions per second accepted and stored, and the lag to the live
stream, for a fleet of simulated units reporting through the real HTTP API.

The server is the real app (``create_app`` over real services, uvicorn) in a child process, as
``jingwu serve`` runs it; this process is the load: a few gateway connections posting batches of
fixes to ``POST /api/units/positions/batch`` (each 2xx means the batch is committed), and one live
stream client (``/api/events``) timing each batch from the moment it was sent to the moment its
fixes arrive on the stream. Both share the machine's cores, so the figures are what one box does
with the gateway on it too (a conservative reading).

Every unit moves a few metres between its fixes, and each fix is later than the unit's previous
one, so that the GPS filters accept them as they would a real car's.

With ``--processes N`` (PostgreSQL and NATS, as a cluster runs: docs/deploy.md) the server is N
``serve`` processes over one database and one bus; the gateways spread their connections over
all of them, and the live stream is read from the first, so that the lag includes the hop over
NATS for the positions the others took.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import secrets
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
import pydantic_core
from numpy.typing import NDArray

from jingwu.bench.dispatch import machine

DEFAULT_UNITS = 5000
DEFAULT_SECONDS = 10.0
DEFAULT_BATCH = 500
DEFAULT_CONNECTIONS = 4
BENCH_STREAM = "jingwu_bench_ingest"
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
    bus_url: str | None = None
    bus_stream: str = BENCH_STREAM  # the bench's own stream, deleted afterwards
    processes: int = 1
    data_dir: Path | None = None
    osm_file: Path | None = None
    seed: int = 7


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_config(config: IngestConfig) -> None:
    """A cluster needs what a cluster runs on (docs/deploy.md): say so before preparing anything."""
    if config.processes < 1:
        raise ValueError("--processes must be at least 1")
    if config.processes > 1:
        if not (config.database_url or "").startswith("postgresql"):
            raise ValueError(
                "--processes above 1 needs --database-url postgresql+psycopg://… (SQLite serves one process)"
            )
        if not config.bus_url:
            raise ValueError(
                "--processes above 1 needs --bus-url nats://… (the processes share the live stream over it)"
            )


def _settings(config: IngestConfig, data_dir: Path, field_keys: str | None = None) -> Any:
    from jingwu.settings import Settings

    overrides: dict[str, Any] = {"data_dir": data_dir}
    if config.database_url:
        overrides["database_url"] = config.database_url
    if config.bus_url:
        overrides["bus_url"] = config.bus_url
        overrides["bus_stream"] = config.bus_stream
    if field_keys:
        overrides["field_keys"] = field_keys  # every process the same keys (docs/deploy.md)
    if config.osm_file:
        overrides["osm_file"] = config.osm_file
    return Settings(**overrides)


def _prepare(config: IngestConfig, data_dir: Path, graph_cache: Path) -> list[tuple[float, float]]:
    """Migrate, seed one station and ``units`` patrol cars on real roads, and the gateway user.
    Returns the units' starting points."""
    from jingwu.domain.access import Role
    from jingwu.domain.areas import Area
    from jingwu.domain.model import Position, Station, Unit
    from jingwu.domain.status import UnitKind, UnitStatus
    from jingwu.routing import load_network
    from jingwu.store import repository as repo
    from jingwu.store.db import make_engine, read_transaction, upgrade_schema, write_transaction

    settings = _settings(config, data_dir)
    network = load_network(settings.osm_file, graph_cache)
    engine = make_engine(settings.resolved_database_url)
    upgrade_schema(engine)
    with read_transaction(engine) as conn:
        if repo.list_units(conn):
            engine.dispose()
            raise ValueError("the bench fills its own units in: give it an empty database")
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
                Area.ring((126.4, 45.6), (126.9, 45.6), (126.9, 45.9), (126.4, 45.9)),
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
    AuthService(engine).accounts.create_user(GATEWAY, PASSWORD, Role.DISPATCHER)
    engine.dispose()
    return points


def _serve(config: IngestConfig, data_dir: str, graph_cache: str, port: int, field_keys: str) -> None:
    """The server process: the real app over real services."""
    import logging

    import uvicorn

    from jingwu.api.factory import WEBSOCKETS, create_app
    from jingwu.composition import assemble, settle_heap
    from jingwu.routing import load_network
    from jingwu.store.db import make_engine

    logging.basicConfig(level=logging.WARNING)
    settings = _settings(config, Path(data_dir), field_keys)
    network = load_network(settings.osm_file, Path(graph_cache))
    services = assemble(settings, make_engine(settings.resolved_database_url), network)
    app = create_app(services)
    settle_heap()  # as jingwu serve does
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, ws=WEBSOCKETS)


def _wait_up(url: str, timeout_s: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=1) as client:  # one client: each new one loads the CA store again
        while time.monotonic() < deadline:
            try:
                if client.get(f"{url}/healthz").status_code == 200:
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
        self.closed: str | None = None  # why the server closed the stream, if it did
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
    from websockets.exceptions import ConnectionClosed

    with connect(ws_url, max_size=None, open_timeout=30) as ws:
        ready.set()
        while not stop.is_set():
            try:
                raw = ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            except ConnectionClosed as closed:
                # The server drops a client that falls too far behind (1013): that is a result.
                lag.closed = (
                    f"{closed.rcvd.code if closed.rcvd else None} {closed.rcvd.reason if closed.rcvd else ''}"
                )
                return
            lag.on_message(pydantic_core.from_json(raw))  # compiled: the load shares the cores


def _delete_stream(bus_url: str, stream: str) -> None:
    """Remove the bench's JetStream stream (its events are of no use after the run)."""
    import asyncio
    import contextlib

    import nats
    from nats.js.errors import NotFoundError

    async def delete() -> None:
        nc = await nats.connect(bus_url.split(","), connect_timeout=5, max_reconnect_attempts=0)
        try:
            with contextlib.suppress(NotFoundError):
                await nc.jetstream().delete_stream(stream)
        finally:
            await nc.close()

    asyncio.run(asyncio.wait_for(delete(), timeout=15))


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc (None where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the name: state is field 3, so utime and stime (fields 14 and 15) are at 11 and 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _body(
    prefixes: Sequence[str], ids: range, lat: NDArray[np.float64], lon: NDArray[np.float64], stamp: str
) -> bytes:
    """The batch as JSON, written directly: a gateway's encoder is not what is measured, and
    ``json.dumps`` of 500 dicts per batch took CPU from the server sharing these cores."""
    tail = f',"heading":90.0,"speed":8.0,"ts":"{stamp}"}}'
    return (
        '{"positions":['
        + ",".join(
            f'{prefixes[i]}{la!r},"lon":{lo!r}{tail}'
            for i, la, lo in zip(ids, lat.tolist(), lon.tolist(), strict=True)
        )
        + "]}"
    ).encode()


def _percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values), q)) if values else None


def run_ingest_bench(config: IngestConfig, graph_cache: Path) -> dict[str, Any]:
    import httpx

    own_dir = config.data_dir is None
    data_dir = (
        Path(tempfile.mkdtemp(prefix="jingwu-bench-ingest-")) if own_dir else Path(config.data_dir or ".")
    )
    check_config(config)
    from jingwu.store.fieldcrypt import format_key_line

    points = _prepare(config, data_dir, graph_cache)
    field_keys = format_key_line("bench", secrets.token_bytes(32))
    ports = [_free_port() for _ in range(config.processes)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    url = urls[0]  # the live stream's: it hears the other processes' positions over the bus
    spawn = multiprocessing.get_context("spawn")
    servers = [
        spawn.Process(
            target=_serve, args=(config, str(data_dir), str(graph_cache), port, field_keys), daemon=True
        )
        for port in ports
    ]
    for server in servers:
        server.start()
    try:
        for each in urls:
            _wait_up(each)
        token = httpx.post(
            f"{url}/api/auth/login", json={"username": GATEWAY, "password": PASSWORD}, timeout=30
        ).json()["access_token"]
        lag = _Lag()
        stop, listening = threading.Event(), threading.Event()
        listener = threading.Thread(target=_listen, args=(url, token, lag, stop, listening), daemon=True)
        listener.start()
        listening.wait(30)
        accepted = refused = late = 0
        counts_lock = threading.Lock()
        # Never more than two batches waiting per connection: the rate is what the server
        # sustains, not a target we impose.
        work: queue.Queue[int | None] = queue.Queue(maxsize=2 * config.connections)
        lat0 = np.array([p[0] for p in points])
        lon0 = np.array([p[1] for p in points])
        prefixes = [f'{{"unit_id":"ingest-{i:05d}","lat":' for i in range(config.units)]
        batches_per_round = max(1, (config.units + config.batch - 1) // config.batch)

        def gateway(seed: int, base_url: str) -> None:
            nonlocal accepted, refused, late
            rng = np.random.default_rng(seed)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
                while True:
                    index = work.get()
                    if index is None:
                        return
                    first = (index % batches_per_round) * config.batch
                    ids = range(first, min(first + config.batch, config.units))
                    stamp = datetime.now(UTC).isoformat(timespec="microseconds")
                    # A few metres from the start, a little further each round: plausible motion.
                    jitter = rng.normal(0, 2e-5, size=(len(ids), 2))
                    body = _body(
                        prefixes,
                        ids,
                        lat0[first : ids.stop] + jitter[:, 0],
                        lon0[first : ids.stop] + jitter[:, 1],
                        stamp,
                    )
                    lag.mark_sent(stamp)
                    answer = client.post("/api/units/positions/batch", content=body)
                    with counts_lock:
                        if answer.is_success:
                            verdicts = answer.json()
                            accepted += verdicts["accepted"]
                            refused += len(ids) - verdicts["accepted"]
                            # A batch overtaken by the next round's (on another connection) is
                            # stored as history: accepted, but it does not move the units.
                            late += sum(f["reason"] == "late" for f in verdicts["flagged"])
                        else:
                            refused += len(ids)

        threads = [
            threading.Thread(target=gateway, args=(config.seed + 1 + n, urls[n % len(urls)]), daemon=True)
            for n in range(config.connections)
        ]
        for t in threads:
            t.start()
        server_cpu = [_cpu_seconds(server.pid) for server in servers if server.pid is not None]
        own_cpu = _own_cpu_seconds()
        started = time.perf_counter()
        deadline = started + config.seconds
        index = 0
        while (left := deadline - time.perf_counter()) > 0:
            try:
                work.put(index, timeout=left)
            except queue.Full:
                break
            index += 1
            # Two batches of one unit never share a timestamp: a new round starts later.
            if index % batches_per_round == 0:
                time.sleep(0.001)
        for _ in threads:
            work.put(None)
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        own_cpu = _own_cpu_seconds() - own_cpu
        server_cpu = [
            None if before is None or (after := _cpu_seconds(server.pid or 0)) is None else after - before
            for server, before in zip(servers, server_cpu, strict=True)
        ]
        # The last batches reach the stream (or the stream has been lost: then waiting is moot).
        settle = time.monotonic() + 10.0
        while lag.arrived < accepted - late and lag.closed is None and time.monotonic() < settle:
            time.sleep(0.05)
        stop.set()
        listener.join(timeout=5)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.join(timeout=10)
        if config.bus_url:
            _delete_stream(config.bus_url, config.bus_stream)
    return {
        "bench": "ingest",
        "units": config.units,
        "positions": accepted,
        "refused": refused,
        "late": late,
        "seconds": round(elapsed, 2),
        "positions_per_s": round(accepted / elapsed, 1) if elapsed else 0.0,
        "batch": config.batch,
        "connections": config.connections,
        "processes": config.processes,
        "streamed": lag.arrived,
        "stream_closed": lag.closed,
        "lag_p50_ms": None if (v := _percentile(lag.lags_ms, 50)) is None else round(v, 1),
        "lag_p99_ms": None if (v := _percentile(lag.lags_ms, 99)) is None else round(v, 1),
        "lag_max_ms": round(max(lag.lags_ms), 1) if lag.lags_ms else None,
        # Where the cores went while the gateways posted: the server processes' CPU per
        # position accepted, and this process's (the gateways and the stream client) in all.
        "server_cpu_us_per_position": round(sum(server_cpu) / accepted * 1e6, 1)  # type: ignore[arg-type]
        if accepted and None not in server_cpu
        else None,
        "load_cpu_s": round(own_cpu, 2),
        "database": "postgresql" if (config.database_url or "").startswith("postgresql") else "sqlite",
        "bus": "nats" if config.bus_url else "in-process",
        "machine": machine(),
    }


__all__ = ["IngestConfig", "check_config", "run_ingest_bench"]
