"""`jingwu user-*`: people's accounts from the command line, each change audited with the OS user,
each refusal one line that changes nothing."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from jingwu.cli import main
from jingwu.cli.output import text_width
from tests.cli.conftest import Cli
from tests.cli.helpers import audit_records, database_with_a_unit, one_line_error, printed_key


def test_user_totp_enrols_once_and_resets_only_when_asked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from urllib.parse import parse_qs, urlsplit

    from sqlalchemy import text

    from jingwu.domain import totp
    from jingwu.service.auth import AuthService
    from jingwu.store.db import make_engine
    from jingwu.store.fieldcrypt import KeyRing

    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "correct-horse-battery")
    assert main(["--data-dir", str(tmp_path), "migrate"]) == 0
    assert main(["--data-dir", str(tmp_path), "user-add", "dispatcher", "dispatcher"]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(tmp_path), "user-totp", "dispatcher"]) == 0
    out = capsys.readouterr().out
    uri = next(line.split(": ", 1)[1] for line in out.splitlines() if "otpauth URI:" in line)
    secret = next(line.split(": ", 1)[1].strip() for line in out.splitlines() if "secret:" in line)
    assert parse_qs(urlsplit(uri).query)["secret"] == [secret]
    assert uri.startswith("otpauth://totp/Jingwu:dispatcher?")

    engine = make_engine(f"sqlite:///{tmp_path / 'jingwu.db'}")
    # The secret is stored sealed with the data directory's key file, never as printed.
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT totp_secret FROM users")).scalar_one()
    assert stored.startswith("v1:") and secret not in stored
    keys = KeyRing.from_file(tmp_path / "field-keys")
    auth = AuthService(engine, require_totp=True, keys=keys)
    assert auth.second_factor.state("dispatcher") == "pending"
    # The first log-in with a code makes it active.
    code = totp.totp(totp.decode_secret(secret), auth.clock().timestamp())
    auth.logins.login("dispatcher", "correct-horse-battery", code)
    assert auth.second_factor.state("dispatcher") == "active"
    # An active factor is replaced only with --reset.
    assert main(["--data-dir", str(tmp_path), "user-totp", "dispatcher"]) == 2
    assert "already active" in capsys.readouterr().err
    assert main(["--data-dir", str(tmp_path), "user-totp", "--reset", "dispatcher"]) == 0
    assert secret not in capsys.readouterr().out
    assert auth.second_factor.state("dispatcher") == "pending"
    assert main(["--data-dir", str(tmp_path), "user-totp", "nobody"]) == 2
    records = [r for r in audit_records(engine) if r.action == "auth.totp_enrolled"]
    assert [(r.source, r.details["replaced_active"]) for r in records] == [("cli", False), ("cli", True)]
    engine.dispose()


def test_user_add_gives_a_role_a_jurisdiction_and_an_officer_the_station_of_the_unit(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    from jingwu.domain.access import Jurisdiction, Level, Role

    assert cli("user-add", "nangang", "commander", "--jurisdiction", "district:南岗区") == 0
    assert capsys.readouterr().out == "user nangang created: role commander, jurisdiction district:南岗区\n"
    assert cli("user-add", "U1", "officer", "--unit", "u1", "--display-name", "张伟") == 0
    assert "role officer, jurisdiction station:south, unit u1, station south" in capsys.readouterr().out
    assert cli("user-add", "neighbour", "resident") == 0
    assert "jurisdiction own" in capsys.readouterr().out

    auth = cli.auth
    nangang = auth.logins.login("nangang", "correct-horse-battery").principal
    assert (nangang.role, nangang.jurisdiction) == (Role.COMMANDER, Jurisdiction(Level.DISTRICT, "南岗区"))
    officer = auth.logins.login("u1", "correct-horse-battery").principal
    assert (officer.unit_id, officer.station_id) == ("u1", "south")
    created = [r for r in audit_records(cli.engine) if r.action == "auth.user_created"]
    assert [(r.target, r.source) for r in created] == [
        ("nangang", "cli"),
        ("U1", "cli"),
        ("neighbour", "cli"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--jurisdiction", "district"], "name the district or station after a colon"),
        (["--jurisdiction", "province:黑龙江"], "unknown jurisdiction 'province:黑龙江'"),
        (["--unit", "nope"], "no unit 'nope'"),
        (["--unit", "U1"], "did you mean its id 'u1'?"),
    ],
)
def test_user_add_refuses_a_bad_jurisdiction_or_an_unknown_unit_in_one_line(
    cli: Cli,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:

    assert cli("user-add", "someone", "officer", *args) == 2
    assert message in one_line_error(capsys.readouterr().err)
    assert not cli.auth.logins.password_matches("someone", "correct-horse-battery")


def test_user_add_offers_every_role_but_device(capsys: pytest.CaptureFixture[str]) -> None:
    from jingwu.domain.access import Role

    with pytest.raises(SystemExit) as exited:
        main(["user-add", "gate", "device"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert all(str(role) in err for role in Role if role is not Role.DEVICE)


def test_user_set_changes_an_account_ends_its_sessions_and_names_the_os_user(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    import getpass

    from jingwu.errors import Unauthenticated

    assert cli("user-add", "li", "dispatcher") == 0
    auth = cli.auth
    token = auth.logins.login("li", "correct-horse-battery").access_token
    capsys.readouterr()

    assert cli("user-set", "li", "--role", "officer", "--unit", "u1") == 0
    out = capsys.readouterr().out
    assert out == (
        "user li changed: role dispatcher → officer, jurisdiction city → station:south, "
        "station - → south, unit - → u1; their sessions have ended\n"
    )
    with pytest.raises(Unauthenticated):
        auth.sessions.authenticate(token)
    assert cli("user-set", "li", "--role", "commander", "--jurisdiction", "district:南岗区") == 0
    out = capsys.readouterr().out
    assert "role officer → commander, jurisdiction station:south → district:南岗区" in out
    assert "note: the role commander needs a second factor under `jingwu serve`: jingwu user-totp li" in out
    assert cli("user-set", "li", "--disable") == 0
    assert "enabled → disabled; their sessions have ended" in capsys.readouterr().out
    with pytest.raises(Unauthenticated):
        auth.logins.login("li", "correct-horse-battery")
    assert cli("user-set", "li", "--disable") == 0
    assert capsys.readouterr().out.startswith(
        "user li unchanged: role commander, jurisdiction district:南岗区"
    )

    changed = [r for r in audit_records(cli.engine) if r.action == "auth.user_changed"]
    assert {(r.actor, r.target, r.source) for r in changed} == {(getpass.getuser(), "li", "cli")}
    assert changed[0].details["before"] == {
        "role": "dispatcher",
        "jurisdiction": "city",
        "station_id": None,
        "unit_id": None,
    }
    assert changed[0].details["sessions_ended"] == 1
    (created,) = [r for r in audit_records(cli.engine) if r.action == "auth.user_created"]
    assert created.actor == getpass.getuser()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["li", "--jurisdiction", "province:黑龙江"], "unknown jurisdiction 'province:黑龙江'"),
        (["li", "--station", "nope"], "no station 'nope'"),
        (["li", "--unit", "nope"], "no unit 'nope'"),
        (["li"], "say what to change"),
        (["nobody", "--disable"], "no user 'nobody'"),
        (["root", "--role", "analyst"], "'root' is the last enabled admin"),
        (["root", "--disable"], "'root' is the last enabled admin"),
        (["li", "--role", "device"], "create a new account instead"),
    ],
)
def test_user_set_refuses_in_one_line_and_changes_nothing(
    cli: Cli,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    assert cli("user-add", "li", "dispatcher") == 0
    assert cli("user-add", "root", "admin") == 0
    capsys.readouterr()
    assert cli("user-set", *args) == 2
    assert message in one_line_error(capsys.readouterr().err)
    assert not [r for r in audit_records(cli.engine) if r.action == "auth.user_changed"]


def test_user_password_sets_a_new_password_and_refuses_a_weak_one(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import getpass

    from jingwu.errors import Unauthenticated

    assert cli("user-add", "li", "dispatcher") == 0
    assert cli("device-add", "gate") == 0
    auth = cli.auth
    token = auth.logins.login("li", "correct-horse-battery").access_token
    capsys.readouterr()

    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "staple-battery-horse-7")
    assert cli("user-password", "li") == 0
    assert capsys.readouterr().out == "password of li changed; their sessions have ended\n"
    with pytest.raises(Unauthenticated):
        auth.sessions.authenticate(token)
    assert auth.logins.login("li", "staple-battery-horse-7").principal.username == "li"
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "short")
    for name, message in [
        ("li", "at least 12 characters"),
        ("gate", "it has a key, not a password"),
        ("nobody", "no user 'nobody'"),
    ]:
        assert cli("user-password", name) == 2
        assert message in one_line_error(capsys.readouterr().err)
    (record,) = [r for r in audit_records(cli.engine) if r.action == "auth.password_changed"]
    assert (record.actor, record.target, record.source) == (getpass.getuser(), "li", "cli")


def test_user_logout_ends_every_session_and_says_how_many(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    import getpass

    from jingwu.errors import Unauthenticated

    assert cli("user-add", "u1", "officer", "--unit", "u1") == 0
    assert cli("device-add", "car-box-u1", "--unit", "u1") == 0
    key = printed_key(capsys.readouterr().out)
    auth = cli.auth
    phones = [auth.logins.login("u1", "correct-horse-battery").access_token for _ in range(2)]

    assert cli("user-logout", "u1") == 0
    assert capsys.readouterr().out.startswith("ended 2 sessions of u1; they can log in again")
    assert cli("user-logout", "car-box-u1") == 0
    assert "ended 1 session of car-box-u1; the device's key no longer works" in capsys.readouterr().out
    for token in (*phones, key):
        with pytest.raises(Unauthenticated):
            auth.sessions.authenticate(token)
    assert cli("user-logout", "nobody") == 2
    assert "no user 'nobody'" in one_line_error(capsys.readouterr().err)
    ended = [r for r in audit_records(cli.engine) if r.action == "auth.sessions_ended"]
    assert [(r.actor, r.target, r.details["sessions_ended"]) for r in ended] == [
        (getpass.getuser(), "u1", 2),
        (getpass.getuser(), "car-box-u1", 1),
    ]


def test_user_unlock_lets_a_locked_out_user_log_in_at_once_and_is_audited(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    import getpass

    from jingwu.errors import Unauthenticated

    assert cli("user-add", "u1", "officer", "--unit", "u1") == 0
    auth = cli.auth
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            auth.logins.login("u1", "wrong-password-1", source="10.0.0.5")
    capsys.readouterr()
    assert cli("user-unlock", "U1") == 0
    assert capsys.readouterr().out.startswith("u1 unlocked: 1 address may try again at once")
    assert auth.logins.login("u1", "correct-horse-battery", source="10.0.0.5").principal.username == "u1"
    assert cli("user-unlock", "u1") == 0
    assert "was not locked out" in capsys.readouterr().out
    assert cli("user-unlock", "nobody") == 2
    assert "no user 'nobody'" in one_line_error(capsys.readouterr().err)
    unlocked = [r for r in audit_records(cli.engine) if r.action == "auth.unlocked"]
    assert [(r.actor, r.target, r.source, r.details) for r in unlocked] == [
        (getpass.getuser(), "u1", "cli", {"addresses": 1}),
        (getpass.getuser(), "u1", "cli", {"addresses": 0}),
    ]


def test_user_list_prints_a_table_of_the_accounts(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("user-add", "u1", "officer", "--unit", "u1", "--display-name", "张伟") == 0
    assert cli("user-add", "root", "admin") == 0
    assert cli("user-set", "u1", "--disable") == 0
    capsys.readouterr()
    assert cli("user-list") == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == [
        "user",
        "name",
        "role",
        "jurisdiction",
        "station",
        "unit",
        "totp",
        "state",
        "created",
    ]
    assert [row.split()[:8] for row in rows] == [
        ["root", "-", "admin", "city", "-", "-", "none", "enabled"],
        ["u1", "张伟", "officer", "station:south", "south", "u1", "none", "disabled"],
    ]
    # Columns line up on a terminal, Chinese names (two columns a character) included.
    assert text_width(rows[1][: rows[1].index("officer")]) == rows[0].index("admin")
    assert "argon2" not in "".join(rows)


class _Terminal:
    """Standard input that is a terminal (getpass itself is replaced)."""

    def isatty(self) -> bool:
        return True


def _typed(monkeypatch: pytest.MonkeyPatch, *answers: str | None) -> list[str]:
    """Make the prompts a terminal's and type ``answers`` into them (None: end of input).
    Returns the prompts shown."""
    import getpass

    typed = iter(answers)
    shown: list[str] = []

    def fake_getpass(prompt: str = "Password: ", stream: object = None) -> str:
        shown.append(prompt)
        answer = next(typed)
        if answer is None:
            raise EOFError
        return answer

    monkeypatch.setattr(sys, "stdin", _Terminal())
    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    return shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # The new-user trial's resident who then listed every incident in the city.
        (["res1", "resident", "--jurisdiction", "city"], "its jurisdiction is own, not city"),
        (["someone", "dispatcher", "--jurisdiction", "own"], "only residents and devices"),
        (["someone", "officer"], "bind the officer to a unit or a station"),
        (["someone", "officer", "--jurisdiction", "city"], "not the city"),
        (["someone", "officer", "--jurisdiction", "station:nope"], "there is no station 'nope'"),
        (["someone", "commander", "--jurisdiction", "district:道里区"], "(districts: 南岗区)"),
        (["someone", "dispatcher", "--station", "nope"], "no station 'nope'"),
        (["LI", "dispatcher"], "an account named 'LI' exists"),
    ],
)
def test_user_add_refuses_a_place_the_role_may_not_have_before_asking_for_a_password(
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:

    assert cli("user-add", "li", "dispatcher") == 0
    capsys.readouterr()
    monkeypatch.delenv("JINGWU_NEW_PASSWORD")
    prompts = _typed(monkeypatch)  # nothing to type: no prompt may be shown
    assert cli("user-add", *args) == 2
    assert message in one_line_error(capsys.readouterr().err)
    assert prompts == []
    assert [u.username for u in cli.auth.accounts.list_users()] == ["li"]


def test_user_add_refuses_a_password_containing_the_user_name(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "sysadmin12345")
    assert cli("user-add", "sysadmin", "admin") == 2
    assert "a password must not contain the user name" in one_line_error(capsys.readouterr().err)


def test_user_add_with_no_terminal_and_no_password_in_the_environment_is_one_line(tmp_path: Path) -> None:
    import os

    database_with_a_unit(tmp_path).dispose()
    env = {k: v for k, v in os.environ.items() if k != "JINGWU_NEW_PASSWORD"}
    done = subprocess.run(
        [sys.executable, "-m", "jingwu.cli", "--data-dir", str(tmp_path), "user-add", "root", "admin"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert done.returncode == 2
    assert one_line_error(done.stderr) == (
        "error: no terminal to ask for the password: set JINGWU_NEW_PASSWORD or run in a terminal"
    )
    assert "GetPassWarning" not in done.stderr and done.stdout == ""


def test_a_password_typed_at_a_terminal_is_asked_twice_and_a_mismatch_changes_nothing(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:

    monkeypatch.delenv("JINGWU_NEW_PASSWORD")
    auth = cli.auth
    _typed(monkeypatch, "correct-horse-battery", "correct-horse-batterz")
    assert cli("user-add", "li", "dispatcher") == 2
    assert "the two passwords differ; nothing was changed" in one_line_error(capsys.readouterr().err)
    assert auth.accounts.list_users() == []
    _typed(monkeypatch, "correct-horse-battery", None)  # Ctrl-D at the second prompt
    assert cli("user-add", "li", "dispatcher") == 2
    assert "no password was given" in one_line_error(capsys.readouterr().err)
    prompts = _typed(monkeypatch, "correct-horse-battery", "correct-horse-battery")
    assert cli("user-add", "li", "dispatcher") == 0
    assert prompts == ["new password: ", "the same again: "]
    assert auth.logins.password_matches("li", "correct-horse-battery")
    capsys.readouterr()

    # user-password asks the same way.
    _typed(monkeypatch, "staple-battery-horse-7", "staple-battery-horse-8")
    assert cli("user-password", "li") == 2
    assert "the two passwords differ" in one_line_error(capsys.readouterr().err)
    assert auth.logins.password_matches("li", "correct-horse-battery")
    _typed(monkeypatch, "staple-battery-horse-7", "staple-battery-horse-7")
    assert cli("user-password", "li") == 0
    assert auth.logins.password_matches("li", "staple-battery-horse-7")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli("user-password", "li") == 2
    assert "set JINGWU_NEW_PASSWORD or run in a terminal" in one_line_error(capsys.readouterr().err)
