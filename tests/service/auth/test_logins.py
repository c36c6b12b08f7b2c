"""Password log-in and the lock-out after repeated failures (CJIS 5.5.3)."""

from datetime import timedelta

import pytest

from jingwu.errors import Unauthenticated
from jingwu.service.auth import Role
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
