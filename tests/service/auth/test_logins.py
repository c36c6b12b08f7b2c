"""Password log-in and the lock-out after repeated failures (CJIS 5.5.3), per account and address."""

from datetime import datetime, timedelta

import pytest

from jingwu.errors import NotFound, Unauthenticated
from jingwu.service.auth import Role
from jingwu.service.auth.throttle import ACCOUNT_CEILING, ACCOUNT_PAUSE
from tests.conftest import PASSWORD, FakeClock, ServicesFactory


def _actions(services: object) -> list[str]:
    return [r.action for r in reversed(services.audit.page(limit=500))]  # type: ignore[attr-defined]


def test_five_failed_log_ins_lock_the_account_for_the_lockout_time(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    services.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    for _ in range(4):
        with pytest.raises(Unauthenticated) as refused:
            services.auth.logins.login("dispatcher", "wrong-password-1")
        assert refused.value.code == "bad_credentials"
    with pytest.raises(Unauthenticated) as refused:
        services.auth.logins.login("dispatcher", "wrong-password-1")
    until = clock.now + timedelta(seconds=services.settings.lockout_s)
    assert refused.value.code == "account_locked"
    assert refused.value.params["locked_until"] == until.isoformat()
    # Locked: the right password is refused too, until the lock ends.
    clock.advance(services.settings.lockout_s - 1)
    with pytest.raises(Unauthenticated) as refused:
        services.auth.logins.login("dispatcher", PASSWORD)
    assert refused.value.code == "account_locked"
    clock.advance(1)
    assert services.auth.logins.login("dispatcher", PASSWORD).principal.username == "dispatcher"
    actions = _actions(services)
    assert actions.count("auth.login_failed") == 6 and actions.count("auth.locked_out") == 1
    assert actions[-1] == "auth.login" and services.audit.verify().intact


def test_a_success_resets_the_count_of_failures(make_services: ServicesFactory) -> None:
    services = make_services()
    services.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    for _ in range(3):
        for _ in range(4):
            with pytest.raises(Unauthenticated):
                services.auth.logins.login("dispatcher", "wrong-password-1")
        services.auth.logins.login("dispatcher", PASSWORD)
    assert "auth.locked_out" not in _actions(services)


def test_lockout_and_idle_settings_have_cjis_floors() -> None:
    from pydantic import ValidationError

    from jingwu.settings import Settings

    assert Settings(lockout_s=600).lockout_s == 600
    for bad in ({"lockout_s": 599}, {"idle_timeout_s": 1801}, {"audit_retention_days": 364}):
        with pytest.raises(ValidationError):
            Settings(**bad)


ATTACKER = "203.0.113.9"
OWNER = "10.20.0.17"


def _fail(services: object, source: str, times: int = 1, username: str = "BJ01") -> Unauthenticated:
    refusal = None
    for _ in range(times):
        with pytest.raises(Unauthenticated) as refused:
            services.auth.logins.login(username, "wrong-password-1", source=source)  # type: ignore[attr-defined]
        refusal = refused.value
    assert refusal is not None
    return refusal


def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    services.auth.accounts.create_user("BJ01", PASSWORD, Role.OFFICER, station_id="south")
    refused = _fail(services, ATTACKER, times=5)
    assert refused.code == "account_locked"
    # The owner's address is not locked; the attacker's is, even with the right password.
    assert services.auth.logins.login("BJ01", PASSWORD, source=OWNER).principal.username == "BJ01"
    assert refused.params["scope"] == "source"
    with pytest.raises(Unauthenticated) as locked:
        services.auth.logins.login("BJ01", PASSWORD, source=ATTACKER)
    assert locked.value.code == "account_locked"
    assert _fail(services, ATTACKER).code == "account_locked"  # the owner's success lifts nothing


def test_each_further_failure_from_a_locked_out_address_doubles_its_wait_up_to_a_day(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    services.auth.accounts.create_user("BJ01", PASSWORD, Role.OFFICER, station_id="south")
    lockout = timedelta(seconds=services.settings.lockout_s)
    waits = []
    for times in (5, 1, 1, 1, 1, 1, 1, 1):
        refused = _fail(services, ATTACKER, times=times)
        until = datetime.fromisoformat(refused.params["locked_until"])
        waits.append(until - clock.now)
        clock.now = until
    assert waits[:4] == [lockout, 2 * lockout, 4 * lockout, 8 * lockout]
    assert waits[-1] == timedelta(days=1)
    actions = _actions(services)
    assert actions.count("auth.locked_out") == 8 and services.audit.verify().intact


def test_the_owner_is_told_of_the_failed_tries_since_the_last_log_in(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    services.auth.accounts.create_user("BJ01", PASSWORD, Role.OFFICER, station_id="south")
    _fail(services, ATTACKER, times=3)
    clock.advance(60)
    _fail(services, "198.51.100.4", times=2)
    issued = services.auth.logins.login("bj01", PASSWORD, source=OWNER)
    told = [(f.source, f.count, f.last_at) for f in issued.failed_tries]
    assert told == [("198.51.100.4", 2, clock.now), (ATTACKER, 3, clock.now - timedelta(seconds=60))]
    (record,) = [r for r in services.audit.page(limit=50) if r.action == "auth.login"]
    assert record.details == {"failed_since_last": 5, "failed_from": ["198.51.100.4", ATTACKER]}
    assert services.auth.logins.login("BJ01", PASSWORD, source=OWNER).failed_tries == ()


def test_an_admin_unlock_lets_a_locked_out_address_in_at_once_and_is_audited(
    make_services: ServicesFactory,
) -> None:
    services = make_services()
    services.auth.accounts.create_user("BJ01", PASSWORD, Role.OFFICER, station_id="south")
    assert _fail(services, OWNER, times=5).code == "account_locked"
    assert services.auth.logins.unlock("bj01", actor="admin", source="cli") == 1
    issued = services.auth.logins.login("BJ01", PASSWORD, source=OWNER)
    assert sum(f.count for f in issued.failed_tries) == 5  # still told, though unlocked
    (record,) = [r for r in services.audit.page(limit=50) if r.action == "auth.unlocked"]
    assert (record.actor, record.target, record.source, record.details) == (
        "admin",
        "BJ01",
        "cli",
        {"addresses": 1},
    )
    with pytest.raises(NotFound):
        services.auth.logins.unlock("nobody", actor="admin", source="cli")


def test_guessing_from_many_addresses_slows_unknown_addresses_but_not_the_owners(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    services.auth.accounts.create_user("BJ01", PASSWORD, Role.OFFICER, station_id="south")
    services.auth.logins.login("BJ01", PASSWORD, source=OWNER)  # the owner's terminal is known
    for n in range(ACCOUNT_CEILING):
        refused = _fail(services, f"192.0.2.{n}")
    assert refused.code == "account_locked" and refused.params["scope"] == "account"
    # A new address waits for the pause, even with the right password; the owner's does not.
    with pytest.raises(Unauthenticated) as paused:
        services.auth.logins.login("BJ01", PASSWORD, source="192.0.2.200")
    assert paused.value.code == "account_locked"
    assert services.auth.logins.login("BJ01", PASSWORD, source=OWNER).principal.username == "BJ01"
    # A success ends the pause; past it, another round of guesses only brings a minute's pause.
    for n in range(ACCOUNT_CEILING):
        _fail(services, f"192.0.2.{100 + n}")
    clock.advance(ACCOUNT_PAUSE.total_seconds())
    assert services.auth.logins.login("BJ01", PASSWORD, source="192.0.2.200").principal.username == "BJ01"
