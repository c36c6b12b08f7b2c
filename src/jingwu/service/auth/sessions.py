"""Bearer tokens: log-in sessions and device keys, issued, checked on every request, revoked.

A token is 256 random bits handed to the client once; the store keeps only its SHA-256, so a copy
of the database opens no session.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, insert, select, update

from jingwu.domain.access import IDLE_ROLES, Principal, Role
from jingwu.errors import Unauthenticated
from jingwu.service import audit
from jingwu.service.auth._rows import principal_of
from jingwu.service.auth.throttle import FailedTries
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_at: datetime
    principal: Principal
    # Failed log-ins since the owner's last success, by address, newest first: the owner is told.
    failed_tries: tuple[FailedTries, ...] = ()


# A device key is not a session: it is replaced by rotation (yearly, or when a device is lost),
# and this far-off expiry only bounds a key that everybody forgot.
DEVICE_KEY_LIFETIME = timedelta(days=2 * 365)
# A session's last use is written at most this often: idleness is known to the minute, without a
# database write on every request.
TOUCH_EVERY = timedelta(seconds=60)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _store(
    conn: Connection, token: str, user_id: str, now: datetime, expires_at: datetime, *, device_key: bool
) -> None:
    conn.execute(
        insert(t.tokens).values(
            token_hash=_token_hash(token),
            user_id=user_id,
            created_at=now,
            expires_at=expires_at,
            last_used_at=now,
            is_device_key=device_key,
        )
    )


def end_user_sessions(conn: Connection, user_id: str, now: datetime, *, expired_too: bool = False) -> int:
    """Revoke, inside the caller's transaction, the user's tokens that could still be used (with
    ``expired_too``, also those only expired, not revoked); returns how many."""
    unrevoked = and_(t.tokens.c.user_id == user_id, t.tokens.c.revoked_at.is_(None))
    live = unrevoked if expired_too else and_(unrevoked, t.tokens.c.expires_at > now)
    return int(conn.execute(update(t.tokens).where(live).values(revoked_at=now)).rowcount)


def issue_device_key(conn: Connection, user_id: str, now: datetime) -> tuple[str, int]:
    """A new key for a device account, inside the caller's transaction, and how many earlier
    keys it revoked: they stop working at once (rotation, or a device that was stolen)."""
    key = "dev_" + secrets.token_urlsafe(32)
    revoked = end_user_sessions(conn, user_id, now, expired_too=True)
    _store(conn, key, user_id, now, now + DEVICE_KEY_LIFETIME, device_key=True)
    return key, revoked


class SessionService:
    def __init__(
        self, engine: Engine, *, token_ttl: timedelta, idle_timeout: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self.token_ttl = token_ttl
        self.idle_timeout = idle_timeout
        self.clock = clock

    def issue(self, conn: Connection, user_id: str, now: datetime) -> tuple[str, datetime]:
        """A new session for the user, inside the caller's (the log-in's) transaction: the token
        and when it expires."""
        token = secrets.token_urlsafe(32)
        expires = now + self.token_ttl
        _store(conn, token, user_id, now, expires, device_key=False)
        return token, expires

    def authenticate(self, token: str, *, touch: bool = False) -> Principal:
        """The principal of a live token. A session unused for ``idle_timeout_s`` has ended
        (``session_idle``). ``touch``: this request counts as use (REST calls do; the live
        stream's re-checks do not, so an unattended console's session still ends)."""
        now = self.clock()
        digest = _token_hash(token)
        with read_transaction(self.engine) as conn:
            row = conn.execute(
                select(
                    t.users,
                    t.tokens.c.created_at.label("token_created_at"),
                    t.tokens.c.last_used_at,
                    t.tokens.c.expires_at,
                    t.tokens.c.revoked_at,
                    t.tokens.c.is_device_key,
                )
                .join(t.tokens, t.tokens.c.user_id == t.users.c.id)
                .where(t.tokens.c.token_hash == digest)
            ).first()
        if row is None or row.revoked_at is not None or row.expires_at <= now or row.disabled:
            raise Unauthenticated(
                "the session is missing, expired or revoked; log in again", code="bad_token"
            )
        last_used = row.last_used_at or row.token_created_at
        idles = not row.is_device_key and Role(row.role) in IDLE_ROLES
        if idles and now - last_used > self.idle_timeout:
            raise Unauthenticated(
                f"the session ended after {int(self.idle_timeout.total_seconds()) // 60} minutes "
                "without use; log in again",
                code="session_idle",
                idle_timeout_s=int(self.idle_timeout.total_seconds()),
            )
        if touch and now - last_used >= TOUCH_EVERY:
            with write_transaction(self.engine) as conn:
                conn.execute(update(t.tokens).where(t.tokens.c.token_hash == digest).values(last_used_at=now))
        return principal_of(row)

    def revoke(self, token: str, *, actor: str | None = None, source: str | None = None) -> None:
        """Revoke a token (log-out); recorded in the audit log when it was live."""
        with write_transaction(self.engine) as conn:
            ended = conn.execute(
                update(t.tokens)
                .where(and_(t.tokens.c.token_hash == _token_hash(token), t.tokens.c.revoked_at.is_(None)))
                .values(revoked_at=self.clock())
            ).rowcount
            if ended:
                audit.append(
                    conn, ts=self.clock(), action="auth.logout", actor=actor, target=actor, source=source
                )
