"""Put the demo city into an empty store: stations, units on their roads, and demo users."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from jingwu.composition import Services
from jingwu.domain.access import CITY, OWN, Jurisdiction, Level
from jingwu.errors import Conflict, ValidationFailed
from jingwu.service.auth import Role, password_problem
from jingwu.simulation.city import STATION_PLANS, plan_units
from jingwu.store import repository as repo
from jingwu.store.db import read_transaction, write_transaction

log = logging.getLogger(__name__)


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
# created: `jingwu device-add`), in each kind of jurisdiction. Officers come from the units.
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


@dataclass(frozen=True, slots=True)
class DemoLogins:
    password: str
    generated: bool
    officer_usernames: tuple[str, ...]
    accounts: tuple[DemoAccount, ...]  # everyone but the officers, one or more per role


def seed_demo_city(
    services: Services, *, units: int, password: str | None, rng: np.random.Generator, now: datetime
) -> DemoLogins:
    """Idempotent: a store that already holds the city keeps it (and its incidents) across restarts;
    the demo users' password is set to the one given (or a new one) on every start; sessions
    survive a restart when it is unchanged."""
    generated = password is None
    with read_transaction(services.engine) as conn:
        has_city = bool(repo.list_stations(conn))
    if not has_city:
        planned = plan_units(services.network, units, rng, now)
        with write_transaction(services.engine) as conn:
            for plan in STATION_PLANS:
                repo.insert_station(conn, plan.station)
            for unit in planned:
                repo.insert_unit(conn, unit)
        log.info("seeded %d stations and %d units", len(STATION_PLANS), len(planned))
        services.dispatch.reload_stations()
        services.dispatch.refresh_board()
    officers = [
        DemoAccount(u.callsign, Role.OFFICER, u.station_id, Jurisdiction(Level.STATION, u.station_id), u.id)
        for u in services.dispatch.list_units()
    ]
    names = [a.username for a in (*DEMO_ACCOUNTS, *officers)]
    # Drawn again if it breaks a password rule for any of them (one contains a call sign, say).
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
    for account in (*DEMO_ACCOUNTS, *officers):
        try:
            services.auth.accounts.create_user(
                account.username,
                password,
                account.role,
                station_id=account.station_id,
                unit_id=account.unit_id,
                jurisdiction=account.jurisdiction,
            )
        except Conflict:
            # Re-setting an unchanged password would end every open session at each restart.
            if not services.auth.logins.password_matches(account.username, password):
                services.auth.accounts.set_password(account.username, password)
    return DemoLogins(
        password=password,
        generated=generated,
        officer_usernames=tuple(o.username for o in officers),
        accounts=DEMO_ACCOUNTS,
    )


__all__ = ["DEMO_ACCOUNTS", "DemoAccount", "DemoLogins", "seed_demo_city"]
