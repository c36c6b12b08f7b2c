from datetime import timedelta

import pytest
from sqlalchemy import select

from jingwu.errors import Conflict, Unauthenticated, ValidationFailed
from jingwu.service.auth import Role
from jingwu.store import tables as t
from tests.conftest import PASSWORD, FakeClock, ServicesFactory


def test_password_is_stored_as_argon2_hash_never_in_clear(make_services: ServicesFactory) -> None:
    services = make_services()
    services.auth.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    with services.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM users").scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_short_password_and_duplicate_user_are_refused(make_services: ServicesFactory) -> None:
    services = make_services()
    with pytest.raises(ValidationFailed):
        services.auth.create_user("d", "short", Role.DISPATCHER)
    services.auth.create_user("BJ01", PASSWORD, Role.OFFICER)
    with pytest.raises(Conflict):
        services.auth.create_user("bj01", PASSWORD, Role.OFFICER)


def test_new_password_ends_sessions_opened_with_the_old_one(make_services: ServicesFactory) -> None:
    services = make_services()
    services.auth.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    token = services.auth.login("dispatcher", PASSWORD).access_token
    services.auth.set_password("dispatcher", "another-long-password")
    with pytest.raises(Unauthenticated):
        services.auth.authenticate(token)
    with pytest.raises(Unauthenticated):
        services.auth.login("dispatcher", PASSWORD)
    assert services.auth.login("dispatcher", "another-long-password").principal.role is Role.DISPATCHER


def test_expired_token_is_refused(make_services: ServicesFactory, clock: object) -> None:
    services = make_services()
    services.auth.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    token = services.auth.login("dispatcher", PASSWORD).access_token
    clock.advance(services.settings.token_ttl_s + 1)  # type: ignore[attr-defined]
    with pytest.raises(Unauthenticated):
        services.auth.authenticate(token)


# ----------------------------------------------------------------- CJIS: lock-out, idle, rules


def _actions(services: object) -> list[str]:
    return [r.action for r in reversed(services.audit.page(limit=500))]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Sh0rt-pass", "min_length"),
        ("abcdefghijklmnop", "character_classes"),
        ("123456789012345", "character_classes"),
        ("Dispatcher-01", "not_username"),
        ("Password1234", "common"),
    ],
)
def test_weak_passwords_are_refused_naming_the_rule(
    make_services: ServicesFactory, password: str, rule: str
) -> None:
    services = make_services()
    with pytest.raises(ValidationFailed) as refused:
        services.auth.create_user("dispatcher-01", password, Role.DISPATCHER)
    assert refused.value.code == "weak_password" and refused.value.params["rule"] == rule
    services.auth.create_user("dispatcher-01", PASSWORD, Role.DISPATCHER)
    with pytest.raises(ValidationFailed):
        services.auth.set_password("dispatcher-01", password)


def test_five_failed_log_ins_lock_the_account_for_the_lockout_time(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    services.auth.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    for _ in range(4):
        with pytest.raises(Unauthenticated) as refused:
            services.auth.login("dispatcher", "wrong-password-1")
        assert refused.value.code == "bad_credentials"
    with pytest.raises(Unauthenticated) as refused:
        services.auth.login("dispatcher", "wrong-password-1")
    until = clock.now + timedelta(seconds=services.settings.lockout_s)
    assert refused.value.code == "account_locked"
    assert refused.value.params["locked_until"] == until.isoformat()
    # Locked: the right password is refused too, until the lock ends.
    clock.advance(services.settings.lockout_s - 1)
    with pytest.raises(Unauthenticated) as refused:
        services.auth.login("dispatcher", PASSWORD)
    assert refused.value.code == "account_locked"
    clock.advance(1)
    assert services.auth.login("dispatcher", PASSWORD).principal.username == "dispatcher"
    actions = _actions(services)
    assert actions.count("auth.login_failed") == 6 and actions.count("auth.locked_out") == 1
    assert actions[-1] == "auth.login" and services.audit.verify().intact


def test_a_success_resets_the_count_of_failures(make_services: ServicesFactory) -> None:
    services = make_services()
    services.auth.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    for _ in range(3):
        for _ in range(4):
            with pytest.raises(Unauthenticated):
                services.auth.login("dispatcher", "wrong-password-1")
        services.auth.login("dispatcher", PASSWORD)
    assert "auth.locked_out" not in _actions(services)


def test_an_idle_session_ends_and_use_keeps_it_alive(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    services.auth.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    idle = services.settings.idle_timeout_s
    token = services.auth.login("dispatcher", PASSWORD).access_token
    # Used every 20 minutes for two hours: still alive.
    for _ in range(6):
        clock.advance(20 * 60)
        services.auth.authenticate(token, touch=True)
    # Checks that are not use (the live stream's) do not keep it alive.
    clock.advance(idle - 5)
    services.auth.authenticate(token)
    clock.advance(6)
    with pytest.raises(Unauthenticated) as refused:
        services.auth.authenticate(token, touch=True)
    assert refused.value.code == "session_idle"


def test_last_use_is_written_at_most_once_a_minute(make_services: ServicesFactory, clock: FakeClock) -> None:
    services = make_services()
    services.auth.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    token = services.auth.login("dispatcher", PASSWORD).access_token
    login_at = clock.now

    def last_used() -> object:
        with services.engine.connect() as conn:
            return conn.execute(select(t.tokens.c.last_used_at)).scalar_one()

    clock.advance(59)
    services.auth.authenticate(token, touch=True)
    assert last_used() == login_at
    clock.advance(1)
    services.auth.authenticate(token, touch=True)
    assert last_used() == clock.now


def test_lockout_and_idle_settings_have_cjis_floors() -> None:
    from pydantic import ValidationError

    from jingwu.settings import Settings

    assert Settings(lockout_s=600).lockout_s == 600
    for bad in ({"lockout_s": 599}, {"idle_timeout_s": 1801}, {"audit_retention_days": 364}):
        with pytest.raises(ValidationError):
            Settings(**bad)
