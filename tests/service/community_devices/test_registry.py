"""The registry: registration (a place a car can reach, a sealed secret shown once) and new
secrets, which stop the old one at once in every server process (the in-memory registry's reload
rules)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from jingwu.composition import Services
from jingwu.devices.protocol import Drop
from jingwu.domain.devices import MessageKind
from jingwu.errors import Conflict, OffRoadError, ValidationFailed
from jingwu.routing import RoadNetwork
from jingwu.store import tables as t
from jingwu.store.db import read_transaction
from tests.conftest import FakeClock, ServicesFactory
from tests.service.community_devices.conftest import IN_RIVER, Device

# ------------------------------------------------------------------------------ registration


def test_register_places_the_device_in_its_station_and_seals_its_secret(
    services: Services, register: Callable[..., Device]
) -> None:
    column = register()
    device = services.community_devices.get(column.id)
    assert device.station_id == "south" and device.state == "never_seen"
    assert column.secret.startswith("dsk_") and len(column.secret) == 47
    with read_transaction(services.engine) as conn:
        stored = conn.execute(select(t.community_devices.c.secret)).scalar_one()
        audited = conn.execute(select(t.audit_log.c.action, t.audit_log.c.target)).all()
    assert column.secret not in stored and stored.startswith("v1:")
    assert ("device.registered", "device:col-baojian-001") in [tuple(r) for r in audited]


def test_register_refuses_a_place_no_car_can_reach_a_taken_id_and_a_bad_id(
    services: Services, register: Callable[..., Device]
) -> None:
    with pytest.raises(OffRoadError):
        register(location=IN_RIVER)
    register()
    with pytest.raises(Conflict) as taken:
        register()
    assert taken.value.code == "device_exists"
    with pytest.raises(ValidationFailed) as bad:
        register(device_id="Col/1")
    assert bad.value.code == "bad_device_id"
    assert [d.id for d in services.community_devices.list_devices()] == ["col-baojian-001"]


def test_registering_needs_a_network_snap_within_the_limit(network: RoadNetwork) -> None:
    # The river point of these tests really is off every road (guards the fixture's premise).
    with pytest.raises(OffRoadError):
        network.snap(IN_RIVER.lat, IN_RIVER.lon, 250.0)


# ------------------------------------------------------------------------------ new secrets


def test_a_new_secret_stops_the_old_one_and_restarts_the_counter(
    services: Services, register: Callable[..., Device], clock: FakeClock
) -> None:
    column = register()
    column.seq = 1000
    assert column.send(MessageKind.HEARTBEAT) is None
    new_secret = services.community_devices.issue_secret(column.id, actor="admin", source="test")
    assert column.send(MessageKind.HEARTBEAT) is Drop.UNAUTHENTICATED
    reflashed = Device(services, clock, column.id, new_secret)  # a factory reset: counting from 1
    assert reflashed.send(MessageKind.HEARTBEAT) is None


def test_a_secret_issued_by_another_server_process_is_picked_up(
    make_services: ServicesFactory, register: Callable[..., Device], clock: FakeClock
) -> None:
    column = register()
    assert column.send(MessageKind.HEARTBEAT) is None
    other = make_services()  # another process on the same database
    new_secret = other.community_devices.issue_secret(column.id, actor="admin", source="test")
    clock.advance(1)
    column.secret = new_secret
    column.seq = 0
    # The first process still holds the old secret; a signature that does not match makes it
    # look again (RELOAD_MIN_INTERVAL_S applies per device, and this is its first look).
    assert column.send(MessageKind.HEARTBEAT) is None


def test_a_new_secret_stops_the_old_one_at_once_in_another_server_process_too(
    make_services: ServicesFactory, register: Callable[..., Device], clock: FakeClock
) -> None:
    column = register()
    other = make_services()  # another process on the same database
    topic, heard = column.frame(MessageKind.HEARTBEAT)
    assert other.community_devices.handle(topic, heard) is None  # it now holds the first secret
    second = column.services.community_devices.issue_secret(column.id, actor="admin", source="test")
    # The first message, captured and replayed: the new secret reset the counter, but the
    # message is signed with the replaced secret, which the other process still holds.
    assert other.community_devices.handle(topic, heard) is Drop.UNAUTHENTICATED
    column.secret = second
    column.seq = 0
    assert column.send(MessageKind.HEARTBEAT) is None  # the new secret works in the first process
    # ... and in the other one.
    assert other.community_devices.handle(*column.frame(MessageKind.HEARTBEAT)) is None
    # Once more, while the other process holds the second secret: a press signed with it after a
    # third one was issued opens nothing (the full path, which locks the row).
    stolen = column.frame(MessageKind.ALARM)
    third = column.services.community_devices.issue_secret(column.id, actor="admin", source="test")
    assert other.community_devices.handle(*stolen) is Drop.UNAUTHENTICATED
    assert other.dispatch.list_incidents() == []
    assert Device(other, clock, column.id, third).send(MessageKind.ALARM) is None
    assert len(other.dispatch.list_incidents(open_only=True)) == 1
    assert other.community_devices.counters.snapshot()["dropped"]["unauthenticated"] == 2
