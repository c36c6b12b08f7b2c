"""Users, roles, password log-in and revocable bearer tokens.

Passwords are argon2id hashes. Tokens are 256 random bits handed to the client once; the store
keeps only their SHA-256, so a copy of the database opens no session. A token can be revoked.
Log-ins (and refusals), log-outs, password changes, changes of an account's role, jurisdiction,
unit or standing (disabled or not), and sessions ended by an administrator go to the audit log, in
the same transaction as the change they record.

The second factor is TOTP (RFC 6238, :mod:`jingwu.domain.totp`). A user is enrolled with a fresh
secret (pending) and the enrolment becomes active with the first accepted code. An active second
factor is always asked for; with ``require_totp`` on, the roles in ``TOTP_ROLES`` cannot log in
without one at all.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import EllipsisType
from typing import Any, NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, Connection, Engine, and_, func, insert, or_, select, update

from jingwu.domain import totp
from jingwu.domain.access import (
    IDLE_ROLES,
    TOTP_ROLES,
    Jurisdiction,
    Level,
    Principal,
    Role,
    default_jurisdiction,
    jurisdiction_problem,
)
from jingwu.errors import Conflict, NotFound, SystemFault, Unauthenticated, ValidationFailed
from jingwu.service import audit
from jingwu.service.audit import Outcome
from jingwu.service.idempotency import record_claim
from jingwu.service.ids import new_id
from jingwu.service.personal_data import SEALED_PREFIX, TOTP_SECRET, open_field
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.fieldcrypt import KeyRing


def _principal(row: Any) -> Principal:
    return Principal(
        row.id,
        row.username,
        Role(row.role),
        row.station_id,
        row.unit_id,
        Jurisdiction.parse(row.jurisdiction),
    )


# 160 bits: the key length RFC 4226 recommends for HMAC-SHA-1.
TOTP_KEY_BYTES = 20
TOTP_ISSUER = "Jingwu"


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    """A new TOTP secret, shown once: base32 for typing in, the URI for a QR code."""

    secret: str
    otpauth_uri: str


@dataclass(frozen=True, slots=True)
class UserInfo:
    """An account as an administrator sees it: no password hash, no second-factor secret."""

    username: str
    display_name: str | None
    role: Role
    jurisdiction: Jurisdiction
    station_id: str | None
    unit_id: str | None
    disabled: bool
    totp: str  # none, pending or active
    locked_until: datetime | None  # only while the lock lasts
    created_at: datetime


# What an administrator may change of an account, as it is recorded (auth.user_changed).
_ACCOUNT_FIELDS = ("role", "jurisdiction", "station_id", "unit_id", "disabled")
# A change of these ends the user's sessions: whoever holds one (a stolen phone, a colleague at
# the same desk) must not carry on under powers that were taken away, and a console or terminal
# that read the old role, place or menu at log-in starts afresh.
_SESSION_ENDING_FIELDS = frozenset({"role", "jurisdiction", "disabled"})


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_at: datetime
    principal: Principal


# A device key is not a session: it is replaced by rotation (yearly, or when a device is lost),
# and this far-off expiry only bounds a key that everybody forgot.
DEVICE_KEY_LIFETIME = timedelta(days=2 * 365)
MIN_PASSWORD_LENGTH = 12
# A user name this long or longer must not appear anywhere in the password (sysadmin12345).
MIN_NAME_IN_PASSWORD = 3
LOCKOUT_THRESHOLD = 5  # consecutive failed log-ins that lock an account (CJIS 5.5.3)
# A session's last use is written at most this often: idleness is known to the minute, without a
# database write on every request.
TOUCH_EVERY = timedelta(seconds=60)
# Refused whatever their length: the top of every leaked-password list, padded to 12.
COMMON_PASSWORDS = frozenset(
    {
        "password1234",
        "password12345",
        "password123456",
        "passw0rd1234",
        "123456789012",
        "1234567890ab",
        "qwerty123456",
        "qwertyuiop12",
        "1qaz2wsx3edc",
        "1q2w3e4r5t6y",
        "abc123456789",
        "iloveyou1234",
        "admin1234567",
        "administrator1",
        "changeme1234",
        "letmein12345",
        "welcome12345",
        "football1234",
        "sunshine1234",
        "princess1234",
        "woaini1314520",
        "a1b2c3d4e5f6",
        "jingwu123456",
        "police123456",
        "dispatcher123",
    }
)


def password_problem(username: str, password: str) -> tuple[str, str] | None:
    """The first password rule ``password`` breaks, as (rule, message), or None when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "min_length", f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    classes = {
        "lower" if c.islower() else "upper" if c.isupper() else "digit" if c.isdigit() else "other"
        for c in password
    }
    if len(classes) < 2:
        return (
            "character_classes",
            "a password needs characters of at least two kinds (letters, digits, others)",
        )
    if password.casefold() == username.casefold():
        return "not_username", "a password must not be the user name"
    # A name of one or two characters turns up in too many good passwords to refuse them all.
    if len(username) >= MIN_NAME_IN_PASSWORD and username.casefold() in password.casefold():
        return "contains_username", "a password must not contain the user name"
    if password.casefold() in COMMON_PASSWORDS:
        return "common", "this password is on the list of common passwords"
    return None


def _check_password(username: str, password: str) -> None:
    problem = password_problem(username, password)
    if problem is not None:
        rule, message = problem
        raise ValidationFailed(message, code="weak_password", rule=rule)


_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("jingwu-no-such-user")


def _same_name(username: str) -> ColumnElement[bool]:
    """User names match case-insensitively: officers type call signs as BJ01 or bj01."""
    return func.lower(t.users.c.username) == username.lower()


class _CodeTaken(Exception):
    """A TOTP step was used by a concurrent log-in between reading the user and issuing the token."""


# What an administrator is shown of an account: the secrets stay in the database, only whether a
# second factor is set up (and confirmed) leaves it.
_USER_INFO = select(
    t.users.c.username,
    t.users.c.display_name,
    t.users.c.role,
    t.users.c.jurisdiction,
    t.users.c.station_id,
    t.users.c.unit_id,
    t.users.c.disabled,
    t.users.c.totp_secret.is_not(None).label("has_totp"),
    t.users.c.totp_last_step.is_not(None).label("totp_active"),
    t.users.c.locked_until,
    t.users.c.created_at,
)


def _following_jurisdiction(
    old: Jurisdiction, old_role: Role, old_station: str | None, new_role: Role, new_station: str | None
) -> Jurisdiction:
    """The jurisdiction of an account whose role or station changes and that is given none:
    the new default when the old one was the default, or when the role moves into or out of
    a resident's own-reports-only view; otherwise the old one (it was set on purpose)."""
    was_default = old == default_jurisdiction(old_role, old_station)
    crosses_own = (old_role is Role.RESIDENT) != (new_role is Role.RESIDENT)
    if was_default or crosses_own:
        return default_jurisdiction(new_role, new_station)
    return old


def _district_of(conn: Connection) -> dict[str, str]:
    """Every station's district, by station id."""
    return {row.id: row.district for row in conn.execute(select(t.stations.c.id, t.stations.c.district))}


def _unit_station(conn: Connection, unit_id: str) -> str:
    """The station of a unit (``unit_not_found`` when there is no such unit)."""
    station: str | None = conn.execute(select(t.units.c.station_id).where(t.units.c.id == unit_id)).scalar()
    if station is None:
        raise NotFound(f"no unit {unit_id!r}", code="unit_not_found", unit_id=unit_id)
    return station


def _check_station(station_id: str, district_of: Mapping[str, str]) -> None:
    if station_id not in district_of:
        raise NotFound(f"no station {station_id!r}", code="station_not_found", station_id=station_id)


def _check_jurisdiction(role: Role, scope: Jurisdiction, district_of: Mapping[str, str]) -> None:
    """Refuse (422 ``bad_jurisdiction``) a jurisdiction the role may not hold
    (:func:`jingwu.domain.access.jurisdiction_problem`), or one naming a station or district
    that does not exist (a typo would give an account that sees nothing, and never says so)."""
    problem = jurisdiction_problem(role, scope)
    if problem is None and scope.level is Level.STATION and scope.name not in district_of:
        problem = f"jurisdiction {scope}: there is no station {scope.name!r}"
    if problem is None and scope.level is Level.DISTRICT and scope.name not in district_of.values():
        known = ", ".join(sorted(set(district_of.values()))) or "none yet"
        problem = f"jurisdiction {scope}: no station lies in a district {scope.name!r} (districts: {known})"
    if problem is not None:
        raise ValidationFailed(problem, code="bad_jurisdiction", role=str(role), jurisdiction=str(scope))


def _new_account_place(
    conn: Connection,
    role: Role,
    jurisdiction: Jurisdiction | None,
    station_id: str | None,
    unit_id: str | None,
) -> tuple[str | None, Jurisdiction]:
    """The station and jurisdiction of a new account, checked: the unit and station must exist,
    a unit given without a station brings its own, and the jurisdiction (given, or the role's
    default) must suit the role and name a station or district that exists."""
    district_of = _district_of(conn)
    if unit_id is not None:
        station_id = station_id or _unit_station(conn, unit_id)
    if station_id is not None:
        _check_station(station_id, district_of)
    scope = jurisdiction or default_jurisdiction(role, station_id)
    _check_jurisdiction(role, scope, district_of)
    return station_id, scope


def _refuse_taken_name(conn: Connection, username: str) -> None:
    if conn.execute(select(t.users.c.id).where(_same_name(username))).first() is not None:
        # People and devices share one name space: say "account", not "user" or "device".
        raise Conflict(f"an account named {username!r} exists", code="user_exists", username=username)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
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
        self.keys = keys
        self.require_totp = require_totp
        self.token_ttl = timedelta(seconds=token_ttl_s)
        self.lockout = timedelta(seconds=lockout_s)
        self.idle_timeout = timedelta(seconds=idle_timeout_s)
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
        jurisdiction: Jurisdiction | None = None,
        actor: str | None = None,
        source: str | None = None,
    ) -> Principal:
        """Create a person's account. A unit given without a station brings its own station.
        ``jurisdiction`` defaults to the station for a user of a station, the city otherwise
        (residents: their own reports only); see domain.access. Refused: a name taken
        (``user_exists``), a weak password (``weak_password``), an unknown unit or station
        (``unit_not_found``, ``station_not_found``), and a jurisdiction the role may not hold or
        that names no existing station or district (``bad_jurisdiction``: residents are always
        ``own``, nobody else is, an officer has a station or a district, not the city; an
        officer with neither unit nor station nor a jurisdiction given is therefore refused)."""
        if role is Role.DEVICE:
            raise ValidationFailed(
                "a device has a key, not a password: use create_device", code="device_has_no_password"
            )
        _check_password(username, password)
        return self._insert_user(
            username,
            _hasher.hash(password),
            role,
            station_id=station_id,
            unit_id=unit_id,
            display_name=display_name,
            jurisdiction=jurisdiction,
            actor=actor,
            source=source,
        )

    def _insert_user(
        self,
        username: str,
        password_hash: str,
        role: Role,
        *,
        station_id: str | None,
        unit_id: str | None,
        display_name: str | None,
        jurisdiction: Jurisdiction | None,
        actor: str | None,
        source: str | None,
    ) -> Principal:
        user_id = new_id("usr")
        with write_transaction(self.engine) as conn:
            _refuse_taken_name(conn, username)
            station_id, scope = _new_account_place(conn, role, jurisdiction, station_id, unit_id)
            conn.execute(
                insert(t.users).values(
                    id=user_id,
                    username=username,
                    display_name=display_name,
                    password_hash=password_hash,
                    role=str(role),
                    station_id=station_id,
                    unit_id=unit_id,
                    jurisdiction=str(scope),
                    disabled=False,
                    created_at=self.clock(),
                )
            )
            # Who was given which powers, and where, is itself accountable (CJIS 5.4.1.1).
            audit.append(
                conn,
                ts=self.clock(),
                action="auth.user_created",
                actor=actor,
                target=username,
                source=source,
                details={"role": str(role), "jurisdiction": str(scope), "unit_id": unit_id},
            )
        return Principal(user_id, username, role, station_id, unit_id, scope)

    def check_new_account(
        self,
        username: str,
        role: Role,
        *,
        station_id: str | None = None,
        unit_id: str | None = None,
        jurisdiction: Jurisdiction | None = None,
    ) -> tuple[str | None, Jurisdiction]:
        """Whether :meth:`create_user` (or :meth:`create_device`, with ``Role.DEVICE``) would
        accept the account, but for its password: raises what it would raise, else returns the
        station and jurisdiction it would get. For asking a password only of a creation that can
        succeed; creating checks all of it again."""
        with read_transaction(self.engine) as conn:
            _refuse_taken_name(conn, username)
            return _new_account_place(conn, role, jurisdiction, station_id, unit_id)

    def create_device(
        self,
        username: str,
        *,
        unit_id: str | None = None,
        station_id: str | None = None,
        display_name: str | None = None,
        actor: str | None = None,
        source: str | None = None,
    ) -> tuple[Principal, str]:
        """Create a machine account (an alarm column, a camera's analytics, a car's AVL box) and
        its first key, returned this once. A device cannot log in with a password: its key is
        the credential, sent as a bearer token, and :meth:`issue_device_key` replaces it."""
        # No password verifies against this: argon2 refuses it as a malformed hash.
        principal = self._insert_user(
            username,
            "!device",
            Role.DEVICE,
            station_id=station_id,
            unit_id=unit_id,
            display_name=display_name,
            jurisdiction=None,
            actor=actor,
            source=source,
        )
        return principal, self.issue_device_key(username, actor=actor, source=source)

    def issue_device_key(self, username: str, *, actor: str | None = None, source: str | None = None) -> str:
        """A new key for a device; its previous keys stop working at once (rotation, or a device
        that was stolen). Only the key's SHA-256 is kept."""
        key = "dev_" + secrets.token_urlsafe(32)
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(t.users.c.id, t.users.c.role).where(_same_name(username))).first()
            if row is None:
                raise NotFound(f"no user {username!r}", code="user_not_found", username=username)
            if row.role != Role.DEVICE:
                raise Conflict(f"{username!r} is not a device account", code="not_a_device")
            revoked = conn.execute(
                update(t.tokens)
                .where(and_(t.tokens.c.user_id == row.id, t.tokens.c.revoked_at.is_(None)))
                .values(revoked_at=now)
            ).rowcount
            conn.execute(
                insert(t.tokens).values(
                    token_hash=_token_hash(key),
                    user_id=row.id,
                    created_at=now,
                    expires_at=now + DEVICE_KEY_LIFETIME,
                    last_used_at=now,
                    is_device_key=True,
                )
            )
            audit.append(
                conn,
                ts=now,
                action="auth.device_key_issued",
                actor=actor,
                target=username,
                source=source,
                details={"keys_revoked": revoked},
            )
        return key

    def set_password(
        self, username: str, password: str, *, actor: str | None = None, source: str | None = None
    ) -> None:
        """Set a person's password: their own change, or an administrator's reset (``actor`` and
        ``source`` say whose and from where). A device has a key, not a password
        (``device_has_no_password``): one set here would let it log in like a person."""
        _check_password(username, password)
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(t.users.c.id, t.users.c.role).where(_same_name(username))).first()
            if row is None:
                raise NotFound(f"no user {username!r}", code="user_not_found", username=username)
            if row.role == Role.DEVICE:
                raise ValidationFailed(
                    f"{username!r} is a device: it has a key, not a password (jingwu device-key NAME)",
                    code="device_has_no_password",
                )
            user_id = row.id
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
            claim = record_claim(conn, self.clock())
        if claim is not None:
            claim.recorded = True

    def update_user(
        self,
        username: str,
        *,
        role: Role | None = None,
        jurisdiction: Jurisdiction | None = None,
        station_id: str | EllipsisType | None = ...,
        unit_id: str | EllipsisType | None = ...,
        disabled: bool | None = None,
        actor: str | None,
        source: str | None,
    ) -> Principal:
        """Change what an account may do, and where: what is given changes (None for role,
        jurisdiction and disabled, ``...`` for station and unit: unchanged; None clears a station
        or unit). Recorded as ``auth.user_changed`` with the changed fields before and after; a
        request that changes nothing records nothing. A unit given without a station brings its
        own station.

        Unless given, the jurisdiction follows a change of role or station when it was the
        default one (a station's dispatcher moved to another station covers the new one), and
        whenever the role becomes or stops being a resident's (a resident sees only their own
        reports; a former resident does not keep that narrow view as a dispatcher, nor a former
        dispatcher a wide one as a resident). Otherwise it stays as it was set.

        A change of role or jurisdiction, or disabling or enabling the account, ends its
        sessions (device keys included). Refused: turning a person into a device or a device
        into a person (``device_role_fixed``: their credentials differ; make a new account),
        demoting or disabling the last enabled admin (``last_admin``): nobody could then manage
        accounts or read the audit log; an unknown unit or station (``unit_not_found``,
        ``station_not_found``); and, when the role or jurisdiction changes, a jurisdiction the
        new role may not hold or naming no existing station or district (``bad_jurisdiction``,
        as for :meth:`create_user`). An account from before these rules that breaks them can
        still be disabled or enabled without being made to follow them first."""
        now = self.clock()
        with write_transaction(self.engine) as conn:
            # Admins first, always in the same order: two administrators demoting each other at
            # once must not both succeed, nor deadlock (PostgreSQL; SQLite writes one at a time).
            admins = set(
                conn.execute(
                    select(t.users.c.id)
                    .where(and_(t.users.c.role == str(Role.ADMIN), t.users.c.disabled.is_(False)))
                    .order_by(t.users.c.id)
                    .with_for_update()
                ).scalars()
            )
            row = conn.execute(select(t.users).where(_same_name(username)).with_for_update()).first()
            if row is None:
                raise NotFound(f"no user {username!r}", code="user_not_found", username=username)
            old_role = Role(row.role)
            new_role = old_role if role is None else role
            if (old_role is Role.DEVICE) != (new_role is Role.DEVICE):
                raise Conflict(
                    f"{row.username!r} is {'a device' if old_role is Role.DEVICE else 'a person'}'s "
                    f"account and cannot become {'a device' if new_role is Role.DEVICE else 'a person'}'s: "
                    "a device has a key and a person a password; create a new account instead",
                    code="device_role_fixed",
                    username=row.username,
                    role=str(old_role),
                )
            new_station = row.station_id if isinstance(station_id, EllipsisType) else station_id
            new_unit = row.unit_id if isinstance(unit_id, EllipsisType) else unit_id
            district_of = _district_of(conn)
            if isinstance(unit_id, str):
                unit_station = _unit_station(conn, unit_id)
                if isinstance(station_id, EllipsisType):
                    new_station = unit_station
            if isinstance(station_id, str):
                _check_station(station_id, district_of)
            old_scope = Jurisdiction.parse(row.jurisdiction)
            new_scope = (
                jurisdiction
                if jurisdiction is not None
                else _following_jurisdiction(old_scope, old_role, row.station_id, new_role, new_station)
            )
            if new_role is not old_role or new_scope != old_scope:
                _check_jurisdiction(new_role, new_scope, district_of)
            new_disabled = row.disabled if disabled is None else disabled
            before = {
                "role": str(old_role),
                "jurisdiction": str(old_scope),
                "station_id": row.station_id,
                "unit_id": row.unit_id,
                "disabled": bool(row.disabled),
            }
            after = {
                "role": str(new_role),
                "jurisdiction": str(new_scope),
                "station_id": new_station,
                "unit_id": new_unit,
                "disabled": new_disabled,
            }
            changed = [f for f in _ACCOUNT_FIELDS if before[f] != after[f]]
            principal = Principal(row.id, row.username, new_role, new_station, new_unit, new_scope)
            if not changed:
                return principal
            stays_admin = new_role is Role.ADMIN and not new_disabled
            if row.id in admins and not stays_admin and not admins - {row.id}:
                raise Conflict(
                    f"{row.username!r} is the last enabled admin: make another user admin first",
                    code="last_admin",
                    username=row.username,
                )
            conn.execute(
                update(t.users)
                .where(t.users.c.id == row.id)
                .values(
                    role=str(new_role),
                    jurisdiction=str(new_scope),
                    station_id=new_station,
                    unit_id=new_unit,
                    disabled=new_disabled,
                )
            )
            details: dict[str, Any] = {
                "before": {f: before[f] for f in changed},
                "after": {f: after[f] for f in changed},
            }
            if _SESSION_ENDING_FIELDS.intersection(changed):
                details["sessions_ended"] = self._end_sessions(conn, row.id, now)
            # Who was given which powers, or had them taken away, is accountable (CJIS 5.4.1.1).
            audit.append(
                conn,
                ts=now,
                action="auth.user_changed",
                actor=actor,
                target=row.username,
                source=source,
                details=details,
            )
        return principal

    def end_sessions(self, username: str, *, actor: str | None, source: str | None) -> int:
        """End every live session of the user, device keys included (a phone or a device that
        was lost or stolen); returns how many. Recorded as ``auth.sessions_ended``, also when
        there was none to end. The user can log in again: to stop that, disable the account."""
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(t.users.c.id, t.users.c.username).where(_same_name(username))).first()
            if row is None:
                raise NotFound(f"no user {username!r}", code="user_not_found", username=username)
            ended = self._end_sessions(conn, row.id, now)
            audit.append(
                conn,
                ts=now,
                action="auth.sessions_ended",
                actor=actor,
                target=row.username,
                source=source,
                details={"sessions_ended": ended},
            )
            claim = record_claim(conn, now)
        if claim is not None:
            claim.recorded = True
        return ended

    @staticmethod
    def _end_sessions(conn: Connection, user_id: str, now: datetime) -> int:
        """Revoke the user's tokens that could still be used; returns how many."""
        return int(
            conn.execute(
                update(t.tokens)
                .where(
                    and_(
                        t.tokens.c.user_id == user_id,
                        t.tokens.c.revoked_at.is_(None),
                        t.tokens.c.expires_at > now,
                    )
                )
                .values(revoked_at=now)
            ).rowcount
        )

    def list_users(self) -> list[UserInfo]:
        """Every account, by user name."""
        with read_transaction(self.engine) as conn:
            rows = conn.execute(_USER_INFO.order_by(t.users.c.username)).all()
        return [self._user_info(row) for row in rows]

    def user_info(self, username: str) -> UserInfo:
        with read_transaction(self.engine) as conn:
            row = conn.execute(_USER_INFO.where(_same_name(username))).first()
        if row is None:
            raise NotFound(f"no user {username!r}", code="user_not_found", username=username)
        return self._user_info(row)

    def _user_info(self, row: Any) -> UserInfo:
        now = self.clock()
        return UserInfo(
            username=row.username,
            display_name=row.display_name,
            role=Role(row.role),
            jurisdiction=Jurisdiction.parse(row.jurisdiction),
            station_id=row.station_id,
            unit_id=row.unit_id,
            disabled=bool(row.disabled),
            totp="none" if not row.has_totp else "active" if row.totp_active else "pending",
            locked_until=row.locked_until if row.locked_until and row.locked_until > now else None,
            created_at=row.created_at,
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
            row = conn.execute(select(t.users).where(_same_name(username))).first()
        if row is not None and row.locked_until is not None and row.locked_until > now:
            self._refuse(username, source, "locked")
            raise self._locked(row.locked_until)
        refused = Unauthenticated("wrong user name or password", code="bad_credentials")
        try:
            _hasher.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            if row is None:
                self._refuse(username, source, "no_such_user")
                raise refused from None
            locked_until = self._count_failure(row.id, row.username, source)
            if locked_until is not None:
                raise self._locked(locked_until) from None
            raise refused from None
        if row is None or row.disabled:
            self._refuse(username, source, "no_such_user" if row is None else "disabled")
            raise refused
        totp_step = self._second_factor(row, totp_code, now, source)
        token = secrets.token_urlsafe(32)
        expires = now + self.token_ttl
        try:
            with write_transaction(self.engine) as conn:
                if totp_step is not None and not self._use_step(conn, row.id, totp_step):
                    # Another log-in used this code (or a later one) since the row was read.
                    raise _CodeTaken
                conn.execute(
                    insert(t.tokens).values(
                        token_hash=_token_hash(token),
                        user_id=row.id,
                        created_at=now,
                        expires_at=expires,
                        last_used_at=now,
                    )
                )
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
        except _CodeTaken:
            self._totp_failed(row.id, row.username, source, replayed=True)
        return IssuedToken(token, expires, _principal(row))

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

    def totp_needed_by_role(self, role: Role) -> bool:
        """Whether policy makes this role log in with a second factor."""
        return self.require_totp and role in TOTP_ROLES

    def _second_factor(self, row: Any, code: str | None, now: datetime, source: str | None) -> int | None:
        """Check the second factor of a user whose password checked out. Returns the time step to
        record as used (None: no code was needed, or none was checked); raises when refused."""
        active = row.totp_secret is not None and row.totp_last_step is not None
        required = active or self.totp_needed_by_role(Role(row.role))
        if row.totp_secret is None:
            if required:
                self._refuse(row.username, source, "totp_not_enrolled")
                raise Unauthenticated(
                    f"the role {row.role} needs a second factor (TOTP) and none is set up for "
                    f"{row.username}; an administrator must enrol you (jingwu user-totp USERNAME)",
                    code="totp_not_enrolled",
                )
            return None  # a code sent by a user without a second factor is ignored
        if code is None:
            if not required:
                return None  # a pending enrolment asks for nothing until it is confirmed
            self._refuse(row.username, source, "totp_required")
            raise Unauthenticated("enter the 6-digit code of your authenticator app", code="totp_required")
        found = totp.matching_step(self._secret(row.totp_secret), code, now.timestamp())
        replayed = found is not None and row.totp_last_step is not None and found <= row.totp_last_step
        if found is None or replayed:
            self._totp_failed(row.id, row.username, source, replayed=replayed)
        return found

    def _totp_failed(self, user_id: str, username: str, source: str | None, *, replayed: bool) -> NoReturn:
        locked_until = self._count_failure(user_id, username, source, why="bad_totp", replayed=replayed)
        if locked_until is not None:
            raise self._locked(locked_until)
        raise Unauthenticated(
            "the code was already used; wait for the next one"
            if replayed
            else "wrong code; check the time on your phone and enter the current code",
            code="bad_totp",
        )

    @staticmethod
    def _use_step(conn: Connection, user_id: str, step: int) -> bool:
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

    def enrol_totp(
        self,
        username: str,
        *,
        actor: str | None = None,
        source: str | None = None,
        replace_active: bool = False,
        details: Mapping[str, Any] | None = None,
    ) -> TotpEnrolment:
        """Draw a new TOTP secret for the user; it is pending until a code of it is accepted (at
        log-in or by :meth:`confirm_totp`). An active second factor is replaced only with
        ``replace_active`` (an administrator's reset, e.g. for a lost phone): a stolen session must
        not be able to swap the factor for its own."""
        secret = totp.encode_secret(secrets.token_bytes(TOTP_KEY_BYTES))
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                select(t.users.c.id, t.users.c.username, t.users.c.totp_secret, t.users.c.totp_last_step)
                .where(_same_name(username))
                .with_for_update()
            ).first()
            if row is None:
                raise NotFound(f"no user {username!r}", code="user_not_found", username=username)
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

    def confirm_totp(self, username: str, code: str, *, source: str | None = None) -> None:
        """Make a pending enrolment active with a code of its secret (``totp_not_pending`` when
        there is none; ``bad_totp``, 422, for a wrong code — the caller is logged in already)."""
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                select(t.users.c.id, t.users.c.username, t.users.c.totp_secret, t.users.c.totp_last_step)
                .where(_same_name(username))
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

    def users_without_totp(self) -> list[str]:
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

    def totp_state(self, username: str) -> str:
        """``none``, ``pending`` or ``active``."""
        with read_transaction(self.engine) as conn:
            row = conn.execute(
                select(t.users.c.totp_secret, t.users.c.totp_last_step).where(_same_name(username))
            ).first()
        if row is None:
            raise NotFound(f"no user {username!r}", code="user_not_found", username=username)
        if row.totp_secret is None:
            return "none"
        return "pending" if row.totp_last_step is None else "active"

    @staticmethod
    def _locked(until: datetime) -> Unauthenticated:
        return Unauthenticated(
            f"too many failed log-ins: the account is locked until {until.isoformat()}",
            code="account_locked",
            locked_until=until.isoformat(),
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
        return _principal(row)

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


__all__ = [
    "TOTP_ROLES",
    "AuthService",
    "IssuedToken",
    "Principal",
    "Role",
    "TotpEnrolment",
    "UserInfo",
    "password_problem",
]
