"""Community devices: the registry, what their messages do, and who went silent.

* **Registry.** A device is registered with its kind, community and place (checked against the
  roads: a car must be able to get there) and gets a secret, shown once, that signs its
  messages. The secret is stored sealed with the field keys, bound to the device's row.
* **Messages** (:meth:`DeviceService.handle`, called by the MQTT subscriber for each one): the
  frame is checked (:mod:`jingwu.devices.protocol`), its signature verified with the device's
  secret, its counter claimed against replays in the same transaction as its effect:

  - an alarm-column press opens a priority-1 incident at the column's registered place (source
    ``alarm_device``, the device as its actor); a press within two minutes of the previous one,
    while that incident is open, is a note on it instead;
  - a door or gate passage is kept as an access event (credential and plate indexed and masked);
  - any message marks the device online (``device.online`` when it was not).

  Whatever is wrong with a message, it is counted by reason, logged (at most a few lines a
  minute per reason) and dropped; nothing a device sends raises out of ``handle``.
* **Silence** (:meth:`DeviceService.sweep_offline`, from the API's timer): a device that missed
  three heartbeat intervals goes offline with a ``device.offline`` event, an alert for an alarm
  column.

Events go through :meth:`DispatchService.commit`, so they are logged and published in order with
every other event; a message that changes no state (a heartbeat of a device already online, an
access event) takes a shorter transaction of its own and publishes nothing.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from jingwu.devices.protocol import (
    AccessReport,
    AlarmPress,
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
from jingwu.domain import rules
from jingwu.domain.devices import (
    ALARM_PRIORITY,
    ALARM_TYPE_CODE,
    HEARTBEAT_MIN_S,
    MISSED_HEARTBEATS,
    CommunityDevice,
    DeviceKind,
    MessageKind,
    accept_seq,
    alerts_when_silent,
    check_community,
    check_device_id,
    check_heartbeat_s,
    device_actor,
    is_repeat_press,
    is_silent,
    mask_plate,
    mask_reference,
)
from jingwu.domain.events import DomainEvent, EventType
from jingwu.domain.geo import GeoPoint
from jingwu.domain.rules import Decision
from jingwu.domain.status import SourceChannel
from jingwu.errors import Conflict, JingwuError, NotFound, SystemFault, ValidationFailed
from jingwu.routing import RoadPoint
from jingwu.service import audit
from jingwu.service.dispatching import DispatchService
from jingwu.service.idempotency import record_claim
from jingwu.service.ids import new_incident_id
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.faults import is_transient
from jingwu.store.fieldcrypt import FieldCryptError, KeyRing

log = logging.getLogger(__name__)

SECRET_CONTEXT = "community_devices.secret"
SECRET_PREFIX = "dsk_"
PLATE_CONTEXT = "access_events.plate"
CREDENTIAL_INDEX_KIND = "access_credential"
PLATE_INDEX_KIND = "plate"
ADDRESS_MAX_CHARS = 500
# The in-memory registry (ids, kinds, secrets) is reloaded this often, so that a device registered
# or re-keyed by another server process is known here soon; an id or a signature that does not
# match triggers a reload of that device at once, but at most this often per device.
REGISTRY_REFRESH_S = 30.0
RELOAD_MIN_INTERVAL_S = 5.0
# A message whose secret turns out replaced is checked again with the row's; this many times at
# most, should new secrets follow each other while it is handled.
REKEYED_RETRIES = 3
# At most this many log lines a minute for each reason a message is dropped (a misconfigured
# device sending ten messages a second must not bury everything else in the log).
DROP_LOG_LINES_PER_MINUTE = 10
# A message whose handling meets a transient database fault (a lock held a moment too long, a
# connection dropped, a failover) is tried again after these pauses before it is dropped as
# failed: under two seconds in all, so the message is still fresh, and the subscriber (which
# handles messages one at a time) is not held up for long when the database is really down.
HANDLE_RETRY_DELAYS_S = (0.2, 0.5, 1.0)
ACCESS_EVENTS_MAX = 500


def new_device_secret() -> str:
    """256 random bits, URL-safe: ``dsk_`` and 43 characters. The HMAC key is this text's bytes."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def device_secret_context(device_id: str) -> str:
    """The encryption context of a device's sealed secret: bound to its row, so that a sealed
    secret copied onto another device's row does not open there."""
    return f"{SECRET_CONTEXT}:{device_id}"


def reseal_device_fields(engine: Engine, keys: KeyRing) -> int:
    """Re-seal device secrets and gate plates under the current field key, and bring the plates'
    blind indexes up to date (``jingwu keys rotate``). Returns how many values changed. (The
    credential indexes cannot be rebuilt: the credentials themselves are not kept. They stay
    valid as long as the blind-index key, the first of the key file, does.)"""
    changed = 0
    c, a = t.community_devices.c, t.access_events.c
    with write_transaction(engine) as conn:
        for device in conn.execute(select(c.id, c.secret)).all():
            if keys.needs_rotation(device.secret):
                sealed = keys.rotate(device.secret, context=device_secret_context(device.id))
                conn.execute(update(t.community_devices).where(c.id == device.id).values(secret=sealed))
                changed += 1
    after = 0
    while True:
        with write_transaction(engine) as conn:
            rows = conn.execute(
                select(a.id, a.plate, a.plate_index)
                .where(and_(a.id > after, a.plate.is_not(None)))
                .order_by(a.id)
                .limit(500)
            ).all()
            for row in rows:
                plate = keys.decrypt(row.plate, context=PLATE_CONTEXT)
                values: dict[str, Any] = {}
                if keys.needs_rotation(row.plate):
                    values["plate"] = keys.encrypt(plate, context=PLATE_CONTEXT)
                index = keys.blind_index(plate, kind=PLATE_INDEX_KIND)
                if row.plate_index != index:
                    values["plate_index"] = index
                if values:
                    conn.execute(update(t.access_events).where(a.id == row.id).values(**values))
                    changed += 1
        if len(rows) < 500:
            return changed
        after = rows[-1].id


def check_device_keys(engine: Engine, keys: KeyRing) -> None:
    """Refuse keys that cannot open the newest device secret (start-up, with the other sealed
    columns: see service.personal_data.check_field_keys)."""
    c = t.community_devices.c
    with read_transaction(engine) as conn:
        row = conn.execute(select(c.id, c.secret).order_by(c.registered_at.desc()).limit(1)).first()
    if row is None:
        return
    try:
        keys.decrypt(row.secret, context=device_secret_context(row.id))
    except FieldCryptError as exc:
        raise FieldCryptError(
            f"the field keys cannot open the secret of community device {row.id} ({exc}); set "
            "JINGWU_FIELD_KEY_FILE / JINGWU_FIELD_KEYS to the keys it was sealed with"
        ) from None


@dataclass(frozen=True, slots=True)
class NewDevice:
    id: str
    kind: DeviceKind
    community: str
    location: GeoPoint
    address: str | None = None
    heartbeat_s: int = 60


@dataclass(frozen=True, slots=True)
class AccessEvent:
    id: int
    device_id: str
    ts: datetime
    received_at: datetime
    kind: str
    direction: str
    credential_type: str
    credential_masked: str | None
    plate_masked: str | None
    result: str


@dataclass(slots=True)
class LinkState:
    """The subscriber's connection, for the health answer (per process)."""

    enabled: bool = False
    broker: str | None = None  # the URL without its password
    subscription: str | None = None
    connected: bool = False
    connected_since: datetime | None = None
    reconnects: int = 0
    last_error: str | None = None


@dataclass(slots=True)
class _Entry:
    device: CommunityDevice
    secret: str
    sealed: str  # the secret as stored: the claim checks the row still holds this one
    loaded_at: float


class _Rekeyed(Exception):
    """The device's row holds another secret than the one a message was verified with: another
    server process issued a new one after this process loaded it (or the field keys re-sealed it)."""


@dataclass(slots=True)
class _DropLog:
    window_start: float = 0.0
    lines: int = 0
    suppressed: int = 0


@dataclass(slots=True)
class Counters:
    """What this process's subscriber has seen since it started: thread-safe."""

    started_at: datetime
    received: int = 0
    accepted: Counter[str] = field(default_factory=Counter)  # by message kind
    dropped: Counter[str] = field(default_factory=Counter)  # by Drop reason
    last_message_at: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, *, now: datetime, accepted: str | None = None, dropped: Drop | None = None) -> None:
        with self._lock:
            self.received += 1
            self.last_message_at = now
            if accepted is not None:
                self.accepted[accepted] += 1
            if dropped is not None:
                self.dropped[str(dropped)] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "since": self.started_at.isoformat(),
                "received": self.received,
                "accepted": {str(k): self.accepted.get(str(k), 0) for k in MessageKind}
                | {"alarm_test": self.accepted.get("alarm_test", 0)},
                "dropped": {str(d): self.dropped.get(str(d), 0) for d in Drop},
                "last_message_at": self.last_message_at.isoformat() if self.last_message_at else None,
            }


def _by_id(device_id: str) -> Any:
    return select(t.community_devices).where(t.community_devices.c.id == device_id)


def device_from_row(row: Any) -> CommunityDevice:
    return CommunityDevice(
        id=row.id,
        kind=DeviceKind(row.kind),
        community=row.community,
        location=GeoPoint(row.lat, row.lon),
        station_id=row.station_id,
        heartbeat_s=row.heartbeat_s,
        registered_at=row.registered_at,
        registered_by=row.registered_by,
        address=row.address,
        online=bool(row.online),
        last_seen=row.last_seen,
        last_seq=row.last_seq,
        seq_window=row.seq_window or 0,
        alarm_incident_id=row.alarm_incident_id,
        alarm_pressed_at=row.alarm_pressed_at,
    )


def device_view(device: CommunityDevice) -> dict[str, Any]:
    """A device as the API and the live stream show it (never its secret)."""
    return {
        "id": device.id,
        "kind": str(device.kind),
        "community": device.community,
        "station_id": device.station_id,
        "location": {"lat": device.location.lat, "lon": device.location.lon},
        "address": device.address,
        "heartbeat_s": device.heartbeat_s,
        "state": device.state,
        "online": device.online,
        "last_seen": device.last_seen.isoformat() if device.last_seen else None,
        "alarm_incident_id": device.alarm_incident_id,
        "alarm_pressed_at": device.alarm_pressed_at.isoformat() if device.alarm_pressed_at else None,
        "registered_at": device.registered_at.isoformat(),
    }


def _access_from_row(row: Any) -> AccessEvent:
    return AccessEvent(
        id=row.id,
        device_id=row.device_id,
        ts=row.ts,
        received_at=row.received_at,
        kind=row.kind,
        direction=row.direction,
        credential_type=row.credential_type,
        credential_masked=row.credential_masked,
        plate_masked=row.plate_masked,
        result=row.result,
    )


class DeviceService:
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
        self.keys = keys
        self.max_snap_distance_m = max_snap_distance_m
        self.clock = clock
        self.monotonic = monotonic
        self.counters = Counters(started_at=clock())
        self.link = LinkState()
        self._lock = threading.Lock()
        self._registry: dict[str, _Entry] = {}
        self._registry_loaded_at = float("-inf")
        self._reloaded_at: dict[str, float] = {}
        self._drop_logs: dict[Drop, _DropLog] = {}

    # ------------------------------------------------------------ registry

    def register(
        self, new: NewDevice, *, actor: str | None, source: str | None
    ) -> tuple[CommunityDevice, str]:
        """Register a device; returns it and its secret (shown once: only a sealed copy is kept).

        The place must be within the snapping distance of a drivable road (422 ``off_road``): an
        alarm column may stand in a square or a courtyard, but a car must be able to get near."""
        device_id = check_device_id(new.id)
        community = check_community(new.community)
        heartbeat_s = check_heartbeat_s(new.heartbeat_s)
        address = " ".join((new.address or "").split()) or None
        if address is not None and len(address) > ADDRESS_MAX_CHARS:
            raise ValidationFailed(
                f"an address is at most {ADDRESS_MAX_CHARS} characters", code="bad_address"
            )
        self.dispatch.network.snap(new.location.lat, new.location.lon, self.max_snap_distance_m)
        station_id = self.dispatch.station_for(new.location)
        secret = new_device_secret()
        sealed = self._seal(device_id, secret)
        now = self.clock()
        device = CommunityDevice(
            id=device_id,
            kind=new.kind,
            community=community,
            location=new.location,
            station_id=station_id,
            heartbeat_s=heartbeat_s,
            registered_at=now,
            registered_by=actor,
            address=address,
        )
        try:
            with write_transaction(self.engine) as conn:
                conn.execute(
                    insert(t.community_devices).values(
                        id=device.id,
                        kind=str(device.kind),
                        community=device.community,
                        lat=device.location.lat,
                        lon=device.location.lon,
                        address=device.address,
                        station_id=device.station_id,
                        heartbeat_s=device.heartbeat_s,
                        secret=sealed,
                        online=False,
                        registered_at=now,
                        registered_by=actor,
                    )
                )
                audit.append(
                    conn,
                    ts=now,
                    action="device.registered",
                    actor=actor,
                    target=f"device:{device.id}",
                    source=source,
                    details={"kind": str(device.kind), "community": community, "station_id": station_id},
                )
                claim = record_claim(conn, now)
        except IntegrityError:
            raise Conflict(
                f"a device {device_id!r} is already registered", code="device_exists", device_id=device_id
            ) from None
        if claim is not None:
            claim.recorded = True
        with self._lock:
            self._registry[device.id] = _Entry(device, secret, sealed, self.monotonic())
        return device, secret

    def issue_secret(self, device_id: str, *, actor: str | None, source: str | None) -> str:
        """A new secret for a device (lost, leaked, a replaced controller); the old one stops
        working at once, and the message counter starts again (old messages no longer verify).

        At once in every server process, not only this one: the others may still hold the old
        secret in their registries, but each message's claim checks that the row still holds the
        secret it was verified with (see :meth:`_claim`), so a message signed with the old one,
        or an old message replayed into the reset counter, is refused there too."""
        secret = new_device_secret()
        now = self.clock()
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(t.community_devices)
                .where(t.community_devices.c.id == device_id)
                .values(secret=self._seal(device_id, secret), last_seq=None, seq_window=0)
            )
            if done.rowcount == 0:
                raise NotFound(f"no device {device_id!r}", code="device_not_found", device_id=device_id)
            audit.append(
                conn,
                ts=now,
                action="device.secret_issued",
                actor=actor,
                target=f"device:{device_id}",
                source=source,
            )
            claim = record_claim(conn, now)
        if claim is not None:
            claim.recorded = True
        self._forget(device_id)
        return secret

    def get(self, device_id: str) -> CommunityDevice:
        with read_transaction(self.engine) as conn:
            row = conn.execute(_by_id(device_id)).first()
        if row is None:
            raise NotFound(f"no device {device_id!r}", code="device_not_found", device_id=device_id)
        return device_from_row(row)

    def list_devices(
        self, *, station_ids: Collection[str] | None = None, kind: DeviceKind | None = None
    ) -> list[CommunityDevice]:
        """Devices by community and id; narrowed to ``station_ids`` (None: all, with those
        outside every station)."""
        c = t.community_devices.c
        query = select(t.community_devices).order_by(c.community, c.id)
        if station_ids is not None:
            query = query.where(c.station_id.in_(sorted(station_ids)))
        if kind is not None:
            query = query.where(c.kind == str(kind))
        with read_transaction(self.engine) as conn:
            return [device_from_row(r) for r in conn.execute(query)]

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
        """A door's or gate's passages, newest first: who came and went is personal data, so the
        look is written to the audit log, with its reason, in the transaction that reads it."""
        c = t.access_events.c
        query = select(t.access_events).where(c.device_id == device_id)
        if before_id is not None:
            query = query.where(c.id < before_id)
        query = query.order_by(c.id.desc()).limit(min(max(limit, 1), ACCESS_EVENTS_MAX))
        with write_transaction(self.engine) as conn:
            exists = conn.execute(
                select(t.community_devices.c.id).where(t.community_devices.c.id == device_id)
            ).first()
            if exists is None:
                raise NotFound(f"no device {device_id!r}", code="device_not_found", device_id=device_id)
            found = [_access_from_row(r) for r in conn.execute(query)]
            audit.append(
                conn,
                ts=self.clock(),
                action="access_events.read",
                actor=actor,
                target=f"device:{device_id}",
                source=source,
                reason=reason,
                details={"events": len(found), "before_id": before_id},
            )
        return found

    def _seal(self, device_id: str, secret: str) -> str:
        return self.keys.encrypt(secret, context=device_secret_context(device_id))

    def _open(self, device_id: str, sealed: str) -> str:
        try:
            return self.keys.decrypt(sealed, context=device_secret_context(device_id))
        except FieldCryptError as exc:
            raise SystemFault(
                f"the secret of device {device_id} could not be decrypted; check the field keys",
                code="field_key_error",
            ) from exc

    # ------------------------------------------------------------ the in-memory registry

    def load_registry(self) -> None:
        """(Re)load every device and its secret (start-up, then every REGISTRY_REFRESH_S)."""
        with read_transaction(self.engine) as conn:
            rows = conn.execute(select(t.community_devices)).all()
        loaded_at = self.monotonic()
        registry: dict[str, _Entry] = {}
        for row in rows:
            try:
                registry[row.id] = _Entry(
                    device_from_row(row), self._open(row.id, row.secret), row.secret, loaded_at
                )
            except SystemFault:
                log.error("device %s: its secret cannot be opened with the field keys; ignored", row.id)
        with self._lock:
            self._registry = registry
            self._registry_loaded_at = loaded_at

    def _entry(self, device_id: str, *, fresh: bool = False) -> _Entry | None:
        now = self.monotonic()
        if now - self._registry_loaded_at > REGISTRY_REFRESH_S:
            self.load_registry()
        with self._lock:
            entry = self._registry.get(device_id)
            last = self._reloaded_at.get(device_id, float("-inf"))
        stale = entry is None or (fresh and entry.loaded_at < now)
        if stale and now - last >= RELOAD_MIN_INTERVAL_S:
            with self._lock:
                self._reloaded_at[device_id] = now
                if len(self._reloaded_at) > 10_000:  # ids made up by a flood must not grow it forever
                    self._reloaded_at.clear()
            entry = self._reload(device_id)
        return entry

    def _reload(self, device_id: str) -> _Entry | None:
        with read_transaction(self.engine) as conn:
            row = conn.execute(_by_id(device_id)).first()
        entry = None
        if row is not None:
            entry = _Entry(device_from_row(row), self._open(row.id, row.secret), row.secret, self.monotonic())
        with self._lock:
            if entry is None:
                self._registry.pop(device_id, None)
            else:
                self._registry[device_id] = entry
        return entry

    def _forget(self, device_id: str) -> None:
        with self._lock:
            self._registry.pop(device_id, None)
            self._reloaded_at.pop(device_id, None)

    def _remember(self, device: CommunityDevice) -> None:
        with self._lock:
            entry = self._registry.get(device.id)
            if entry is not None:
                entry.device = device

    # ------------------------------------------------------------ messages

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
                self._log_drop(refusal, topic)
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
                self._log_drop(Rejected(Drop.FAILED, _fault_summary(exc) + tries), topic, fault=exc)
                return Drop.FAILED
            self.counters.count(now=received, accepted=accepted)
            return None
        raise AssertionError("unreachable: the last try has no delay")

    def _log_drop(self, refusal: Rejected, topic: str, *, fault: BaseException | None = None) -> None:
        """A few lines a minute per reason; the rest are counted and summed up in the next line.
        A fault of ours (``failed``) is an error, with its traceback on the first line of each
        minute only: with the database down, every message fails the same way."""
        now = self.monotonic()
        with self._lock:
            state = self._drop_logs.setdefault(refusal.reason, _DropLog(window_start=now))
            if now - state.window_start >= 60:
                state.window_start, state.lines = now, 0
            if state.lines >= DROP_LOG_LINES_PER_MINUTE:
                state.suppressed += 1
                return
            first = state.lines == 0
            state.lines += 1
            suppressed, state.suppressed = state.suppressed, 0
        if refusal.reason is Drop.FAILED:
            level = logging.ERROR
        elif refusal.reason is Drop.REPLAYED:
            level = logging.INFO
        else:
            level = logging.WARNING
        log.log(
            level,
            "device message dropped (%s) on %r: %s%s",
            refusal.reason,
            topic[:120],
            refusal.detail,
            f" ({suppressed} more {refusal.reason} since the last line)" if suppressed else "",
            exc_info=fault if first else None,
        )

    def _handle(self, topic: str, payload: bytes, now: datetime) -> str:
        frame = read_frame(topic, payload)
        entry = self._entry(frame.device_id)
        if entry is None:
            raise Rejected(Drop.UNKNOWN_DEVICE, f"no device {frame.device_id!r} is registered")
        try:
            verify(frame, entry.secret)
        except Rejected:
            # Re-keyed by another server process since we loaded it? Look once more.
            entry = self._entry(frame.device_id, fresh=True)
            if entry is None:
                raise Rejected(Drop.UNKNOWN_DEVICE, f"no device {frame.device_id!r} is registered") from None
            verify(frame, entry.secret)
        for _ in range(REKEYED_RETRIES):
            try:
                return self._act(frame, entry, now)
            except _Rekeyed:
                # The secret we verified with is not the row's any more: another process issued a
                # new one since we loaded ours (our registry trails by up to REGISTRY_REFRESH_S).
                # Only the row's secret counts; a message signed with the old one is refused, and
                # so is an old message replayed into the counter the new secret reset. Reloaded
                # at once, not rate-limited: this happens once per new secret and process.
                entry = self._reload(frame.device_id)
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

    def _act(self, frame: Frame, entry: _Entry, now: datetime) -> str:
        """What a verified message does; raises :class:`_Rekeyed` (having changed nothing) when
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
            self._alarm(frame, device, entry.sealed, press)
        elif frame.kind is MessageKind.ACCESS:
            self._seen(frame, device, entry.sealed, access=decode_access(frame, device.kind))
        else:
            decode_heartbeat(frame)
            self._seen(frame, device, entry.sealed)
        return str(frame.kind)

    def _claim(self, conn: Connection, frame: Frame, sealed: str) -> tuple[CommunityDevice, dict[str, Any]]:
        """The device's row, locked, and the counter values that accept this message (a
        counter seen before is a replay). The row must still hold ``sealed``, the secret the
        message was verified with (else :class:`_Rekeyed`): the row is locked (FOR UPDATE; a
        SQLite write transaction begins IMMEDIATE), so no new secret can land between this check
        and the caller's UPDATE."""
        row = conn.execute(_by_id(frame.device_id).with_for_update()).first()
        if row is None:
            raise Rejected(Drop.UNKNOWN_DEVICE, f"device {frame.device_id!r} was removed")
        if row.secret != sealed:
            raise _Rekeyed(frame.device_id)
        device = device_from_row(row)
        return device, _counter_values(device, frame)

    def _online_event(self, device: CommunityDevice, now: datetime) -> DomainEvent:
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

    def _seen(
        self, frame: Frame, device: CommunityDevice, sealed: str, *, access: AccessReport | None = None
    ) -> None:
        """A heartbeat, an access event or a test press: the device is alive (and the passage kept).
        ``sealed``: the secret the message was verified with, as stored (see :meth:`_claim`)."""
        c = t.community_devices.c
        if device.online:
            # The common case, with no event to publish: one short transaction, outside the commit
            # lock; the counters are written only if nobody changed them since they were read.
            now = self.clock()
            with write_transaction(self.engine) as conn:
                row = conn.execute(_by_id(frame.device_id)).first()
                if row is not None and row.secret != sealed:
                    raise _Rekeyed(frame.device_id)
                current = device_from_row(row) if row is not None else None
                if current is not None and current.online:
                    counters = _counter_values(current, frame)
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
                            self._insert_access(conn, frame.device_id, access, now)
                        self._remember(replace(current, **counters, last_seen=now))
                        return
        # Offline, never seen, or changed under us: the full path, with the row locked.
        seen: list[CommunityDevice] = []

        def decide(conn: Connection, now: datetime) -> Decision:
            current, counters = self._claim(conn, frame, sealed)
            conn.execute(
                update(t.community_devices)
                .where(c.id == frame.device_id)
                .values(**counters, last_seen=now, online=True)
            )
            if access is not None:
                self._insert_access(conn, frame.device_id, access, now)
            seen[:] = [replace(current, **counters, last_seen=now, online=True)]
            return Decision(events=() if current.online else (self._online_event(current, now),))

        self.dispatch.commit(decide)
        self._remember(seen[0])

    def _insert_access(self, conn: Connection, device_id: str, report: AccessReport, now: datetime) -> None:
        ref, plate = report.ref, report.plate
        conn.execute(
            insert(t.access_events).values(
                device_id=device_id,
                ts=report.ts,
                received_at=now,
                seq=report.seq,
                kind=str(report.access),
                direction=str(report.direction),
                credential_type=str(report.credential),
                credential_index=self.keys.blind_index(ref, kind=CREDENTIAL_INDEX_KIND) if ref else None,
                credential_masked=mask_reference(ref) if ref else None,
                plate=self.keys.encrypt(plate, context=PLATE_CONTEXT) if plate else None,
                plate_index=self.keys.blind_index(plate, kind=PLATE_INDEX_KIND) if plate else None,
                plate_masked=mask_plate(plate) if plate else None,
                result=str(report.result),
            )
        )

    def _alarm(self, frame: Frame, device: CommunityDevice, sealed: str, press: AlarmPress) -> None:
        """A press: a new priority-1 incident at the column, or a note on the one it opened."""
        location = device.location
        road_point: RoadPoint | None
        try:
            road_point = self.dispatch.network.snap(location.lat, location.lon, self.max_snap_distance_m)
        except JingwuError as exc:
            # Checked at registration; a new road graph may have moved the roads. The call is
            # opened all the same: recommendation snaps it with its own, wider bound.
            log.error(
                "alarm column %s stands off the roads now (%s); opening the call anyway", device.id, exc
            )
            road_point = None
        station_id = self.dispatch.station_for(location)
        incident_id = new_incident_id(self.clock())
        actor = device_actor(device.id)
        c = t.community_devices.c
        outcome: list[tuple[CommunityDevice, bool]] = []

        def decide(conn: Connection, now: datetime) -> Decision:
            current, counters = self._claim(conn, frame, sealed)
            events: list[DomainEvent] = [] if current.online else [self._online_event(current, now)]
            incident_open = False
            if current.alarm_incident_id is not None:
                try:
                    # Locked: a close committing meanwhile is either seen here (a new call opens)
                    # or waits for this note (PostgreSQL; SQLite writes one at a time anyway).
                    noted = repo.get_incident(conn, current.alarm_incident_id, for_update=True)
                    incident_open = noted.is_open
                except NotFound:
                    incident_open = False
            values: dict[str, Any] = {**counters, "last_seen": now, "online": True}
            values["alarm_pressed_at"] = now
            incidents: tuple[Any, ...] = ()
            if is_repeat_press(current, now=now, incident_open=incident_open):
                target = current.alarm_incident_id
                assert target is not None
                text = "报警柱再次按下 / the alarm column was pressed again"
                conn.execute(insert(t.notes).values(incident_id=target, author=actor, ts=now, text=text))
                events.append(
                    DomainEvent(
                        EventType.INCIDENT_NOTE_ADDED,
                        now,
                        incident_id=target,
                        actor=actor,
                        data={"text": text},
                    )
                )
                created = False
            else:
                opened = rules.open_incident(
                    incident_id=incident_id,
                    now=now,
                    type_code=ALARM_TYPE_CODE,
                    priority=ALARM_PRIORITY,
                    location=location,
                    source=SourceChannel.ALARM_DEVICE,
                    address=current.address,
                    description=_alarm_description(current, press, now),
                    station_id=station_id,
                    actor=actor,
                )
                incidents = opened.incidents
                events.extend(opened.events)
                values["alarm_incident_id"] = incident_id
                created = True
            conn.execute(update(t.community_devices).where(c.id == current.id).values(**values))
            after = replace(
                current,
                **counters,
                last_seen=now,
                online=True,
                alarm_pressed_at=now,
                alarm_incident_id=values.get("alarm_incident_id", current.alarm_incident_id),
            )
            outcome[:] = [(after, created)]
            return Decision(incidents=incidents, events=tuple(events))

        self.dispatch.commit(decide, new_incident_ids=frozenset({incident_id}))
        after, created = outcome[0]
        self._remember(after)
        if created:
            if road_point is not None:
                self.dispatch.board.remember_incident(incident_id, location, road_point)
            log.info("alarm column %s pressed: incident %s opened", device.id, incident_id)
        else:
            log.info("alarm column %s pressed again: noted on %s", device.id, after.alarm_incident_id)

    # ------------------------------------------------------------ silence

    def sweep_offline(self) -> int:
        """Mark offline every online device that has missed its heartbeats; one
        ``device.offline`` event each (an alert for alarm columns). Safe to run from every server
        process at once: each device goes offline once."""
        now = self.clock()
        c = t.community_devices.c
        earliest = now - timedelta(seconds=HEARTBEAT_MIN_S * MISSED_HEARTBEATS)
        with read_transaction(self.engine) as conn:
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

        done = self.dispatch.commit(decide)
        for device in gone:
            self._remember(device)
            level = logging.WARNING if alerts_when_silent(device.kind) else logging.INFO
            log.log(
                level, "device %s (%s, %s) went silent: offline", device.id, device.kind, device.community
            )
        return len(done.events)

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


def _counter_values(device: CommunityDevice, frame: Frame) -> dict[str, Any]:
    accepted = accept_seq(device.last_seq, device.seq_window, frame.seq)
    if accepted is None:
        raise Rejected(
            Drop.REPLAYED, f"seq {frame.seq} was seen before (or is too old; highest {device.last_seq})"
        )
    return {"last_seq": accepted[0], "seq_window": accepted[1]}


def _fault_summary(exc: BaseException) -> str:
    """One line for the log: the exception and what it was raised from, each by its first line
    (a database error's next lines hold the statement and its parameters)."""

    def first_line(e: BaseException) -> str:
        lines = str(e).strip().splitlines()
        return f"{type(e).__name__}: {lines[0][:200]}" if lines else type(e).__name__

    cause = exc.__cause__
    return first_line(exc) + (f" (from {first_line(cause)})" if cause is not None else "")


def _alarm_description(device: CommunityDevice, press: AlarmPress, now: datetime) -> str:
    text = (
        f"一键报警柱 {device.id}（{device.community}）被按下 / "
        f"alarm column {device.id} ({device.community}) pressed"
    )
    delay = (now - press.ts).total_seconds()
    if delay > 30:
        # Held by the broker or the device through an outage: say when it really happened.
        text += f"; 按下时间 / pressed at {press.ts.isoformat(timespec='seconds')}"
    return text


__all__ = [
    "AccessEvent",
    "Counters",
    "DeviceService",
    "LinkState",
    "NewDevice",
    "check_device_keys",
    "device_from_row",
    "device_secret_context",
    "device_view",
    "new_device_secret",
    "reseal_device_fields",
]
