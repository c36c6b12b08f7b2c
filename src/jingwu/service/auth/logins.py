"""Password log-in, its second factor, and the lock-out after repeated failures (CJIS 5.5.3).

Every log-in and every refusal goes to the audit log, so that guessing leaves a trace even when it
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update

from jingwu.errors import Unauthenticated
from jingwu.service import audit
from jingwu.service.audit import Outcome
from jingwu.service.auth import passwords
from jingwu.service.auth._rows import principal_of, same_name
from jingwu.service.auth.second_factor import (
    MissingSecondFactor,
    SecondFactorService,
    WrongCode,
    use_step,
    wrong_code_error,
)
from jingwu.service.auth.sessions import IssuedToken, SessionService
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction

LOCKOUT_THRESHOLD = 5  # consecutive failed log-ins that lock an account (CJIS 5.5.3)


def _locked(until: datetime) -> Unauthenticated:
    return Unauthenticated(
        f"too many failed log-ins: the account is locked until {until.isoformat()}",
        code="account_locked",
        locked_until=until.isoformat(),
    )


class LoginService:
    def __init__(
        self,
        engine: Engine,
        *,
        sessions: SessionService,
        second_factor: SecondFactorService,
        lockout: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.second_factor = second_factor
        self.lockout = lockout
        self.clock = clock

    def login(
        self, username: str, password: str, totp_code: str | None = None, *, source: str | None = None
    ) -> IssuedToken:
        """Log in; ``source`` is the client's address, for the audit log.

        Five consecutive failures lock the account for ``lockout_s``; while locked, even the right
        password is refused (``account_locked``, with ``locked_until``) and not checked. A success
        resets the count.

        The second factor is looked at only once the password checked out, so its answers tell
        nothing to someone guessing passwords: ``totp_not_enrolled`` (a role that needs one, no
        secret yet), ``totp_required`` (no code sent; not a failure, the client asks and sends
        again), ``bad_totp`` (wrong, replayed or older than the last used code: a failed log-in,
        counted towards the lock like a wrong password)."""
        now = self.clock()
        with read_transaction(self.engine) as conn:
            row = conn.execute(select(t.users).where(same_name(username))).first()
        if row is not None and row.locked_until is not None and row.locked_until > now:
            self._refuse(username, source, "locked")
            raise _locked(row.locked_until)
        refused = Unauthenticated("wrong user name or password", code="bad_credentials")
        if not passwords.verify_password(row.password_hash if row is not None else None, password):
            if row is None:
                self._refuse(username, source, "no_such_user")
                raise refused
            locked_until = self._count_failure(row.id, row.username, source)
            if locked_until is not None:
                raise _locked(locked_until)
            raise refused
        if row is None or row.disabled:
            self._refuse(username, source, "no_such_user" if row is None else "disabled")
            raise refused
        try:
            totp_step = self.second_factor.check(row, totp_code, now)
            with write_transaction(self.engine) as conn:
                if totp_step is not None and not use_step(conn, row.id, totp_step):
                    # Another log-in used this code (or a later one) since the row was read.
                    raise WrongCode(replayed=True)
                token, expires = self.sessions.issue(conn, row.id, now)
                conn.execute(
                    update(t.users).where(t.users.c.id == row.id).values(failed_logins=0, locked_until=None)
                )
                audit.append(
                    conn,
                    ts=now,
                    action="auth.login",
                    actor=row.username,
                    target=row.username,
                    source=source,
                    details={"second_factor": "totp"} if totp_step is not None else None,
                )
            return IssuedToken(token, expires, principal_of(row))
        except MissingSecondFactor as missing:
            self._refuse(row.username, source, missing.error.code)
            raise missing.error from None
        except WrongCode as wrong:
            locked_until = self._count_failure(
                row.id, row.username, source, why="bad_totp", replayed=wrong.replayed
            )
            if locked_until is not None:
                raise _locked(locked_until) from None
            raise wrong_code_error(replayed=wrong.replayed) from None

    def password_matches(self, username: str, password: str) -> bool:
        """Whether ``password`` is the user's current one (False for an unknown user)."""
        with read_transaction(self.engine) as conn:
            stored = conn.execute(select(t.users.c.password_hash).where(same_name(username))).scalar()
        if stored is None:
            return False
        return passwords.verify_password(stored, password)

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

    def _count_failure(
        self,
        user_id: str,
        username: str,
        source: str | None,
        *,
        why: str = "bad_password",
        replayed: bool | None = None,
    ) -> datetime | None:
        """Count a wrong password or code (atomically: concurrent failures all count); lock the
        account at the threshold. Returns the end of a lock begun now."""
        now = self.clock()
        with write_transaction(self.engine) as conn:
            failures = conn.execute(
                update(t.users)
                .where(t.users.c.id == user_id)
                .values(failed_logins=t.users.c.failed_logins + 1)
                .returning(t.users.c.failed_logins)
            ).scalar_one()
            audit.append(
                conn,
                ts=now,
                action="auth.login_failed",
                outcome=Outcome.REFUSED,
                target=username,
                source=source,
                details={"why": why, "consecutive": failures}
                | ({} if replayed is None else {"replayed": replayed}),
            )
            if failures < LOCKOUT_THRESHOLD:
                return None
            until = now + self.lockout
            conn.execute(
                update(t.users).where(t.users.c.id == user_id).values(failed_logins=0, locked_until=until)
            )
            audit.append(
                conn,
                ts=now,
                action="auth.locked_out",
                outcome=Outcome.REFUSED,
                target=username,
                source=source,
                details={"failures": failures, "locked_until": until.isoformat()},
            )
            return until
