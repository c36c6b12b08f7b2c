"""The importer on both databases: a refused row inside the one transaction leaves the rows before
it in place for the checks of the rows after it (a savepoint each), and nothing is committed."""

from __future__ import annotations

import time

import pytest

from jingwu.composition import Services
from jingwu.service.administration.imports import Importer, ImportRefused
from jingwu.service.administration.units import UnitDraft
from tests.conftest import ServicesFactory


@pytest.fixture
def services(make_services: ServicesFactory, cheap_password_hashing: None) -> Services:
    return make_services([])


def test_rows_after_a_bad_one_are_still_checked_and_nothing_is_committed(services: Services) -> None:
    importer = Importer(services.admin, services.bus)
    text = (
        "callsign,kind,station_id\n"
        "S01,patrol_car,south\n"
        "S02,spaceship,south\n"  # line 3
        "S01,foot,north\n"  # line 4: S01 of line 2, seen although line 3 failed
        "S04,foot,south\n"
    )
    with pytest.raises(ImportRefused) as refused:
        importer.run("units", text, actor="test")
    assert [e.line for e in refused.value.errors] == [3, 4]
    assert services.dispatch.list_units() == []


def test_personnel_rows_make_accounts_that_can_log_in(services: Services) -> None:
    result = Importer(services.admin, services.bus).run(
        "personnel", "police_number,name,rank,station_id\n230201,赵敏,一级警员,south\n", actor="test"
    )
    [(number, password)] = result.passwords
    issued = services.auth.logins.login(number, password)
    assert (issued.principal.username, issued.principal.station_id) == ("230201", "south")


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("units", "callsign,station_id\nS01,south\n", "kind is missing"),
        ("personnel", "police_number,name,rank,station_id\n23,甲,一级警员,south\n", "not a police number"),
        ("personnel", "police_number,name,rank,station_id\n230301,甲,将军,south\n", "unknown rank"),
        ("roster", "date,shift,station_id,unit,officers\n2026-12-07,dawn,south,S01,1\n", "no unit"),
    ],
)
def test_each_kind_names_what_is_wrong_with_a_row(
    services: Services, kind: str, text: str, reason: str
) -> None:
    with pytest.raises(ImportRefused) as refused:
        Importer(services.admin, services.bus).run(kind, text, actor="test")
    assert reason in refused.value.errors[0].reason and refused.value.errors[0].line == 2


def test_units_imported_beside_a_running_server_are_announced_at_its_next_refresh(services: Services) -> None:
    from jingwu.bus import InProcessBus
    from jingwu.service.administration import Administration
    from jingwu.service.dispatching import DispatchService

    announced: list[dict[str, object]] = []
    # Announcements are snapshots without an event id (the commands' own events have theirs).
    services.bus.subscribe(lambda m: announced.append(m.payload) if m.payload.get("id") is None else None)
    services.dispatch.refresh_board()  # a running server: its board loaded before the import
    # `jingwu import` runs in another process, with a bus of its own that does not reach this one.
    cli = DispatchService(services.engine, InProcessBus(), services.network, clock=services.dispatch.clock)
    cli_admin = Administration(services.engine, cli, zone=services.settings.zone, clock=cli.clock)
    Importer(cli_admin, cli.bus).run("units", "callsign,kind,station_id\nS09,foot,south\n", actor="cli")

    def heard(n: int) -> bool:  # the in-process bus delivers on its own thread
        deadline = time.monotonic() + 2.0
        while len(announced) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # and nothing more arrives
        return len(announced) == n

    assert heard(0)
    services.dispatch.refresh_board()
    assert heard(1)
    [created] = announced
    assert created["type"] == "unit.created" and created["data"]["unit"]["callsign"] == "S09"  # type: ignore[index]
    cli_admin.units.retire(str(created["unit_id"]), actor="cli")
    services.dispatch.refresh_board()
    assert heard(2)
    assert (announced[1]["type"], announced[1]["unit_id"]) == ("unit.retired", created["unit_id"])
    # A unit made by this process's own command is not announced again.
    services.admin.units.create(UnitDraft("S10", "foot", "south"), actor="admin")
    services.dispatch.refresh_board()
    assert heard(2)
