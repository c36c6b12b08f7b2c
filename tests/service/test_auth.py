import pytest

from jingwu.errors import Conflict, Unauthenticated, ValidationFailed
from jingwu.service.auth import Role
from tests.conftest import PASSWORD, ServicesFactory


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
