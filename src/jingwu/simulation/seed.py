"""Put the demo city into an empty store: stations on their real district boundaries, units on
their roads, the officers who ride them (synthetic people) on a week's roster, and demo users.

Every demo account shares one password, so it is hashed once and its hash written to all of them:
a warm start checks it once (a fraction of a second) instead of once per account (argon2 costs
about 0.2 s a check here, and the demo has a few hundred accounts)."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Connection, insert, select, update

from jingwu.composition import Services
from jingwu.domain.access import CITY, OWN, Jurisdiction, Level
from jingwu.domain.model import Unit
from jingwu.domain.roster import ShiftKind, standard_window
from jingwu.domain.status import UnitKind
from jingwu.errors import ValidationFailed
from jingwu.service import audit
from jingwu.service.administration.personnel import PersonDraft
from jingwu.service.administration.roster import ShiftDraft
from jingwu.service.auth import Role, password_problem
from jingwu.service.auth.passwords import hash_password, verify_password
from jingwu.service.auth.sessions import end_user_sessions
from jingwu.service.ids import new_id
from jingwu.simulation.city import demo_station_plans, plan_units
from jingwu.simulation.community_checks import seed_checks
from jingwu.simulation.community_disputes import seed_disputes
from jingwu.simulation.community_models import seed_models
from jingwu.simulation.community_records import seed_records
from jingwu.simulation.community_service import seed_service
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction

log = logging.getLogger(__name__)

#: Days of roster the demo keeps ahead (each start tops it up).
ROSTER_DAYS = 7


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: Role
    station_id: str | None
    jurisdiction: Jurisdiction
    unit_id: str | None = None  # an officer's unit


_BAOJIANLU = "nangang-baojianlu"  # 南岗分局保健路派出所 (simulation.city)
_BAOJIANLU_ONLY = Jurisdiction(Level.STATION, _BAOJIANLU)

# Someone to log in as in every role but a device's (a device has a key, shown once when it is
# created: `jingwu device-add`), in each kind of jurisdiction. Officers are the personnel.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", Role.ADMIN, None, CITY),
    DemoAccount("dispatcher", Role.DISPATCHER, None, CITY),
    DemoAccount("commander", Role.COMMANDER, None, CITY),
    DemoAccount("daoli-commander", Role.COMMANDER, None, Jurisdiction(Level.DISTRICT, "道里区")),
    DemoAccount("nangang-dispatcher", Role.DISPATCHER, _BAOJIANLU, _BAOJIANLU_ONLY),
    DemoAccount("analyst", Role.ANALYST, None, CITY),
    DemoAccount("community-baojianlu", Role.COMMUNITY_OFFICER, _BAOJIANLU, _BAOJIANLU_ONLY),
    DemoAccount("resident", Role.RESIDENT, None, OWN),
)

# Synthetic names: common surnames and given-name characters, drawn at random (no real people).
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰飞鹏辉婷宇浩凯博文斌健峰俊亮晨阳雪梅海波"
_RANKS = ("一级警员", "一级警员", "二级警员", "三级警司", "二级警司", "一级警司", "辅警", "辅警")


@dataclass(frozen=True, slots=True)
class DemoLogins:
    password: str
    generated: bool
    officer_usernames: tuple[str, ...]  # police numbers of the officers on duty now
    accounts: tuple[DemoAccount, ...]  # everyone but the officers, one or more per role


def seed_demo_city(
    services: Services, *, units: int, password: str | None, rng: np.random.Generator, now: datetime
) -> DemoLogins:
    """Idempotent: a store that already holds the city keeps it (and its incidents) across restarts,
    and its roster is topped up; the demo users' password is set to the one given (or a new one) on
    every start; sessions survive a restart when it is unchanged."""
    generated = password is None
    with read_transaction(services.engine) as conn:
        has_city = bool(repo.list_stations(conn))
    if not has_city:
        settings = services.settings
        plans = demo_station_plans(settings.osm_file, settings.graph_cache_dir)
        planned = plan_units(services.network, units, rng, now, plans)
        with write_transaction(services.engine) as conn:
            for plan in plans:
                repo.insert_station(conn, plan.station)
            for unit in planned:
                repo.insert_unit(conn, unit)
        log.info("seeded %d stations and %d units", len(plans), len(planned))
        services.dispatch.reload_stations()
        services.dispatch.refresh_board()
    names = [a.username for a in DEMO_ACCOUNTS]
    # Drawn again if it breaks a password rule for any of them (one contains "admin", say).
    while password is None or (generated and any(password_problem(n, password) for n in names)):
        password = secrets.token_urlsafe(12)  # 16 characters
    for name in names:
        problem = password_problem(name, password)
        if problem is not None:  # a password given, say one with "admin" in it
            raise ValidationFailed(
                f"the demo password does not suit the account {name!r}: {problem[1]}",
                code="weak_password",
                rule=problem[0],
                username=name,
            )
    password_hash = _shared_hash(services, password)
    with write_transaction(services.engine) as conn:
        _create_accounts(services, conn, password_hash, now)
        crews = _ensure_personnel(services, conn, password_hash, rng)
        _set_shared_hash(conn, password_hash, now)
    _ensure_roster(services, crews, now)
    duty = services.admin.roster.sync()
    seed_community(services, rng=rng, now=now)
    on_duty = sorted(
        person.police_number
        for person, _, unit_id in services.admin.personnel.list()
        if unit_id in duty.on_duty
    )
    return DemoLogins(
        password=password, generated=generated, officer_usernames=tuple(on_duty), accounts=DEMO_ACCOUNTS
    )


def seed_community(services: Services, *, rng: np.random.Generator, now: datetime) -> None:
    """The community's side of the demo: residents, houses and businesses, watch lists, disputes and
    residents' applications. Each draws from its own child generator, so that one capability
    drawing more or fewer numbers leaves the others' people as they were."""
    records, checks, disputes, service = rng.spawn(4)
    started = time.perf_counter()
    seed_records(services, rng=records, now=now)
    seed_checks(services, rng=checks, now=now)
    seed_disputes(services, rng=disputes, now=now)
    seed_service(services, rng=service, now=now)
    seed_models(services)  # an example early-warning model, switched off: nothing to draw
    log.info(
        "community records, watch lists, disputes and applications ready in %.1f s",
        time.perf_counter() - started,
    )


def _demo_user_ids(conn: Connection) -> list[str]:
    """The demo's people: its named accounts and every person of the force."""
    named = select(t.users.c.id).where(t.users.c.username.in_([a.username for a in DEMO_ACCOUNTS]))
    people = select(t.personnel.c.user_id)
    return [*conn.execute(named).scalars(), *conn.execute(people).scalars()]


def _shared_hash(services: Services, password: str) -> str:
    """The hash every demo account gets: the stored one if the password is unchanged (one check),
    else a new one (one hash)."""
    with read_transaction(services.engine) as conn:
        stored = conn.execute(select(t.users.c.password_hash).where(t.users.c.username == "admin")).scalar()
    if stored is not None and verify_password(stored, password):
        return str(stored)
    return hash_password(password)


def _set_shared_hash(conn: Connection, password_hash: str, now: datetime) -> None:
    """Give every demo account the shared hash; a changed password ends the sessions opened with
    the old one (an unchanged one keeps them: a restart does not log everyone out)."""
    changed = [
        row.id
        for row in conn.execute(
            select(t.users.c.id, t.users.c.password_hash).where(t.users.c.id.in_(_demo_user_ids(conn)))
        )
        if row.password_hash != password_hash
    ]
    if not changed:
        return
    conn.execute(update(t.users).where(t.users.c.id.in_(changed)).values(password_hash=password_hash))
    for user_id in changed:
        end_user_sessions(conn, user_id, now, expired_too=True)
    audit.append(conn, ts=now, action="demo.passwords_set", details={"accounts": len(changed)})


def _create_accounts(services: Services, conn: Connection, password_hash: str, now: datetime) -> None:
    taken = set(conn.execute(select(t.users.c.username)).scalars())
    for account in DEMO_ACCOUNTS:
        if account.username in taken:
            continue
        conn.execute(
            insert(t.users).values(
                id=new_id("usr"),
                username=account.username,
                password_hash=password_hash,
                role=str(account.role),
                station_id=account.station_id,
                unit_id=account.unit_id,
                jurisdiction=str(account.jurisdiction),
                disabled=False,
                created_at=now,
            )
        )


def _crew_size(unit: Unit) -> int:
    return 2 if unit.kind is UnitKind.PATROL_CAR else 1


def _synthetic_name(rng: np.random.Generator) -> str:
    given = "".join(_GIVEN[int(i)] for i in rng.integers(0, len(_GIVEN), size=int(rng.integers(1, 3))))
    return _SURNAMES[int(rng.integers(0, len(_SURNAMES)))] + given


def _ensure_personnel(
    services: Services, conn: Connection, password_hash: str, rng: np.random.Generator
) -> dict[str, tuple[list[str], list[str]]]:
    """A day crew and a night crew for every unit (made once, kept across restarts): unit id →
    (day police numbers, night police numbers)."""
    units = repo.list_units(conn)
    station_order = {s.id: i + 1 for i, s in enumerate(repo.list_stations(conn))}
    people = {r.police_number: r for r in conn.execute(select(t.personnel))}
    crews: dict[str, tuple[list[str], list[str]]] = {}
    seq: dict[str, int] = {}
    admin = services.admin.personnel
    for unit in units:
        day: list[str] = []
        night: list[str] = []
        for crew in (day, night):
            for _ in range(_crew_size(unit)):
                n = seq.get(unit.station_id, 0) + 1
                seq[unit.station_id] = n
                number = f"23{station_order.get(unit.station_id, 9)}{n:03d}"
                if number not in people:
                    draft = PersonDraft(
                        police_number=number,
                        name=_synthetic_name(rng),
                        rank=_RANKS[int(rng.integers(0, len(_RANKS)))],
                        station_id=unit.station_id,
                    )
                    person, role = admin.check_new(conn, draft)
                    admin.write_new(conn, person, role, None, actor="demo", password_hash=password_hash)
                crew.append(number)
        crews[unit.id] = (day, night)
    return crews


def _ensure_roster(services: Services, crews: dict[str, tuple[list[str], list[str]]], now: datetime) -> None:
    """Day and night shifts from yesterday's night to ``ROSTER_DAYS`` ahead, each unit with its
    crew: the fleet is on duty round the clock, and an officer logs in to their shift's unit."""
    roster = services.admin.roster
    today = now.astimezone(roster.zone).date()
    with read_transaction(services.engine) as conn:
        existing = {(r.station_id, r.starts_at) for r in conn.execute(select(t.shifts))}
        numbers = {r.police_number: r.id for r in conn.execute(select(t.personnel))}
        units = repo.list_units(conn)
    by_station: dict[str, list[Unit]] = {}
    for unit in units:
        by_station.setdefault(unit.station_id, []).append(unit)
    made = 0
    with write_transaction(services.engine) as conn:
        for offset in range(-1, ROSTER_DAYS):
            day = today + timedelta(days=offset)
            for kind, which in ((ShiftKind.DAY, 0), (ShiftKind.NIGHT, 1)):
                starts, ends = standard_window(kind, day, roster.zone)
                for station_id, station_units in by_station.items():
                    if (station_id, starts) in existing or ends <= now:
                        continue
                    draft = ShiftDraft(
                        station_id=station_id,
                        kind=str(kind),
                        day=day,
                        crews=[
                            (u.id, [numbers[n] for n in crews[u.id][which]])
                            for u in station_units
                            if u.id in crews
                        ],
                    )
                    shift, seats = roster.check_new(conn, draft)
                    roster.write_new(conn, shift, seats, "demo")
                    made += 1
    if made:
        log.info("the demo roster: %d shifts added", made)


__all__ = ["DEMO_ACCOUNTS", "ROSTER_DAYS", "DemoAccount", "DemoLogins", "seed_community", "seed_demo_city"]
