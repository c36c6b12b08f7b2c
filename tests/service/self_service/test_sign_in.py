"""Phone sign-in: a code per request, hashed at rest, five minutes, five tries, limits per phone and
address; the first sign-in makes a resident account, later ones reuse it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jingwu.composition import Services
from jingwu.domain.access import Level, Role
from jingwu.errors import TooManyAttempts, Unauthenticated, ValidationFailed
from jingwu.service.self_service import DemoSender, SelfService
from jingwu.service.self_service.senders import LogSender, NoSender, SenderUnavailable
from jingwu.service.self_service.sign_in import CODE_TTL, CODES_PER_SOURCE_HOUR, MAX_ATTEMPTS
from jingwu.settings import Settings
from jingwu.store import self_service_tables as st
from jingwu.store.db import read_transaction
from tests.conftest import FakeClock, ServicesFactory
from tests.service.self_service.conftest import OTHER_PHONE, PHONE


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_code_signs_a_new_phone_in_as_a_resident_with_its_own_jurisdiction(services: Services) -> None:
    sent = services.self_service.sign_in.request_code(PHONE, source="10.0.0.1")
    assert sent.demo_code is not None and len(sent.demo_code) == 6
    signed = services.self_service.sign_in.verify(PHONE, sent.demo_code, source="10.0.0.1")
    assert signed.new_account
    assert signed.principal.role is Role.RESIDENT
    assert signed.principal.jurisdiction.level is Level.OWN
    # The token is an ordinary session.
    assert services.auth.sessions.authenticate(signed.access_token).username == signed.principal.username


def test_the_same_phone_signs_in_to_the_same_account(services: Services, clock: FakeClock) -> None:
    sign_in = services.self_service.sign_in
    first = sign_in.verify(PHONE, sign_in.request_code(PHONE, source="a").demo_code or "", source="a")
    clock.advance(120)
    second = sign_in.verify(PHONE, sign_in.request_code(PHONE, source="a").demo_code or "", source="a")
    assert not second.new_account
    assert second.principal.user_id == first.principal.user_id


def test_codes_and_phones_are_not_stored_in_the_clear(services: Services) -> None:
    sign_in = services.self_service.sign_in
    code = sign_in.request_code(PHONE, source="a").demo_code or ""
    sign_in.verify(PHONE, code, source="a")
    with read_transaction(services.engine) as conn:
        codes = conn.execute(select(st.service_sign_in_codes)).all()
        residents = conn.execute(select(st.service_residents)).all()
    stored = repr(codes) + repr(residents)
    assert code not in stored
    assert PHONE not in stored and "+86" + PHONE not in stored
    assert sign_in.phone_of(residents[0].user_id) == "+86" + PHONE


def test_a_code_used_once_does_not_sign_in_again(services: Services) -> None:
    sign_in = services.self_service.sign_in
    code = sign_in.request_code(PHONE, source="a").demo_code or ""
    sign_in.verify(PHONE, code, source="a")
    with pytest.raises(Unauthenticated) as refused:
        sign_in.verify(PHONE, code, source="a")
    assert refused.value.code == "no_code"


def test_a_code_expires(services: Services, clock: FakeClock) -> None:
    sign_in = services.self_service.sign_in
    code = sign_in.request_code(PHONE, source="a").demo_code or ""
    clock.advance(CODE_TTL.total_seconds() + 1)
    with pytest.raises(Unauthenticated) as refused:
        sign_in.verify(PHONE, code, source="a")
    assert refused.value.code == "code_expired"


def test_a_code_dies_after_its_wrong_tries_even_for_the_right_one(services: Services) -> None:
    sign_in = services.self_service.sign_in
    code = sign_in.request_code(PHONE, source="a").demo_code or ""
    for left in range(MAX_ATTEMPTS - 1, -1, -1):
        with pytest.raises(Unauthenticated) as refused:
            sign_in.verify(PHONE, _wrong(code), source="a")
        assert refused.value.code == "bad_code"
        assert refused.value.params["attempts_left"] == left
    with pytest.raises(TooManyAttempts):
        sign_in.verify(PHONE, code, source="a")


def test_a_new_code_replaces_the_previous_one(services: Services, clock: FakeClock) -> None:
    sign_in = services.self_service.sign_in
    old = sign_in.request_code(PHONE, source="a").demo_code or ""
    clock.advance(61)
    new = sign_in.request_code(PHONE, source="a").demo_code or ""
    if old != new:
        with pytest.raises(Unauthenticated):
            sign_in.verify(PHONE, old, source="a")
    assert sign_in.verify(PHONE, new, source="a").principal.role is Role.RESIDENT


def test_a_phone_waits_a_minute_between_codes_and_has_a_ceiling_an_hour(
    services: Services, clock: FakeClock
) -> None:
    sign_in = services.self_service.sign_in
    sign_in.request_code(PHONE, source="a")
    with pytest.raises(TooManyAttempts) as refused:
        sign_in.request_code(PHONE, source="b")
    assert 0 < refused.value.params["retry_after_s"] <= 61
    for _ in range(4):
        clock.advance(61)
        sign_in.request_code(PHONE, source="a")
    clock.advance(61)
    with pytest.raises(TooManyAttempts):
        sign_in.request_code(PHONE, source="a")
    clock.advance(3600)
    assert sign_in.request_code(PHONE, source="a").demo_code


def test_an_address_has_a_ceiling_across_phones(services: Services) -> None:
    sign_in = services.self_service.sign_in
    for i in range(CODES_PER_SOURCE_HOUR):
        sign_in.request_code(f"1380013{i:04d}", source="10.9.9.9")
    with pytest.raises(TooManyAttempts):
        sign_in.request_code(OTHER_PHONE, source="10.9.9.9")
    assert sign_in.request_code(OTHER_PHONE, source="10.9.9.8").demo_code


@pytest.mark.parametrize("phone", ["12345", "045188888888", "not a phone"])
def test_only_a_mobile_number_gets_a_code(services: Services, phone: str) -> None:
    with pytest.raises(ValidationFailed):
        services.self_service.sign_in.request_code(phone, source="a")


def test_only_the_demo_sender_hands_the_code_back(services: Services) -> None:
    services.self_service.sender = LogSender()
    assert services.self_service.sign_in.request_code(PHONE, source="a").demo_code is None


def test_without_a_gateway_no_code_is_made(services: Services) -> None:
    services.self_service.sender = NoSender()
    with pytest.raises(SenderUnavailable):
        services.self_service.sign_in.request_code(PHONE, source="a")
    with read_transaction(services.engine) as conn:
        assert conn.execute(select(st.service_sign_in_codes)).first() is None


def test_a_server_sends_no_code_back_unless_its_settings_say_demo(make_services: ServicesFactory) -> None:
    built = make_services()
    production = Settings(data_dir=built.settings.data_dir, database_url=built.settings.database_url)
    assert production.sms_sender == "none"
    service = SelfService(
        built.engine,
        bus=built.bus,
        keys=built.self_service.keys,
        audit=built.audit,
        dispatch=built.dispatch,
        geocoding=built.geocoding,
        settings=production,
        clock=built.self_service.clock,
    )
    assert isinstance(service.sender, NoSender)
    assert isinstance(built.self_service.sender, DemoSender)  # the tests' settings say demo
