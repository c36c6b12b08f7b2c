"""Community-device rules (pure): ids, intervals, silence, repeated presses, masking."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from jingwu.domain.devices import (
    ALARM_REPEAT_WINDOW,
    MESSAGES_OF,
    SEQ_WINDOW,
    CommunityDevice,
    DeviceKind,
    MessageKind,
    accept_seq,
    alerts_when_silent,
    check_community,
    check_device_id,
    check_heartbeat_s,
    is_repeat_press,
    is_silent,
    mask_plate,
    mask_reference,
)
from jingwu.domain.geo import GeoPoint
from jingwu.errors import ValidationFailed

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
COLUMN = CommunityDevice(
    id="col-1",
    kind=DeviceKind.ALARM_COLUMN,
    community="保健路社区",
    location=GeoPoint(45.756, 126.642),
    station_id="south",
    heartbeat_s=60,
    registered_at=T0,
)


@pytest.mark.parametrize("good", ["col-1", "door_east-02", "a1b", "x" * 48, "0ab"])
def test_device_ids_that_are_topic_levels_are_accepted(good: str) -> None:
    assert check_device_id(good) == good


@pytest.mark.parametrize(
    "bad", ["ab", "x" * 49, "Col-1", "col/1", "col+1", "col#", "col 1", "-col", "", "health"]
)
def test_device_ids_that_could_not_be_topic_levels_are_refused(bad: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_device_id(bad)
    assert caught.value.code == "bad_device_id"


def test_heartbeat_interval_and_community_are_bounded() -> None:
    assert check_heartbeat_s(10) == 10 and check_heartbeat_s(3600) == 3600
    for bad in (9, 3601, 0):
        with pytest.raises(ValidationFailed):
            check_heartbeat_s(bad)
    assert check_community("  保健路  社区 ") == "保健路 社区"
    for bad in ("", "   ", "x" * 101):
        with pytest.raises(ValidationFailed):
            check_community(bad)


def test_each_kind_sends_heartbeats_and_its_own_messages() -> None:
    assert set(MESSAGES_OF) == set(DeviceKind)
    assert all(MessageKind.HEARTBEAT in kinds for kinds in MESSAGES_OF.values())
    assert MessageKind.ALARM in MESSAGES_OF[DeviceKind.ALARM_COLUMN]
    assert MessageKind.ALARM not in MESSAGES_OF[DeviceKind.DOOR_READER] | MESSAGES_OF[DeviceKind.VEHICLE_GATE]


def test_state_of_a_device_never_heard_online_and_offline() -> None:
    assert COLUMN.state == "never_seen"
    assert replace(COLUMN, last_seen=T0, online=True).state == "online"
    assert replace(COLUMN, last_seen=T0, online=False).state == "offline"


def test_a_device_is_silent_after_three_missed_heartbeats() -> None:
    seen = replace(COLUMN, online=True, last_seen=T0)
    assert not is_silent(seen, T0 + timedelta(seconds=180))
    assert is_silent(seen, T0 + timedelta(seconds=181))
    # Offline already, or never heard from: nothing to sweep.
    assert not is_silent(replace(seen, online=False), T0 + timedelta(hours=1))
    assert not is_silent(COLUMN, T0 + timedelta(hours=1))


def test_only_an_alarm_column_going_silent_is_an_alert() -> None:
    assert alerts_when_silent(DeviceKind.ALARM_COLUMN)
    assert not alerts_when_silent(DeviceKind.DOOR_READER)
    assert not alerts_when_silent(DeviceKind.VEHICLE_GATE)


def test_a_press_soon_after_the_last_while_its_incident_is_open_is_a_repeat() -> None:
    pressed = replace(COLUMN, alarm_incident_id="J1", alarm_pressed_at=T0)
    assert is_repeat_press(pressed, now=T0 + ALARM_REPEAT_WINDOW, incident_open=True)
    assert not is_repeat_press(
        pressed, now=T0 + ALARM_REPEAT_WINDOW + timedelta(seconds=1), incident_open=True
    )
    assert not is_repeat_press(pressed, now=T0 + timedelta(seconds=10), incident_open=False)
    assert not is_repeat_press(COLUMN, now=T0, incident_open=True)


def test_masks_show_only_a_recognisable_tail() -> None:
    assert mask_reference("04A1B2C3D4E5F6") == "**********E5F6"
    assert mask_reference("1234567") == "*******"
    assert mask_plate("黑A12345") == "黑A***45"
    assert mask_plate("黑AD12345") == "黑A****45"
    assert mask_plate("粤Z1234港") == "粤Z***4港"


def test_counters_are_accepted_once_within_the_window_and_in_any_order() -> None:
    state = accept_seq(None, 0, 10)
    assert state == (10, 0b1)
    state = accept_seq(*state, 12)  # 11 not seen yet
    assert state == (12, 0b101)
    assert accept_seq(*state, 12) is None  # the same again
    assert accept_seq(*state, 10) is None
    state = accept_seq(*state, 11)  # late, and new
    assert state == (12, 0b111)
    assert accept_seq(*state, 12 - SEQ_WINDOW) is None  # too old to tell: refused
    far = accept_seq(*state, 12 + SEQ_WINDOW)  # a jump past the whole window
    assert far == (12 + SEQ_WINDOW, 1)
    assert accept_seq(*far, 13) is not None  # inside the window, never seen


def test_the_window_never_outgrows_its_column() -> None:
    state: tuple[int, int] | None = (1, 1)
    for seq in range(2, 500):
        assert state is not None
        state = accept_seq(*state, seq)
    assert state is not None and state[1] == (1 << SEQ_WINDOW) - 1 < 2**63
