"""Community devices (capability 5/7): one-button alarm columns, door readers and vehicle gates
that report over MQTT (pure: records and rules, no I/O).

A device is registered with its kind, the community it serves and the place it stands (the place
decides its station, and so who sees it). What each kind may say, when it counts as offline and
when a press of an alarm column is a new call or a repeat of the last one are decided here; the
wire format is :mod:`jingwu.devices.protocol`, the storage and the broker are elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from jingwu.domain.geo import GeoPoint
from jingwu.errors import ValidationFailed


class DeviceKind(StrEnum):
    ALARM_COLUMN = "alarm_column"  # 一键报警柱: a person in trouble presses the button
    DOOR_READER = "door_reader"  # 门禁: a pedestrian door opened by card, face, QR code or PIN
    VEHICLE_GATE = "vehicle_gate"  # 车辆道闸: a barrier opened by plate recognition or card


class MessageKind(StrEnum):
    """The last level of a device's topic: what the message is."""

    ALARM = "alarm"
    ACCESS = "access"
    HEARTBEAT = "heartbeat"


# What each kind of device may send. Anything else from it is refused (``wrong_kind``): a door
# reader whose firmware (or whoever holds its secret) sends an alarm is not a one-button alarm.
MESSAGES_OF: Mapping[DeviceKind, frozenset[MessageKind]] = {
    DeviceKind.ALARM_COLUMN: frozenset({MessageKind.ALARM, MessageKind.HEARTBEAT}),
    DeviceKind.DOOR_READER: frozenset({MessageKind.ACCESS, MessageKind.HEARTBEAT}),
    DeviceKind.VEHICLE_GATE: frozenset({MessageKind.ACCESS, MessageKind.HEARTBEAT}),
}


class AccessKind(StrEnum):
    DOOR = "door"
    GATE = "gate"


ACCESS_KIND_OF: Mapping[DeviceKind, AccessKind] = {
    DeviceKind.DOOR_READER: AccessKind.DOOR,
    DeviceKind.VEHICLE_GATE: AccessKind.GATE,
}


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class AccessResult(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"


class CredentialType(StrEnum):
    CARD = "card"  # an IC/ID card or fob: ``ref`` is its serial
    FACE = "face"  # a face matched to an enrolment: ``ref`` is the enrolment id, never an image
    QR = "qr"  # a visitor's QR pass: ``ref`` is the pass id
    PIN = "pin"  # a keypad code: ``ref`` is the code's slot, never the code
    PLATE = "plate"  # a gate's plate recognition: the plate is in ``plate``
    REMOTE = "remote"  # opened by the guard's button or the property's app


# The credentials each kind of reader can take.
CREDENTIALS_OF: Mapping[DeviceKind, frozenset[CredentialType]] = {
    DeviceKind.DOOR_READER: frozenset(
        {
            CredentialType.CARD,
            CredentialType.FACE,
            CredentialType.QR,
            CredentialType.PIN,
            CredentialType.REMOTE,
        }
    ),
    DeviceKind.VEHICLE_GATE: frozenset({CredentialType.PLATE, CredentialType.CARD, CredentialType.REMOTE}),
    DeviceKind.ALARM_COLUMN: frozenset(),
}

# A device id is a topic level: no '/', '+', '#' or spaces; lower case, so that 'COL-1' and
# 'col-1' cannot be two devices.
DEVICE_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{2,47}")
COMMUNITY_MAX_CHARS = 100
ADDRESS_MAX_CHARS = 500
HEARTBEAT_MIN_S = 10
HEARTBEAT_MAX_S = 3600
HEARTBEAT_DEFAULT_S = 60
# Silent for this many heartbeat intervals: offline. One lost heartbeat (a busy broker, a cell
# that dropped) is not an outage; three in a row are.
MISSED_HEARTBEATS = 3
# A press of the same column this soon after its last one, while the incident that press opened
# is still open, is the same call (someone pressing again and again): a note on it, not a new
# incident. Measured from the latest press, so a person pressing every minute stays one call.
ALARM_REPEAT_WINDOW = timedelta(minutes=2)
# The type of incident a press opens (一键报警, nature unknown) and its priority: the caller may
# not be able to speak, so it is worked as the most urgent until someone knows better. The
# type's default (2) is for presses relayed by phone, where a person has described the scene.
ALARM_TYPE_CODE = "other.alarm_column"
ALARM_PRIORITY = 1


# Ids that name a route beside the devices' own (GET /api/devices/health).
RESERVED_DEVICE_IDS = frozenset({"health"})


# Messages of one device may be handled out of order: a cluster's processes share the device
# subscription, so two of its messages can be handled at once. A counter is therefore checked
# against a window of recent ones (RFC 4303 §3.4.3, IPsec's anti-replay window): newer than the
# highest is accepted; up to SEQ_WINDOW - 1 below it, accepted once; older, refused.
SEQ_WINDOW = 63  # bits of the window, so that it fits a signed 64-bit column


def accept_seq(last_seq: int | None, window: int, seq: int) -> tuple[int, int] | None:
    """The device's (highest counter, window) after accepting ``seq``, or None for a replay.
    Bit *i* of the window says that counter ``highest - i`` has been accepted."""
    mask = (1 << SEQ_WINDOW) - 1
    if last_seq is None:
        return seq, 1
    if seq > last_seq:
        shift = seq - last_seq
        return seq, ((window << shift) | 1) & mask if shift < SEQ_WINDOW else 1
    offset = last_seq - seq
    if offset >= SEQ_WINDOW or window >> offset & 1:
        return None
    return last_seq, window | 1 << offset


def check_device_id(text: str) -> str:
    if not isinstance(text, str) or not DEVICE_ID_PATTERN.fullmatch(text) or text in RESERVED_DEVICE_IDS:
        raise ValidationFailed(
            "a device id is 3-48 characters of a-z, 0-9, '-' and '_', starting with a letter or "
            "digit (and not 'health')",
            code="bad_device_id",
            device_id=str(text)[:64],
        )
    return text


def check_heartbeat_s(seconds: int) -> int:
    if not HEARTBEAT_MIN_S <= seconds <= HEARTBEAT_MAX_S:
        raise ValidationFailed(
            f"a heartbeat interval is {HEARTBEAT_MIN_S}-{HEARTBEAT_MAX_S} seconds",
            code="bad_heartbeat_interval",
            heartbeat_s=seconds,
        )
    return seconds


def check_community(text: str) -> str:
    value = " ".join(text.split()) if isinstance(text, str) else ""
    if not value or len(value) > COMMUNITY_MAX_CHARS:
        raise ValidationFailed(
            f"name the community (1-{COMMUNITY_MAX_CHARS} characters)", code="bad_community"
        )
    return value


@dataclass(frozen=True, slots=True)
class CommunityDevice:
    id: str
    kind: DeviceKind
    community: str
    location: GeoPoint  # WGS-84, where the device stands (an alarm column: where the caller is)
    station_id: str | None  # the station whose jurisdiction holds the place; None: the city's
    heartbeat_s: int
    registered_at: datetime
    registered_by: str | None = None
    address: str | None = None
    online: bool = False
    last_seen: datetime | None = None
    last_seq: int | None = None
    seq_window: int = 0  # see accept_seq
    # The incident the latest counted press opened, and when the column was last pressed.
    alarm_incident_id: str | None = None
    alarm_pressed_at: datetime | None = None

    @property
    def state(self) -> str:
        """``online``, ``offline``, or ``never_seen`` (registered, not heard from yet)."""
        if self.last_seen is None:
            return "never_seen"
        return "online" if self.online else "offline"

    @property
    def silent_after(self) -> timedelta:
        return timedelta(seconds=self.heartbeat_s * MISSED_HEARTBEATS)


def is_silent(device: CommunityDevice, now: datetime) -> bool:
    """An online device that has missed :data:`MISSED_HEARTBEATS` heartbeats: it goes offline."""
    return device.online and device.last_seen is not None and now - device.last_seen > device.silent_after


def alerts_when_silent(kind: DeviceKind) -> bool:
    """Whether a device of this kind going silent is an alert for the command room: an alarm
    column that cannot be heard is a person in trouble who cannot call. A silent door or gate is
    the property's business (still shown as offline)."""
    return kind is DeviceKind.ALARM_COLUMN


def is_repeat_press(device: CommunityDevice, *, now: datetime, incident_open: bool) -> bool:
    """Whether a press belongs to the call the column's previous press opened."""
    return (
        device.alarm_incident_id is not None
        and device.alarm_pressed_at is not None
        and incident_open
        and now - device.alarm_pressed_at <= ALARM_REPEAT_WINDOW
    )


def device_actor(device_id: str) -> str:
    """How a device is named as the actor of what it caused (incidents, notes, events)."""
    return f"device:{device_id}"


def mask_reference(ref: str) -> str:
    """``****5678``: a card serial or enrolment id with its last four characters shown (fewer
    than eight: starred completely), so that a guard can match it to the card in hand."""
    if len(ref) < 8:
        return "*" * len(ref)
    return "*" * (len(ref) - 4) + ref[-4:]


def mask_plate(number: str) -> str:
    """``黑A***45``: the province and the authority letter, and the last two characters."""
    if len(number) <= 4:
        return "*" * len(number)
    return number[:2] + "*" * (len(number) - 4) + number[-2:]


__all__ = [
    "ACCESS_KIND_OF",
    "ALARM_PRIORITY",
    "ALARM_REPEAT_WINDOW",
    "ALARM_TYPE_CODE",
    "CREDENTIALS_OF",
    "DEVICE_ID_PATTERN",
    "HEARTBEAT_DEFAULT_S",
    "HEARTBEAT_MAX_S",
    "HEARTBEAT_MIN_S",
    "MESSAGES_OF",
    "MISSED_HEARTBEATS",
    "SEQ_WINDOW",
    "AccessKind",
    "AccessResult",
    "CommunityDevice",
    "CredentialType",
    "DeviceKind",
    "Direction",
    "MessageKind",
    "accept_seq",
    "alerts_when_silent",
    "check_community",
    "check_device_id",
    "check_heartbeat_s",
    "device_actor",
    "is_repeat_press",
    "is_silent",
    "mask_plate",
    "mask_reference",
]
