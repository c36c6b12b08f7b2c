"""Users, roles, password log-in and revocable bearer tokens, in four parts built together here,
each named as its module: ``accounts`` (creating and administering accounts), ``logins`` (password
log-in and lock-out), ``second_factor`` (TOTP) and ``sessions`` (bearer tokens).

Log-ins (and refusals), log-outs, password changes, changes of an account's role, jurisdiction,
unit or standing (disabled or not), and sessions ended by an administrator go to the audit log, in
the same transaction as the change they record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from jingwu.domain.access import TOTP_ROLES, Principal, Role
from jingwu.service.auth.accounts import AccountService, UserInfo
from jingwu.service.auth.logins import LoginService
from jingwu.service.auth.passwords import password_problem
from jingwu.service.auth.second_factor import SecondFactorService, TotpEnrolment
from jingwu.service.auth.sessions import IssuedToken, SessionService
from jingwu.store.fieldcrypt import KeyRing


class AuthService:
    """The four parts over one engine and one clock; callers use the part they need
    (``services.auth.logins.login(...)``, ``services.auth.sessions.authenticate(...)``)."""

    # Fixed, so that setting a setting that now belongs to a part (``auth.require_totp``) fails
    # loudly instead of changing nothing.
    __slots__ = ("accounts", "clock", "engine", "logins", "second_factor", "sessions")

    def __init__(
        self,
        engine: Engine,
        *,
        token_ttl_s: int = 12 * 3600,
        lockout_s: int = 900,
        idle_timeout_s: int = 1800,
        require_totp: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        keys: KeyRing | None = None,
    ) -> None:
        """``keys`` seal TOTP secrets at rest; without them, enrolling a second factor is refused
        (a secret in the clear would let a copy of the database mint codes)."""
        self.engine = engine
        self.clock = clock
        self.sessions = SessionService(
            engine,
            token_ttl=timedelta(seconds=token_ttl_s),
            idle_timeout=timedelta(seconds=idle_timeout_s),
            clock=clock,
        )
        self.second_factor = SecondFactorService(engine, require_totp=require_totp, keys=keys, clock=clock)
        self.accounts = AccountService(engine, clock=clock)
        self.logins = LoginService(
            engine,
            sessions=self.sessions,
            second_factor=self.second_factor,
            lockout=timedelta(seconds=lockout_s),
            clock=clock,
        )


__all__ = [
    "TOTP_ROLES",
    "AccountService",
    "AuthService",
    "IssuedToken",
    "LoginService",
    "Principal",
    "Role",
    "SecondFactorService",
    "SessionService",
    "TotpEnrolment",
    "UserInfo",
    "password_problem",
]
