"""What a device's message does (:meth:`MessageHandler.handle`, called by the MQTT loop for each
one): the frame is read (:mod:`jingwu.devices.protocol`), its signature verified with the
device's secret, its counter claimed against replays in the same transaction as its effect:

- an alarm-column press opens an incident or notes a repeat (:mod:`.alarms`);
- a door or gate passage is kept as an access event (:mod:`.access`);
- any message marks the device online (``device.online`` when it was not).

Whatever is wrong with a message, it is counted by reason, logged (:class:`.counters.DropLog`)
and dropped; nothing a device sends raises out of ``handle``. A message that changes no state (a
heartbeat of a device already online, an access event) takes a shorter transaction of its own
and publishes nothing; the others go through :meth:`DispatchService.commit`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, update

from jingwu.devices.protocol import (
    AccessReport,
    Drop,
    Frame,
    Rejected,
    check_fresh,
    check_kind,
    decode_access,
    decode_alarm,
    decode_heartbeat,
    read_frame,
    verify,
)
from jingwu.domain.devices import CommunityDevice, MessageKind
from jingwu.domain.rules import Decision
from jingwu.service.community_devices.access import insert_access
from jingwu.service.community_devices.alarms import AlarmPresses
from jingwu.service.community_devices.claim import Rekeyed, claim, counter_values, online_event
from jingwu.service.community_devices.counters import Counters, DropLog
from jingwu.service.community_devices.registry import DeviceRegistry, RegistryEntry, by_id, device_from_row
from jingwu.service.dispatching import DispatchService
from jingwu.store import tables as t
from jingwu.store.db import write_transaction
from jingwu.store.faults import is_transient
from jingwu.store.fieldcrypt import KeyRing

log = logging.getLogger(__name__)

# A message whose secret turns out replaced is checked again with the row's; this many times at
# most, should new secrets follow each other while it is handled.
REKEYED_RETRIES = 3
# A message whose handling meets a transient database fault (a lock held a moment too long, a
# connection dropped, a failover) is tried again after these pauses before it is dropped as
# failed: under two seconds in all, so the message is still fresh, and the subscriber (which
# handles messages one at a time) is not held up for long when the database is really down.
HANDLE_RETRY_DELAYS_S = (0.2, 0.5, 1.0)


class MessageHandler:
    def __init__(
        self,
        engine: Engine,
        dispatch: DispatchService,
        keys: KeyRing,
        registry: DeviceRegistry,
        alarms: AlarmPresses,
        counters: Counters,
        drop_log: DropLog,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.dispatch = dispatch
        self.keys = keys
        self.registry = registry
        self.alarms = alarms
        self.counters = counters
        self.drop_log = drop_log
        self.clock = clock

    def handle(self, topic: str, payload: bytes) -> Drop | None:
        """Act on one message from the broker. Returns None when it was accepted, else why it was
        dropped. Never raises for anything a device can send. A transient database fault is
        tried again (HANDLE_RETRY_DELAYS_S; the message must still be fresh then); a fault of
        ours that stays (the database gone) is counted as ``failed`` and logged like the other
        drops, a few lines a minute, with a traceback on the first."""
        received = self.clock()
        now = received
        for attempt, delay in enumerate((*HANDLE_RETRY_DELAYS_S, None), start=1):
            try:
                accepted = self._handle(topic, payload, now)
            except Rejected as refusal:
                self.counters.count(now=received, dropped=refusal.reason)
                self.drop_log.log(refusal, topic)
                return refusal.reason
            except Exception as exc:
                if delay is not None and is_transient(exc):
                    # Every try's changes were rolled back: the message is handled afresh.
                    log.debug("device message on %r: try %d met %s; again", topic[:120], attempt, exc)
                    time.sleep(delay)
                    now = self.clock()
                    continue
                self.counters.count(now=received, dropped=Drop.FAILED)
                tries = f" ({attempt} tries)" if attempt > 1 else ""
                self.drop_log.log(Rejected(Drop.FAILED, fault_summary(exc) + tries), topic, fault=exc)
                return Drop.FAILED
            self.counters.count(now=received, accepted=accepted)
            return None
        raise AssertionError("unreachable: the last try has no delay")

    def _handle(self, topic: str, payload: bytes, now: datetime) -> str:
        frame = read_frame(topic, payload)
        entry = self.registry.entry(frame.device_id)
        if entry is None:
            raise Rejected(Drop.UNKNOWN_DEVICE, f"no device {frame.device_id!r} is registered")
        try:
            verify(frame, entry.secret)
        except Rejected:
            # Re-keyed by another server process since we loaded it? Look once more.
            entry = self.registry.entry(frame.device_id, fresh=True)
            if entry is None:
                raise Rejected(Drop.UNKNOWN_DEVICE, f"no device {frame.device_id!r} is registered") from None
            verify(frame, entry.secret)
        for _ in range(REKEYED_RETRIES):
            try:
                return self._act(frame, entry, now)
            except Rekeyed:
                # The secret we verified with is not the row's any more: another process issued a
                # new one since we loaded ours (our registry trails by up to REGISTRY_REFRESH_S).
                # Only the row's secret counts; a message signed with the old one is refused, and
                # so is an old message replayed into the counter the new secret reset. Reloaded
                # at once, not rate-limited: this happens once per new secret and process.
                entry = self.registry.reload(frame.device_id)
                if entry is None:
                    raise Rejected(Drop.UNKNOWN_DEVICE, f"device {frame.device_id!r} was removed") from None
                try:
                    verify(frame, entry.secret)
                except Rejected:
                    raise Rejected(
                        Drop.UNAUTHENTICATED, "signed with a secret that has been replaced"
                    ) from None
                # The same secret, re-sealed under a new field key (jingwu keys rotate): go on.
        raise Rejected(Drop.UNAUTHENTICATED, "the device's secret changed again while this was handled")

    def _act(self, frame: Frame, entry: RegistryEntry, now: datetime) -> str:
        """What a verified message does; raises :class:`Rekeyed` (having changed nothing) when
        the row no longer holds the secret ``entry`` verified it with."""
        device = entry.device
        check_kind(frame, device.kind)
        check_fresh(frame, now)
        if frame.kind is MessageKind.ALARM:
            press = decode_alarm(frame)
            if press.test:
                self._seen(frame, device, entry.sealed)
                log.info("device %s: test press (no incident)", device.id)
                return "alarm_test"
            self.alarms.press(frame, device, entry.sealed, press)
        elif frame.kind is MessageKind.ACCESS:
            self._seen(frame, device, entry.sealed, access=decode_access(frame, device.kind))
        else:
            decode_heartbeat(frame)
            self._seen(frame, device, entry.sealed)
        return str(frame.kind)

    def _seen(
        self, frame: Frame, device: CommunityDevice, sealed: str, *, access: AccessReport | None = None
    ) -> None:
        """A heartbeat, an access event or a test press: the device is alive (and the passage kept).
        ``sealed``: the secret the message was verified with, as stored (see :func:`.claim.claim`)."""
        c = t.community_devices.c
        if device.online:
            # The common case, with no event to publish: one short transaction, outside the commit
            # lock; the counters are written only if nobody changed them since they were read.
            now = self.clock()
            with write_transaction(self.engine) as conn:
                row = conn.execute(by_id(frame.device_id)).first()
                if row is not None and row.secret != sealed:
                    raise Rekeyed(frame.device_id)
                current = device_from_row(row) if row is not None else None
                if current is not None and current.online:
                    counters = counter_values(current, frame)
                    same = (
                        c.last_seq.is_(None) if current.last_seq is None else c.last_seq == current.last_seq
                    )
                    claimed = conn.execute(
                        update(t.community_devices)
                        .where(
                            and_(
                                c.id == frame.device_id,
                                c.online.is_(True),
                                same,
                                c.seq_window == current.seq_window,
                                # Not re-keyed since the read (PostgreSQL does not lock it).
                                c.secret == sealed,
                            )
                        )
                        .values(**counters, last_seen=now)
                    ).rowcount
                    if claimed:
                        if access is not None:
                            insert_access(conn, self.keys, frame.device_id, access, now)
                        self.registry.remember(replace(current, **counters, last_seen=now))
                        return
        # Offline, never seen, or changed under us: the full path, with the row locked.
        seen: list[CommunityDevice] = []

        def decide(conn: Connection, now: datetime) -> Decision:
            current, counters = claim(conn, frame, sealed)
            conn.execute(
                update(t.community_devices)
                .where(c.id == frame.device_id)
                .values(**counters, last_seen=now, online=True)
            )
            if access is not None:
                insert_access(conn, self.keys, frame.device_id, access, now)
            seen[:] = [replace(current, **counters, last_seen=now, online=True)]
            return Decision(events=() if current.online else (online_event(current, now),))

        self.dispatch.commit(decide)
        self.registry.remember(seen[0])


def fault_summary(exc: BaseException) -> str:
    """One line for the log: the exception and what it was raised from, each by its first line
    (a database error's next lines hold the statement and its parameters)."""

    def first_line(e: BaseException) -> str:
        lines = str(e).strip().splitlines()
        return f"{type(e).__name__}: {lines[0][:200]}" if lines else type(e).__name__

    cause = exc.__cause__
    return first_line(exc) + (f" (from {first_line(cause)})" if cause is not None else "")


__all__ = ["HANDLE_RETRY_DELAYS_S", "REKEYED_RETRIES", "MessageHandler", "fault_summary"]
