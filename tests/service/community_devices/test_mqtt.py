"""The MQTT loop against the real broker: frames published to Mosquitto become incidents, access
events and device states; bad ones are counted and dropped while the subscriber carries on; a
shared subscription hands each message to one server process; a lost connection is retried.

Each test subscribes in a group of its own and uses device ids of its own, so that two test runs
on one broker (every group sees every message) cannot take each other's messages or devices."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import aiomqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jingwu.api.factory import create_app
from jingwu.bus import BusMessage
from jingwu.composition import Services
from jingwu.devices.broker import BrokerConfig
from jingwu.devices.protocol import device_topic, signed_payload
from jingwu.domain.devices import DeviceKind, MessageKind
from jingwu.domain.geo import GeoPoint
from jingwu.domain.status import SourceChannel
from jingwu.service.auth import Role
from jingwu.service.community_devices import NewDevice
from jingwu.service.community_devices import registry as device_registry
from jingwu.service.community_devices.mqtt import run_subscriber
from jingwu.store import tables as t
from jingwu.store.db import read_transaction
from tests.conftest import PASSWORD, FakeClock, ServicesFactory
from tests.devices.test_protocol import ALARM_FRAME, ALARM_TOPIC, SECRET

pytestmark = pytest.mark.broker

ON_ROAD = GeoPoint(45.7560, 126.6420)
WAIT_S = 10.0


def group() -> str:
    return f"jingwu-test-{uuid.uuid4().hex[:10]}"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@contextlib.asynccontextmanager
async def subscribed(
    services: Services, url: str, share_group: str, *, client_id: str | None = None
) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(
        run_subscriber(services.community_devices, url, client_id=client_id, group=share_group)
    )
    try:
        await until(lambda: services.community_devices.link.connected, "the subscriber to connect")
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(condition: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await asyncio.to_thread(condition)
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def publish(url: str, *messages: tuple[str, bytes]) -> None:
    config = BrokerConfig.parse(url)
    async with aiomqtt.Client(config.host, config.port, identifier=unique("jingwu-test-pub")) as client:
        for topic, payload in messages:
            await client.publish(topic, payload, qos=1)


class Device:
    def __init__(self, device_id: str, secret: str) -> None:
        self.id, self.secret, self.seq = device_id, secret, 0

    def frame(self, kind: MessageKind, **fields: Any) -> tuple[str, bytes]:
        self.seq += 1
        body = {"ts": int(datetime.now(UTC).timestamp() * 1000), "seq": self.seq} | fields
        topic = device_topic(self.id, kind)
        return topic, signed_payload(self.secret, topic, body)


def register(services: Services, kind: DeviceKind, prefix: str = "col") -> Device:
    device_id = unique(prefix)
    _, secret = services.community_devices.register(
        NewDevice(device_id, kind, "保健路社区", ON_ROAD, address="保健路12号"), actor="admin", source="test"
    )
    return Device(device_id, secret)


@pytest.fixture
def services(make_services: ServicesFactory) -> Services:
    return make_services(use_clock=False)


# ----------------------------------------------------------------------------- the proof


def test_a_captured_alarm_frame_published_to_the_broker_becomes_a_p1_incident_at_the_columns_place(
    make_services: ServicesFactory, clock: FakeClock, mqtt_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The column of tests/devices/test_protocol.py, provisioned with its test secret; the server's
    # clock stands five seconds after the captured press, so the frame is fresh.
    clock.now = datetime(2025, 11, 25, 8, 0, 5, tzinfo=UTC)
    services = make_services()
    monkeypatch.setattr(device_registry, "new_device_secret", lambda: SECRET)
    services.community_devices.register(
        NewDevice("col-baojian-001", DeviceKind.ALARM_COLUMN, "保健路社区", ON_ROAD, address="保健路12号"),
        actor="admin",
        source="test",
    )
    heard: list[BusMessage] = []
    services.bus.subscribe(heard.append)

    async def scenario() -> float:
        async with subscribed(services, mqtt_url, group()):
            started = time.monotonic()
            await publish(mqtt_url, (ALARM_TOPIC, ALARM_FRAME))
            await until(lambda: services.dispatch.list_incidents(open_only=True), "the incident")
            await until(lambda: any(m.type == "incident.created" for m in heard), "the live event")
            return time.monotonic() - started

    took = asyncio.run(scenario())
    [incident] = services.dispatch.list_incidents(open_only=True)
    assert incident.type_code == "other.alarm_column" and incident.priority == 1
    assert incident.location == ON_ROAD and incident.address == "保健路12号"
    assert incident.source is SourceChannel.ALARM_DEVICE and incident.created_by == "device:col-baojian-001"
    assert incident.station_id == "south"
    assert took < WAIT_S
    created = next(m for m in heard if m.type == "incident.created")
    assert created.payload["data"]["incident"]["id"] == incident.id


# ----------------------------------------------------------------------------- bad messages


def test_bad_messages_are_counted_and_dropped_and_the_subscriber_keeps_working(
    services: Services, mqtt_url: str
) -> None:
    column = register(services, DeviceKind.ALARM_COLUMN)
    stranger = Device(unique("col"), column.secret)  # not registered here
    topic, good = column.frame(MessageKind.ALARM)
    forged = json.dumps(json.loads(good) | {"seq": 99}).encode()  # changed after signing
    unsigned = json.dumps({k: v for k, v in json.loads(good).items() if k != "sig"}).encode()
    bad: list[tuple[str, bytes]] = [
        (topic, forged),
        (topic, unsigned),
        (topic, b'{"ts": 1, "seq": "one"'),
        (topic, b"\xff" * 10),
        (topic, b'{"pad": "' + b"x" * 5000 + b'"}'),
        stranger.frame(MessageKind.ALARM),
        (f"jingwu/v1/devices/{column.id}/selfdestruct", good),
    ]

    async def scenario() -> None:
        async with subscribed(services, mqtt_url, group()) as task:
            await publish(mqtt_url, *bad, (topic, good))
            await until(lambda: services.dispatch.list_incidents(open_only=True), "the good press's incident")
            counts = lambda: services.community_devices.counters.snapshot()["dropped"]  # noqa: E731
            await until(lambda: counts()["malformed"] >= 3, "the malformed ones to be counted")
            assert not task.done()
            # Still working: a heartbeat after all that is heard.
            await publish(mqtt_url, column.frame(MessageKind.HEARTBEAT))
            await until(
                lambda: services.community_devices.counters.snapshot()["accepted"]["heartbeat"] == 1,
                "the heartbeat",
            )

    asyncio.run(scenario())
    counts = services.community_devices.counters.snapshot()
    assert counts["accepted"]["alarm"] == 1
    dropped = counts["dropped"]
    # At least: other test runs on the same broker can only add to these.
    assert dropped["unauthenticated"] >= 2
    assert dropped["malformed"] >= 3  # bad JSON, not UTF-8, unknown message kind
    assert dropped["oversized"] >= 1
    assert dropped["unknown_device"] >= 1
    assert dropped["failed"] == 0
    assert len(services.dispatch.list_incidents()) == 1


def test_a_door_passage_published_to_the_broker_is_stored(services: Services, mqtt_url: str) -> None:
    door = register(services, DeviceKind.DOOR_READER, "door")
    gate = register(services, DeviceKind.VEHICLE_GATE, "gate")

    def stored() -> int:
        with read_transaction(services.engine) as conn:
            return int(conn.execute(select(func.count()).select_from(t.access_events)).scalar_one())

    async def scenario() -> None:
        async with subscribed(services, mqtt_url, group()):
            await publish(
                mqtt_url,
                door.frame(
                    MessageKind.ACCESS, direction="in", credential="card", ref="04A1B2C3", result="granted"
                ),
                gate.frame(
                    MessageKind.ACCESS,
                    direction="out",
                    credential="plate",
                    plate="黑A12345",
                    result="granted",
                ),
            )
            await until(lambda: stored() == 2, "two access events")

    asyncio.run(scenario())
    [passage] = services.community_devices.access_events(
        door.id, actor="community", reason="核查门禁", source="test"
    )
    assert (passage.kind, passage.direction, passage.credential_masked) == ("door", "in", "****B2C3")
    assert services.community_devices.get(door.id).state == "online"


# ----------------------------------------------------------------------------- a cluster


def test_a_shared_subscription_hands_each_message_to_one_server_process(
    make_services: ServicesFactory, mqtt_url: str
) -> None:
    first = make_services(use_clock=False)
    second = make_services(use_clock=False)  # another server process on the same database
    door = register(first, DeviceKind.DOOR_READER, "door")
    share = group()
    n = 20

    def stored() -> int:
        with read_transaction(first.engine) as conn:
            return int(conn.execute(select(func.count()).select_from(t.access_events)).scalar_one())

    async def scenario() -> None:
        async with subscribed(first, mqtt_url, share), subscribed(second, mqtt_url, share):
            frames = [
                door.frame(MessageKind.ACCESS, direction="in", credential="remote", result="granted")
                for _ in range(n)
            ]
            await publish(mqtt_url, *frames)
            await until(lambda: stored() >= n, f"{n} access events")
            await asyncio.sleep(0.5)  # time for a second copy, were there one

    asyncio.run(scenario())
    handled = [s.community_devices.counters.snapshot()["accepted"]["access"] for s in (first, second)]
    assert stored() == n and sum(handled) == n
    assert all(h > 0 for h in handled), handled  # the broker shared them out
    # A message handled by one process cannot be handled again by the other: their counters
    # say who took which, and nothing was refused as a replay.
    replayed = sum(s.community_devices.counters.snapshot()["dropped"]["replayed"] for s in (first, second))
    assert replayed == 0


@pytest.mark.alone  # 0.3 s for the broker to see a member go: a parallel worker's load outlasted it
def test_a_member_that_went_away_leaves_every_message_to_the_one_still_online(
    make_services: ServicesFactory, mqtt_url: str
) -> None:
    # Fixed client ids (JINGWU_MQTT_CLIENT_ID): the broker must still not keep the session of a
    # member that is gone, nor hand it its share of the messages to hold until it comes back.
    first = make_services(use_clock=False)
    second = make_services(use_clock=False)
    door = register(first, DeviceKind.DOOR_READER, "door")
    share, node = group(), unique("jingwu-test-node")
    n = 20

    def stored() -> int:
        with read_transaction(first.engine) as conn:
            return int(conn.execute(select(func.count()).select_from(t.access_events)).scalar_one())

    async def scenario() -> None:
        async with subscribed(first, mqtt_url, share, client_id=f"{node}-1"):
            async with subscribed(second, mqtt_url, share, client_id=f"{node}-2"):
                pass  # both joined the group; now the second one goes away (a restart, a crash)
            await asyncio.sleep(0.3)  # for the broker to see it go
            frames = [
                door.frame(MessageKind.ACCESS, direction="in", credential="remote", result="granted")
                for _ in range(n)
            ]
            await publish(mqtt_url, *frames)
            await until(lambda: stored() >= n, f"all {n} access events, not only the online member's share")

    asyncio.run(scenario())
    assert first.community_devices.counters.snapshot()["accepted"]["access"] == n
    assert second.community_devices.counters.snapshot()["received"] == 0


# ----------------------------------------------------------------------------- the connection


class Relay:
    """A TCP relay to the broker whose connections the test can cut, as a network would."""

    def __init__(self, port_to: int) -> None:
        self.port_to = port_to
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def __aexit__(self, *_exc: object) -> None:
        assert self.server is not None
        self.server.close()
        self.cut()
        await self.server.wait_closed()

    def cut(self) -> None:
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", self.port_to)
        self.writers += [writer, broker_writer]
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(self._pipe(reader, broker_writer), self._pipe(broker_reader, writer))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()


def test_a_lost_connection_is_retried_and_intake_goes_on(services: Services, mqtt_url: str) -> None:
    column = register(services, DeviceKind.ALARM_COLUMN)
    relay = Relay(BrokerConfig.parse(mqtt_url).port)

    async def scenario() -> None:
        async with relay as port, subscribed(services, f"mqtt://127.0.0.1:{port}", group()):
            relay.cut()  # the network drops the subscriber's connection
            await until(lambda: services.community_devices.link.reconnects >= 1, "the subscriber to notice")
            await until(lambda: services.community_devices.link.connected, "the subscriber to reconnect")
            await publish(mqtt_url, column.frame(MessageKind.HEARTBEAT))
            await until(lambda: services.community_devices.get(column.id).state == "online", "the heartbeat")

    asyncio.run(scenario())


def test_an_unreachable_broker_is_retried_without_crashing(services: Services) -> None:
    async def scenario() -> None:
        with socket_closed_port() as port:
            task = asyncio.create_task(
                run_subscriber(services.community_devices, f"mqtt://127.0.0.1:{port}", group="g")
            )
            await until(lambda: services.community_devices.link.reconnects >= 2, "two attempts", timeout=8)
            assert not task.done() and not services.community_devices.link.connected
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(scenario())


@contextlib.contextmanager
def socket_closed_port() -> Iterator[int]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        yield probe.getsockname()[1]  # bound, not listening: connections are refused


# ----------------------------------------------------------------------------- the app


def test_the_app_subscribes_when_mqtt_url_is_set_and_reports_its_health(
    make_services: ServicesFactory, mqtt_url: str
) -> None:
    built = make_services(use_clock=False)
    settings = built.settings.model_copy(update={"mqtt_url": mqtt_url, "mqtt_share_group": group()})
    services = dataclasses.replace(built, settings=settings)
    services.auth.accounts.create_user("admin", PASSWORD, Role.ADMIN)
    column = register(services, DeviceKind.ALARM_COLUMN)
    with TestClient(create_app(services)) as client:
        token = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        deadline = time.monotonic() + WAIT_S
        while not client.get("/api/devices/health", headers=headers).json()["connected"]:
            assert time.monotonic() < deadline, "the app's subscriber did not connect"
            time.sleep(0.05)
        asyncio.run(
            publish(mqtt_url, column.frame(MessageKind.HEARTBEAT), (column.frame(MessageKind.ALARM)[0], b"{"))
        )
        while True:
            health = client.get("/api/devices/health", headers=headers).json()
            if (
                health["messages"]["accepted"]["heartbeat"] == 1
                and health["messages"]["dropped"]["malformed"]
            ):
                break
            assert time.monotonic() < deadline, health
            time.sleep(0.05)
        devices = client.get("/api/devices", headers=headers).json()
    assert health["enabled"] and health["broker"] == BrokerConfig.parse(mqtt_url).redacted()
    assert health["subscription"] == f"$share/{settings.mqtt_share_group}/jingwu/v1/devices/+/+"
    assert [(d["id"], d["state"]) for d in devices] == [(column.id, "online")]
