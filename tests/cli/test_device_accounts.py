"""`jingwu device-add` and `device-key`: a machine account's key printed once, and working."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli
from tests.cli.helpers import audit_records, one_line_error, printed_key


def test_device_add_prints_a_working_key_once_and_device_key_replaces_it(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    from jingwu.domain.access import OWN, Role
    from jingwu.errors import Unauthenticated

    assert cli("device-add", "alarm-column-1") == 0
    out = capsys.readouterr().out
    assert "shown only this once" in out and "bearer token" in out
    first = printed_key(out)
    assert cli("device-add", "car-box-u1", "--unit", "u1") == 0
    car_key = printed_key(capsys.readouterr().out)

    auth = cli.auth
    column = auth.sessions.authenticate(first)
    assert (column.username, column.role, column.jurisdiction) == ("alarm-column-1", Role.DEVICE, OWN)
    car = auth.sessions.authenticate(car_key)
    assert (car.unit_id, car.station_id) == ("u1", "south")

    assert cli("device-key", "alarm-column-1") == 0
    out = capsys.readouterr().out
    second = printed_key(out)
    assert second != first and "previous keys no longer work" in out
    with pytest.raises(Unauthenticated):
        auth.sessions.authenticate(first)
    assert auth.sessions.authenticate(second).username == "alarm-column-1"
    assert auth.sessions.authenticate(car_key).username == "car-box-u1"
    issued = [r for r in audit_records(cli.engine) if r.action == "auth.device_key_issued"]
    assert [(r.target, r.source) for r in issued][-1] == ("alarm-column-1", "cli")


def test_device_commands_refuse_in_one_line(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("user-add", "dispatcher", "dispatcher") == 0
    assert cli("device-add", "gate") == 0
    capsys.readouterr()
    for args, message in [
        (["device-add", "gate"], "an account named 'gate' exists"),
        (["device-add", "cam", "--unit", "nope"], "no unit 'nope'"),
        (["device-key", "dispatcher"], "'dispatcher' is not a device account"),
        (["device-key", "nobody"], "no user 'nobody'"),
    ]:
        assert cli(*args) == 2, args
        captured = capsys.readouterr()
        assert message in one_line_error(captured.err) and "dev_" not in captured.out
