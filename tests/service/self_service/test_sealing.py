"""Key rotation of the self-service's sealed fields: values re-sealed under the new key, blind
indexes rebuilt once the old key (the index key) is gone, and the phone still finds its account."""

from __future__ import annotations

from sqlalchemy import select

from jingwu.composition import Services
from jingwu.service.self_service import NewApplication
from jingwu.service.self_service.sealing import SEALED, rotate_self_service
from jingwu.store.db import read_transaction
from jingwu.store.fieldcrypt import KeyRing, format_key_line
from tests.conftest import FakeClock
from tests.service.self_service.conftest import ID_NUMBER, PHONE

K1 = format_key_line("k1", b"\x01" * 32)
K2 = format_key_line("k2", b"\x02" * 32)


def _use(services: Services, keys: KeyRing) -> None:
    services.self_service.sign_in.keys = keys
    services.self_service.applications.keys = keys


def test_rotation_reseals_and_reindexes_and_the_phone_still_signs_in(
    services: Services, clock: FakeClock
) -> None:
    _use(services, KeyRing.parse(K1))
    sign_in = services.self_service.sign_in
    first = sign_in.verify(PHONE, sign_in.request_code(PHONE, source="a").demo_code or "", source="a")
    services.self_service.applications.create(
        NewApplication("no_criminal_record", "钱 多多", ID_NUMBER, "南岗区保健路 1 号", "south", "留学"),
        user_id=first.principal.user_id,
        actor=first.principal.username,
    )
    resealed, _ = rotate_self_service(services.engine, KeyRing.parse(f"{K1}\n{K2}"))
    assert resealed == 4  # the phone; the name, the ID number and the address
    new_only = KeyRing.parse(K2)
    with read_transaction(services.engine) as conn:
        for table, _, columns in SEALED:
            for row in conn.execute(select(table)):
                for column, context, _, _ in columns:
                    assert new_only.decrypt(getattr(row, column), context=context)
    assert rotate_self_service(services.engine, new_only) == (0, 2)  # both indexes under the new index key
    assert rotate_self_service(services.engine, new_only) == (0, 0)
    _use(services, new_only)
    clock.advance(61)
    again = sign_in.verify(PHONE, sign_in.request_code(PHONE, source="a").demo_code or "", source="a")
    assert not again.new_account and again.principal.user_id == first.principal.user_id
    assert (
        services.self_service.applications.find(user_id=first.principal.user_id)[0].applicant_name
        == "钱 多多"
    )
