"""Users, roles, password log-in and revocable bearer tokens.

Passwords are argon2id hashes. Tokens are 256 random bits handed to the client once; the store
keeps only their SHA-256, so a copy of the database opens no session. A token can be revoked.
Log-ins (and refusals), log-outs and password changes go to the audit log, in the same
transaction as the change they record.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, Engine, and_, func, insert, select, update

from jingwu.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from jingwu.service import audit
from jingwu.service.audit import Outcome
from jingwu.service.ids import new_id
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction


class Role(StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    OFFICER = "officer"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    username: str
    role: Role
    station_id: str | None
    unit_id: str | None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_at: datetime
    principal: Principal


MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("jingwu-no-such-user")


def _same_name(username: str) -> ColumnElement[bool]:
    """User names match case-insensitively: officers type call signs as BJ01 or bj01."""
    return func.lower(t.users.c.username) == username.lower()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    def __init__(
        self,
        engine: Engine,
        *,
        token_ttl_s: int = 12 * 3600,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.token_ttl = timedelta(seconds=token_ttl_s)
        self.clock = clock

    def create_user(
        self,
        username: str,
        password: str,
        role: Role,
        *,
        station_id: str | None = None,
        unit_id: str | None = None,
        display_name: str | None = None,
    ) -> Principal:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationFailed(
                f"a password needs at least {MIN_PASSWORD_LENGTH} characters", code="weak_password"
            )
        user_id = new_id("usr")
        with write_transaction(self.engine) as conn:
            exists = conn.execute(select(t.users.c.id).where(_same_name(username))).first()
            if exists is not None:
                raise Conflict(f"user {username!r} exists", code="user_exists", username=username)
            conn.execute(
                insert(t.users).values(
                    id=user_id,
                    username=username,
                    display_name=display_name,
                    password_hash=_hasher.hash(password),
                    role=str(role),
                    station_id=station_id,
                    unit_id=unit_id,
                    disabled=False,
                    created_at=self.clock(),
                )
            )
        return Principal(user_id, username, role, station_id, unit_id)

    def set_password(
        self, username: str, password: str, *, actor: str | None = None, source: str | None = None
    ) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationFailed(
                f"a password needs at least {MIN_PASSWORD_LENGTH} characters", code="weak_password"
            )
        with write_transaction(self.engine) as conn:
            user_id = conn.execute(select(t.users.c.id).where(_same_name(username))).scalar_one_or_none()
            if user_id is None:
                raise NotFound(f"no user {username!r}", code="user_not_found", username=username)
            conn.execute(
                update(t.users).where(t.users.c.id == user_id).values(password_hash=_hasher.hash(password))
            )
            # A new password ends every session opened with the old one.
            conn.execute(
                update(t.tokens)
                .where(and_(t.tokens.c.user_id == user_id, t.tokens.c.revoked_at.is_(None)))
                .values(revoked_at=self.clock())
            )
            audit.append(
                conn,
                ts=self.clock(),
                action="auth.password_changed",
                actor=actor,
                target=username,
                source=source,
            )

    def password_matches(self, username: str, password: str) -> bool:
        """Whether ``password`` is the user's current one (False for an unknown user)."""
        with read_transaction(self.engine) as conn:
            stored = conn.execute(select(t.users.c.password_hash).where(_same_name(username))).scalar()
        if stored is None:
            return False
        try:
            return bool(_hasher.verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False

    def _refuse(self, username: str, source: str | None, why: str) -> None:
        """Record a refused log-in in its own transaction (the refusal itself changes nothing)."""
        with write_transaction(self.engine) as conn:
            audit.append(
                conn,
                ts=self.clock(),
                action="auth.login_failed",
                outcome=Outcome.REFUSED,
                actor=None,
                target=username[:200],
                source=source,
                details={"why": why},
            )

    def login(self, username: str, password: str, *, source: str | None = None) -> IssuedToken:
        """Log in; ``source`` is the client's address, for the audit log."""
        with read_transaction(self.engine) as conn:
            row = conn.execute(select(t.users).where(_same_name(username))).first()
        refused = Unauthenticated("wrong user name or password", code="bad_credentials")
        try:
            _hasher.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            self._refuse(username, source, "no_such_user" if row is None else "bad_password")
            raise refused from None
        if row is None or row.disabled:
            self._refuse(username, source, "no_such_user" if row is None else "disabled")
            raise refused
        token = secrets.token_urlsafe(32)
        now = self.clock()
        expires = now + self.token_ttl
        with write_transaction(self.engine) as conn:
            conn.execute(
                insert(t.tokens).values(
                    token_hash=_token_hash(token), user_id=row.id, created_at=now, expires_at=expires
                )
            )
            audit.append(
                conn, ts=now, action="auth.login", actor=row.username, target=row.username, source=source
            )
        principal = Principal(row.id, row.username, Role(row.role), row.station_id, row.unit_id)
        return IssuedToken(token, expires, principal)

    def authenticate(self, token: str) -> Principal:
        now = self.clock()
        with read_transaction(self.engine) as conn:
            row = conn.execute(
                select(t.users, t.tokens.c.expires_at, t.tokens.c.revoked_at)
                .join(t.tokens, t.tokens.c.user_id == t.users.c.id)
                .where(t.tokens.c.token_hash == _token_hash(token))
            ).first()
        if row is None or row.revoked_at is not None or row.expires_at <= now or row.disabled:
            raise Unauthenticated(
                "the session is missing, expired or revoked; log in again", code="bad_token"
            )
        return Principal(row.id, row.username, Role(row.role), row.station_id, row.unit_id)

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


__all__ = ["AuthService", "IssuedToken", "Principal", "Role"]
