"""The registry of community devices: registering one (its place checked against the roads, its
secret shown once and stored sealed), a new secret, reading them back; and the in-memory copy the
message handler verifies signatures against, with its reload rules.

The in-memory copy (ids, kinds, secrets) is reloaded every :data:`REGISTRY_REFRESH_S`, so that a
device registered or re-keyed by another server process is known here soon; an id or a signature
that does not match reloads that device at once, but at most every :data:`RELOAD_MIN_INTERVAL_S`
per device. The claim of each message checks the row's secret anyway (:mod:`.claim`), so a copy
that trails never lets an old secret through."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from jingwu.domain.devices import (
    CommunityDevice,
    DeviceKind,
    check_community,
    check_device_id,
    check_heartbeat_s,
)
from jingwu.domain.geo import GeoPoint
from jingwu.errors import Conflict, NotFound, SystemFault, ValidationFailed
from jingwu.service import audit
from jingwu.service.community_devices.sealing import new_device_secret, open_secret, seal_secret
from jingwu.service.dispatching import DispatchService
from jingwu.service.idempotency import record_claim
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.fieldcrypt import KeyRing

log = logging.getLogger(__name__)

ADDRESS_MAX_CHARS = 500
REGISTRY_REFRESH_S = 30.0
RELOAD_MIN_INTERVAL_S = 5.0


@dataclass(frozen=True, slots=True)
class NewDevice:
    id: str
    kind: DeviceKind
    community: str
    location: GeoPoint
    address: str | None = None
    heartbeat_s: int = 60


@dataclass(slots=True)
class RegistryEntry:
    """A device as this process last read it, with its secret open."""

    device: CommunityDevice
    secret: str
    sealed: str  # the secret as stored: the claim checks the row still holds this one
    loaded_at: float


def by_id(device_id: str) -> Any:
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


def device_not_found(device_id: str) -> NotFound:
    return NotFound(f"no device {device_id!r}", code="device_not_found", device_id=device_id)


class DeviceRegistry:
    """The devices' rows, and this process's copy of them with their secrets open. Thread-safe:
    the message handler runs on a worker thread, the API on others."""

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
        self._lock = threading.Lock()
        self._entries: dict[str, RegistryEntry] = {}
        self._loaded_at = float("-inf")
        self._reloaded_at: dict[str, float] = {}

    # ------------------------------------------------------------ the rows

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
        sealed = seal_secret(self.keys, device_id, secret)
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
            self._entries[device.id] = RegistryEntry(device, secret, sealed, self.monotonic())
        return device, secret

    def issue_secret(self, device_id: str, *, actor: str | None, source: str | None) -> str:
        """A new secret for a device (lost, leaked, a replaced controller); the old one stops
        working at once, and the message counter starts again (old messages no longer verify).

        At once in every server process, not only this one: the others may still hold the old
        secret in their registries, but each message's claim checks that the row still holds the
        secret it was verified with (see :func:`.claim.claim`), so a message signed with the old
        one, or an old message replayed into the reset counter, is refused there too."""
        secret = new_device_secret()
        now = self.clock()
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(t.community_devices)
                .where(t.community_devices.c.id == device_id)
                .values(secret=seal_secret(self.keys, device_id, secret), last_seq=None, seq_window=0)
            )
            if done.rowcount == 0:
                raise device_not_found(device_id)
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
        self.forget(device_id)
        return secret

    def get(self, device_id: str) -> CommunityDevice:
        with read_transaction(self.engine) as conn:
            row = conn.execute(by_id(device_id)).first()
        if row is None:
            raise device_not_found(device_id)
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

    # ------------------------------------------------------------ the in-memory copy

    def load(self) -> None:
        """(Re)load every device and its secret (every REGISTRY_REFRESH_S, when next asked)."""
        with read_transaction(self.engine) as conn:
            rows = conn.execute(select(t.community_devices)).all()
        loaded_at = self.monotonic()
        entries: dict[str, RegistryEntry] = {}
        for row in rows:
            try:
                entries[row.id] = RegistryEntry(
                    device_from_row(row), open_secret(self.keys, row.id, row.secret), row.secret, loaded_at
                )
            except SystemFault:
                log.error("device %s: its secret cannot be opened with the field keys; ignored", row.id)
        with self._lock:
            self._entries = entries
            self._loaded_at = loaded_at

    def entry(self, device_id: str, *, fresh: bool = False) -> RegistryEntry | None:
        """The device as known here (None: not registered). ``fresh``: read again unless it was
        read since now (a signature that did not match), as often as the reload rules allow."""
        now = self.monotonic()
        if now - self._loaded_at > REGISTRY_REFRESH_S:
            self.load()
        with self._lock:
            entry = self._entries.get(device_id)
            last = self._reloaded_at.get(device_id, float("-inf"))
        stale = entry is None or (fresh and entry.loaded_at < now)
        if stale and now - last >= RELOAD_MIN_INTERVAL_S:
            with self._lock:
                self._reloaded_at[device_id] = now
                if len(self._reloaded_at) > 10_000:  # ids made up by a flood must not grow it forever
                    self._reloaded_at.clear()
            entry = self.reload(device_id)
        return entry

    def reload(self, device_id: str) -> RegistryEntry | None:
        """Read one device again, at once (no rate limit)."""
        with read_transaction(self.engine) as conn:
            row = conn.execute(by_id(device_id)).first()
        entry = None
        if row is not None:
            entry = RegistryEntry(
                device_from_row(row), open_secret(self.keys, row.id, row.secret), row.secret, self.monotonic()
            )
        with self._lock:
            if entry is None:
                self._entries.pop(device_id, None)
            else:
                self._entries[device_id] = entry
        return entry

    def forget(self, device_id: str) -> None:
        with self._lock:
            self._entries.pop(device_id, None)
            self._reloaded_at.pop(device_id, None)

    def remember(self, device: CommunityDevice) -> None:
        """A device's new state (online, its counter, its last press), as just committed."""
        with self._lock:
            entry = self._entries.get(device.id)
            if entry is not None:
                entry.device = device


__all__ = [
    "ADDRESS_MAX_CHARS",
    "REGISTRY_REFRESH_S",
    "RELOAD_MIN_INTERVAL_S",
    "DeviceRegistry",
    "NewDevice",
    "RegistryEntry",
    "by_id",
    "device_from_row",
    "device_not_found",
    "device_view",
]
