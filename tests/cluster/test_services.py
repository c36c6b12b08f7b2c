"""Two server processes' services over one PostgreSQL database and one NATS stream: each hears
the other's commits on its bus and its unit board, once and in log order; an acknowledgment
timer fires once for the cluster; one process at a time leads the once-only jobs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from jingwu.bus import BusMessage
from jingwu.bus.nats import NatsBus
from jingwu.composition import Services, assemble
from jingwu.domain.geo import GeoPoint
from jingwu.domain.gps import Fix
from jingwu.domain.model import Position
from jingwu.domain.status import SourceChannel, UnitStatus
from jingwu.routing import RoadNetwork
from jingwu.service.dispatching import NewIncident
from jingwu.service.positions import Source
from jingwu.settings import Settings
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.db import make_engine, upgrade_schema, write_transaction
from jingwu.store.fieldcrypt import KeyRing, format_key_line
from tests.conftest import NORTH, SOUTH, FakeClock, make_unit

pytestmark = pytest.mark.postgres

CENTRE = (45.7560, 126.6420)
KEYS = KeyRing.parse(format_key_line("k1", bytes(range(32))))


class Heard:
    def __init__(self, services: Services) -> None:
        self.messages: list[BusMessage] = []
        self._cond = threading.Condition()
        services.bus.subscribe(self._on)

    def _on(self, message: BusMessage) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def wait_for(self, check: Callable[[list[BusMessage]], bool], timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: check(self.messages), timeout=timeout)

    def of_type(self, event_type: str) -> list[BusMessage]:
        with self._cond:
            return [m for m in self.messages if m.type == event_type]

    def event_ids(self) -> list[int]:
        with self._cond:
            return [m.id for m in self.messages if m.id is not None]


Cluster = Callable[[int], list[Services]]


@pytest.fixture
def cluster(
    network: RoadNetwork,
    migrated_postgres_url: str,
    nats_url: str,
    bus_stream: str,
    clock: FakeClock,
    tmp_path: Path,
) -> Iterator[Cluster]:
    """``cluster(n)``: n processes' services over one fresh database and one fresh stream (in
    one test process: each has its own engine, bus and board, as a server process would)."""
    postgres_url = migrated_postgres_url
    built: list[Services] = []
    rng = np.random.default_rng(5)
    engine = make_engine(postgres_url)
    upgrade_schema(engine)
    with write_transaction(engine) as conn:
        repo.insert_station(conn, SOUTH)
        repo.insert_station(conn, NORTH)
        for i in range(6):
            p = network.random_road_point(rng)
            repo.insert_unit(conn, make_unit(f"u{i}", p.lat, p.lon))
    engine.dispose()

    def make(n: int) -> list[Services]:
        for _ in range(n):
            settings = Settings(
                data_dir=tmp_path, database_url=postgres_url, bus_url=nats_url, bus_stream=bus_stream
            )
            services = assemble(settings, make_engine(postgres_url), network, clock=clock, keys=KEYS)
            assert isinstance(services.bus, NatsBus)
            built.append(services)
        return built[-n:]

    yield make
    for services in built:
        services.close()


def robbery() -> NewIncident:
    return NewIncident("crim.robbery", GeoPoint(*CENTRE), SourceChannel.CALL_110, address="测试路1号")


def test_cluster_incident_created_in_one_process_reaches_the_other_once(cluster: Cluster) -> None:
    a, b = cluster(2)
    heard_b = Heard(b)
    incident = a.dispatch.create_incident(robbery(), actor="dispatcher")
    assert heard_b.wait_for(lambda m: any(x.type == "incident.created" for x in m), timeout=2)
    created = heard_b.of_type("incident.created")
    assert len(created) == 1 and created[0].payload["data"]["incident"]["id"] == incident.id
    assert created[0].origin == a.bus.origin  # type: ignore[attr-defined]  # over NATS, not the log


def test_cluster_dispatch_in_one_process_is_on_the_other_board(cluster: Cluster) -> None:
    a, b = cluster(2)
    incident = a.dispatch.create_incident(robbery(), actor="dispatcher")
    top = b.dispatch.recommend(incident.id, limit=1)[0].unit.id
    a.dispatch.dispatch(incident.id, [top], actor="dispatcher")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        recommended = [r.unit.id for r in b.dispatch.recommend(incident.id, limit=6)]
        if top not in recommended:
            break
        time.sleep(0.05)
    assert top not in recommended  # B no longer offers the unit A sent
    unit = b.dispatch.board.roster().units[b.dispatch.board.roster().index[top]]
    assert unit.status is UnitStatus.DISPATCHED and unit.incident_id == incident.id


def test_cluster_positions_reported_to_one_process_move_the_other_board(
    cluster: Cluster, network: RoadNetwork
) -> None:
    a, b = cluster(2)
    target = network.random_road_point(np.random.default_rng(99))
    # Positions travel rounded to 7 decimals (about a centimetre). Placed by hand: the target is
    # anywhere in the city, which the GPS filter would take for a jump from u3's last position.
    at = datetime(2026, 11, 25, 8, 0, 30, tzinfo=UTC)  # on the cluster's clock, after u3's last fix
    fix = Position(round(target.lat, 7), round(target.lon, 7), ts=at)
    a.positions.ingest([("u3", Fix(fix.ts, fix.lat, fix.lon))], source=Source.MANUAL)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        roster = b.dispatch.board.roster()
        if roster.units[roster.index["u3"]].position == fix:
            break
        time.sleep(0.05)
    roster = b.dispatch.board.roster()
    assert roster.units[roster.index["u3"]].position == fix


def test_cluster_older_unit_snapshot_does_not_undo_a_newer_one(cluster: Cluster) -> None:
    (a,) = cluster(1)
    board = a.dispatch.board
    now = board.roster().units[board.roster().index["u1"]]
    newer = replace(now, status=UnitStatus.OUT_OF_SERVICE, version=now.version + 2)
    older = replace(now, status=UnitStatus.EN_ROUTE, version=now.version + 1)
    board.update([newer], remote=True)
    board.update([older], remote=True)
    board.update([older])  # nor a late local one
    roster = board.roster()
    assert roster.units[roster.index["u1"]].status is UnitStatus.OUT_OF_SERVICE


def test_cluster_ack_timer_fires_once_across_processes(cluster: Cluster, clock: FakeClock) -> None:
    a, b = cluster(2)
    heard_a, heard_b = Heard(a), Heard(b)
    incident = a.dispatch.create_incident(robbery(), actor="dispatcher")
    unit_id = a.dispatch.recommend(incident.id, limit=1)[0].unit.id
    a.dispatch.dispatch(incident.id, [unit_id], actor="dispatcher")
    clock.advance(31)

    raised: list[int] = []
    start = threading.Barrier(2)

    def sweep(services: Services) -> None:
        start.wait()
        for _ in range(5):
            raised.append(services.dispatch.escalate_overdue())

    threads = [threading.Thread(target=sweep, args=(s,)) for s in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(raised) == 1
    with a.engine.connect() as conn:
        logged = conn.execute(select(t.events.c.id).where(t.events.c.type == "dispatch.ack_overdue")).all()
    assert len(logged) == 1
    for heard in (heard_a, heard_b):
        assert heard.wait_for(lambda m: any(x.type == "dispatch.ack_overdue" for x in m), timeout=3)
    time.sleep(0.5)  # room for a second one to show up
    assert [m.id for m in heard_a.of_type("dispatch.ack_overdue")] == [logged[0].id]
    assert [m.id for m in heard_b.of_type("dispatch.ack_overdue")] == [logged[0].id]


def test_cluster_every_process_delivers_the_whole_log_in_order_once(cluster: Cluster) -> None:
    processes = cluster(3)
    heard = [Heard(s) for s in processes]

    def work(services: Services) -> None:
        for _ in range(15):
            services.dispatch.create_incident(robbery(), actor="dispatcher")

    threads = [threading.Thread(target=work, args=(s,)) for s in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with processes[0].engine.connect() as conn:
        logged = list(conn.execute(select(t.events.c.id).order_by(t.events.c.id)).scalars())
    assert len(logged) == 45
    for h in heard:
        assert h.wait_for(lambda m: len([x for x in m if x.id is not None]) >= 45, timeout=5)
    time.sleep(0.3)
    for h in heard:
        assert h.event_ids() == logged  # every event, once, in log order, in every process


def _eventually(check: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_cluster_administration_in_one_process_is_in_force_in_the_other_at_once(cluster: Cluster) -> None:
    from jingwu.domain.areas import Area
    from jingwu.service.administration.stations import StationDraft
    from jingwu.service.administration.units import UnitDraft

    a, b = cluster(2)
    # A new station far east of the test city's two: b places incidents in it without a restart.
    far = GeoPoint(45.93, 126.93)
    assert b.dispatch.station_for(far) is None
    area = Area.ring((126.90, 45.90), (126.95, 45.90), (126.95, 45.95), (126.90, 45.95))
    a.admin.stations.create(StationDraft("远东派出所", "测试区", area, id="far-east"), actor="admin")
    assert _eventually(lambda: b.dispatch.station_for(far) == "far-east")
    # A new unit made in a is on b's board; retired in a, it leaves b's board.
    unit = a.admin.units.create(UnitDraft("FE01", "patrol_car", SOUTH.id), actor="admin")
    assert _eventually(lambda: b.dispatch.board.station_of(unit.id) == SOUTH.id)
    a.admin.units.retire(unit.id, actor="admin")
    assert _eventually(lambda: b.dispatch.board.station_of(unit.id) is None)
