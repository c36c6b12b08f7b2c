"""Community devices in the service layer, on SQLite and PostgreSQL: a device as the field sees it
(:class:`Device`: its id, secret and message counter, whose messages go straight to
``CommunityDeviceService.handle``, the call the MQTT loop makes for each one), the events logged,
and the real MQTT broker (Mosquitto on this machine; ``make test`` starts it when it is down) for
the tests of the MQTT loop."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from jingwu.bus import BusMessage
from jingwu.composition import Services
from jingwu.devices.broker import BrokerConfig
from jingwu.devices.protocol import Drop, device_topic, signed_payload
from jingwu.domain.devices import DeviceKind, MessageKind
from jingwu.domain.geo import GeoPoint
from jingwu.service.community_devices import NewDevice
from tests.conftest import FakeClock, ServicesFactory

DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"

# A point on a road of the test city's south station (南岗区), and one in the Songhua.
ON_ROAD = GeoPoint(45.7560, 126.6420)
IN_RIVER = GeoPoint(45.7860, 126.5340)


@pytest.fixture(scope="session")
def mqtt_url() -> str:
    """The URL of a reachable MQTT broker (JINGWU_TEST_MQTT_URL), or a skip (a failure under CI)."""
    url = os.environ.get("JINGWU_TEST_MQTT_URL", DEFAULT_MQTT_URL)
    config = BrokerConfig.parse(url)
    try:
        socket.create_connection((config.host, config.port), timeout=2).close()
    except OSError as exc:
        message = (
            f"no MQTT broker at {config.redacted()} ({exc}). Start one (`mosquitto -d`, or `make test`, "
            "which starts Mosquitto when it is down) or point JINGWU_TEST_MQTT_URL at one."
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " Under CI a missing broker is a failure.")
        pytest.skip(message)
    return url


@pytest.fixture
def services(make_services: ServicesFactory) -> Services:
    return make_services()


class EventLog:
    """The events logged so far (what the live stream sends and replays), read back in order."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def all(self) -> list[BusMessage]:
        return self.services.event_log.events_after(0, 1000)

    def __iter__(self) -> Iterator[BusMessage]:
        return iter(self.all())

    def __getitem__(self, index: int) -> BusMessage:
        return self.all()[index]


@pytest.fixture
def events(services: Services) -> EventLog:
    return EventLog(services)


class Device:
    """A device as the field sees it: its id, kind, secret and message counter."""

    def __init__(self, services: Services, clock: FakeClock, device_id: str, secret: str) -> None:
        self.services, self.clock, self.id, self.secret = services, clock, device_id, secret
        self.seq = 0

    def frame(self, kind: MessageKind, **fields: Any) -> tuple[str, bytes]:
        self.seq += 1
        body = {"ts": int(self.clock.now.timestamp() * 1000), "seq": self.seq} | fields
        topic = device_topic(self.id, kind)
        return topic, signed_payload(self.secret, topic, body)

    def send(self, kind: MessageKind, **fields: Any) -> Drop | None:
        return self.services.community_devices.handle(*self.frame(kind, **fields))


@pytest.fixture
def register(services: Services, clock: FakeClock) -> Callable[..., Device]:
    def make(
        device_id: str = "col-baojian-001",
        kind: DeviceKind = DeviceKind.ALARM_COLUMN,
        location: GeoPoint = ON_ROAD,
        heartbeat_s: int = 60,
    ) -> Device:
        _, secret = services.community_devices.register(
            NewDevice(device_id, kind, "保健路社区", location, address="保健路12号", heartbeat_s=heartbeat_s),
            actor="admin",
            source="test",
        )
        return Device(services, clock, device_id, secret)

    return make


def types(events: EventLog) -> list[str]:
    return [m.type for m in events]
