"""People's and devices' accounts: creating them, what an administrator may change of them
(role, jurisdiction, station, unit, standing), their passwords and device keys, and listing them.

Every change of who may do what, and where, goes to the audit log in the same transaction as the
change it records (CJIS 5.4.1.1); a change that takes powers away ends the account's sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import EllipsisType
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from jingwu.domain.access import Jurisdiction, Principal, Role
from jingwu.errors import Conflict, ValidationFailed
from jingwu.service import audit
from jingwu.service.auth import sessions
from jingwu.service.auth._places import (
    check_jurisdiction,
    check_station,
    districts_by_station,
    following_jurisdiction,
    new_account_place,
    unit_station,
)
from jingwu.service.auth._rows import same_name, user_not_found
from jingwu.service.auth.passwords import check_password, hash_password
from jingwu.service.idempotency import record_claim
from jingwu.service.ids import new_id
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A person's account as it is written: the password already hashed."""

    username: str
    password_hash: str
    role: Role
    station_id: str | None = None
    unit_id: str | None = None
    display_name: str | None = None
    jurisdiction: Jurisdiction | None = None
    user_id: str | None = None  # None: one is made


def insert_account(
    conn: Connection, account: NewAccount, *, now: datetime, actor: str | None, source: str | None = None
) -> Principal:
    """Write an account inside the caller's transaction: the name checked free, the station and
    jurisdiction checked, the creation audited. The one way an account is made (the accounts
    service's commands, and personnel, whose accounts come with the person)."""
    _refuse_taken_name(conn, account.username)
    station_id, scope = new_account_place(
        conn, account.role, account.jurisdiction, account.station_id, account.unit_id
    )
    user_id = account.user_id or new_id("usr")
    conn.execute(
        insert(t.users).values(
            id=user_id,
            username=account.username,
            display_name=account.display_name,
            password_hash=account.password_hash,
            role=str(account.role),
            station_id=station_id,
            unit_id=account.unit_id,
            jurisdiction=str(scope),
            disabled=False,
            created_at=now,
        )
    )
    # Who was given which powers, and where, is itself accountable (CJIS 5.4.1.1).
    audit.append(
        conn,
        ts=now,
        action="auth.user_created",
        actor=actor,
        target=account.username,
        source=source,
        details={"role": str(account.role), "jurisdiction": str(scope), "unit_id": account.unit_id},
    )
    return Principal(user_id, account.username, account.role, station_id, account.unit_id, scope)


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
    locked_until: datetime | None  # while a lock-out lasts: of an address, or the account's pause
    created_at: datetime


# What an administrator may change of an account, as it is recorded (auth.user_changed).
_ACCOUNT_FIELDS = ("role", "jurisdiction", "station_id", "unit_id", "disabled")
# A change of these ends the user's sessions: whoever holds one (a stolen phone, a colleague at
# the same desk) must not carry on under powers that were taken away, and a console or terminal
# that read the old role, place or menu at log-in starts afresh.
_SESSION_ENDING_FIELDS = frozenset({"role", "jurisdiction", "disabled"})

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
    # The latest lock-out of one of its addresses (service.auth.throttle), for "locked until".
    select(func.max(t.login_throttle.c.blocked_until))
    .where(t.login_throttle.c.user_id == t.users.c.id)
    .scalar_subquery()
    .label("source_locked_until"),
    t.users.c.created_at,
)


def _refuse_taken_name(conn: Connection, username: str) -> None:
    if conn.execute(select(t.users.c.id).where(same_name(username))).first() is not None:
        # People and devices share one name space: say "account", not "user" or "device".
        raise Conflict(f"an account named {username!r} exists", code="user_exists", username=username)


class AccountService:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime]) -> None:
        self.engine = engine
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
                "a device has a key, not a password: use create_device_account",
                code="device_has_no_password",
            )
        check_password(username, password)
        return self._insert_user(
            username,
            hash_password(password),
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
        try:
            with write_transaction(self.engine) as conn:
                return insert_account(
                    conn,
                    NewAccount(
                        username, password_hash, role, station_id, unit_id, display_name, jurisdiction
                    ),
                    now=self.clock(),
                    actor=actor,
                    source=source,
                )
        except IntegrityError:
            # The check above the insert saw no such name, yet one committed meanwhile (the
            # database's index on the lowered name refused ours): the same refusal as the check's.
            with read_transaction(self.engine) as conn:
                _refuse_taken_name(conn, username)
            raise

    def check_new_account(
        self,
        username: str,
        role: Role,
        *,
        station_id: str | None = None,
        unit_id: str | None = None,
        jurisdiction: Jurisdiction | None = None,
    ) -> tuple[str | None, Jurisdiction]:
        """Whether :meth:`create_user` (or :meth:`create_device_account`, with ``Role.DEVICE``) would
        accept the account, but for its password: raises what it would raise, else returns the
        station and jurisdiction it would get. For asking a password only of a creation that can
        succeed; creating checks all of it again."""
        with read_transaction(self.engine) as conn:
            _refuse_taken_name(conn, username)
            return new_account_place(conn, role, jurisdiction, station_id, unit_id)

    def create_device_account(
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
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(t.users.c.id, t.users.c.role).where(same_name(username))).first()
            if row is None:
                raise user_not_found(username)
            if row.role != Role.DEVICE:
                raise Conflict(f"{username!r} is not a device account", code="not_a_device")
            key, revoked = sessions.issue_device_key(conn, row.id, now)
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
        check_password(username, password)
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(t.users.c.id, t.users.c.role).where(same_name(username))).first()
            if row is None:
                raise user_not_found(username)
            if row.role == Role.DEVICE:
                raise ValidationFailed(
                    f"{username!r} is a device: it has a key, not a password (jingwu device-key NAME)",
                    code="device_has_no_password",
                )
            user_id = row.id
            conn.execute(
                update(t.users).where(t.users.c.id == user_id).values(password_hash=hash_password(password))
            )
            # A new password ends every session opened with the old one.
            sessions.end_user_sessions(conn, user_id, self.clock(), expired_too=True)
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
            row = conn.execute(select(t.users).where(same_name(username)).with_for_update()).first()
            if row is None:
                raise user_not_found(username)
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
            district_of = districts_by_station(conn)
            if isinstance(unit_id, str):
                station_of_unit = unit_station(conn, unit_id)
                if isinstance(station_id, EllipsisType):
                    new_station = station_of_unit
            if isinstance(station_id, str):
                check_station(station_id, district_of)
            old_scope = Jurisdiction.parse(row.jurisdiction)
            new_scope = (
                jurisdiction
                if jurisdiction is not None
                else following_jurisdiction(old_scope, old_role, row.station_id, new_role, new_station)
            )
            if new_role is not old_role or new_scope != old_scope:
                check_jurisdiction(new_role, new_scope, district_of)
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
                details["sessions_ended"] = sessions.end_user_sessions(conn, row.id, now)
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
            row = conn.execute(select(t.users.c.id, t.users.c.username).where(same_name(username))).first()
            if row is None:
                raise user_not_found(username)
            ended = sessions.end_user_sessions(conn, row.id, now)
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

    def list_users(self) -> list[UserInfo]:
        """Every account, by user name."""
        with read_transaction(self.engine) as conn:
            rows = conn.execute(_USER_INFO.order_by(t.users.c.username)).all()
        return [self._user_info(row) for row in rows]

    def user_info(self, username: str) -> UserInfo:
        with read_transaction(self.engine) as conn:
            row = conn.execute(_USER_INFO.where(same_name(username))).first()
        if row is None:
            raise user_not_found(username)
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
            locked_until=max(
                (until for until in (row.locked_until, row.source_locked_until) if until and until > now),
                default=None,
            ),
            created_at=row.created_at,
        )
