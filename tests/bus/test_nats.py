"""NatsBus against a real NATS server with JetStream: what one process publishes, every process
delivers once, in log order; the log fills what the broker does not bring; a lost broker never
holds up a publisher."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from nats.js.api import DiscardPolicy

from jingwu.bus import BusMessage
from jingwu.bus.jetstream import covers
from jingwu.bus.nats import SHUTDOWN_LIMIT_S, NatsBus
from jingwu.errors import SystemFault

NO_CATCH_UP = 3600.0  # so that what arrives must have come over NATS


class SharedLog:
    """Stands in for the events table that every process of a cluster shares."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[BusMessage] = []
        self.broken = False  # reads fail, as with PostgreSQL briefly away

    def commit(self, event_type: str = "incident.created") -> BusMessage:
        with self._lock:
            event_id = len(self._events) + 1
            message = BusMessage(event_id, event_type, {"id": event_id, "type": event_type, "data": {}})
            self._events.append(message)
            return message

    def last_event_id(self) -> int:
        with self._lock:
            return len(self._events)

    def events_after(self, after_id: int, limit: int) -> list[BusMessage]:
        if self.broken:
            raise OSError("database unreachable")
        with self._lock:
            return self._events[after_id : after_id + limit]


class Heard:
    def __init__(self, bus: NatsBus) -> None:
        self.messages: list[BusMessage] = []
        self._cond = threading.Condition()
        bus.subscribe(self._on)

    def _on(self, message: BusMessage) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def wait_for(self, check: Callable[[list[BusMessage]], bool], timeout: float = 5.0) -> list[BusMessage]:
        with self._cond:
            self._cond.wait_for(lambda: check(self.messages), timeout=timeout)
            return list(self.messages)

    def event_ids(self) -> list[int | None]:
        with self._cond:
            return [m.id for m in self.messages if m.id is not None]


@pytest.fixture
def shared_log() -> SharedLog:
    return SharedLog()


@pytest.fixture
def make_bus(nats_url: str, bus_stream: str, shared_log: SharedLog) -> Iterator[Callable[..., NatsBus]]:
    buses: list[NatsBus] = []

    def factory(url: str = nats_url, *, catch_up_s: float = NO_CATCH_UP, **options: Any) -> NatsBus:
        bus = NatsBus(url, stream=bus_stream, event_log=shared_log, catch_up_s=catch_up_s, **options)
        buses.append(bus)
        return bus

    yield factory
    for bus in buses:
        bus.close()


def publish_committed(bus: NatsBus, log: SharedLog, count: int) -> list[int]:
    published = []
    for _ in range(count):
        message = log.commit()
        bus.publish(message)
        assert message.id is not None
        published.append(message.id)
    return published


def test_nats_bus_event_is_delivered_once_in_order_by_every_process(
    make_bus: Callable[..., NatsBus], shared_log: SharedLog
) -> None:
    a, b = make_bus(), make_bus()
    heard_a, heard_b = Heard(a), Heard(b)
    published = publish_committed(a, shared_log, 50)
    heard_b.wait_for(lambda m: len(m) >= 50)
    time.sleep(0.3)  # room for a duplicate to show up
    assert heard_b.event_ids() == published
    assert heard_a.event_ids() == published  # once: its own copy back from NATS is dropped
    assert all(m.origin == a.origin for m in heard_b.messages)
    assert all(m.origin is None for m in heard_a.messages)


def test_nats_bus_positions_cross_over_core_nats_once(make_bus: Callable[..., NatsBus]) -> None:
    a, b = make_bus(), make_bus()
    heard_a, heard_b = Heard(a), Heard(b)
    positions = BusMessage(None, "unit.positions", {"id": None, "type": "unit.positions", "positions": []})
    a.publish(positions)
    got = heard_b.wait_for(lambda m: len(m) >= 1)
    assert [(m.type, m.id) for m in got] == [("unit.positions", None)]
    time.sleep(0.3)
    assert len(heard_a.messages) == 1


def test_nats_bus_event_committed_but_never_published_is_read_from_the_log(
    make_bus: Callable[..., NatsBus], shared_log: SharedLog
) -> None:
    b = make_bus(catch_up_s=0.2)
    heard = Heard(b)
    shared_log.commit()  # its publisher was killed between the commit and the publish
    got = heard.wait_for(lambda m: len(m) >= 1, timeout=3)
    assert [m.id for m in got] == [1]


def test_nats_bus_later_event_brings_the_earlier_ones_it_overtook(
    make_bus: Callable[..., NatsBus], shared_log: SharedLog
) -> None:
    a, b = make_bus(), make_bus()
    heard_b = Heard(b)
    shared_log.commit()  # committed by a process whose message is slow
    shared_log.commit()
    publish_committed(a, shared_log, 1)
    heard_b.wait_for(lambda m: len(m) >= 3)
    assert heard_b.event_ids() == [1, 2, 3]


def test_nats_bus_gap_unreadable_from_the_log_is_delivered_in_order_once_it_is_readable(
    make_bus: Callable[..., NatsBus], shared_log: SharedLog
) -> None:
    a, b = make_bus(), make_bus(catch_up_s=0.2)
    heard_b = Heard(b)
    shared_log.commit()  # committed elsewhere, its message slow or lost
    shared_log.commit()
    shared_log.broken = True
    publish_committed(a, shared_log, 1)
    time.sleep(0.6)  # it arrived, and some catch-ups failed meanwhile
    assert heard_b.event_ids() == []
    shared_log.broken = False
    heard_b.wait_for(lambda m: len(m) >= 3, timeout=3)
    time.sleep(0.3)
    assert heard_b.event_ids() == [1, 2, 3]


async def _publish_raw(url: str, subject: str, payloads: list[bytes], *, stored: bool) -> None:
    """What some other client (a buggy or older release, an operator's tool) puts on our subjects."""
    import nats

    nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)
    try:
        for data in payloads:
            if stored:
                await nc.jetstream().publish(subject, data)
            else:
                await nc.publish(subject, data)
        await nc.flush()
    finally:
        await nc.close()


MALFORMED = [
    b'{"id":"7","type":"x"}',  # a string id: compared with the last id, it raised TypeError
    b'{"id":true,"type":"x"}',
    b'{"id":7.5,"type":"x"}',
    b'{"id":7,"type":5}',
    b'{"id":7}',
    b"[7]",
    b'"text"',
    b"not json",
    b"\xff\xfe",
    b"[" * 100_000 + b"]" * 100_000,  # too deep for the JSON parser
    b'{"type":"x"}',  # no id: not an event
]


def test_nats_bus_malformed_events_are_dropped_and_delivery_goes_on(
    nats_url: str, bus_stream: str, make_bus: Callable[..., NatsBus], shared_log: SharedLog
) -> None:
    a, b = make_bus(), make_bus()
    heard_b = Heard(b)
    asyncio.run(_publish_raw(nats_url, f"{bus_stream}.events.x", MALFORMED, stored=True))
    published = publish_committed(a, shared_log, 2)
    heard_b.wait_for(lambda m: len(m) >= 2)
    assert heard_b.event_ids() == published
    assert b.dropped_malformed == len(MALFORMED)


def test_nats_bus_malformed_positions_are_dropped_and_delivery_goes_on(
    nats_url: str, bus_stream: str, make_bus: Callable[..., NatsBus]
) -> None:
    a, b = make_bus(), make_bus()
    heard_b = Heard(b)
    bad = [b'{"id":3,"type":"unit.positions"}', b'{"id":null,"type":"unit.positions","positions":[]}'[:-3]]
    asyncio.run(_publish_raw(nats_url, f"{bus_stream}.positions", bad, stored=False))
    a.publish(BusMessage(None, "unit.positions", {"id": None, "type": "unit.positions", "positions": []}))
    got = heard_b.wait_for(lambda m: len(m) >= 1)
    assert [(m.type, m.id, m.origin) for m in got] == [("unit.positions", None, a.origin)]
    deadline = time.monotonic() + 5  # core NATS does not order two publishers' messages
    while b.dropped_malformed < len(bad) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert b.dropped_malformed == len(bad)


def test_nats_bus_failing_delivery_step_does_not_stop_delivery(
    make_bus: Callable[..., NatsBus], shared_log: SharedLog
) -> None:
    b = make_bus()
    heard_b = Heard(b)
    b.publish(BusMessage("7", "x", {"id": "7", "type": "x"}))  # type: ignore[arg-type]
    published = publish_committed(b, shared_log, 1)
    heard_b.wait_for(lambda m: len(m) >= 1)
    assert heard_b.event_ids() == published
    assert b._delivery.is_alive()


def commit_big(log: SharedLog, size: int) -> BusMessage:
    """A committed event whose message is ``size`` bytes of text, more or less."""
    message = log.commit()
    assert message.id is not None
    message.payload["data"] = {"note": "x" * size}
    return message


@pytest.mark.parametrize(
    ("stream_limit", "size"),
    [
        (None, 1_100_000),  # above NATS's max_payload (1 MB by default)
        (4096, 10_000),  # the operator's stream takes smaller messages than ours
    ],
    ids=["above_max_payload", "above_the_streams_max_msg_size"],
)
def test_nats_bus_event_refused_for_good_is_dropped_and_the_next_one_sent(
    nats_url: str,
    bus_stream: str,
    make_bus: Callable[..., NatsBus],
    shared_log: SharedLog,
    stream_limit: int | None,
    size: int,
) -> None:
    if stream_limit is not None:
        asyncio.run(_manage_stream(nats_url, bus_stream, max_msg_size=stream_limit))
    a, b = make_bus(), make_bus()
    heard_b = Heard(b)
    big = commit_big(shared_log, size)
    a.publish(big)
    published = publish_committed(a, shared_log, 1)
    got = heard_b.wait_for(lambda m: len(m) >= 2)
    # The refused one reaches B from the log, when the next one shows the gap.
    assert [(m.id, m.origin) for m in got] == [(big.id, "log"), (published[0], a.origin)]
    assert a.refused_events == 1


def test_nats_bus_full_stream_that_discards_new_does_not_hold_up_the_outbox(
    nats_url: str, bus_stream: str, make_bus: Callable[..., NatsBus], shared_log: SharedLog
) -> None:
    asyncio.run(_manage_stream(nats_url, bus_stream, max_msgs=2, discard=DiscardPolicy.NEW))
    a = make_bus()
    publish_committed(a, shared_log, 5)
    deadline = time.monotonic() + 5
    while a.refused_events < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert a.refused_events == 3
    assert not a._outbox


def test_nats_bus_unreachable_at_start_is_an_error(shared_log: SharedLog, bus_stream: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(SystemFault) as err:
        NatsBus(f"nats://127.0.0.1:{port}", stream=bus_stream, event_log=shared_log, connect_timeout_s=1)
    assert err.value.code == "bus_unavailable"
    assert time.monotonic() - started < 10


def test_nats_bus_bad_stream_name_is_refused(shared_log: SharedLog, nats_url: str) -> None:
    with pytest.raises(ValueError, match="stream"):
        NatsBus(nats_url, stream="a.b", event_log=shared_log)


# ---------------------------------------------------------------- losing the broker


class PrivateNats:
    """A nats-server of this test's own, so that it can be stopped and started again."""

    def __init__(self, store: Path) -> None:
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        if not Path(binary).exists():
            pytest.skip("nats-server is not installed (Debian: apt-get install nats-server)")
        self.binary = binary
        self.store = store
        self.port, self.monitor_port = free_port(), free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(self.binary, "-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.monitor_port)),
                *("-js", "-sd", str(self.store)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private nats-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # if a test froze it
            self.process.terminate()
            self.process.wait(timeout=10)

    def freeze(self) -> None:
        """Up but answering nothing: its connections stay open and fill up."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def client_names(self) -> list[str]:
        """The names of the clients connected to it, as the server sees them."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/connz", timeout=5) as reply:
            return [c.get("name", "") for c in json.load(reply).get("connections") or []]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[PrivateNats]:
    server = PrivateNats(tmp_path / "nats")
    yield server
    server.stop()


@pytest.mark.slow
@pytest.mark.alone  # 200 publishes within 0.5 s
def test_nats_bus_lost_broker_never_blocks_publishing_and_is_caught_up(
    private_nats: PrivateNats, make_bus: Callable[..., NatsBus], shared_log: SharedLog
) -> None:
    a, b = make_bus(private_nats.url), make_bus(private_nats.url)
    heard_b = Heard(b)
    publish_committed(a, shared_log, 1)
    heard_b.wait_for(lambda m: len(m) >= 1)

    private_nats.stop()
    deadline = time.monotonic() + 10
    while a.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not a.connected
    started = time.monotonic()
    publish_committed(a, shared_log, 200)  # commands go on while the broker is away
    a.publish(BusMessage(None, "unit.positions", {"id": None, "type": "unit.positions", "positions": []}))
    assert time.monotonic() - started < 0.5

    private_nats.start()
    deadline = time.monotonic() + 20
    while not (a.connected and b.connected) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert a.connected and b.connected
    # One more event over NATS brings B the 200 it missed, from the log, in order.
    publish_committed(a, shared_log, 1)
    heard_b.wait_for(lambda m: len(m) >= 202, timeout=15)
    assert heard_b.event_ids() == list(range(1, 203))
    assert a.dropped_positions >= 1


# ---------------------------------------------------------------- losing the stream


async def _stream_state(url: str, stream: str) -> int | None:
    """How many consumers the stream has (None: there is no such stream)."""
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)
    try:
        info = await nc.jetstream().stream_info(stream)
        return info.state.consumer_count
    except NotFoundError:
        return None
    finally:
        await nc.close()


async def _manage(url: str, *, add: tuple[str, str] | None = None, delete: str | None = None) -> None:
    """An operator's stream changes: ``add`` (name, subjects filter), ``delete`` (name)."""
    import nats

    nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)
    try:
        js = nc.jetstream()
        if add is not None:
            await js.add_stream(name=add[0], subjects=[add[1]])
        if delete is not None:
            await js.delete_stream(delete)
    finally:
        await nc.close()


async def _manage_stream(url: str, stream: str, **config: Any) -> None:
    """An operator-made stream for our subjects, with limits of their choosing."""
    import nats

    nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)
    try:
        await nc.jetstream().add_stream(name=stream, subjects=[f"{stream}.events.>"], **config)
    finally:
        await nc.close()


def wait_for_subscribed_stream(url: str, stream: str, timeout: float) -> bool:
    """Until the stream exists and has a consumer (a process's subscription): events published
    from then on reach that process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (asyncio.run(_stream_state(url, stream)) or 0) >= 1:
            return True
        time.sleep(0.2)
    return False


def publish_raw_event(url: str, stream: str, log: SharedLog) -> int:
    """A committed event from another process, straight on the stream."""
    message = log.commit()
    data = json.dumps(message.payload).encode()
    asyncio.run(_publish_raw(url, f"{stream}.events.{message.type}", [data], stored=True))
    assert message.id is not None
    return message.id


@pytest.mark.slow
def test_nats_bus_stream_deleted_while_connected_is_made_again_and_heard(
    nats_url: str, bus_stream: str, make_bus: Callable[..., NatsBus], shared_log: SharedLog
) -> None:
    # It publishes nothing, so no failed publish tells it the stream is gone. Heartbeats every
    # second, not every 5 s: the detection below takes two missed ones (2-4 s, not 10-20 s).
    listener = make_bus(idle_heartbeat_s=1.0)
    heard = Heard(listener)
    asyncio.run(_manage(nats_url, delete=bus_stream))
    # Its ordered consumer misses two heartbeats, cannot be re-made on a missing stream, and that
    # error makes the process re-create the stream and subscribe again.
    assert wait_for_subscribed_stream(nats_url, bus_stream, timeout=25)
    event_id = publish_raw_event(nats_url, bus_stream, shared_log)
    heard.wait_for(lambda m: len(m) >= 1)
    assert heard.event_ids() == [event_id]


def _restart_with_a_squatter(private_nats: PrivateNats, bus: NatsBus, tmp_path: Path) -> None:
    """Restart the broker without the bus's stream and with another one that holds its subjects
    (an operator's mistake), so that the stream cannot be made again for now; wait until the bus
    has reconnected."""
    other_store = tmp_path / "other-store"
    prepared = PrivateNats(other_store)
    asyncio.run(_manage(prepared.url, add=("squatter", f"{bus.stream}.events.>")))
    prepared.stop()
    private_nats.stop()
    private_nats.store = other_store
    private_nats.start()
    deadline = time.monotonic() + 20
    while not bus.connected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert bus.connected


@pytest.mark.slow
def test_nats_bus_resubscription_failing_after_a_reconnect_is_retried_until_it_works(
    private_nats: PrivateNats, make_bus: Callable[..., NatsBus], shared_log: SharedLog, tmp_path: Path
) -> None:
    listener = make_bus(private_nats.url)
    stream = listener.stream
    heard = Heard(listener)
    _restart_with_a_squatter(private_nats, listener, tmp_path)
    time.sleep(1.5)  # a first try or two fail
    assert asyncio.run(_stream_state(private_nats.url, stream)) is None

    asyncio.run(_manage(private_nats.url, delete="squatter"))  # the operator puts it right
    assert wait_for_subscribed_stream(private_nats.url, stream, timeout=20)
    event_id = publish_raw_event(private_nats.url, stream, shared_log)
    heard.wait_for(lambda m: len(m) >= 1)
    assert heard.event_ids() == [event_id]


@pytest.mark.slow
def test_nats_bus_close_stops_a_resubscription_that_keeps_failing(
    private_nats: PrivateNats, make_bus: Callable[..., NatsBus], tmp_path: Path
) -> None:
    bus = make_bus(private_nats.url)
    _restart_with_a_squatter(private_nats, bus, tmp_path)
    time.sleep(1.0)
    started = time.monotonic()
    bus.close()
    assert time.monotonic() - started < 5
    assert not bus._loop_thread.is_alive()


# ---------------------------------------------------------------- starting and stopping


def test_nats_bus_operator_stream_whose_subjects_cover_ours_is_used(
    nats_url: str,
    bus_stream: str,
    make_bus: Callable[..., NatsBus],
    shared_log: SharedLog,
    caplog: pytest.LogCaptureFixture,
) -> None:
    asyncio.run(_manage(nats_url, add=(bus_stream, f"{bus_stream}.>")))
    a, b = make_bus(), make_bus()
    heard_b = Heard(b)
    published = publish_committed(a, shared_log, 2)
    heard_b.wait_for(lambda m: len(m) >= 2)
    assert heard_b.event_ids() == published
    # It takes in the positions too, which cost the broker disk for nothing: said at start.
    assert f"also stores {bus_stream}.positions" in caplog.text


@pytest.mark.parametrize("subjects", ["{stream}.events.*", "{stream}.positions", "other.>"])
def test_nats_bus_existing_stream_that_does_not_hold_all_our_events_is_refused(
    nats_url: str, bus_stream: str, shared_log: SharedLog, subjects: str
) -> None:
    asyncio.run(_manage(nats_url, add=(bus_stream, subjects.format(stream=bus_stream))))
    with pytest.raises(SystemFault, match="does not hold"):
        NatsBus(nats_url, stream=bus_stream, event_log=shared_log)


@pytest.mark.slow
def test_nats_bus_start_failing_after_connecting_closes_the_connection(
    private_nats: PrivateNats, bus_stream: str, shared_log: SharedLog
) -> None:
    asyncio.run(_manage(private_nats.url, add=(bus_stream, "other.>")))
    with pytest.raises(SystemFault):
        NatsBus(private_nats.url, stream=bus_stream, event_log=shared_log)
    deadline = time.monotonic() + 5
    while any(n.startswith("jingwu ") for n in private_nats.client_names()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [n for n in private_nats.client_names() if n.startswith("jingwu ")]


@pytest.mark.slow
def test_nats_bus_close_on_a_frozen_broker_finishes_its_shutdown_within_its_wait(
    private_nats: PrivateNats, make_bus: Callable[..., NatsBus], shared_log: SharedLog
) -> None:
    bus = make_bus(private_nats.url)
    private_nats.freeze()
    publish_committed(bus, shared_log, 3)  # never acknowledged: close waits for them a while
    pad = "x" * 500_000  # enough positions to fill the socket's buffers: every write blocks
    for _ in range(40):
        bus.publish(BusMessage(None, "unit.positions", {"id": None, "type": "unit.positions", "pad": pad}))
    time.sleep(1.0)
    started = time.monotonic()
    bus.close()
    took = time.monotonic() - started
    assert took < SHUTDOWN_LIMIT_S + 1.5
    assert bus._nc.is_closed  # the shutdown got as far as closing the connection
    assert not bus._loop_thread.is_alive()


@pytest.mark.parametrize(
    ("held", "covered"),
    [
        ("s.events.>", True),
        ("s.>", True),
        (">", True),
        ("s.*.>", True),
        ("*.events.>", True),
        ("s.events.*", False),
        ("s.events", False),
        ("s.positions", False),
        ("s.events.x.>", False),
        ("t.>", False),
    ],
)
def test_nats_bus_subject_filter_covers_ours_only_when_it_matches_all_our_subjects(
    held: str, covered: bool
) -> None:
    assert covers(held, "s.events.>") is covered
