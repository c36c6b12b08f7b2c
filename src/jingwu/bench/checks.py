"""``jingwu bench checks``: patrol checks per second and their latency against watch lists of a
million entries (issue 15's goal: p99 ≤ 10 ms on one process).

A temporary SQLite store (WAL, synchronous=FULL: every check is on disk before it answers) is
filled in bulk with synthetic entries, sealed and blind-indexed exactly as the service stores
them; then checks of people and plates run through the service (stored, audited; a hit also
commits its ``check.hit`` event and searches backup by road) and through the API in process
(FastAPI over ASGI, no socket: the routing, validation and JSON on top of the service). The
bare indexed look-up is timed too, to show where a check's time goes.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jingwu.domain.areas import Area
from jingwu.domain.geo import GeoPoint
from jingwu.domain.identity import PLATE_PROVINCES
from jingwu.domain.model import Position, Station, Unit
from jingwu.domain.status import UnitKind, UnitStatus
from jingwu.domain.watchlists import SubjectKind, WatchList

GOAL_P99_MS = 10.0
BATCH = 20_000
# Harbin's districts (GB/T 2260), for identity numbers that look like the city's people.
_HARBIN_REGIONS = ("230102", "230103", "230104", "230108", "230109", "230110", "230111", "230112")
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK_CHARS = np.array(list("10X98765432"))
_SERIAL = np.array(list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"))
_LETTERS = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))


def synthetic_id_numbers(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` valid GB 11643 numbers (Harbin regions, born 1940–2008, check character computed)."""
    regions = np.array(_HARBIN_REGIONS)[rng.integers(0, len(_HARBIN_REGIONS), n)]
    days = rng.integers(0, (2008 - 1940) * 365, n)
    births = (np.datetime64("1940-01-01") + days.astype("timedelta64[D]")).astype(str)
    sequence = rng.integers(0, 1000, n)
    out = []
    first17 = [
        f"{r}{b[:4]}{b[5:7]}{b[8:10]}{s:03d}" for r, b, s in zip(regions, births, sequence, strict=True)
    ]
    digits = np.frombuffer("".join(first17).encode(), dtype=np.uint8).reshape(n, 17) - 48
    checks = _CHECK_CHARS[(digits @ _ID_WEIGHTS) % 11]
    out = [f + c for f, c in zip(first17, checks, strict=True)]
    return out


def synthetic_plates(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` ordinary plates of the provinces, mostly 黑 (Heilongjiang), serials of five characters."""
    provinces = np.array(list(PLATE_PROVINCES))
    home = rng.random(n) < 0.8
    province = np.where(home, "黑", provinces[rng.integers(0, len(provinces), n)])
    letters = _LETTERS[rng.integers(0, len(_LETTERS), n)]
    serial = _SERIAL[rng.integers(0, len(_SERIAL), (n, 5))]
    return [f"{p}{a}{''.join(s)}" for p, a, s in zip(province, letters, serial, strict=True)]


def _percentile(values: Sequence[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values), q)), 3)


def _stats(latencies_s: Sequence[float], wall_s: float) -> dict[str, Any]:
    ms = [x * 1000 for x in latencies_s]
    return {
        "n": len(ms),
        "per_s": round(len(ms) / wall_s, 1) if wall_s > 0 else None,
        "p50_ms": _percentile(ms, 50),
        "p99_ms": _percentile(ms, 99),
        "max_ms": round(max(ms), 3),
    }


def _fill(services: Any, rng: np.random.Generator, entries: int) -> tuple[list[str], list[str]]:
    """Insert ``entries`` entries (half people, half vehicles) the way the service stores them,
    in batches of one transaction each; returns the people's numbers and the plates."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from jingwu.service.checks.sealing import ENTRY_SUBJECT, subject_index
    from jingwu.store.checks_tables import watchlist_entries
    from jingwu.store.db import write_transaction

    keys = services.checks.keys
    now = datetime.now(UTC)
    people = synthetic_id_numbers(rng, entries // 2)
    plates = synthetic_plates(rng, entries - entries // 2)
    lists = [
        (WatchList.WANTED, WatchList.MISSING, SubjectKind.PERSON, people),
        (WatchList.STOLEN_VEHICLE, WatchList.VEHICLE_OF_INTEREST, SubjectKind.VEHICLE, plates),
    ]
    serial = 0
    for first, second, kind, subjects in lists:
        for start in range(0, len(subjects), BATCH):
            rows = []
            for subject in subjects[start : start + BATCH]:
                serial += 1
                rows.append(
                    {
                        "id": f"wl_bench{serial:09d}",
                        "list": str(first if serial % 2 else second),
                        "subject": keys.encrypt(subject, context=ENTRY_SUBJECT),
                        "subject_index": subject_index(keys, kind, subject),
                        "label": None,
                        "reason": "bench",
                        "added_by": "bench",
                        "station_id": None,
                        "added_at": now,
                        "expires_at": None,
                    }
                )
            with write_transaction(services.engine) as conn:
                conn.execute(insert(watchlist_entries), rows)
    return people, plates


def disk_fsync_ms(directory: Path, rounds: int = 200) -> dict[str, float]:
    """The disk's own fsync latency where the store lies: every check waits for one (the
    store's commit is on disk before the answer), so it is the floor of a check's latency."""
    import os

    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    took = []
    try:
        for _ in range(rounds):
            os.write(fd, b"\0" * 4096)
            t0 = time.perf_counter()
            os.fsync(fd)
            took.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    return {"p50_ms": _percentile(took, 50), "p99_ms": _percentile(took, 99)}


def _timed(
    calls: Sequence[Callable[[], object]], answers: list[object] | None = None
) -> tuple[list[float], float]:
    latencies = []
    started = time.perf_counter()
    for call in calls:
        t0 = time.perf_counter()
        answer = call()
        latencies.append(time.perf_counter() - t0)
        if answers is not None:
            answers.append(answer)
    return latencies, time.perf_counter() - started


def run_checks_bench(
    *,
    entries: int = 1_000_000,
    queries: int = 2000,
    api_queries: int = 500,
    hit_rate: float = 0.05,
    units: int = 200,
    seed: int = 1,
    osm: Path | None = None,
    cache_dir: Path | None = None,
    store_dir: Path | None = None,
) -> dict[str, Any]:
    """``store_dir``: where the temporary store lies (default: the system's temporary folder); a
    tmpfs such as /dev/shm takes the disk's fsync out of the figures, leaving the CPU's part."""
    import logging

    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from jingwu.api.factory import create_app
    from jingwu.api.ratelimit import TokenBuckets
    from jingwu.composition import assemble
    from jingwu.routing import load_network
    from jingwu.service.auth import Role
    from jingwu.service.checks import entries as entry_store
    from jingwu.service.checks.sealing import subject_index
    from jingwu.settings import Settings
    from jingwu.store import repository as repo
    from jingwu.store.checks_tables import patrol_checks
    from jingwu.store.db import make_engine, read_transaction, upgrade_schema, write_transaction

    for name in ("httpx", "httpx2"):  # one INFO line per request of the API part: thousands
        logging.getLogger(name).setLevel(logging.WARNING)

    rng = np.random.default_rng(seed)
    data_dir = Path(tempfile.mkdtemp(prefix="jingwu-bench-checks-", dir=store_dir))
    services = None
    try:
        settings = Settings(data_dir=data_dir) if osm is None else Settings(data_dir=data_dir, osm_file=osm)
        engine = make_engine(settings.resolved_database_url)
        upgrade_schema(engine)
        network = load_network(settings.osm_file, cache_dir or settings.graph_cache_dir)
        points = [network.random_road_point(rng) for _ in range(units + queries + api_queries)]
        lats = [p.lat for p in points]
        lons = [p.lon for p in points]
        box = Area.ring(
            (min(lons) - 0.01, min(lats) - 0.01),
            (max(lons) + 0.01, min(lats) - 0.01),
            (max(lons) + 0.01, max(lats) + 0.01),
            (min(lons) - 0.01, max(lats) + 0.01),
        )
        with write_transaction(engine) as conn:
            repo.insert_station(conn, Station("bench", "基准派出所", "基准区", box))
            for i, p in enumerate(points[:units]):
                repo.insert_unit(conn, _unit(f"b{i}", p.lat, p.lon))
        services = assemble(settings, engine, network)
        started = time.perf_counter()
        people, plates = _fill(services, rng, entries)
        fill_s = time.perf_counter() - started

        def subjects(
            pool: list[str], fresh: Callable[[np.random.Generator, int], list[str]], n: int
        ) -> list[str]:
            hits = rng.random(n) < hit_rate
            drawn = fresh(rng, n)
            return [
                pool[int(rng.integers(0, len(pool)))] if h else d for h, d in zip(hits, drawn, strict=True)
            ]

        half = queries // 2
        person_subjects = subjects(people, synthetic_id_numbers, half)
        plate_subjects = subjects(plates, synthetic_plates, queries - half)
        places = [GeoPoint(p.lat, p.lon) for p in points[units : units + queries]]
        check = services.checks.check

        def run(kind: SubjectKind, subject: str, at: GeoPoint) -> Callable[[], object]:
            return lambda: check(kind, subject, reason="基准测试", location=at, officer="bench", unit_id=None)

        # The bare look-up: the blind index and one indexed equality, nothing written.
        def lookup(kind: SubjectKind, subject: str) -> Callable[[], object]:
            def go() -> object:
                with read_transaction(engine) as conn:
                    return entry_store.matching_rows(conn, subject_index(services.checks.keys, kind, subject))

            return go

        lookups, lookup_wall = _timed(
            [lookup(SubjectKind.PERSON, s) for s in person_subjects]
            + [lookup(SubjectKind.VEHICLE, s) for s in plate_subjects]
        )
        answers: list[Any] = []
        person_lat, person_wall = _timed(
            [run(SubjectKind.PERSON, s, at) for s, at in zip(person_subjects, places[:half], strict=True)],
            answers,
        )
        plate_lat, plate_wall = _timed(
            [run(SubjectKind.VEHICLE, s, at) for s, at in zip(plate_subjects, places[half:], strict=True)],
            answers,
        )
        all_lat = person_lat + plate_lat
        # A hit also commits its event and searches backup by road: timed apart from the clear ones.
        by_result = {
            r: [x for x, a in zip(all_lat, answers, strict=True) if a.result == r] for r in ("clear", "hit")
        }
        with read_transaction(engine) as conn:
            hits_seen = conn.execute(
                select(func.count()).select_from(patrol_checks).where(patrol_checks.c.result == "hit")
            ).scalar_one()
        result: dict[str, Any] = {
            "bench": "checks",
            "entries": entries,
            "database": "sqlite (WAL, synchronous=FULL)",
            "store_dir": str(data_dir.parent),
            "fill_s": round(fill_s, 1),
            "queries": queries,
            "hit_rate": hit_rate,
            "hits": int(hits_seen),
            "units": units,
            "person": _stats(person_lat, person_wall),
            "plate": _stats(plate_lat, plate_wall),
            "all": _stats(all_lat, person_wall + plate_wall),
            "lookup_only": _stats(lookups, lookup_wall),
            **{r: _stats(x, sum(x)) for r, x in by_result.items() if x},
            "disk_fsync": disk_fsync_ms(data_dir),
            "goal_p99_ms": GOAL_P99_MS,
        }
        result["meets_goal"] = result["all"]["p99_ms"] <= GOAL_P99_MS
        if api_queries > 0:
            result["api"] = _through_api(
                services,
                TestClient,
                create_app,
                TokenBuckets,
                Role,
                rng,
                people,
                plates,
                points,
                units,
                queries,
                api_queries,
                hit_rate,
            )
        return result
    finally:
        if services is not None:
            services.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def _through_api(
    services: Any,
    test_client: Any,
    create_app: Any,
    buckets: Any,
    role: Any,
    rng: np.random.Generator,
    people: list[str],
    plates: list[str],
    points: list[Any],
    units: int,
    queries: int,
    api_queries: int,
    hit_rate: float,
) -> dict[str, Any]:
    """The same checks through FastAPI in process (ASGI, no socket), one officer."""
    password = "bench-password-not-secret-1"
    services.auth.accounts.create_user("bench-officer", password, role.OFFICER, station_id="bench")
    with test_client(create_app(services)) as client:
        client.app.state.check_buckets = buckets(per_minute=1e9, burst=10**9)  # measuring, not limiting
        token = client.post(
            "/api/auth/login", json={"username": "bench-officer", "password": password}
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        calls = []
        for i in range(api_queries):
            at = points[units + queries + i]
            location = {"lat": at.lat, "lon": at.lon}
            hit = rng.random() < hit_rate
            if i % 2:
                plate = plates[int(rng.integers(0, len(plates)))] if hit else synthetic_plates(rng, 1)[0]
                body = {"plate": plate, "reason": "基准测试", "location": location}
                path = "/api/checks/vehicle"
            else:
                number = people[int(rng.integers(0, len(people)))] if hit else synthetic_id_numbers(rng, 1)[0]
                body = {"id_number": number, "reason": "基准测试", "location": location}
                path = "/api/checks/person"
            calls.append(_poster(client, path, body, headers))
        latencies, wall = _timed(calls)
    return {"transport": "ASGI in process (no socket)", **_stats(latencies, wall)}


def _poster(client: Any, path: str, body: dict[str, Any], headers: dict[str, str]) -> Callable[[], object]:
    def post() -> object:
        answer = client.post(path, json=body, headers=headers)
        if answer.status_code != 200:
            raise RuntimeError(f"{path} answered {answer.status_code}: {answer.text[:200]}")
        return answer

    return post


def _unit(unit_id: str, lat: float, lon: float) -> Unit:
    from datetime import UTC, datetime

    at = datetime.now(UTC)
    return Unit(
        id=unit_id,
        callsign=unit_id.upper(),
        kind=UnitKind.PATROL_CAR,
        station_id="bench",
        status=UnitStatus.AVAILABLE,
        capabilities=frozenset(),
        position=Position(lat=lat, lon=lon, ts=at),
        status_changed_at=at,
    )


__all__ = ["GOAL_P99_MS", "run_checks_bench", "synthetic_id_numbers", "synthetic_plates"]
