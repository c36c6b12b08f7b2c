"""Community devices in the service layer, on SQLite and PostgreSQL: registration, what each
message does, replays and forgeries, silence. Messages go straight to DeviceService.handle, the
call the MQTT subscriber makes for each one (tests/devices/test_subscriber.py goes through the
real broker)."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, select, text

from jingwu.bus import BusMessage
from jingwu.composition import Services
from jingwu.devices.protocol import Drop, device_topic, signed_payload
from jingwu.domain.devices import DeviceKind, MessageKind
from jingwu.domain.geo import GeoPoint
from jingwu.domain.status import IncidentStatus, SourceChannel
from jingwu.errors import Conflict, OffRoadError, ValidationFailed
from jingwu.routing import RoadNetwork
from jingwu.service.devices import NewDevice
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction
from tests.conftest import FakeClock, ServicesFactory

# A point on a road of the test city's south station (南岗区), and one in the Songhua.
ON_ROAD = GeoPoint(45.7560, 126.6420)
IN_RIVER = GeoPoint(45.7860, 126.5340)


@pytest.fixture
def services(make_services: ServicesFactory) -> Services:
    return make_services()


class EventLog:
    """The events logged so far (what the live stream sends and replays), read back in order."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def all(self) -> list[BusMessage]:
        return self.services.dispatch.events_after(0, 1000)

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
        return self.services.devices.handle(*self.frame(kind, **fields))


@pytest.fixture
def register(services: Services, clock: FakeClock) -> Callable[..., Device]:
    def make(
        device_id: str = "col-baojian-001",
        kind: DeviceKind = DeviceKind.ALARM_COLUMN,
        location: GeoPoint = ON_ROAD,
        heartbeat_s: int = 60,
    ) -> Device:
        _, secret = services.devices.register(
            NewDevice(device_id, kind, "保健路社区", location, address="保健路12号", heartbeat_s=heartbeat_s),
            actor="admin",
            source="test",
        )
        return Device(services, clock, device_id, secret)

    return make


def types(events: EventLog) -> list[str]:
    return [m.type for m in events]


# ------------------------------------------------------------------------------ registration


def test_register_places_the_device_in_its_station_and_seals_its_secret(
    services: Services, register: Callable[..., Device]
) -> None:
    column = register()
    device = services.devices.get(column.id)
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
    assert [d.id for d in services.devices.list_devices()] == ["col-baojian-001"]


# ------------------------------------------------------------------------------ alarm presses


def test_a_press_opens_a_priority_1_incident_at_the_columns_place(
    services: Services, register: Callable[..., Device], events: EventLog
) -> None:
    column = register()
    assert column.send(MessageKind.ALARM) is None
    [incident] = services.dispatch.list_incidents(open_only=True)
    assert incident.type_code == "other.alarm_column" and incident.priority == 1
    assert incident.location == ON_ROAD and incident.address == "保健路12号"
    assert incident.source is SourceChannel.ALARM_DEVICE and incident.status is IncidentStatus.PENDING
    assert incident.created_by == "device:col-baojian-001" and incident.station_id == "south"
    assert "col-baojian-001" in (incident.description or "")
    assert types(events) == ["device.online", "incident.created"]
    device = services.devices.get(column.id)
    assert device.alarm_incident_id == incident.id and device.state == "online"
    # The dispatcher gets units for it at once: the incident's road point is known.
    assert services.dispatch.recommend(incident.id, limit=1) == []  # (no units in this city)


def test_repeated_presses_while_the_call_is_open_are_notes_on_it(
    services: Services, register: Callable[..., Device], clock: FakeClock, events: EventLog
) -> None:
    column = register()
    column.send(MessageKind.ALARM)
    clock.advance(90)
    column.send(MessageKind.ALARM)
    clock.advance(110)  # within two minutes of the last press, not of the first
    column.send(MessageKind.ALARM)
    [incident] = services.dispatch.list_incidents(open_only=True)
    timeline = services.dispatch.incident_timeline(incident.id)
    notes = [m for m in timeline if m.type == "incident.note_added"]
    assert len(notes) == 2 and notes[0].payload["actor"] == "device:col-baojian-001"
    # More than two minutes after the last press: a new call.
    clock.advance(121)
    column.send(MessageKind.ALARM)
    assert len(services.dispatch.list_incidents(open_only=True)) == 2


def test_a_press_after_its_incident_was_closed_opens_a_new_one(
    services: Services, register: Callable[..., Device], clock: FakeClock
) -> None:
    column = register()
    column.send(MessageKind.ALARM)
    [first] = services.dispatch.list_incidents(open_only=True)
    services.dispatch.close_incident(first.id, disposition="误报", actor="dispatcher")
    clock.advance(5)
    column.send(MessageKind.ALARM)
    [second] = services.dispatch.list_incidents(open_only=True)
    assert second.id != first.id


def test_a_test_press_opens_nothing_but_counts_as_heard(
    services: Services, register: Callable[..., Device], events: EventLog
) -> None:
    column = register()
    assert column.send(MessageKind.ALARM, test=True) is None
    assert services.dispatch.list_incidents() == []
    assert services.devices.get(column.id).state == "online"
    assert services.devices.counters.snapshot()["accepted"]["alarm_test"] == 1


# ------------------------------------------------------------------------------ refusals


def test_forged_replayed_stale_and_wrong_kind_messages_are_dropped_and_counted(
    services: Services, register: Callable[..., Device], clock: FakeClock
) -> None:
    column = register()
    door = register("door-baojian-east", DeviceKind.DOOR_READER)
    column.seq = 100
    topic, good = column.frame(MessageKind.ALARM)
    forged = json.loads(good) | {"sig": "0" * 64}
    assert services.devices.handle(topic, json.dumps(forged).encode()) is Drop.UNAUTHENTICATED
    unsigned = {k: v for k, v in json.loads(good).items() if k != "sig"}
    assert services.devices.handle(topic, json.dumps(unsigned).encode()) is Drop.UNAUTHENTICATED
    # Signed with another device's secret.
    impostor = Device(services, clock, column.id, door.secret)
    assert impostor.send(MessageKind.ALARM) is Drop.UNAUTHENTICATED
    assert services.devices.handle(topic, good) is None  # seq 101
    assert services.devices.handle(topic, good) is Drop.REPLAYED  # the same frame again
    # Handled out of order (a cluster shares the subscription): an unseen counter below the
    # highest is accepted once; one too far below is refused.
    column.seq = 94
    assert column.send(MessageKind.HEARTBEAT) is None
    column.seq = 94
    assert column.send(MessageKind.HEARTBEAT) is Drop.REPLAYED
    column.seq = 101 - 63 - 1
    assert column.send(MessageKind.HEARTBEAT) is Drop.REPLAYED
    assert door.send(MessageKind.ALARM) is Drop.WRONG_KIND
    stranger = Device(services, clock, "col-nobody", column.secret)
    assert stranger.send(MessageKind.ALARM) is Drop.UNKNOWN_DEVICE
    late_topic, late = column.frame(MessageKind.ALARM)
    clock.advance(11 * 60)
    assert services.devices.handle(late_topic, late) is Drop.STALE
    assert services.devices.handle(topic, b"\x00garbage") is Drop.MALFORMED
    assert services.devices.handle(topic, b"{" + b" " * 5000 + b"}") is Drop.OVERSIZED
    # One incident, from the one good frame; every drop counted by its reason.
    assert len(services.dispatch.list_incidents()) == 1
    counts = services.devices.counters.snapshot()
    assert counts["received"] == 13
    assert counts["accepted"]["alarm"] == 1 and counts["accepted"]["heartbeat"] == 1
    assert counts["dropped"] == {
        "oversized": 1,
        "malformed": 1,
        "unknown_device": 1,
        "unauthenticated": 3,
        "wrong_kind": 1,
        "stale": 1,
        "replayed": 3,
        "failed": 0,
    }


def test_a_new_secret_stops_the_old_one_and_restarts_the_counter(
    services: Services, register: Callable[..., Device], clock: FakeClock
) -> None:
    column = register()
    column.seq = 1000
    assert column.send(MessageKind.HEARTBEAT) is None
    new_secret = services.devices.issue_secret(column.id, actor="admin", source="test")
    assert column.send(MessageKind.HEARTBEAT) is Drop.UNAUTHENTICATED
    reflashed = Device(services, clock, column.id, new_secret)  # a factory reset: counting from 1
    assert reflashed.send(MessageKind.HEARTBEAT) is None


def test_a_secret_issued_by_another_server_process_is_picked_up(
    make_services: ServicesFactory, register: Callable[..., Device], clock: FakeClock
) -> None:
    column = register()
    assert column.send(MessageKind.HEARTBEAT) is None
    other = make_services()  # another process on the same database
    new_secret = other.devices.issue_secret(column.id, actor="admin", source="test")
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
    assert other.devices.handle(topic, heard) is None  # it now holds the first secret
    second = column.services.devices.issue_secret(column.id, actor="admin", source="test")
    # The first message, captured and replayed: the new secret reset the counter, but the
    # message is signed with the replaced secret, which the other process still holds.
    assert other.devices.handle(topic, heard) is Drop.UNAUTHENTICATED
    column.secret = second
    column.seq = 0
    assert column.send(MessageKind.HEARTBEAT) is None  # the new secret works in the first process
    assert other.devices.handle(*column.frame(MessageKind.HEARTBEAT)) is None  # and in the other one
    # Once more, while the other process holds the second secret: a press signed with it after a
    # third one was issued opens nothing (the full path, which locks the row).
    stolen = column.frame(MessageKind.ALARM)
    third = column.services.devices.issue_secret(column.id, actor="admin", source="test")
    assert other.devices.handle(*stolen) is Drop.UNAUTHENTICATED
    assert other.dispatch.list_incidents() == []
    assert Device(other, clock, column.id, third).send(MessageKind.ALARM) is None
    assert len(other.dispatch.list_incidents(open_only=True)) == 1
    assert other.devices.counters.snapshot()["dropped"]["unauthenticated"] == 2


def test_a_database_fault_is_counted_as_failed_and_does_not_raise(
    services: Services, register: Callable[..., Device], monkeypatch: pytest.MonkeyPatch
) -> None:
    column = register()

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services.dispatch, "commit", broken)
    assert column.send(MessageKind.ALARM) is Drop.FAILED
    monkeypatch.undo()
    assert column.send(MessageKind.ALARM) is None  # the next one goes through
    assert services.devices.counters.snapshot()["dropped"]["failed"] == 1


@pytest.mark.parametrize("migrated_database_url", ["sqlite"], indirect=True)
def test_a_press_while_the_database_is_briefly_locked_is_retried_and_opens_its_incident(
    services: Services, register: Callable[..., Device]
) -> None:
    column = register()
    # Another program holds the database's write lock for a moment. Waiting up to 0.1 s for it
    # (instead of the usual 30) makes the lock an error here, as a longer one would be.
    engine = services.engine

    @event.listens_for(engine, "connect")
    def _short_busy_timeout(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=100")

    engine.dispose()
    assert engine.url.database is not None
    locker = sqlite3.connect(engine.url.database, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(0.8, locker.rollback)
    release.start()
    try:
        started = time.monotonic()
        assert column.send(MessageKind.ALARM) is None
        assert time.monotonic() - started >= 0.7  # it did meet the lock
    finally:
        release.join()
        locker.close()
    [incident] = services.dispatch.list_incidents(open_only=True)
    assert incident.type_code == "other.alarm_column"
    counts = services.devices.counters.snapshot()
    assert counts["accepted"]["alarm"] == 1 and counts["dropped"]["failed"] == 0


def _refuse_access_events(services: Services) -> None:
    """A real database fault that does not pass: the database itself refuses every passage."""
    with write_transaction(services.engine) as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_access BEFORE INSERT ON access_events "
                    "BEGIN SELECT RAISE(ABORT, 'access events refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_access() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'access events refused'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_access BEFORE INSERT ON access_events "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_access()"
                )
            )


def test_failed_messages_are_logged_at_most_ten_lines_a_minute_with_one_traceback(
    services: Services, register: Callable[..., Device], caplog: pytest.LogCaptureFixture
) -> None:
    door = register("door-baojian-east", DeviceKind.DOOR_READER)
    _refuse_access_events(services)
    minute = [1000.0]
    services.devices.monotonic = lambda: minute[0]

    def passage() -> Drop | None:
        return door.send(MessageKind.ACCESS, direction="in", credential="remote", result="granted")

    with caplog.at_level(logging.INFO, logger="jingwu.service.devices"):
        started = time.monotonic()
        assert [passage() for _ in range(25)] == [Drop.FAILED] * 25
        assert time.monotonic() - started < 5  # a fault that stays is not tried again
        first_minute = [r for r in caplog.records if r.levelno >= logging.WARNING]
        caplog.clear()
        minute[0] += 61
        assert passage() is Drop.FAILED
        next_minute = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(first_minute) == 10
    assert [r.exc_info is not None for r in first_minute] == [True] + [False] * 9
    assert all("failed" in r.getMessage() and "access events refused" in r.getMessage() for r in first_minute)
    [line] = next_minute
    assert line.exc_info is not None and "15 more failed since the last line" in line.getMessage()
    assert services.devices.counters.snapshot()["dropped"]["failed"] == 26


# ------------------------------------------------------------------------------ access events


def test_door_and_gate_passages_are_kept_indexed_and_masked(
    services: Services, register: Callable[..., Device]
) -> None:
    door = register("door-baojian-east", DeviceKind.DOOR_READER)
    gate = register("gate-baojian-north", DeviceKind.VEHICLE_GATE)
    assert (
        door.send(
            MessageKind.ACCESS, direction="in", credential="card", ref="04A1B2C3D4E5F6", result="granted"
        )
        is None
    )
    assert (
        door.send(MessageKind.ACCESS, direction="out", credential="face", ref="enrol-88812", result="denied")
        is None
    )
    assert (
        gate.send(MessageKind.ACCESS, direction="in", credential="plate", plate="黑A·12345", result="granted")
        is None
    )
    door_events = services.devices.access_events(
        door.id, actor="community", reason="核查门禁记录", source="test"
    )
    assert [(e.direction, e.credential_type, e.credential_masked, e.result) for e in door_events] == [
        ("out", "face", "*******8812", "denied"),
        ("in", "card", "**********E5F6", "granted"),
    ]
    [passage] = services.devices.access_events(
        gate.id, actor="community", reason="核查车辆出入", source="test"
    )
    assert (passage.kind, passage.plate_masked, passage.credential_masked) == ("gate", "黑A***45", None)
    with read_transaction(services.engine) as conn:
        rows = conn.execute(select(t.access_events)).all()
        reads = (
            conn.execute(select(t.audit_log.c.reason).where(t.audit_log.c.action == "access_events.read"))
            .scalars()
            .all()
        )
    # Neither the card nor the plate is stored in the clear; the same card or car is found again
    # by its keyed index.
    stored = json.dumps([list(map(str, r)) for r in rows], ensure_ascii=False)
    assert "04A1B2C3D4E5F6" not in stored and "12345" not in stored.replace("***45", "")
    plate_row = next(r for r in rows if r.kind == "gate")
    assert plate_row.plate_index == services.devices.keys.blind_index("黑A12345", kind="plate")
    assert reads == ["核查门禁记录", "核查车辆出入"]


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
    assert services.devices.sweep_offline() == 1
    clock.advance(1)
    assert services.devices.sweep_offline() == 1
    assert services.devices.sweep_offline() == 0  # once each
    offline = [m.payload for m in events if m.type == "device.offline"]
    assert [(p["data"]["device"]["id"], p["data"]["alert"]) for p in offline] == [
        ("door-baojian-east", False),
        ("col-baojian-001", True),
    ]
    assert offline[1]["data"]["silent_s"] == 181 and offline[1]["data"]["device"]["state"] == "offline"
    assert services.devices.get(column.id).state == "offline"
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
    assert column.services.devices.sweep_offline() + other.devices.sweep_offline() == 1


def test_registering_needs_a_network_snap_within_the_limit(network: RoadNetwork) -> None:
    # The river point of these tests really is off every road (guards the fixture's premise).
    with pytest.raises(OffRoadError):
        network.snap(IN_RIVER.lat, IN_RIVER.lon, 250.0)
