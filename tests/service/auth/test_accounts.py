"""Accounts: creating them, what an administrator changes of them, and what that ends."""

from datetime import timedelta
from typing import Any

import pytest

from jingwu.domain.access import Jurisdiction
from jingwu.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from jingwu.service.auth import Role
from jingwu.store import tables as t
from tests.conftest import PASSWORD, FakeClock, ServicesFactory, make_unit


def _records(services: object, action: str) -> list[Any]:
    return [r for r in reversed(services.audit.page(limit=500)) if r.action == action]  # type: ignore[attr-defined]


def test_short_password_and_duplicate_user_are_refused(make_services: ServicesFactory) -> None:
    services = make_services()
    with pytest.raises(ValidationFailed):
        services.auth.accounts.create_user("d", "short", Role.DISPATCHER)
    services.auth.accounts.create_user("BJ01", PASSWORD, Role.OFFICER, station_id="south")
    with pytest.raises(Conflict):
        services.auth.accounts.create_user("bj01", PASSWORD, Role.OFFICER, station_id="south")


def test_new_password_ends_sessions_opened_with_the_old_one(make_services: ServicesFactory) -> None:
    services = make_services()
    services.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    token = services.auth.logins.login("dispatcher", PASSWORD).access_token
    services.auth.accounts.set_password("dispatcher", "another-long-password")
    with pytest.raises(Unauthenticated):
        services.auth.sessions.authenticate(token)
    with pytest.raises(Unauthenticated):
        services.auth.logins.login("dispatcher", PASSWORD)
    assert services.auth.logins.login("dispatcher", "another-long-password").principal.role is Role.DISPATCHER


def test_a_role_change_ends_the_users_sessions_and_is_audited_before_and_after(
    make_services: ServicesFactory,
) -> None:
    services = make_services()
    services.auth.accounts.create_user("admin", PASSWORD, Role.ADMIN)
    services.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER, station_id="south")
    tokens = [services.auth.logins.login("dispatcher", PASSWORD).access_token for _ in range(2)]
    changed = services.auth.accounts.update_user("dispatcher", role=Role.ANALYST, actor="admin", source="cli")
    # The station's jurisdiction was the default one: it stays the station's (an analyst's default).
    assert (changed.role, str(changed.jurisdiction)) == (Role.ANALYST, "station:south")
    for token in tokens:
        with pytest.raises(Unauthenticated) as refused:
            services.auth.sessions.authenticate(token)
        assert refused.value.code == "bad_token"
    assert services.auth.logins.login("dispatcher", PASSWORD).principal.role is Role.ANALYST
    (record,) = _records(services, "auth.user_changed")
    assert (record.actor, record.target, record.source) == ("admin", "dispatcher", "cli")
    assert record.details == {
        "before": {"role": "dispatcher"},
        "after": {"role": "analyst"},
        "sessions_ended": 2,
    }
    assert services.audit.verify().intact


def test_a_jurisdiction_change_is_recorded_and_a_unit_change_keeps_the_session(
    make_services: ServicesFactory,
) -> None:
    services = make_services()
    services.auth.accounts.create_user("commander", PASSWORD, Role.COMMANDER)
    token = services.auth.logins.login("commander", PASSWORD).access_token
    services.auth.accounts.update_user(
        "commander", jurisdiction=Jurisdiction.parse("district:南岗区"), actor="root", source="cli"
    )
    with pytest.raises(Unauthenticated):
        services.auth.sessions.authenticate(token)
    token = services.auth.logins.login("commander", PASSWORD).access_token
    services.auth.accounts.update_user("commander", station_id="south", actor="root", source="cli")
    # A jurisdiction set on purpose stays when the station changes; the session goes on with it.
    assert str(services.auth.sessions.authenticate(token).jurisdiction) == "district:南岗区"
    assert services.auth.sessions.authenticate(token).station_id == "south"
    first, second = _records(services, "auth.user_changed")
    assert first.details == {
        "before": {"jurisdiction": "city"},
        "after": {"jurisdiction": "district:南岗区"},
        "sessions_ended": 1,
    }
    assert second.details == {"before": {"station_id": None}, "after": {"station_id": "south"}}


def test_a_change_that_changes_nothing_records_nothing(make_services: ServicesFactory) -> None:
    services = make_services()
    services.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    token = services.auth.logins.login("dispatcher", PASSWORD).access_token
    services.auth.accounts.update_user(
        "dispatcher", role=Role.DISPATCHER, disabled=False, actor="root", source="cli"
    )
    assert services.auth.sessions.authenticate(token).username == "dispatcher"
    assert _records(services, "auth.user_changed") == []


def test_the_jurisdiction_follows_a_role_into_and_out_of_a_residents_own_reports(
    make_services: ServicesFactory,
) -> None:
    services = make_services()
    services.auth.accounts.create_user(
        "clerk", PASSWORD, Role.DISPATCHER, jurisdiction=Jurisdiction.parse("district:南岗区")
    )
    as_resident = services.auth.accounts.update_user("clerk", role=Role.RESIDENT, actor="root", source="cli")
    assert str(as_resident.jurisdiction) == "own"
    back = services.auth.accounts.update_user(
        "clerk", role=Role.OFFICER, station_id="north", actor="root", source="cli"
    )
    assert str(back.jurisdiction) == "station:north"


def test_a_disabled_user_cannot_log_in_and_loses_their_sessions(make_services: ServicesFactory) -> None:
    services = make_services()
    services.auth.accounts.create_user("u1", PASSWORD, Role.OFFICER, station_id="south")
    token = services.auth.logins.login("u1", PASSWORD).access_token
    services.auth.accounts.update_user("u1", disabled=True, actor="admin", source="10.0.0.9")
    with pytest.raises(Unauthenticated) as refused:
        services.auth.logins.login("u1", PASSWORD)
    assert refused.value.code == "bad_credentials"
    # Enabling again does not bring the old session back.
    services.auth.accounts.update_user("u1", disabled=False, actor="admin", source="10.0.0.9")
    with pytest.raises(Unauthenticated):
        services.auth.sessions.authenticate(token)
    assert services.auth.logins.login("u1", PASSWORD).principal.username == "u1"
    disabling, enabling = _records(services, "auth.user_changed")
    assert disabling.details == {
        "before": {"disabled": False},
        "after": {"disabled": True},
        "sessions_ended": 1,
    }
    assert enabling.details["after"] == {"disabled": False}
    assert [r.details["why"] for r in _records(services, "auth.login_failed")] == ["disabled"]


def test_the_last_enabled_admin_can_be_neither_demoted_nor_disabled(make_services: ServicesFactory) -> None:
    services = make_services()
    services.auth.accounts.create_user("admin", PASSWORD, Role.ADMIN)
    services.auth.accounts.create_user("old-admin", PASSWORD, Role.ADMIN)
    services.auth.accounts.update_user("old-admin", disabled=True, actor="admin", source="cli")
    for change in ({"role": Role.DISPATCHER}, {"disabled": True}):
        with pytest.raises(Conflict) as refused:
            services.auth.accounts.update_user("admin", **change, actor="admin", source="cli")  # type: ignore[arg-type]
        assert refused.value.code == "last_admin"
    assert services.auth.logins.login("admin", PASSWORD).principal.role is Role.ADMIN
    # With a second enabled admin, either may step down.
    services.auth.accounts.update_user("old-admin", disabled=False, actor="admin", source="cli")
    services.auth.accounts.update_user("admin", role=Role.COMMANDER, actor="old-admin", source="cli")
    with pytest.raises(Conflict):
        services.auth.accounts.update_user("old-admin", role=Role.ANALYST, actor="old-admin", source="cli")
    assert len(_records(services, "auth.user_changed")) == 3


def test_a_person_cannot_become_a_device_nor_a_device_a_person(make_services: ServicesFactory) -> None:
    services = make_services()
    services.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    services.auth.accounts.create_device_account("gate")
    with pytest.raises(Conflict) as refused:
        services.auth.accounts.update_user("dispatcher", role=Role.DEVICE, actor="root", source="cli")
    assert refused.value.code == "device_role_fixed"
    with pytest.raises(Conflict) as refused:
        services.auth.accounts.update_user("gate", role=Role.OFFICER, actor="root", source="cli")
    assert refused.value.code == "device_role_fixed"
    with pytest.raises(ValidationFailed) as no_password:
        services.auth.accounts.set_password("gate", "another-long-password")
    assert no_password.value.code == "device_has_no_password"
    with pytest.raises(NotFound) as missing:
        services.auth.accounts.update_user("nobody", disabled=True, actor="root", source="cli")
    assert missing.value.code == "user_not_found"
    assert _records(services, "auth.user_changed") == []


def test_end_sessions_revokes_every_live_token_and_device_key_and_counts_them(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    services.auth.accounts.create_user("u1", PASSWORD, Role.OFFICER, station_id="south")
    phone = services.auth.logins.login("u1", PASSWORD).access_token
    services.auth.logins.login("u1", PASSWORD)
    _, key = services.auth.accounts.create_device_account("car-box")
    clock.advance(60)
    assert services.auth.accounts.end_sessions("u1", actor="admin", source="cli") == 2
    assert services.auth.accounts.end_sessions("car-box", actor="admin", source="cli") == 1
    for token in (phone, key):
        with pytest.raises(Unauthenticated):
            services.auth.sessions.authenticate(token)
    assert services.auth.accounts.end_sessions("u1", actor="admin", source="cli") == 0
    # Ended, not barred: the user logs in again.
    assert services.auth.logins.login("u1", PASSWORD).principal.username == "u1"
    ended = _records(services, "auth.sessions_ended")
    assert [(r.actor, r.target, r.source, r.details) for r in ended] == [
        ("admin", "u1", "cli", {"sessions_ended": 2}),
        ("admin", "car-box", "cli", {"sessions_ended": 1}),
        ("admin", "u1", "cli", {"sessions_ended": 0}),
    ]
    with pytest.raises(NotFound):
        services.auth.accounts.end_sessions("nobody", actor="admin", source="cli")


def test_an_admins_password_reset_ends_the_users_sessions_and_names_the_admin(
    make_services: ServicesFactory,
) -> None:
    services = make_services()
    services.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    token = services.auth.logins.login("dispatcher", PASSWORD).access_token
    services.auth.accounts.set_password(
        "dispatcher", "another-long-password", actor="admin", source="10.1.2.3"
    )
    with pytest.raises(Unauthenticated):
        services.auth.sessions.authenticate(token)
    (record,) = _records(services, "auth.password_changed")
    assert (record.actor, record.target, record.source) == ("admin", "dispatcher", "10.1.2.3")


def test_list_users_shows_each_account_without_its_secrets(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    services.auth.accounts.create_user(
        "dispatcher", PASSWORD, Role.DISPATCHER, station_id="south", display_name="李娜"
    )
    services.auth.second_factor.enrol("dispatcher")
    services.auth.accounts.create_device_account("gate", unit_id=None)
    services.auth.accounts.create_user("admin", PASSWORD, Role.ADMIN)
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            services.auth.logins.login("admin", "wrong-password-1")
    users = services.auth.accounts.list_users()
    assert [(u.username, u.role, str(u.jurisdiction), u.totp) for u in users] == [
        ("admin", Role.ADMIN, "city", "none"),
        ("dispatcher", Role.DISPATCHER, "station:south", "pending"),
        ("gate", Role.DEVICE, "own", "none"),
    ]
    admin, dispatcher, _ = users
    assert admin.locked_until == clock.now + timedelta(seconds=services.settings.lockout_s)
    assert (dispatcher.display_name, dispatcher.station_id, dispatcher.disabled) == ("李娜", "south", False)
    assert dispatcher.locked_until is None and dispatcher.created_at == clock.now
    assert not any(hasattr(u, "password_hash") or hasattr(u, "totp_secret") for u in users)
    clock.advance(services.settings.lockout_s)
    assert services.auth.accounts.user_info("admin").locked_until is None
    with pytest.raises(NotFound):
        services.auth.accounts.user_info("nobody")


# ------------------------------------------------------- new accounts: the user name, the place


@pytest.mark.parametrize(
    ("role", "place", "says"),
    [
        # The new-user trial's resident who listed every incident in the city.
        (Role.RESIDENT, {"jurisdiction": "city"}, "its jurisdiction is own, not city"),
        (Role.RESIDENT, {"jurisdiction": "station:south"}, "its jurisdiction is own"),
        (Role.DISPATCHER, {"jurisdiction": "own"}, "only residents and devices"),
        (Role.ANALYST, {"jurisdiction": "own"}, "only residents and devices"),
        (Role.OFFICER, {"jurisdiction": "city"}, "not the city"),
        (Role.OFFICER, {}, "bind the officer to a unit or a station"),
        (Role.DISPATCHER, {"jurisdiction": "station:nope"}, "there is no station 'nope'"),
        (Role.COMMANDER, {"jurisdiction": "district:道里区"}, "districts: 南岗区, 松北区"),
    ],
)
def test_a_jurisdiction_the_role_may_not_hold_or_naming_nothing_is_422_bad_jurisdiction(
    make_services: ServicesFactory, role: Role, place: dict[str, str], says: str
) -> None:
    services = make_services()
    scope = Jurisdiction.parse(place["jurisdiction"]) if "jurisdiction" in place else None
    with pytest.raises(ValidationFailed) as before_the_password:
        services.auth.accounts.check_new_account("newcomer", role, jurisdiction=scope)
    with pytest.raises(ValidationFailed) as refused:
        services.auth.accounts.create_user("newcomer", PASSWORD, role, jurisdiction=scope)
    for error in (before_the_password.value, refused.value):
        assert error.code == "bad_jurisdiction" and error.http_status == 422
        assert says in str(error) and error.params["role"] == str(role)
    with pytest.raises(NotFound):
        services.auth.accounts.user_info("newcomer")
    assert _records(services, "auth.user_created") == []


def test_an_unknown_unit_or_station_is_refused_and_a_unit_brings_its_station(
    make_services: ServicesFactory,
) -> None:
    services = make_services([make_unit("n1", 45.80, 126.60, station="north")])
    for kwargs, code in [
        ({"unit_id": "nope"}, "unit_not_found"),
        ({"station_id": "nope"}, "station_not_found"),
        ({"unit_id": "n1", "station_id": "nope"}, "station_not_found"),
    ]:
        with pytest.raises(NotFound) as refused:
            services.auth.accounts.create_user("n1-crew", PASSWORD, Role.OFFICER, **kwargs)  # type: ignore[arg-type]
        assert refused.value.code == code, kwargs
        with pytest.raises(NotFound):
            services.auth.accounts.create_device_account("n1-box", **kwargs)
    # An officer given only a unit belongs to the unit's station, and sees that station.
    assert services.auth.accounts.check_new_account("n1-crew", Role.OFFICER, unit_id="n1") == (
        "north",
        Jurisdiction.parse("station:north"),
    )
    officer = services.auth.accounts.create_user("n1-crew", PASSWORD, Role.OFFICER, unit_id="n1")
    assert (officer.station_id, str(officer.jurisdiction)) == ("north", "station:north")
    device, _ = services.auth.accounts.create_device_account("n1-box", unit_id="n1")
    assert (device.station_id, str(device.jurisdiction)) == ("north", "own")
    # Given a district instead, an officer needs neither unit nor station.
    roving = services.auth.accounts.create_user(
        "roving", PASSWORD, Role.OFFICER, jurisdiction=Jurisdiction.parse("district:松北区")
    )
    assert str(roving.jurisdiction) == "district:松北区"
    assert [r.target for r in _records(services, "auth.user_created")] == ["n1-crew", "n1-box", "roving"]


def test_a_taken_name_is_an_account_that_exists_for_people_and_devices_alike(
    make_services: ServicesFactory,
) -> None:
    services = make_services()
    services.auth.accounts.create_device_account("column-001")
    services.auth.accounts.create_user("li-na", PASSWORD, Role.DISPATCHER)
    for create in (
        lambda: services.auth.accounts.create_device_account("Column-001"),
        lambda: services.auth.accounts.create_user("column-001", PASSWORD, Role.DISPATCHER),
        lambda: services.auth.accounts.create_device_account("li-na"),
        lambda: services.auth.accounts.check_new_account("LI-NA", Role.DISPATCHER),
    ):
        with pytest.raises(Conflict) as refused:
            create()
        assert refused.value.code == "user_exists"
        assert str(refused.value).startswith("an account named ") and str(refused.value).endswith(" exists")


def test_a_change_of_role_or_jurisdiction_follows_the_same_rules(make_services: ServicesFactory) -> None:
    services = make_services([make_unit("n1", 45.80, 126.60, station="north")])
    services.auth.accounts.create_user("resident-1", PASSWORD, Role.RESIDENT)
    services.auth.accounts.create_user("clerk", PASSWORD, Role.DISPATCHER)
    for username, change, code in [
        ("resident-1", {"jurisdiction": Jurisdiction.parse("city")}, "bad_jurisdiction"),
        ("clerk", {"jurisdiction": Jurisdiction.parse("own")}, "bad_jurisdiction"),
        ("clerk", {"jurisdiction": Jurisdiction.parse("district:nowhere")}, "bad_jurisdiction"),
        # A city dispatcher made an officer with no station would keep the city.
        ("clerk", {"role": Role.OFFICER}, "bad_jurisdiction"),
        ("clerk", {"unit_id": "nope"}, "unit_not_found"),
        ("clerk", {"station_id": "nope"}, "station_not_found"),
    ]:
        with pytest.raises((ValidationFailed, NotFound)) as refused:
            services.auth.accounts.update_user(username, **change, actor="root", source="cli")  # type: ignore[arg-type]
        assert refused.value.code == code, change
    assert _records(services, "auth.user_changed") == []
    # With a unit, the officer takes the unit's station and covers it.
    officer = services.auth.accounts.update_user(
        "clerk", role=Role.OFFICER, unit_id="n1", actor="root", source="cli"
    )
    assert (officer.station_id, str(officer.jurisdiction)) == ("north", "station:north")


def test_an_account_from_before_the_rules_can_still_be_disabled(make_services: ServicesFactory) -> None:
    services = make_services()
    services.auth.accounts.create_user("old-resident", PASSWORD, Role.RESIDENT)
    with services.engine.begin() as conn:
        conn.execute(t.users.update().where(t.users.c.username == "old-resident").values(jurisdiction="city"))
    disabled = services.auth.accounts.update_user("old-resident", disabled=True, actor="root", source="cli")
    assert str(disabled.jurisdiction) == "city"
    # Changing its jurisdiction is held to the rules: only own is right for a resident.
    with pytest.raises(ValidationFailed):
        services.auth.accounts.update_user(
            "old-resident", jurisdiction=Jurisdiction.parse("district:南岗区"), actor="root", source="cli"
        )
    fixed = services.auth.accounts.update_user(
        "old-resident", jurisdiction=Jurisdiction.parse("own"), actor="root", source="cli"
    )
    assert str(fixed.jurisdiction) == "own"


def test_two_concurrent_creations_of_one_name_in_two_cases_cannot_both_succeed(
    make_services: ServicesFactory,
) -> None:
    """The race the code's own check cannot close on PostgreSQL: BJ01 is inserted but not yet
    committed when the creation of bj01 looks for it. The database's index keeps them apart."""
    import threading

    from sqlalchemy import func, insert, select

    from jingwu.store.db import write_transaction

    services = make_services()
    outcome: list[BaseException | str] = []

    def create() -> None:
        try:
            services.auth.accounts.create_user("bj01", PASSWORD, Role.OFFICER, station_id="south")
            outcome.append("created")
        except BaseException as exc:
            outcome.append(exc)

    with write_transaction(services.engine) as conn:
        conn.execute(
            insert(t.users).values(
                id="usr-first",
                username="BJ01",
                password_hash="x",
                role="officer",
                station_id="south",
                jurisdiction="station:south",
                disabled=False,
                created_at=services.auth.clock(),
            )
        )
        racer = threading.Thread(target=create)
        racer.start()
        racer.join(timeout=1.0)  # it waits on the uncommitted name, or (without the index) ends
    racer.join(timeout=30)
    assert not racer.is_alive()
    (result,) = outcome
    assert isinstance(result, Conflict) and result.code == "user_exists", result
    with services.engine.connect() as conn:
        names = conn.execute(select(t.users.c.username).where(func.lower(t.users.c.username) == "bj01"))
        assert names.scalars().all() == ["BJ01"]
