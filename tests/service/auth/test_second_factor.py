"""The TOTP second factor in the log-in: enrolment, confirmation, policy by role, replay, lock-out."""

from urllib.parse import parse_qs, urlsplit

import pytest
from argon2 import PasswordHasher

from jingwu.composition import Services
from jingwu.domain import totp
from jingwu.errors import Conflict, Unauthenticated, ValidationFailed
from jingwu.service.auth import Role, passwords
from tests.conftest import PASSWORD, FakeClock, ServicesFactory


def _code(secret: str, clock: FakeClock, *, shift_s: float = 0) -> str:
    return totp.totp(totp.decode_secret(secret), clock.now.timestamp() + shift_s)


def _refusal(services: Services, username: str, code: str | None) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as refused:
        services.auth.logins.login(username, PASSWORD, code)
    return refused.value


def _whys(services: Services) -> list[object]:
    return [
        r.details.get("why")
        for r in reversed(services.audit.page(limit=500))
        if r.action == "auth.login_failed"
    ]


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests log in dozens of times; the other tests of the auth service keep the
    production argon2 cost."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def services(make_services: ServicesFactory) -> Services:
    built = make_services()
    built.auth.second_factor.require_totp = True
    built.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    built.auth.accounts.create_user("admin", PASSWORD, Role.ADMIN)
    built.auth.accounts.create_user("bj01", PASSWORD, Role.OFFICER, station_id="south")
    return built


def test_enrolment_gives_a_base32_secret_and_an_otpauth_uri(services: Services) -> None:
    enrolment = services.auth.second_factor.enrol("dispatcher", actor="admin", source="cli")
    assert len(totp.decode_secret(enrolment.secret)) == 20
    uri = urlsplit(enrolment.otpauth_uri)
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/Jingwu:dispatcher")
    assert parse_qs(uri.query) == {
        "secret": [enrolment.secret],
        "issuer": ["Jingwu"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }
    assert services.auth.second_factor.state("dispatcher") == "pending"
    assert (
        services.auth.second_factor.enrol("dispatcher").secret != enrolment.secret
    )  # a fresh draw each time
    (record,) = [r for r in services.audit.page(limit=50) if r.action == "auth.totp_enrolled"][-1:]
    assert (record.actor, record.target, record.source) == ("admin", "dispatcher", "cli")
    assert enrolment.secret not in str(record.to_dict())


def test_a_role_that_needs_totp_cannot_log_in_before_enrolment(services: Services) -> None:
    refused = _refusal(services, "dispatcher", None)
    assert refused.code == "totp_not_enrolled" and "administrator must enrol" in refused.message
    assert _refusal(services, "admin", "123456").code == "totp_not_enrolled"
    # Officers are not asked; a code sent by a user without a second factor is ignored.
    assert services.auth.logins.login("bj01", PASSWORD).principal.username == "bj01"
    assert services.auth.logins.login("bj01", PASSWORD, "123456").principal.username == "bj01"
    # `jingwu serve` names them at start-up.
    assert services.auth.second_factor.users_without() == ["admin", "dispatcher"]
    services.auth.second_factor.enrol("admin")
    assert services.auth.second_factor.users_without() == ["dispatcher"]


def test_the_second_factor_is_looked_at_only_after_the_password(services: Services) -> None:
    services.auth.second_factor.enrol("dispatcher")
    with pytest.raises(Unauthenticated) as refused:
        services.auth.logins.login("dispatcher", "wrong-password-1")
    assert refused.value.code == "bad_credentials"
    with pytest.raises(Unauthenticated) as refused:
        services.auth.logins.login("dispatcher", "wrong-password-1", "000000")
    assert refused.value.code == "bad_credentials"
    with pytest.raises(Unauthenticated) as refused:
        services.auth.logins.login("nobody", "wrong-password-1")
    assert refused.value.code == "bad_credentials"


def test_pending_enrolment_is_confirmed_by_the_first_log_in_with_a_code(
    services: Services, clock: FakeClock
) -> None:
    secret = services.auth.second_factor.enrol("dispatcher").secret
    assert _refusal(services, "dispatcher", None).code == "totp_required"
    issued = services.auth.logins.login("dispatcher", PASSWORD, _code(secret, clock), source="10.0.0.7")
    assert issued.principal.role is Role.DISPATCHER
    assert services.auth.second_factor.state("dispatcher") == "active"
    login = next(r for r in services.audit.page(limit=50) if r.action == "auth.login")
    assert login.details == {"second_factor": "totp"}
    assert _whys(services) == ["totp_required"]


def test_wrong_replayed_and_older_codes_are_refused(services: Services, clock: FakeClock) -> None:
    secret = services.auth.second_factor.enrol("dispatcher").secret
    code = _code(secret, clock)
    services.auth.logins.login("dispatcher", PASSWORD, code)
    # The same code again, within its 30 seconds: refused.
    clock.advance(5)
    replay = _refusal(services, "dispatcher", code)
    assert replay.code == "bad_totp" and "already used" in replay.message
    # The previous step's code is still inside the drift window but older than the one used.
    assert _refusal(services, "dispatcher", _code(secret, clock, shift_s=-30)).code == "bad_totp"
    wrong = str((int(_code(secret, clock)) + 1) % 10**6).zfill(6)
    assert _refusal(services, "dispatcher", wrong).code == "bad_totp"
    # Once the clock moves on, the next code works.
    clock.advance(30)
    services.auth.logins.login("dispatcher", PASSWORD, _code(secret, clock))
    failures = [r for r in services.audit.page(limit=50) if r.action == "auth.login_failed"]
    assert [(r.details["why"], r.details["replayed"]) for r in reversed(failures)] == [
        ("bad_totp", True),
        ("bad_totp", True),
        ("bad_totp", False),
    ]


def test_clock_drift_of_one_step_either_way_is_accepted(services: Services, clock: FakeClock) -> None:
    secret = services.auth.second_factor.enrol("dispatcher").secret
    services.auth.logins.login("dispatcher", PASSWORD, _code(secret, clock, shift_s=-30))
    clock.advance(30)
    services.auth.logins.login("dispatcher", PASSWORD, _code(secret, clock, shift_s=30))
    clock.advance(90)
    assert _refusal(services, "dispatcher", _code(secret, clock, shift_s=60)).code == "bad_totp"


def test_wrong_codes_count_towards_the_lock_out_and_totp_required_does_not(
    services: Services, clock: FakeClock
) -> None:
    secret = services.auth.second_factor.enrol("dispatcher").secret
    for _ in range(10):
        assert _refusal(services, "dispatcher", None).code == "totp_required"
    right = _code(secret, clock)
    wrong = str((int(right) + 1) % 10**6).zfill(6)
    for _ in range(4):
        assert _refusal(services, "dispatcher", wrong).code == "bad_totp"
    locked = _refusal(services, "dispatcher", wrong)
    assert locked.code == "account_locked" and locked.params["locked_until"]
    # Locked: the right password and the right code are refused too.
    assert _refusal(services, "dispatcher", right).code == "account_locked"
    clock.advance(services.settings.lockout_s)
    services.auth.logins.login("dispatcher", PASSWORD, _code(secret, clock))
    assert services.audit.verify().intact


def test_an_active_second_factor_is_asked_for_even_where_policy_does_not(
    services: Services, clock: FakeClock
) -> None:
    services.auth.second_factor.require_totp = False
    secret = services.auth.second_factor.enrol("bj01").secret
    # Pending: not yet asked for.
    services.auth.logins.login("bj01", PASSWORD)
    services.auth.second_factor.confirm("bj01", _code(secret, clock))
    assert services.auth.second_factor.state("bj01") == "active"
    assert _refusal(services, "bj01", None).code == "totp_required"
    clock.advance(30)
    services.auth.logins.login("bj01", PASSWORD, _code(secret, clock))
    # Without the policy, a dispatcher who never enrolled logs in with the password alone.
    services.auth.logins.login("dispatcher", PASSWORD)


def test_confirmation_needs_a_pending_enrolment_and_the_right_code(
    services: Services, clock: FakeClock
) -> None:
    with pytest.raises(Conflict) as refused:
        services.auth.second_factor.confirm("bj01", "123456")
    assert refused.value.code == "totp_not_pending"
    secret = services.auth.second_factor.enrol("bj01").secret
    wrong = str((int(_code(secret, clock)) + 1) % 10**6).zfill(6)
    with pytest.raises(ValidationFailed) as bad:
        services.auth.second_factor.confirm("bj01", wrong)
    assert bad.value.code == "bad_totp" and services.auth.second_factor.state("bj01") == "pending"
    code = _code(secret, clock)
    services.auth.second_factor.confirm("bj01", code)
    with pytest.raises(Conflict):
        services.auth.second_factor.confirm("bj01", code)
    # The code that confirmed the enrolment does not open a session as well.
    assert _refusal(services, "bj01", code).code == "bad_totp"
    outcomes = [
        r.outcome for r in reversed(services.audit.page(limit=50)) if r.action == "auth.totp_confirmed"
    ]
    assert outcomes == ["refused", "ok"]


def test_an_active_second_factor_is_replaced_only_by_an_administrators_reset(
    services: Services, clock: FakeClock
) -> None:
    secret = services.auth.second_factor.enrol("dispatcher").secret
    services.auth.logins.login("dispatcher", PASSWORD, _code(secret, clock))
    with pytest.raises(Conflict) as refused:
        services.auth.second_factor.enrol("dispatcher", actor="dispatcher")
    assert refused.value.code == "totp_already_enrolled"
    fresh = services.auth.second_factor.enrol("dispatcher", replace_active=True, source="cli").secret
    assert services.auth.second_factor.state("dispatcher") == "pending"
    clock.advance(30)
    assert _refusal(services, "dispatcher", _code(secret, clock)).code == "bad_totp"
    services.auth.logins.login("dispatcher", PASSWORD, _code(fresh, clock))
