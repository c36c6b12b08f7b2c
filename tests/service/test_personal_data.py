"""Key rotation over real stored data: values sealed under an old key, values from before
encryption, and the phone index after the oldest key leaves the key file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from jingwu.composition import Services, field_keys
from jingwu.domain.access import Role
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Reporter
from jingwu.domain.status import SourceChannel
from jingwu.service.dispatching import NewIncident
from jingwu.service.personal_data import PersonalDataService, phone_index, seal_reporter
from jingwu.store import tables as t
from jingwu.store.fieldcrypt import FieldCryptError, KeyRing, format_key_line, generate_key_file
from tests.conftest import ServicesFactory

CENTRE = GeoPoint(45.7560, 126.6420)
K1 = format_key_line("k1", b"\x01" * 32)
K2 = format_key_line("k2", b"\x02" * 32)


def _report(services: Services, name: str, phone: str) -> str:
    incident = services.dispatch.create_incident(
        NewIncident(
            type_code="crim.robbery",
            priority=1,
            location=CENTRE,
            source=SourceChannel.CALL_110,
            reporter=Reporter(name=name, phone=phone),
        ),
        actor="dispatcher",
    )
    return incident.id


def _sealed(services: Services) -> list[tuple[str, str, str]]:
    with services.engine.connect() as conn:
        rows = conn.execute(
            select(
                t.incidents.c.reporter_name, t.incidents.c.reporter_phone, t.incidents.c.reporter_phone_index
            )
        ).all()
    return [(r.reporter_name, r.reporter_phone, r.reporter_phone_index) for r in rows]


def _read(service: PersonalDataService, incident_id: str) -> tuple[str | None, str | None]:
    view = service.read_reporter(
        incident_id, actor="test", reason="key rotation test", full=True, source=None
    )
    return view.name, view.phone


def test_rotation_reseals_under_the_new_key_and_old_keys_can_then_leave(
    make_services: ServicesFactory,
) -> None:
    services = make_services()
    old = KeyRing.parse(K1)
    services.personal.keys = old  # what the bureau ran with until now
    services.dispatch.seal_reporter = lambda r: seal_reporter(old, r)
    first = _report(services, "张三", "+8613812345678")
    second = _report(services, "李四", "+8613900001111")
    assert all(
        name.startswith("v1:k1:") and phone.startswith("v1:k1:") for name, phone, _ in _sealed(services)
    )

    both = KeyRing.parse(f"{K1}\n{K2}")  # a key appended: k2 is current
    report = PersonalDataService(services.engine, both).rotate(actor="ops", source="cli")
    assert report.fields_resealed == 4 and report.indexes_filled == 0
    assert all(
        name.startswith("v1:k2:") and phone.startswith("v1:k2:") for name, phone, _ in _sealed(services)
    )

    # k1 removed from the file: everything still reads; the phone index moves to k2 once
    # rotation runs again (it recomputes every index), and search finds the number again.
    only_new = PersonalDataService(services.engine, KeyRing.parse(K2))
    assert _read(only_new, first) == ("张三", "+8613812345678")
    assert _read(only_new, second) == ("李四", "+8613900001111")
    assert (
        only_new.incidents_by_phone(
            "+8613812345678", actor="t", reason="search", source=None, station_ids=None
        )
        == []
    )
    repaired = only_new.rotate()
    assert (repaired.fields_resealed, repaired.indexes_filled) == (0, 2)
    found = only_new.incidents_by_phone(
        "+8613812345678", actor="t", reason="search", source=None, station_ids=None
    )
    assert [i.id for i in found] == [first]
    rotations = [r for r in services.audit.page(limit=100) if r.action == "keys.rotated"]
    assert [r.details["current_key"] for r in rotations] == ["k2", "k2"]
    assert services.audit.verify().intact


def test_values_stored_before_encryption_are_read_and_then_sealed_by_rotation(
    make_services: ServicesFactory,
) -> None:
    services = make_services()
    incident_id = _report(services, "王五", "+8613812345678")
    with services.engine.begin() as conn:  # as a database from before revision 0008 holds them
        conn.execute(
            update(t.incidents).values(
                reporter_name="王五", reporter_phone="+8613812345678", reporter_phone_index=None
            )
        )
    keys = services.personal.keys
    assert _read(services.personal, incident_id) == ("王五", "+8613812345678")
    report = services.personal.rotate()
    assert (report.fields_resealed, report.indexes_filled) == (2, 1)
    ((name, phone, index),) = _sealed(services)
    assert name.startswith("v1:") and phone.startswith("v1:") and "13812345678" not in phone
    assert index == phone_index(keys, "+8613812345678")
    assert _read(services.personal, incident_id) == ("王五", "+8613812345678")


def test_a_totp_secret_is_stored_sealed(make_services: ServicesFactory) -> None:
    services = make_services()
    services.auth.accounts.create_user("desk", "correct-horse-battery", Role.DISPATCHER)
    enrolment = services.auth.second_factor.enrol("desk")
    with services.engine.connect() as conn:
        stored = conn.execute(select(t.users.c.totp_secret)).scalar_one()
    assert stored.startswith("v1:") and enrolment.secret not in stored


def test_keys_that_cannot_open_the_database_are_refused_at_start_up(
    make_services: ServicesFactory, tmp_path: Path
) -> None:
    services = make_services()
    _report(services, "张三", "+8613812345678")
    settings = services.settings
    # The data directory's own key file opens it.
    assert field_keys(settings, services.engine).current == services.personal.keys.current
    # Another key file (a stray one made by a start without the setting) is refused.
    stray = tmp_path / "stray-keys"
    generate_key_file(stray)
    with pytest.raises(FieldCryptError, match="cannot open this database"):
        field_keys(settings.model_copy(update={"field_key_file": stray}), services.engine)
    # With no key file at all, none is made for a database that holds sealed data.
    elsewhere = tmp_path / "elsewhere"
    with pytest.raises(FieldCryptError, match="no key file"):
        field_keys(settings.model_copy(update={"data_dir": elsewhere}), services.engine)
    assert not (elsewhere / "field-keys").exists()


def test_a_changed_index_key_stops_start_up_until_rotation_rebuilds_the_indexes(
    make_services: ServicesFactory, tmp_path: Path
) -> None:
    services = make_services()
    old = KeyRing.parse(K1)
    services.personal.keys = old
    services.dispatch.seal_reporter = lambda r: seal_reporter(old, r)
    _report(services, "张三", "+8613812345678")
    both, only_new = tmp_path / "both", tmp_path / "new"
    both.write_text(f"{K1}\n{K2}\n")
    only_new.write_text(f"{K2}\n")
    for path in (both, only_new):
        path.chmod(0o600)
    settings = services.settings
    keys = field_keys(settings.model_copy(update={"field_key_file": both}), services.engine)
    PersonalDataService(services.engine, keys).rotate()
    removed = settings.model_copy(update={"field_key_file": only_new})
    with pytest.raises(FieldCryptError, match="keys rotate"):
        field_keys(removed, services.engine)
    keys = field_keys(removed, services.engine, check_indexes=False)
    PersonalDataService(services.engine, keys).rotate()
    assert field_keys(removed, services.engine).current == "k2"
