"""Which video worker reads which camera: a lease per camera, held by one holder (a server
process's supervisor) until it lapses, renewed every few seconds. Claims are serialised across
the cluster (an advisory lock on PostgreSQL; SQLite has one writer), so each camera is read by
exactly one worker, and a host that dies gives its cameras up when its leases lapse."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, delete, insert, select, update

from jingwu.store import video_tables as v
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.locks import lock_camera_leases

LEASE_S = 15.0


@dataclass(frozen=True, slots=True)
class Lease:
    camera_id: str
    holder: str
    relay_url: str | None
    relay_token: str | None
    expires_at: datetime


def claim(
    engine: Engine,
    holder: str,
    wanted: Collection[str],
    capacity: int,
    now: datetime,
    relays: Mapping[str, tuple[str, str]] | None = None,
) -> set[str]:
    """Renew this holder's leases on the cameras still wanted, give up the others, and take free
    or lapsed ones up to ``capacity``; the cameras held afterwards. ``relays``: camera id → the
    relay address and token of the worker that reads it here, written on its lease."""
    relays = relays or {}
    expires = now + timedelta(seconds=LEASE_S)
    c = v.camera_leases.c
    with write_transaction(engine) as conn:
        lock_camera_leases(conn)
        rows = {r.camera_id: r for r in conn.execute(select(v.camera_leases))}
        mine = {cid for cid, r in rows.items() if r.holder == holder}
        conn.execute(
            delete(v.camera_leases).where(and_(c.holder == holder, c.camera_id.not_in(list(wanted))))
        )
        held = mine & set(wanted)
        room = max(0, capacity - len(held))
        for camera_id in sorted(set(wanted) - held):
            if room == 0:
                break
            row = rows.get(camera_id)
            if row is None:
                conn.execute(
                    insert(v.camera_leases).values(camera_id=camera_id, holder=holder, expires_at=now)
                )
            elif row.expires_at >= now:
                continue  # another holder's, still good
            held.add(camera_id)
            room -= 1
        for camera_id in held:
            relay_url, token = relays.get(camera_id, (None, None))
            conn.execute(
                update(v.camera_leases)
                .where(c.camera_id == camera_id)
                .values(holder=holder, expires_at=expires, relay_url=relay_url, relay_token=token)
            )
    return held


def set_relay(engine: Engine, holder: str, camera_ids: Collection[str], relay: tuple[str, str]) -> None:
    """Write where the worker that reads these cameras answers, on this holder's leases (at once
    when the worker says it is ready, not at the next renewal)."""
    if not camera_ids:
        return
    c = v.camera_leases.c
    with write_transaction(engine) as conn:
        conn.execute(
            update(v.camera_leases)
            .where(c.holder == holder, c.camera_id.in_(sorted(camera_ids)))
            .values(relay_url=relay[0], relay_token=relay[1])
        )


def unheld(engine: Engine, wanted: Collection[str], now: datetime) -> set[str]:
    """The cameras of ``wanted`` that no worker of the cluster holds a current lease on."""
    c = v.camera_leases.c
    with read_transaction(engine) as conn:
        held = {r.camera_id for r in conn.execute(select(c.camera_id).where(c.expires_at >= now))}
    return set(wanted) - held


def release(engine: Engine, holder: str) -> None:
    """Give up every lease of this holder (a clean stop): another host takes them at once."""
    with write_transaction(engine) as conn:
        conn.execute(delete(v.camera_leases).where(v.camera_leases.c.holder == holder))


def lease_of(engine: Engine, camera_id: str, now: datetime) -> Lease | None:
    """The camera's lease if it is current."""
    with read_transaction(engine) as conn:
        row = conn.execute(select(v.camera_leases).where(v.camera_leases.c.camera_id == camera_id)).first()
    if row is None or row.expires_at < now:
        return None
    return Lease(row.camera_id, row.holder, row.relay_url, row.relay_token, row.expires_at)


__all__ = ["LEASE_S", "Lease", "claim", "lease_of", "release", "set_relay", "unheld"]
