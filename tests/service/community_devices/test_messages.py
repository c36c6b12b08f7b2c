"""What becomes of a message: forgeries, replays and stale, malformed or misdirected frames
dropped and counted by reason; a database fault counted as failed (a transient one tried again),
and the log of drops held to a few lines a minute. Messages go straight to
CommunityDeviceService.handle, the call the MQTT loop makes for each one (test_mqtt.py goes
through the real broker)."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, text

from jingwu.composition import Services
from jingwu.devices.protocol import Drop
from jingwu.domain.devices import DeviceKind, MessageKind
from jingwu.store.db import write_transaction
from tests.conftest import FakeClock
from tests.service.community_devices.conftest import Device

# ------------------------------------------------------------------------------ refusals


def test_forged_replayed_stale_and_wrong_kind_messages_are_dropped_and_counted(
    services: Services, register: Callable[..., Device], clock: FakeClock
) -> None:
    column = register()
    door = register("door-baojian-east", DeviceKind.DOOR_READER)
    column.seq = 100
    topic, good = column.frame(MessageKind.ALARM)
    forged = json.loads(good) | {"sig": "0" * 64}
    assert services.community_devices.handle(topic, json.dumps(forged).encode()) is Drop.UNAUTHENTICATED
    unsigned = {k: v for k, v in json.loads(good).items() if k != "sig"}
    assert services.community_devices.handle(topic, json.dumps(unsigned).encode()) is Drop.UNAUTHENTICATED
    # Signed with another device's secret.
    impostor = Device(services, clock, column.id, door.secret)
    assert impostor.send(MessageKind.ALARM) is Drop.UNAUTHENTICATED
    assert services.community_devices.handle(topic, good) is None  # seq 101
    assert services.community_devices.handle(topic, good) is Drop.REPLAYED  # the same frame again
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
    assert services.community_devices.handle(late_topic, late) is Drop.STALE
    assert services.community_devices.handle(topic, b"\x00garbage") is Drop.MALFORMED
    assert services.community_devices.handle(topic, b"{" + b" " * 5000 + b"}") is Drop.OVERSIZED
    # One incident, from the one good frame; every drop counted by its reason.
    assert len(services.dispatch.list_incidents()) == 1
    counts = services.community_devices.counters.snapshot()
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


# ------------------------------------------------------------------------------ database faults


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
    assert services.community_devices.counters.snapshot()["dropped"]["failed"] == 1


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
    counts = services.community_devices.counters.snapshot()
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
    services.community_devices.drop_log.monotonic = lambda: minute[0]

    def passage() -> Drop | None:
        return door.send(MessageKind.ACCESS, direction="in", credential="remote", result="granted")

    with caplog.at_level(logging.INFO, logger="jingwu.service.community_devices"):
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
    assert services.community_devices.counters.snapshot()["dropped"]["failed"] == 26
