"""Personnel: the bureau's people, each with an account to log in as themselves by police
number (警号). Made, edited and retired by an admin or a commander of their station."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from jingwu.domain.access import Role
from jingwu.domain.roster import Person, check_name, check_rank, normalise_police_number
from jingwu.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jingwu.service import audit
from jingwu.service.auth._places import new_account_place
from jingwu.service.auth._rows import same_name
from jingwu.service.auth.accounts import NewAccount, insert_account
from jingwu.service.auth.passwords import check_password, hash_password, password_problem
from jingwu.service.ids import new_id
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction

#: Roles a person of the force may hold (residents and devices are not personnel).
STAFF_ROLES = frozenset(
    {Role.OFFICER, Role.COMMUNITY_OFFICER, Role.DISPATCHER, Role.COMMANDER, Role.ANALYST, Role.ADMIN}
)

#: The roles each administrator may give or take away: an admin any; a commander only those below
#: their own (they run their stations' people, they do not make commanders or admins).
GRANTABLE: dict[Role, frozenset[Role]] = {
    Role.ADMIN: STAFF_ROLES,
    Role.COMMANDER: frozenset({Role.OFFICER, Role.COMMUNITY_OFFICER, Role.DISPATCHER, Role.ANALYST}),
}


def check_grant(granter: Role, *roles: Role | str) -> None:
    """Refuse (403 ``role_not_grantable``) a role the granter may not give, or take from someone:
    a commander who could make an admin would hold every power in the city."""
    allowed = GRANTABLE.get(granter, frozenset())
    for role in roles:
        if _role(str(role)) not in allowed:  # an unknown role is 422 invalid_role first
            raise Forbidden(
                f"a {granter} may not give or change the role {role}",
                code="role_not_grantable",
                role=str(role),
                allowed=sorted(str(r) for r in allowed),
            )


@dataclass(frozen=True, slots=True)
class PersonDraft:
    police_number: str
    name: str
    rank: str
    station_id: str
    role: str = "officer"
    password: str | None = None  # None: one is made and shown once


@dataclass(frozen=True, slots=True)
class NewPerson:
    person: Person
    role: Role
    password: str | None  # the one made for them (None when the admin chose it)


def person_from_row(row: Any) -> Person:
    return Person(
        id=row.id,
        police_number=row.police_number,
        name=row.name,
        rank=row.rank,
        station_id=row.station_id,
        user_id=row.user_id,
        retired_at=row.retired_at,
        version=row.version,
    )


def person_view(person: Person, *, role: str | None = None, unit_id: str | None = None) -> dict[str, Any]:
    return {
        "id": person.id,
        "police_number": person.police_number,
        "name": person.name,
        "rank": person.rank,
        "station_id": person.station_id,
        "role": role,
        "unit_id": unit_id,  # the unit their current shift puts them on
        "retired_at": person.retired_at.isoformat() if person.retired_at else None,
        "version": person.version,
    }


def _role(value: str) -> Role:
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role not in STAFF_ROLES:
        raise ValidationFailed(
            f"unknown role {value!r}; one of {', '.join(sorted(r.value for r in STAFF_ROLES))}",
            code="invalid_role",
        )
    assert role is not None
    return role


def _new_password(username: str) -> str:
    while True:
        password = secrets.token_urlsafe(12)
        if password_problem(username, password) is None:
            return password


class PersonnelAdmin:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def check_new(self, conn: Connection, draft: PersonDraft) -> tuple[Person, Role]:
        number = normalise_police_number(draft.police_number)
        role = _role(draft.role)
        if draft.password is not None:
            check_password(number, draft.password)
        if conn.execute(select(t.personnel.c.id).where(t.personnel.c.police_number == number)).first():
            raise Conflict(
                f"police number {number} exists already", code="person_exists", police_number=number
            )
        if conn.execute(select(t.users.c.id).where(same_name(number))).first():
            raise Conflict(f"an account {number!r} exists already", code="user_exists", username=number)
        station = conn.execute(select(t.stations).where(t.stations.c.id == draft.station_id)).first()
        if station is None or station.retired_at is not None:
            raise NotFound(f"no station {draft.station_id!r} in service", code="station_not_found")
        new_account_place(conn, role, None, draft.station_id, None)
        person = Person(
            id=new_id("per"),
            police_number=number,
            name=check_name(draft.name),
            rank=check_rank(draft.rank),
            station_id=draft.station_id,
            user_id=new_id("usr"),
            version=1,
        )
        return person, role

    def write_new(
        self,
        conn: Connection,
        person: Person,
        role: Role,
        password: str | None,
        *,
        actor: str | None,
        password_hash: str | None = None,
    ) -> str | None:
        """Insert the person and their account; returns the password made for them, if any.
        ``password_hash``: a hash made already (the demo gives all its people one password)."""
        made = None
        if password_hash is None and password is None:
            password = made = _new_password(person.police_number)
        if password_hash is None:
            assert password is not None
            password_hash = hash_password(password)
        now = self.clock()
        account = NewAccount(
            person.police_number,
            password_hash,
            role,
            person.station_id,
            display_name=person.name,
            user_id=person.user_id,
        )
        insert_account(conn, account, now=now, actor=actor)
        conn.execute(
            insert(t.personnel).values(
                id=person.id,
                police_number=person.police_number,
                name=person.name,
                rank=person.rank,
                station_id=person.station_id,
                user_id=person.user_id,
                version=1,
            )
        )
        audit.append(
            conn,
            ts=now,
            action="admin.person_created",
            actor=actor,
            target=person.police_number,
            details={"role": str(role), "station_id": person.station_id, "rank": person.rank},
        )
        return made

    def create(self, draft: PersonDraft, *, actor: str | None) -> NewPerson:
        with write_transaction(self.engine) as conn:
            person, role = self.check_new(conn, draft)
            made = self.write_new(conn, person, role, draft.password, actor=actor)
        return NewPerson(person, role, made)

    def list(
        self, *, station_ids: Any = None, include_retired: bool = False
    ) -> list[tuple[Person, str, str | None]]:
        """Each person with their role and the unit they ride now."""
        p, u = t.personnel.c, t.users.c
        query = (
            select(t.personnel, u.role, u.unit_id).join(t.users, u.id == p.user_id).order_by(p.police_number)
        )
        if station_ids is not None:
            query = query.where(p.station_id.in_(sorted(station_ids)))
        if not include_retired:
            query = query.where(p.retired_at.is_(None))
        with read_transaction(self.engine) as conn:
            return [(person_from_row(r), r.role, r.unit_id) for r in conn.execute(query)]

    def get(self, person_id: str) -> tuple[Person, str, str | None]:
        p, u = t.personnel.c, t.users.c
        query = select(t.personnel, u.role, u.unit_id).join(t.users, u.id == p.user_id)
        with read_transaction(self.engine) as conn:
            row = conn.execute(query.where((p.id == person_id) | (p.police_number == person_id))).first()
        if row is None:
            raise NotFound(f"no person {person_id!r}", code="person_not_found")
        return person_from_row(row), row.role, row.unit_id

    def update(
        self, person_id: str, changes: Mapping[str, Any], *, version: int | None, actor: str | None
    ) -> Person:
        """Name, rank, station or role; a move to another station moves the account with it."""
        unknown = set(changes) - {"name", "rank", "station_id", "role"}
        if unknown:
            raise ValidationFailed(f"cannot change {', '.join(sorted(unknown))}", code="invalid_change")
        before, role_now, _ = self.get(person_id)
        with write_transaction(self.engine) as conn:
            if before.retired_at is not None:
                raise Conflict(f"{before.police_number} is retired", code="person_retired")
            after = before
            role = Role(role_now)
            diff: dict[str, Any] = {}
            for name, value in changes.items():
                if name == "role":
                    value = _role(value)
                    if value is not role:
                        diff["role"] = {"before": str(role), "after": str(value)}
                        role = value
                    continue
                if name == "name":
                    value = check_name(value)
                elif name == "rank":
                    value = check_rank(value)
                if getattr(before, name) != value:
                    diff[name] = {"before": getattr(before, name), "after": value}
                    after = replace(after, **{name: value})
            if not diff:
                return before
            station_id, scope = new_account_place(conn, role, None, after.station_id, None)
            result = conn.execute(
                update(t.personnel)
                .where(t.personnel.c.id == before.id, t.personnel.c.version == (version or before.version))
                .values(
                    name=after.name, rank=after.rank, station_id=after.station_id, version=before.version + 1
                )
            )
            if result.rowcount != 1:
                raise Conflict("this person was changed by someone else; reload", code="stale_person")
            conn.execute(
                update(t.users)
                .where(t.users.c.id == before.user_id)
                .values(
                    role=str(role), station_id=station_id, jurisdiction=str(scope), display_name=after.name
                )
            )
            audit.append(
                conn,
                ts=self.clock(),
                action="admin.person_changed",
                actor=actor,
                target=before.police_number,
                details={"changes": diff},
            )
        return replace(after, version=before.version + 1)

    def retire(self, person_id: str, *, actor: str | None) -> Person:
        """Leaving the force: the account is disabled and its sessions end; the records stay."""
        before, _, _ = self.get(person_id)
        now = self.clock()
        with write_transaction(self.engine) as conn:
            if before.retired_at is not None:
                raise Conflict(f"{before.police_number} is retired already", code="person_retired")
            conn.execute(
                update(t.personnel)
                .where(t.personnel.c.id == before.id)
                .values(retired_at=now, version=before.version + 1)
            )
            conn.execute(
                update(t.users).where(t.users.c.id == before.user_id).values(disabled=True, unit_id=None)
            )
            conn.execute(
                update(t.tokens)
                .where(t.tokens.c.user_id == before.user_id, t.tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            # Shifts not yet begun lose them; the current one keeps its record of who rode.
            future = select(t.shifts.c.id).where(t.shifts.c.starts_at > now).scalar_subquery()
            conn.execute(
                t.crews.delete().where(t.crews.c.person_id == before.id, t.crews.c.shift_id.in_(future))
            )
            audit.append(
                conn, ts=now, action="admin.person_retired", actor=actor, target=before.police_number
            )
        return replace(before, retired_at=now, version=before.version + 1)


__all__ = [
    "GRANTABLE",
    "STAFF_ROLES",
    "NewPerson",
    "PersonDraft",
    "PersonnelAdmin",
    "check_grant",
    "person_from_row",
    "person_view",
]
