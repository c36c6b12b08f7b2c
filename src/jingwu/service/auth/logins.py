"""Password log-in, its second factor, and the lock-out after repeated failures (CJIS 5.5.3),
per account and source address (``throttle``): a guesser elsewhere cannot lock the owner out.

Every log-in and every refusal goes to the audit log, so that guessing leaves a trace even when it
changes nothing; the owner is told of the failures at the next log-in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from jingwu.errors import Unauthenticated
from jingwu.service import audit
from jingwu.service.audit import Outcome
from jingwu.service.auth import passwords, throttle
from jingwu.service.auth._rows import principal_of, same_name, user_not_found
from jingwu.service.auth.second_factor import (
    MissingSecondFactor,
    SecondFactorService,
    WrongCode,
    use_step,
    wrong_code_error,
)
from jingwu.service.auth.sessions import IssuedToken, SessionService
from jingwu.service.idempotency import record_claim
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction

LOCKOUT_THRESHOLD = throttle.SOURCE_THRESHOLD  # consecutive failures from one address (CJIS 5.5.3)


def _locked(block: throttle.Block) -> Unauthenticated:
    where = "from this address" if block.scope == "source" else "from addresses it does not know"
    return Unauthenticated(
        f"too many failed log-ins: the account is locked {where} until {block.until.isoformat()}",
        code="account_locked",
        locked_until=block.until.isoformat(),
        scope=block.scope,
    )


def _told(tries: tuple[throttle.FailedTries, ...]) -> dict[str, object] | None:
    if not tries:
        return None
    return {"failed_since_last": sum(f.count for f in tries), "failed_from": [f.source for f in tries]}


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
        """Log in; ``source`` is the client's address, for the throttle and the audit log.

        Five consecutive failures from one address lock that address out of the account for
        ``lockout_s``, each further one doubling the wait (``throttle``); while locked, even the
        right password is refused (``account_locked``, with ``locked_until`` and ``scope``) and
        not checked. Other addresses are not slowed unless the account's ceiling is reached, and
        then only addresses the owner never logged in from. A success resets the address's count
        and returns the failures since the last success (``failed_tries``).

        The second factor is looked at only once the password checked out, so its answers tell
        nothing to someone guessing passwords: ``totp_not_enrolled`` (a role that needs one, no
        secret yet), ``totp_required`` (no code sent; not a failure, the client asks and sends
        again), ``bad_totp`` (wrong, replayed or older than the last used code: a failed log-in,
        counted towards the lock like a wrong password)."""
        now = self.clock()
        key = throttle.source_key(source)
        with read_transaction(self.engine) as conn:
            row = conn.execute(select(t.users).where(same_name(username))).first()
            block = throttle.block_of(conn, row, key, now) if row is not None else None
        if block is not None:
            self._refuse(username, source, "locked")
            raise _locked(block)
        refused = Unauthenticated("wrong user name or password", code="bad_credentials")
        if not passwords.verify_password(row.password_hash if row is not None else None, password):
            if row is None:
                self._refuse(username, source, "no_such_user")
                raise refused
            block = self._count_failure(row.id, row.username, source)
            if block is not None:
                raise _locked(block)
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
                tries = tuple(throttle.record_success(conn, row.id, key, now))
                details = ({"second_factor": "totp"} if totp_step is not None else {}) | (_told(tries) or {})
                audit.append(
                    conn,
                    ts=now,
                    action="auth.login",
                    actor=row.username,
                    target=row.username,
                    source=source,
                    details=details or None,
                )
            return IssuedToken(token, expires, principal_of(row), tries)
        except MissingSecondFactor as missing:
            self._refuse(row.username, source, missing.error.code)
            raise missing.error from None
        except WrongCode as wrong:
            block = self._count_failure(row.id, row.username, source, why="bad_totp", replayed=wrong.replayed)
            if block is not None:
                raise _locked(block) from None
            raise wrong_code_error(replayed=wrong.replayed) from None

    def unlock(self, username: str, *, actor: str | None, source: str | None) -> int:
        """An admin lifts every lock-out of the account (all addresses, and the account's pause),
        audited as ``auth.unlocked``. Returns how many addresses were locked out or counting."""
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(t.users.c.id, t.users.c.username).where(same_name(username))).first()
            if row is None:
                raise user_not_found(username)
            lifted = throttle.lift(conn, row.id)
            audit.append(
                conn,
                ts=now,
                action="auth.unlocked",
                actor=actor,
                target=row.username,
                source=source,
                details={"addresses": lifted},
            )
            claim = record_claim(conn, now)  # an Idempotency-Key, as every admin POST takes
        if claim is not None:
            claim.recorded = True
        return lifted

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
    ) -> throttle.Block | None:
        """Count a wrong password or code (atomically: concurrent failures all count) against this
        address and the account. Returns the block begun now, if any."""
        now = self.clock()
        with write_transaction(self.engine) as conn:
            failures, account_failures, block = throttle.count_failure(
                conn, user_id, throttle.source_key(source), now, self.lockout
            )
            audit.append(
                conn,
                ts=now,
                action="auth.login_failed",
                outcome=Outcome.REFUSED,
                target=username,
                source=source,
                details={"why": why, "consecutive": failures, "account_failures": account_failures}
                | ({} if replayed is None else {"replayed": replayed}),
            )
            if block is not None:
                audit.append(
                    conn,
                    ts=now,
                    action="auth.locked_out",
                    outcome=Outcome.REFUSED,
                    target=username,
                    source=source,
                    details={
                        "scope": block.scope,
                        "failures": failures if block.scope == "source" else account_failures,
                        "locked_until": block.until.isoformat(),
                    },
                )
            return block
