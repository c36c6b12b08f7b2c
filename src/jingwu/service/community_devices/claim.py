"""What every accepted message does first, in the transaction of its effect: claim its counter on
the device's locked row (a counter seen before is a replay; a row that holds another secret than
the one the message was verified with is :class:`Rekeyed`); and the event of a device heard again."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from jingwu.devices.protocol import Drop, Frame, Rejected
from jingwu.domain.devices import CommunityDevice, accept_seq, device_actor
from jingwu.domain.events import DomainEvent, EventType
from jingwu.service.community_devices.registry import by_id, device_from_row, device_view


class Rekeyed(Exception):
    """The device's row holds another secret than the one a message was verified with: another
    server process issued a new one after this process loaded it (or the field keys re-sealed it)."""


def counter_values(device: CommunityDevice, frame: Frame) -> dict[str, Any]:
    """The device's counter columns once it accepts ``frame``; :class:`Rejected` (replayed) if it
    cannot."""
    accepted = accept_seq(device.last_seq, device.seq_window, frame.seq)
    if accepted is None:
        raise Rejected(
            Drop.REPLAYED, f"seq {frame.seq} was seen before (or is too old; highest {device.last_seq})"
        )
    return {"last_seq": accepted[0], "seq_window": accepted[1]}


def claim(conn: Connection, frame: Frame, sealed: str) -> tuple[CommunityDevice, dict[str, Any]]:
    """The device's row, locked, and the counter values that accept this message (a
    counter seen before is a replay). The row must still hold ``sealed``, the secret the
    message was verified with (else :class:`Rekeyed`): the row is locked (FOR UPDATE; a
    SQLite write transaction begins IMMEDIATE), so no new secret can land between this check
    and the caller's UPDATE."""
    row = conn.execute(by_id(frame.device_id).with_for_update()).first()
    if row is None:
        raise Rejected(Drop.UNKNOWN_DEVICE, f"device {frame.device_id!r} was removed")
    if row.secret != sealed:
        raise Rekeyed(frame.device_id)
    device = device_from_row(row)
    return device, counter_values(device, frame)


def online_event(device: CommunityDevice, now: datetime) -> DomainEvent:
    """``device.online``: a device that was not online (offline, or never seen) is heard."""
    was = device.state
    return DomainEvent(
        EventType.DEVICE_ONLINE,
        now,
        actor=device_actor(device.id),
        data={
            "device": device_view(replace(device, online=True, last_seen=now)),
            "was": was,
            "alert": False,
        },
    )


__all__ = ["Rekeyed", "claim", "counter_values", "online_event"]
