"""Community devices: the registry, what their messages do, and who went silent; the service the
edges use (:class:`CommunityDeviceService`) puts the parts together here, sharing one registry,
one set of counters and one connection state.

* **Registry** (:mod:`.registry`). A device is registered with its kind, community and place
  (checked against the roads: a car must be able to get there) and gets a secret, shown once,
  that signs its messages. The secret is stored sealed with the field keys, bound to the
  device's row (:mod:`.sealing`).
* **Messages** (:mod:`.messages`, :meth:`CommunityDeviceService.handle`, called by the MQTT loop
  of :mod:`.mqtt` for each one): the frame is checked (:mod:`jingwu.devices.protocol`), its
  signature verified with the device's secret, its counter claimed against replays in the same
  transaction as its effect (:mod:`.claim`):

  - an alarm-column press opens a priority-1 incident at the column's registered place (source
    ``alarm_device``, the device as its actor); a press within two minutes of the previous one,
    while that incident is open, is a note on it instead (:mod:`.alarms`);
  - a door or gate passage is kept as an access event (credential and plate indexed and masked;
    :mod:`.access`);
  - any message marks the device online (``device.online`` when it was not).

  Whatever is wrong with a message, it is counted by reason, logged (at most a few lines a
  minute per reason) and dropped (:mod:`.counters`); nothing a device sends raises out of
  ``handle``.
* **Silence** (:mod:`.sweep`, :meth:`CommunityDeviceService.sweep_offline`, from the API's timer):
  a device that missed three heartbeat intervals goes offline with a ``device.offline`` event, an
  alert for an alarm column.

Events go through :meth:`DispatchService.commit`, so they are logged and published in order with
every other event; a message that changes no state (a heartbeat of a device already online, an
access event) takes a shorter transaction of its own and publishes nothing.

:mod:`.mqtt` (the MQTT client loop) is not imported here: only the API's start-up needs it, and it
brings in the MQTT client library.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from jingwu.devices.protocol import Drop
from jingwu.domain.devices import CommunityDevice, DeviceKind
from jingwu.service.community_devices.access import AccessEvent, read_access_events
from jingwu.service.community_devices.alarms import AlarmPresses
from jingwu.service.community_devices.counters import Counters, DropLog, LinkState
from jingwu.service.community_devices.messages import MessageHandler
from jingwu.service.community_devices.registry import (
    ADDRESS_MAX_CHARS,
    DeviceRegistry,
    NewDevice,
    device_from_row,
    device_view,
)
from jingwu.service.community_devices.sealing import (
    check_device_keys,
    device_secret_context,
    new_device_secret,
    reseal_device_fields,
)
from jingwu.service.community_devices.sweep import sweep_offline
from jingwu.service.dispatching import DispatchService
from jingwu.store import tables as t
from jingwu.store.db import read_transaction
from jingwu.store.fieldcrypt import KeyRing


class CommunityDeviceService:
    """Community devices (alarm columns, door readers, vehicle gates) for the edges: the API, the
    command line, the MQTT loop (:meth:`handle`) and the API's timer (:meth:`sweep_offline`)."""

    def __init__(
        self,
        engine: Engine,
        dispatch: DispatchService,
        keys: KeyRing,
        *,
        max_snap_distance_m: float = 250.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.dispatch = dispatch
        self.keys = keys  # what the secrets and gate plates are sealed and indexed with
        self.clock = clock
        self.registry = DeviceRegistry(
            engine, dispatch, keys, max_snap_distance_m=max_snap_distance_m, clock=clock, monotonic=monotonic
        )
        self.counters = Counters(started_at=clock())
        self.link = LinkState()
        self.drop_log = DropLog(monotonic)
        self.alarms = AlarmPresses(
            dispatch, self.registry, clock=clock, max_snap_distance_m=max_snap_distance_m
        )
        self.messages = MessageHandler(
            engine, dispatch, keys, self.registry, self.alarms, self.counters, self.drop_log, clock=clock
        )

    # ------------------------------------------------------------ registry

    def register(
        self, new: NewDevice, *, actor: str | None, source: str | None
    ) -> tuple[CommunityDevice, str]:
        """See :meth:`DeviceRegistry.register`: the device, and its secret, shown once."""
        return self.registry.register(new, actor=actor, source=source)

    def issue_secret(self, device_id: str, *, actor: str | None, source: str | None) -> str:
        """See :meth:`DeviceRegistry.issue_secret`: the old secret stops working at once."""
        return self.registry.issue_secret(device_id, actor=actor, source=source)

    def get(self, device_id: str) -> CommunityDevice:
        return self.registry.get(device_id)

    def list_devices(
        self, *, station_ids: Collection[str] | None = None, kind: DeviceKind | None = None
    ) -> list[CommunityDevice]:
        return self.registry.list_devices(station_ids=station_ids, kind=kind)

    def access_events(
        self,
        device_id: str,
        *,
        actor: str,
        reason: str,
        source: str | None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[AccessEvent]:
        """A door's or gate's passages, newest first; the look is audited (:mod:`.access`)."""
        return read_access_events(
            self.engine,
            device_id,
            clock=self.clock,
            actor=actor,
            reason=reason,
            source=source,
            limit=limit,
            before_id=before_id,
        )

    # ------------------------------------------------------------ messages and silence

    def handle(self, topic: str, payload: bytes) -> Drop | None:
        """One message from the broker: None when accepted, else why it was dropped; never raises
        for anything a device sends (:meth:`MessageHandler.handle`)."""
        return self.messages.handle(topic, payload)

    def sweep_offline(self) -> int:
        """Take offline the devices that went silent (:func:`.sweep.sweep_offline`)."""
        return sweep_offline(self.engine, self.dispatch, self.registry, now=self.clock())

    def health(self) -> dict[str, Any]:
        link = self.link
        with read_transaction(self.engine) as conn:
            registered = conn.execute(select(func.count()).select_from(t.community_devices)).scalar_one()
        return {
            "enabled": link.enabled,
            "broker": link.broker,
            "subscription": link.subscription,
            "connected": link.connected,
            "connected_since": link.connected_since.isoformat() if link.connected_since else None,
            "reconnects": link.reconnects,
            "last_error": link.last_error,
            "devices_registered": int(registered),
            "messages": self.counters.snapshot(),
        }


__all__ = [
    "ADDRESS_MAX_CHARS",
    "AccessEvent",
    "CommunityDeviceService",
    "Counters",
    "DeviceRegistry",
    "LinkState",
    "NewDevice",
    "check_device_keys",
    "device_from_row",
    "device_secret_context",
    "device_view",
    "new_device_secret",
    "reseal_device_fields",
]
