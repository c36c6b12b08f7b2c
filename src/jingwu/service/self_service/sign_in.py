"""Residents sign in with their mobile phone and a one-time code sent to it.

A code is six digits, lives ``CODE_TTL`` and takes ``MAX_ATTEMPTS`` wrong tries before it is dead;
a phone gets one code a minute and ``CODES_PER_PHONE_HOUR`` an hour, an address
``CODES_PER_SOURCE_HOUR``: so a stranger can make ~25 guesses an hour at one phone's account (a
chance of 1 in 40 000). The limits are counted in the database (every server process sees them).
Only a keyed hash of a code is stored, and the phone only sealed and as a keyed blind index.

A phone's first sign-in makes its resident account (role resident, jurisdiction own); later ones
use it. The session is an ordinary one (service.auth.sessions), as a password log-in gives.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, select, update

from jingwu.domain.access import Principal, Role
from jingwu.domain.identity import PhoneKind, parse_phone
from jingwu.domain.self_service import is_sign_in_code, sign_in_code
from jingwu.errors import TooManyAttempts, Unauthenticated, ValidationFailed
from jingwu.service import audit
from jingwu.service.auth._rows import principal_of
from jingwu.service.auth.accounts import NewAccount, insert_account
from jingwu.service.auth.sessions import SessionService
from jingwu.service.ids import new_id
from jingwu.service.self_service.senders import CodeSender
from jingwu.store import self_service_tables as st
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.fieldcrypt import KeyRing

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_AFTER = timedelta(seconds=60)
CODES_PER_PHONE_HOUR = 5
CODES_PER_SOURCE_HOUR = 20
HOUR = timedelta(hours=1)
PHONE_CONTEXT = "service_residents.phone"
PHONE_INDEX_KIND = "phone"  # the same index as reporters' phones (service.personal_data)
CODE_HASH_KIND = "sign_in_code"
# Not a password hash: a password log-in to a phone-made account matches nothing.
NO_PASSWORD = "!phone-sign-in"


@dataclass(frozen=True, slots=True)
class CodeSent:
    expires_at: datetime
    resend_after_s: int
    demo_code: str | None  # only when the sender is the demo one


@dataclass(frozen=True, slots=True)
class SignedIn:
    access_token: str
    expires_at: datetime
    principal: Principal
    new_account: bool


def mobile(text: str) -> str:
    """The E.164 mobile number (422 ``bad_phone``; 422 ``mobile_required`` for a landline)."""
    phone = parse_phone(text)
    if phone.kind is not PhoneKind.MOBILE or phone.extension is not None:
        raise ValidationFailed("a code is sent to a mobile number", code="mobile_required")
    return phone.e164


def _too_many(message: str, wait: timedelta, **params: Any) -> TooManyAttempts:
    return TooManyAttempts(message, retry_after_s=max(1, int(wait.total_seconds()) + 1), **params)


class SignIn:
    def __init__(
        self,
        engine: Engine,
        *,
        keys: KeyRing,
        sessions: SessionService,
        sender: Callable[[], CodeSender],
        clock: Callable[[], datetime],
    ) -> None:
        """``sender``: the current sender (it can be changed while the server runs)."""
        self.engine = engine
        self.keys = keys
        self.sessions = sessions
        self.sender = sender
        self.clock = clock

    def _code_hash(self, code_id: str, code: str) -> str:
        return self.keys.blind_index(f"{code_id}:{code}", kind=CODE_HASH_KIND)

    def phone_index(self, phone: str) -> str:
        return self.keys.blind_index(phone, kind=PHONE_INDEX_KIND)

    def request_code(self, phone_text: str, *, source: str | None) -> CodeSent:
        """Send a new code to the phone, within the limits (429 ``too_many_attempts`` with
        ``retry_after_s`` beyond them). An earlier unused code stops working."""
        phone = mobile(phone_text)
        index = self.phone_index(phone)
        address = (source or "unknown")[:64]
        now = self.clock()
        c = st.service_sign_in_codes.c
        code = sign_in_code(secrets.randbelow(10**6))
        code_id = new_id("otp")
        with write_transaction(self.engine) as conn:
            recent = conn.execute(
                select(c.created_at)
                .where(c.phone_index == index, c.created_at > now - HOUR)
                .order_by(c.created_at)
            ).all()
            if recent and now - recent[-1].created_at < RESEND_AFTER:
                raise _too_many(
                    "a code was just sent; wait a minute", RESEND_AFTER - (now - recent[-1].created_at)
                )
            if len(recent) >= CODES_PER_PHONE_HOUR:
                raise _too_many(
                    "too many codes for this phone; try again later", recent[0].created_at + HOUR - now
                )
            from_source = conn.execute(
                select(func.count(), func.min(c.created_at)).where(
                    c.source == address, c.created_at > now - HOUR
                )
            ).one()
            if from_source[0] >= CODES_PER_SOURCE_HOUR:
                raise _too_many(
                    "too many codes asked from this address; try again later", from_source[1] + HOUR - now
                )
            # The previous codes die: only the newest one signs in.
            conn.execute(
                update(st.service_sign_in_codes)
                .where(c.phone_index == index, c.used_at.is_(None))
                .values(attempts=MAX_ATTEMPTS)
            )
            conn.execute(
                insert(st.service_sign_in_codes).values(
                    id=code_id,
                    phone_index=index,
                    code_hash=self._code_hash(code_id, code),
                    source=address,
                    created_at=now,
                    expires_at=now + CODE_TTL,
                    attempts=0,
                )
            )
            sender = self.sender()
            # Sent inside the transaction: a sender that fails leaves no code behind.
            sender.send(phone, code, ttl_s=int(CODE_TTL.total_seconds()))
        return CodeSent(
            expires_at=now + CODE_TTL,
            resend_after_s=int(RESEND_AFTER.total_seconds()),
            demo_code=code if sender.shows_code else None,
        )

    def verify(self, phone_text: str, code: str, *, source: str | None) -> SignedIn:
        """Sign in with the phone's newest code: 401 ``bad_code`` (with ``attempts_left``),
        ``code_expired`` or ``no_code``; 429 ``too_many_attempts`` once the code took its tries."""
        phone = mobile(phone_text)
        if not is_sign_in_code(code):
            raise ValidationFailed("the code is six digits", code="bad_code_format")
        index = self.phone_index(phone)
        now = self.clock()
        c = st.service_sign_in_codes.c
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                select(st.service_sign_in_codes)
                .where(c.phone_index == index, c.used_at.is_(None))
                .order_by(c.created_at.desc())
                .limit(1)
            ).first()
            outcome = self._judge(conn, row, code, now)
            if outcome is None:
                signed_in = self._sign_in(conn, phone, index, now, source)
        if outcome is not None:
            raise outcome
        return signed_in

    def _judge(self, conn: Connection, row: Any, code: str, now: datetime) -> Exception | None:
        """None when ``code`` is right (the code is then used up), else the refusal to raise once
        the transaction (which counted the try) has committed."""
        c = st.service_sign_in_codes.c
        if row is None:
            return Unauthenticated("ask for a code first", code="no_code")
        if row.attempts >= MAX_ATTEMPTS:
            return TooManyAttempts(
                "this code took too many wrong tries; ask for a new one", code="too_many_attempts"
            )
        if row.expires_at <= now:
            return Unauthenticated("the code has expired; ask for a new one", code="code_expired")
        if not hmac.compare_digest(row.code_hash, self._code_hash(row.id, code)):
            conn.execute(
                update(st.service_sign_in_codes)
                .where(c.id == row.id, c.attempts < MAX_ATTEMPTS)
                .values(attempts=c.attempts + 1)
            )
            left = MAX_ATTEMPTS - row.attempts - 1
            return Unauthenticated("wrong code", code="bad_code", attempts_left=left)
        used = conn.execute(
            update(st.service_sign_in_codes)
            .where(and_(c.id == row.id, c.used_at.is_(None)))
            .values(used_at=now)
        ).rowcount
        if used != 1:  # another request used it in between
            return Unauthenticated("ask for a code first", code="no_code")
        return None

    def _sign_in(
        self, conn: Connection, phone: str, index: str, now: datetime, source: str | None
    ) -> SignedIn:
        r = st.service_residents.c
        user = conn.execute(
            select(t.users)
            .join(st.service_residents, r.user_id == t.users.c.id)
            .where(r.phone_index == index)
        ).first()
        new_account = user is None
        if user is None:
            principal = insert_account(
                conn,
                NewAccount(username=new_id("res"), password_hash=NO_PASSWORD, role=Role.RESIDENT),
                now=now,
                actor=None,
                source=source,
            )
            conn.execute(
                insert(st.service_residents).values(
                    user_id=principal.user_id,
                    phone=self.keys.encrypt(phone, context=PHONE_CONTEXT),
                    phone_index=index,
                    created_at=now,
                )
            )
        else:
            if user.disabled:
                raise Unauthenticated("this account is disabled", code="bad_credentials")
            principal = principal_of(user)
        token, expires = self.sessions.issue(conn, principal.user_id, now)
        audit.append(
            conn,
            ts=now,
            action="auth.login",
            actor=principal.username,
            target=principal.username,
            source=source,
            details={"method": "phone_code"},
        )
        return SignedIn(token, expires, principal, new_account)

    def link_phone(self, conn: Connection, user_id: str, phone_text: str, now: datetime) -> bool:
        """Tie an existing resident account to a phone (the demo's ``resident``); False when the
        phone already belongs to an account."""
        phone = mobile(phone_text)
        index = self.phone_index(phone)
        r = st.service_residents.c
        if conn.execute(select(r.user_id).where((r.phone_index == index) | (r.user_id == user_id))).first():
            return False
        conn.execute(
            insert(st.service_residents).values(
                user_id=user_id,
                phone=self.keys.encrypt(phone, context=PHONE_CONTEXT),
                phone_index=index,
                created_at=now,
            )
        )
        return True

    def phone_of(self, user_id: str) -> str | None:
        with read_transaction(self.engine) as conn:
            sealed = conn.execute(
                select(st.service_residents.c.phone).where(st.service_residents.c.user_id == user_id)
            ).scalar()
        return None if sealed is None else self.keys.decrypt(sealed, context=PHONE_CONTEXT)


__all__ = ["CODE_TTL", "MAX_ATTEMPTS", "CodeSent", "SignIn", "SignedIn", "mobile"]
