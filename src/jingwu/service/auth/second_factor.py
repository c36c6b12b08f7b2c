"""The TOTP second factor (RFC 6238, :mod:`jingwu.domain.totp`): enrolment, confirmation, and the
check of a code at log-in, with its secret sealed at rest.

A user is enrolled with a fresh secret (pending) and the enrolment becomes active with the first
accepted code. An active second factor is always asked for; with ``require_totp`` on, the roles in
``TOTP_ROLES`` cannot log in without one at all.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, or_, select, update

from jingwu.domain import totp
from jingwu.domain.access import TOTP_ROLES, Role
from jingwu.errors import Conflict, SystemFault, Unauthenticated, ValidationFailed
from jingwu.service import audit
from jingwu.service.audit import Outcome
from jingwu.service.auth._rows import same_name, user_not_found
from jingwu.service.personal_data import SEALED_PREFIX, TOTP_SECRET, open_field
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.fieldcrypt import KeyRing

# 160 bits: the key length RFC 4226 recommends for HMAC-SHA-1.
TOTP_KEY_BYTES = 20
TOTP_ISSUER = "Jingwu"


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    """A new TOTP secret, shown once: base32 for typing in, the URI for a QR code."""

    secret: str
    otpauth_uri: str


class MissingSecondFactor(Exception):
    """A log-in whose password checked out has no second factor or no code where one is needed:
    refused with ``error`` (whose code is also the refusal's reason), not counted as a failure."""

    def __init__(self, error: Unauthenticated) -> None:
        super().__init__(error.message)
        self.error = error


class WrongCode(Exception):
    """A wrong code, or a ``replayed`` one (used before, or older than the last used one): a
    failed log-in, counted towards the lock like a wrong password."""

    def __init__(self, *, replayed: bool) -> None:
        super().__init__("replayed code" if replayed else "wrong code")
        self.replayed = replayed


def wrong_code_error(*, replayed: bool) -> Unauthenticated:
    """The answer to a wrong or replayed code that did not lock the account."""
    return Unauthenticated(
        "the code was already used; wait for the next one"
        if replayed
        else "wrong code; check the time on your phone and enter the current code",
        code="bad_totp",
    )


def use_step(conn: Connection, user_id: str, step: int) -> bool:
    """Record ``step`` as the last used one unless it, or a later one, was used already
    (atomic: of two log-ins racing with the same code, one wins). Activates a pending enrolment."""
    last = t.users.c.totp_last_step
    return bool(
        conn.execute(
            update(t.users)
            .where(and_(t.users.c.id == user_id, or_(last.is_(None), last < step)))
            .values(totp_last_step=step)
        ).rowcount
    )


class SecondFactorService:
    def __init__(
        self,
        engine: Engine,
        *,
        require_totp: bool,
        keys: KeyRing | None,
        clock: Callable[[], datetime],
    ) -> None:
        """``keys`` seal TOTP secrets at rest; without them, enrolling a second factor is refused
        (a secret in the clear would let a copy of the database mint codes)."""
        self.engine = engine
        self.require_totp = require_totp
        self.keys = keys
        self.clock = clock

    def needed_by(self, role: Role) -> bool:
        """Whether policy makes this role log in with a second factor."""
        return self.require_totp and role in TOTP_ROLES

    def _seal_secret(self, secret: str) -> str:
        if self.keys is None:
            raise SystemFault(
                "no field-encryption key is configured: a second factor cannot be stored",
                code="field_key_error",
            )
        return self.keys.encrypt(secret, context=TOTP_SECRET)

    def _secret(self, stored: str) -> bytes:
        """The TOTP key of a stored (sealed, or from before sealing) secret."""
        if stored.startswith(SEALED_PREFIX) and self.keys is None:
            raise SystemFault("no field-encryption key is configured", code="field_key_error")
        plain = open_field(self.keys, stored, context=TOTP_SECRET) if self.keys else stored
        return totp.decode_secret(plain or "")

    def check(self, row: Any, code: str | None, now: datetime) -> int | None:
        """Check the second factor of a user (a row of ``users``) whose password checked out.
        Returns the time step to record as used (None: no code was needed, or none was checked);
        raises :class:`MissingSecondFactor` or :class:`WrongCode` when refused."""
        active = row.totp_secret is not None and row.totp_last_step is not None
        required = active or self.needed_by(Role(row.role))
        if row.totp_secret is None:
            if required:
                raise MissingSecondFactor(
                    Unauthenticated(
                        f"the role {row.role} needs a second factor (TOTP) and none is set up for "
                        f"{row.username}; an administrator must enrol you (jingwu user-totp USERNAME)",
                        code="totp_not_enrolled",
                    )
                )
            return None  # a code sent by a user without a second factor is ignored
        if code is None:
            if not required:
                return None  # a pending enrolment asks for nothing until it is confirmed
            raise MissingSecondFactor(
                Unauthenticated("enter the 6-digit code of your authenticator app", code="totp_required")
            )
        found = totp.matching_step(self._secret(row.totp_secret), code, now.timestamp())
        replayed = found is not None and row.totp_last_step is not None and found <= row.totp_last_step
        if found is None or replayed:
            raise WrongCode(replayed=replayed)
        return found

    def enrol(
        self,
        username: str,
        *,
        actor: str | None = None,
        source: str | None = None,
        replace_active: bool = False,
        details: Mapping[str, Any] | None = None,
    ) -> TotpEnrolment:
        """Draw a new TOTP secret for the user; it is pending until a code of it is accepted (at
        log-in or by :meth:`confirm`). An active second factor is replaced only with
        ``replace_active`` (an administrator's reset, e.g. for a lost phone): a stolen session must
        not be able to swap the factor for its own."""
        secret = totp.encode_secret(secrets.token_bytes(TOTP_KEY_BYTES))
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                select(t.users.c.id, t.users.c.username, t.users.c.totp_secret, t.users.c.totp_last_step)
                .where(same_name(username))
                .with_for_update()
            ).first()
            if row is None:
                raise user_not_found(username)
            active = row.totp_secret is not None and row.totp_last_step is not None
            if active and not replace_active:
                raise Conflict(
                    "a second factor is already active; an administrator can reset it "
                    "(jingwu user-totp --reset USERNAME)",
                    code="totp_already_enrolled",
                )
            conn.execute(
                update(t.users)
                .where(t.users.c.id == row.id)
                .values(totp_secret=self._seal_secret(secret), totp_last_step=None)
            )
            audit.append(
                conn,
                ts=self.clock(),
                action="auth.totp_enrolled",
                actor=actor,
                target=row.username,
                source=source,
                details={"replaced_active": active, **(details or {})},
            )
        return TotpEnrolment(secret, totp.otpauth_uri(secret, row.username, issuer=TOTP_ISSUER))

    def confirm(self, username: str, code: str, *, source: str | None = None) -> None:
        """Make a pending enrolment active with a code of its secret (``totp_not_pending`` when
        there is none; ``bad_totp``, 422, for a wrong code — the caller is logged in already)."""
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                select(t.users.c.id, t.users.c.username, t.users.c.totp_secret, t.users.c.totp_last_step)
                .where(same_name(username))
                .with_for_update()
            ).first()
            if row is None or row.totp_secret is None or row.totp_last_step is not None:
                raise Conflict("there is no pending second factor to confirm", code="totp_not_pending")
            step = totp.matching_step(self._secret(row.totp_secret), code, now.timestamp())
            if step is not None:
                conn.execute(update(t.users).where(t.users.c.id == row.id).values(totp_last_step=step))
            audit.append(
                conn,
                ts=now,
                action="auth.totp_confirmed",
                outcome=Outcome.OK if step is not None else Outcome.REFUSED,
                actor=row.username,
                target=row.username,
                source=source,
            )
        if step is None:
            raise ValidationFailed("wrong code; enter the current code of the new entry", code="bad_totp")

    def users_without(self) -> list[str]:
        """Enabled users whose role needs a second factor and who have no secret (they cannot log
        in while ``require_totp`` is on)."""
        with read_transaction(self.engine) as conn:
            return list(
                conn.execute(
                    select(t.users.c.username)
                    .where(
                        and_(
                            t.users.c.role.in_([str(r) for r in TOTP_ROLES]),
                            t.users.c.totp_secret.is_(None),
                            t.users.c.disabled.is_(False),
                        )
                    )
                    .order_by(t.users.c.username)
                ).scalars()
            )

    def state(self, username: str) -> str:
        """``none``, ``pending`` or ``active``."""
        with read_transaction(self.engine) as conn:
            row = conn.execute(
                select(t.users.c.totp_secret, t.users.c.totp_last_step).where(same_name(username))
            ).first()
        if row is None:
            raise user_not_found(username)
        if row.totp_secret is None:
            return "none"
        return "pending" if row.totp_last_step is None else "active"
