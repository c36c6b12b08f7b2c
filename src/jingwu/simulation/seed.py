"""Put the demo city into an empty store: stations, units on their roads, and demo users."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from jingwu.domain.model import Unit
from jingwu.errors import Conflict
from jingwu.service.auth import Role, password_problem
from jingwu.services import Services
from jingwu.simulation.city import STATION_PLANS, plan_units
from jingwu.store import repository as repo
from jingwu.store.db import read_transaction, write_transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DemoLogins:
    password: str
    generated: bool
    officer_usernames: tuple[str, ...]


def seed_demo_city(
    services: Services, *, units: int, password: str | None, rng: np.random.Generator, now: datetime
) -> DemoLogins:
    """Idempotent: a store that already holds the city keeps it (and its incidents) across restarts;
    the demo users' password is set to the one given (or a new one) on every start; sessions
    survive a restart when it is unchanged."""
    generated = password is None
    while password is None or (generated and password_problem("admin", password) is not None):
        password = secrets.token_urlsafe(12)  # 16 characters; drawn again if it breaks a password rule
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
    existing_units = services.dispatch.list_units()
    officers = []
    accounts: list[tuple[str, Role, Unit | None]] = [
        ("admin", Role.ADMIN, None),
        ("dispatcher", Role.DISPATCHER, None),
    ]
    accounts += [(u.callsign, Role.OFFICER, u) for u in existing_units]
    for username, role, bound_unit in accounts:
        try:
            services.auth.create_user(
                username,
                password,
                role,
                station_id=bound_unit.station_id if bound_unit else None,
                unit_id=bound_unit.id if bound_unit else None,
            )
        except Conflict:
            # Re-setting an unchanged password would end every open session at each restart.
            if not services.auth.password_matches(username, password):
                services.auth.set_password(username, password)
        if bound_unit is not None:
            officers.append(username)
    return DemoLogins(password=password, generated=generated, officer_usernames=tuple(officers))


__all__ = ["DemoLogins", "seed_demo_city"]
