"""The password rules and their hashing: argon2id at production cost, never the password itself."""

import pytest

from jingwu.errors import ValidationFailed
from jingwu.service.auth import Role
from tests.conftest import PASSWORD, ServicesFactory


def test_password_is_stored_as_argon2_hash_never_in_clear(make_services: ServicesFactory) -> None:
    services = make_services()
    services.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    with services.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM users").scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


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
        services.auth.accounts.create_user("dispatcher-01", password, Role.DISPATCHER)
    assert refused.value.code == "weak_password" and refused.value.params["rule"] == rule
    services.auth.accounts.create_user("dispatcher-01", PASSWORD, Role.DISPATCHER)
    with pytest.raises(ValidationFailed):
        services.auth.accounts.set_password("dispatcher-01", password)


@pytest.mark.parametrize(
    ("username", "password", "rule"),
    [
        ("sysadmin", "sysadmin12345", "contains_username"),
        ("sysadmin", "My-SysAdmin-2026", "contains_username"),
        ("bj01", "patrol-BJ01-south", "contains_username"),
        ("li", "li-correct-horse", None),  # a name of two letters is inside too many passwords
        ("sysadmin", "correct-horse-battery", None),
    ],
)
def test_a_password_must_not_contain_a_user_name_of_three_characters_or_more(
    make_services: ServicesFactory, username: str, password: str, rule: str | None
) -> None:
    services = make_services()
    if rule is None:
        services.auth.accounts.create_user(username, password, Role.ADMIN)
        assert services.auth.logins.password_matches(username, password)
        return
    with pytest.raises(ValidationFailed) as refused:
        services.auth.accounts.create_user(username, password, Role.ADMIN)
    assert refused.value.code == "weak_password" and refused.value.params["rule"] == rule
    assert "must not contain the user name" in str(refused.value)
    services.auth.accounts.create_user(username, PASSWORD, Role.ADMIN)
    with pytest.raises(ValidationFailed):
        services.auth.accounts.set_password(username, password)
