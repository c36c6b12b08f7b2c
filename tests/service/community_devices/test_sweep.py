"""Online and silent: heard again is ``device.online``; three missed heartbeats take a device
offline once, an alert for an alarm column, however many server processes sweep."""

from __future__ import annotations

from collections.abc import Callable

from jingwu.composition import Services
from jingwu.domain.devices import DeviceKind, MessageKind
from tests.conftest import FakeClock, ServicesFactory
from tests.service.community_devices.conftest import Device, EventLog, types

# ------------------------------------------------------------------------------ online and silent


def test_a_heartbeat_then_silence_takes_a_column_offline_with_an_alert(
    services: Services, register: Callable[..., Device], clock: FakeClock, events: EventLog
) -> None:
    column = register(heartbeat_s=60)
    door = register("door-baojian-east", DeviceKind.DOOR_READER, heartbeat_s=60)
    assert column.send(MessageKind.HEARTBEAT) is None
    assert door.send(MessageKind.HEARTBEAT) is None
    clock.advance(60)
    assert column.send(MessageKind.HEARTBEAT) is None  # online already: no event
    assert types(events) == ["device.online", "device.online"]
    clock.advance(180)  # the door missed three heartbeats; the column two
    assert services.community_devices.sweep_offline() == 1
    clock.advance(1)
    assert services.community_devices.sweep_offline() == 1
    assert services.community_devices.sweep_offline() == 0  # once each
    offline = [m.payload for m in events if m.type == "device.offline"]
    assert [(p["data"]["device"]["id"], p["data"]["alert"]) for p in offline] == [
        ("door-baojian-east", False),
        ("col-baojian-001", True),
    ]
    assert offline[1]["data"]["silent_s"] == 181 and offline[1]["data"]["device"]["state"] == "offline"
    assert services.community_devices.get(column.id).state == "offline"
    # Heard again: online, with an event that says it was offline.
    assert column.send(MessageKind.HEARTBEAT) is None
    assert events[-1].type == "device.online" and events[-1].payload["data"]["was"] == "offline"
    assert types(events).count("device.offline") == 2 and types(events).count("device.online") == 3


def test_two_server_processes_sweeping_at_once_take_a_device_offline_once(
    make_services: ServicesFactory, register: Callable[..., Device], clock: FakeClock
) -> None:
    column = register()
    column.send(MessageKind.HEARTBEAT)
    other = make_services()
    clock.advance(200)
    assert column.services.community_devices.sweep_offline() + other.community_devices.sweep_offline() == 1
