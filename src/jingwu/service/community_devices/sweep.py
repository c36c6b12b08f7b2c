"""Silence: a device that missed three heartbeat intervals goes offline, with a ``device.offline``
event (an alert for an alarm column). Run from the API's timer, in every server process."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, select, update

from jingwu.domain.devices import (
    HEARTBEAT_MIN_S,
    MISSED_HEARTBEATS,
    CommunityDevice,
    alerts_when_silent,
    is_silent,
)
from jingwu.domain.events import DomainEvent, EventType
from jingwu.domain.rules import Decision
from jingwu.service.community_devices.registry import DeviceRegistry, device_from_row, device_view
from jingwu.service.dispatching import DispatchService
from jingwu.store import tables as t
from jingwu.store.db import read_transaction

log = logging.getLogger(__name__)


def sweep_offline(
    engine: Engine, dispatch: DispatchService, registry: DeviceRegistry, *, now: datetime
) -> int:
    """Mark offline every online device that has missed its heartbeats; one ``device.offline``
    event each (an alert for alarm columns). Safe to run from every server process at once: each
    device goes offline once. Returns how many went offline."""
    c = t.community_devices.c
    earliest = now - timedelta(seconds=HEARTBEAT_MIN_S * MISSED_HEARTBEATS)
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(t.community_devices).where(and_(c.online.is_(True), c.last_seen < earliest))
        ).all()
    silent = [d for d in map(device_from_row, rows) if is_silent(d, now)]
    if not silent:
        return 0
    gone: list[CommunityDevice] = []

    def decide(conn: Connection, now: datetime) -> Decision:
        events = []
        gone.clear()
        for device in silent:
            changed = conn.execute(
                update(t.community_devices)
                .where(and_(c.id == device.id, c.online.is_(True), c.last_seen == device.last_seen))
                .values(online=False)
            ).rowcount
            if not changed:
                continue  # heard from meanwhile, or another process got there first
            offline = replace(device, online=False)
            gone.append(offline)
            assert device.last_seen is not None
            events.append(
                DomainEvent(
                    EventType.DEVICE_OFFLINE,
                    now,
                    data={
                        "device": device_view(offline),
                        "alert": alerts_when_silent(device.kind),
                        "silent_s": round((now - device.last_seen).total_seconds()),
                    },
                )
            )
        return Decision(events=tuple(events))

    done = dispatch.commit(decide)
    for device in gone:
        registry.remember(device)
        level = logging.WARNING if alerts_when_silent(device.kind) else logging.INFO
        log.log(level, "device %s (%s, %s) went silent: offline", device.id, device.kind, device.community)
    return len(done.events)


__all__ = ["sweep_offline"]
