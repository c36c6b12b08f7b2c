"""Bearer tokens: expiry, idleness, and how often their use is written."""

import pytest
from sqlalchemy import select

from jingwu.errors import Unauthenticated
from jingwu.service.auth import Role
from jingwu.store import tables as t
from tests.conftest import PASSWORD, FakeClock, ServicesFactory


def test_expired_token_is_refused(make_services: ServicesFactory, clock: object) -> None:
    services = make_services()
    services.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    token = services.auth.logins.login("dispatcher", PASSWORD).access_token
    clock.advance(services.settings.token_ttl_s + 1)  # type: ignore[attr-defined]
    with pytest.raises(Unauthenticated):
        services.auth.sessions.authenticate(token)


def test_an_idle_session_ends_and_use_keeps_it_alive(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    services.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    idle = services.settings.idle_timeout_s
    token = services.auth.logins.login("dispatcher", PASSWORD).access_token
    # Used every 20 minutes for two hours: still alive.
    for _ in range(6):
        clock.advance(20 * 60)
        services.auth.sessions.authenticate(token, touch=True)
    # Checks that are not use (the live stream's) do not keep it alive.
    clock.advance(idle - 5)
    services.auth.sessions.authenticate(token)
    clock.advance(6)
    with pytest.raises(Unauthenticated) as refused:
        services.auth.sessions.authenticate(token, touch=True)
    assert refused.value.code == "session_idle"


def test_last_use_is_written_at_most_once_a_minute(make_services: ServicesFactory, clock: FakeClock) -> None:
    services = make_services()
    services.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    token = services.auth.logins.login("dispatcher", PASSWORD).access_token
    login_at = clock.now

    def last_used() -> object:
        with services.engine.connect() as conn:
            return conn.execute(select(t.tokens.c.last_used_at)).scalar_one()

    clock.advance(59)
    services.auth.sessions.authenticate(token, touch=True)
    assert last_used() == login_at
    clock.advance(1)
    services.auth.sessions.authenticate(token, touch=True)
    assert last_used() == clock.now
