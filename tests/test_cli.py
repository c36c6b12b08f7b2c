import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jingwu.cli import main


def jingwu(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jingwu.cli", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_bench_dispatch_json_reports_latency_and_baseline(tmp_path: Path) -> None:
    done = jingwu("bench", "dispatch", "--units", "50", "--queries", "20", "--json", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["units"] == 50 and result["queries"] == 20
    for key in ("p50_ms", "p99_ms", "baseline_p50_ms", "baseline_p99_ms"):
        assert result[key] > 0
    assert result["agree"] is True


def test_bench_dispatch_json_with_several_rosters_is_one_object(tmp_path: Path) -> None:
    done = jingwu(
        "bench", "dispatch", "--units", "5", "--units", "40", "--queries", "10", "--json", data_dir=tmp_path
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["units"] == 40 and [r["units"] for r in result["runs"]] == [5, 40]


def test_import_osm_compiles_and_caches_the_graph(tmp_path: Path) -> None:
    from jingwu.settings import bundled_osm_file

    done = jingwu("import-osm", str(bundled_osm_file()), data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "nodes" in done.stdout and "reading OSM" in done.stderr
    assert list((tmp_path / "graph-cache").glob("*.npz"))


def test_import_osm_of_a_missing_file_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path), "import-osm", str(tmp_path / "nope.pbf")]) == 2
    assert "no such OSM file" in capsys.readouterr().err


def test_server_logs_never_show_a_live_stream_token() -> None:
    import logging

    from jingwu.cli import _RedactTokens

    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:50000", "/api/events?access_token=s3cret-T0ken_x&after=5"),
        None,
    )
    _RedactTokens().filter(record)
    assert "s3cret" not in record.getMessage()
    assert "access_token=***&after=5" in record.getMessage()


# ------------------------------------------------------------------------- TOTP second factor


@pytest.mark.parametrize(
    ("command", "environment", "required"),
    [
        ("serve", None, True),
        ("serve", "false", False),
        ("serve", "true", True),
        ("demo", None, False),
        ("demo", "true", False),
    ],
)
def test_serve_requires_totp_unless_told_otherwise_and_demo_never(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str, environment: str | None, required: bool
) -> None:
    from jingwu.cli import _settings, build_parser

    if environment is not None:
        monkeypatch.setenv("JINGWU_REQUIRE_TOTP", environment)
    args = build_parser().parse_args(["--data-dir", str(tmp_path), command])
    assert _settings(args).require_totp is required


def test_serve_help_explains_the_log_in_policy(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "JINGWU_REQUIRE_TOTP" in help_text and "jingwu user-totp USERNAME" in help_text
    assert "`jingwu demo` is always password-only" in help_text


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
    assert auth.totp_state("dispatcher") == "pending"
    # The first log-in with a code makes it active.
    code = totp.totp(totp.decode_secret(secret), auth.clock().timestamp())
    auth.login("dispatcher", "correct-horse-battery", code)
    assert auth.totp_state("dispatcher") == "active"
    # An active factor is replaced only with --reset.
    assert main(["--data-dir", str(tmp_path), "user-totp", "dispatcher"]) == 2
    assert "already active" in capsys.readouterr().err
    assert main(["--data-dir", str(tmp_path), "user-totp", "--reset", "dispatcher"]) == 0
    assert secret not in capsys.readouterr().out
    assert auth.totp_state("dispatcher") == "pending"
    assert main(["--data-dir", str(tmp_path), "user-totp", "nobody"]) == 2
    records = [r for r in _audit_records(engine) if r.action == "auth.totp_enrolled"]
    assert [(r.source, r.details["replaced_active"]) for r in records] == [("cli", False), ("cli", True)]
    engine.dispose()


def _audit_records(engine: object) -> list[Any]:
    from jingwu.service.audit import AuditService

    return list(reversed(AuditService(engine).page(limit=100)))  # type: ignore[arg-type]


def test_start_up_failures_are_one_clear_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    assert main(["serve", "--osm", str(tmp_path / "missing.osm.pbf")]) == 2
    err = capsys.readouterr().err
    assert f"error: no such file: {tmp_path / 'missing.osm.pbf'}" in err and "Traceback" not in err

    monkeypatch.setenv("JINGWU_DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/jingwu")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "error: cannot use the database at postgresql+psycopg://nobody:***@127.0.0.1:1/jingwu" in err
    assert "secret" not in err and "Traceback" not in err


# ------------------------------------------------------------------------- users and devices


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def _database_with_a_unit(data_dir: Path) -> Any:
    """The data directory's database, migrated, with the test city's south station and unit u1."""
    from jingwu.store import repository as repo
    from jingwu.store.db import make_engine, upgrade_schema, write_transaction
    from tests.conftest import SOUTH, make_unit

    engine = make_engine(f"sqlite:///{data_dir / 'jingwu.db'}")
    upgrade_schema(engine)
    with write_transaction(engine) as conn:
        repo.insert_station(conn, SOUTH)
        repo.insert_unit(conn, make_unit("u1", 45.75, 126.63))
    return engine


def test_user_add_gives_a_role_a_jurisdiction_and_an_officer_the_station_of_the_unit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jingwu.domain.access import Jurisdiction, Level, Role
    from jingwu.service.auth import AuthService

    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "correct-horse-battery")
    engine = _database_with_a_unit(tmp_path)
    base = ["--data-dir", str(tmp_path), "user-add"]
    assert main([*base, "nangang", "commander", "--jurisdiction", "district:南岗区"]) == 0
    assert capsys.readouterr().out == "user nangang created: role commander, jurisdiction district:南岗区\n"
    assert main([*base, "U1", "officer", "--unit", "u1", "--display-name", "张伟"]) == 0
    assert "role officer, jurisdiction station:south, unit u1, station south" in capsys.readouterr().out
    assert main([*base, "neighbour", "resident"]) == 0
    assert "jurisdiction own" in capsys.readouterr().out

    auth = AuthService(engine)
    nangang = auth.login("nangang", "correct-horse-battery").principal
    assert (nangang.role, nangang.jurisdiction) == (Role.COMMANDER, Jurisdiction(Level.DISTRICT, "南岗区"))
    officer = auth.login("u1", "correct-horse-battery").principal
    assert (officer.unit_id, officer.station_id) == ("u1", "south")
    created = [r for r in _audit_records(engine) if r.action == "auth.user_created"]
    assert [(r.target, r.source) for r in created] == [
        ("nangang", "cli"),
        ("U1", "cli"),
        ("neighbour", "cli"),
    ]
    engine.dispose()


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
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    from jingwu.service.auth import AuthService

    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "correct-horse-battery")
    engine = _database_with_a_unit(tmp_path)
    assert main(["--data-dir", str(tmp_path), "user-add", "someone", "officer", *args]) == 2
    assert message in _one_line_error(capsys.readouterr().err)
    assert not AuthService(engine).password_matches("someone", "correct-horse-battery")
    engine.dispose()


def test_user_add_offers_every_role_but_device(capsys: pytest.CaptureFixture[str]) -> None:
    from jingwu.domain.access import Role

    with pytest.raises(SystemExit) as exited:
        main(["user-add", "gate", "device"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert all(str(role) in err for role in Role if role is not Role.DEVICE)


def _printed_key(out: str) -> str:
    keys = [line.strip() for line in out.splitlines() if line.strip().startswith("dev_")]
    assert len(keys) == 1, out
    return keys[0]


def test_device_add_prints_a_working_key_once_and_device_key_replaces_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jingwu.domain.access import OWN, Role
    from jingwu.errors import Unauthenticated
    from jingwu.service.auth import AuthService

    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    engine = _database_with_a_unit(tmp_path)
    base = ["--data-dir", str(tmp_path)]
    assert main([*base, "device-add", "alarm-column-1"]) == 0
    out = capsys.readouterr().out
    assert "shown only this once" in out and "bearer token" in out
    first = _printed_key(out)
    assert main([*base, "device-add", "car-box-u1", "--unit", "u1"]) == 0
    car_key = _printed_key(capsys.readouterr().out)

    auth = AuthService(engine)
    column = auth.authenticate(first)
    assert (column.username, column.role, column.jurisdiction) == ("alarm-column-1", Role.DEVICE, OWN)
    car = auth.authenticate(car_key)
    assert (car.unit_id, car.station_id) == ("u1", "south")

    assert main([*base, "device-key", "alarm-column-1"]) == 0
    out = capsys.readouterr().out
    second = _printed_key(out)
    assert second != first and "previous keys no longer work" in out
    with pytest.raises(Unauthenticated):
        auth.authenticate(first)
    assert auth.authenticate(second).username == "alarm-column-1"
    assert auth.authenticate(car_key).username == "car-box-u1"
    issued = [r for r in _audit_records(engine) if r.action == "auth.device_key_issued"]
    assert [(r.target, r.source) for r in issued][-1] == ("alarm-column-1", "cli")
    engine.dispose()


def test_device_commands_refuse_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "correct-horse-battery")
    engine = _database_with_a_unit(tmp_path)
    base = ["--data-dir", str(tmp_path)]
    assert main([*base, "user-add", "dispatcher", "dispatcher"]) == 0
    assert main([*base, "device-add", "gate"]) == 0
    capsys.readouterr()
    for args, message in [
        (["device-add", "gate"], "an account named 'gate' exists"),
        (["device-add", "cam", "--unit", "nope"], "no unit 'nope'"),
        (["device-key", "dispatcher"], "'dispatcher' is not a device account"),
        (["device-key", "nobody"], "no user 'nobody'"),
    ]:
        assert main([*base, *args]) == 2, args
        captured = capsys.readouterr()
        assert message in _one_line_error(captured.err) and "dev_" not in captured.out
    engine.dispose()


# ------------------------------------------------------------------------- account administration


def test_user_set_changes_an_account_ends_its_sessions_and_names_the_os_user(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import getpass

    from jingwu.errors import Unauthenticated
    from jingwu.service.auth import AuthService

    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "correct-horse-battery")
    engine = _database_with_a_unit(tmp_path)
    base = ["--data-dir", str(tmp_path)]
    assert main([*base, "user-add", "li", "dispatcher"]) == 0
    auth = AuthService(engine)
    token = auth.login("li", "correct-horse-battery").access_token
    capsys.readouterr()

    assert main([*base, "user-set", "li", "--role", "officer", "--unit", "u1"]) == 0
    out = capsys.readouterr().out
    assert out == (
        "user li changed: role dispatcher → officer, jurisdiction city → station:south, "
        "station - → south, unit - → u1; their sessions have ended\n"
    )
    with pytest.raises(Unauthenticated):
        auth.authenticate(token)
    assert main([*base, "user-set", "li", "--role", "commander", "--jurisdiction", "district:南岗区"]) == 0
    out = capsys.readouterr().out
    assert "role officer → commander, jurisdiction station:south → district:南岗区" in out
    assert "note: the role commander needs a second factor under `jingwu serve`: jingwu user-totp li" in out
    assert main([*base, "user-set", "li", "--disable"]) == 0
    assert "enabled → disabled; their sessions have ended" in capsys.readouterr().out
    with pytest.raises(Unauthenticated):
        auth.login("li", "correct-horse-battery")
    assert main([*base, "user-set", "li", "--disable"]) == 0
    assert capsys.readouterr().out.startswith(
        "user li unchanged: role commander, jurisdiction district:南岗区"
    )

    changed = [r for r in _audit_records(engine) if r.action == "auth.user_changed"]
    assert {(r.actor, r.target, r.source) for r in changed} == {(getpass.getuser(), "li", "cli")}
    assert changed[0].details["before"] == {
        "role": "dispatcher",
        "jurisdiction": "city",
        "station_id": None,
        "unit_id": None,
    }
    assert changed[0].details["sessions_ended"] == 1
    (created,) = [r for r in _audit_records(engine) if r.action == "auth.user_created"]
    assert created.actor == getpass.getuser()
    engine.dispose()


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
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "correct-horse-battery")
    engine = _database_with_a_unit(tmp_path)
    base = ["--data-dir", str(tmp_path)]
    assert main([*base, "user-add", "li", "dispatcher"]) == 0
    assert main([*base, "user-add", "root", "admin"]) == 0
    capsys.readouterr()
    assert main([*base, "user-set", *args]) == 2
    assert message in _one_line_error(capsys.readouterr().err)
    assert not [r for r in _audit_records(engine) if r.action == "auth.user_changed"]
    engine.dispose()


def test_user_password_sets_a_new_password_and_refuses_a_weak_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import getpass

    from jingwu.errors import Unauthenticated
    from jingwu.service.auth import AuthService

    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "correct-horse-battery")
    engine = _database_with_a_unit(tmp_path)
    base = ["--data-dir", str(tmp_path)]
    assert main([*base, "user-add", "li", "dispatcher"]) == 0
    assert main([*base, "device-add", "gate"]) == 0
    auth = AuthService(engine)
    token = auth.login("li", "correct-horse-battery").access_token
    capsys.readouterr()

    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "staple-battery-horse-7")
    assert main([*base, "user-password", "li"]) == 0
    assert capsys.readouterr().out == "password of li changed; their sessions have ended\n"
    with pytest.raises(Unauthenticated):
        auth.authenticate(token)
    assert auth.login("li", "staple-battery-horse-7").principal.username == "li"
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "short")
    for name, message in [
        ("li", "at least 12 characters"),
        ("gate", "it has a key, not a password"),
        ("nobody", "no user 'nobody'"),
    ]:
        assert main([*base, "user-password", name]) == 2
        assert message in _one_line_error(capsys.readouterr().err)
    (record,) = [r for r in _audit_records(engine) if r.action == "auth.password_changed"]
    assert (record.actor, record.target, record.source) == (getpass.getuser(), "li", "cli")
    engine.dispose()


def test_user_logout_ends_every_session_and_says_how_many(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import getpass

    from jingwu.errors import Unauthenticated
    from jingwu.service.auth import AuthService

    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "correct-horse-battery")
    engine = _database_with_a_unit(tmp_path)
    base = ["--data-dir", str(tmp_path)]
    assert main([*base, "user-add", "u1", "officer", "--unit", "u1"]) == 0
    assert main([*base, "device-add", "car-box-u1", "--unit", "u1"]) == 0
    key = _printed_key(capsys.readouterr().out)
    auth = AuthService(engine)
    phones = [auth.login("u1", "correct-horse-battery").access_token for _ in range(2)]

    assert main([*base, "user-logout", "u1"]) == 0
    assert capsys.readouterr().out.startswith("ended 2 sessions of u1; they can log in again")
    assert main([*base, "user-logout", "car-box-u1"]) == 0
    assert "ended 1 session of car-box-u1; the device's key no longer works" in capsys.readouterr().out
    for token in (*phones, key):
        with pytest.raises(Unauthenticated):
            auth.authenticate(token)
    assert main([*base, "user-logout", "nobody"]) == 2
    assert "no user 'nobody'" in _one_line_error(capsys.readouterr().err)
    ended = [r for r in _audit_records(engine) if r.action == "auth.sessions_ended"]
    assert [(r.actor, r.target, r.details["sessions_ended"]) for r in ended] == [
        (getpass.getuser(), "u1", 2),
        (getpass.getuser(), "car-box-u1", 1),
    ]
    engine.dispose()


def test_user_list_prints_a_table_of_the_accounts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jingwu.cli import _text_width

    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "correct-horse-battery")
    engine = _database_with_a_unit(tmp_path)
    base = ["--data-dir", str(tmp_path)]
    assert main([*base, "user-add", "u1", "officer", "--unit", "u1", "--display-name", "张伟"]) == 0
    assert main([*base, "user-add", "root", "admin"]) == 0
    assert main([*base, "user-set", "u1", "--disable"]) == 0
    capsys.readouterr()
    assert main([*base, "user-list"]) == 0
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
    assert _text_width(rows[1][: rows[1].index("officer")]) == rows[0].index("admin")
    assert "argon2" not in "".join(rows)
    engine.dispose()


def test_help_names_every_role_that_needs_a_second_factor_and_how_to_retire_the_first_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "admins, commanders and dispatchers" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit):
        main(["keys", "rotate", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "the first (oldest) key is also the blind-index key" in help_text
    assert "run `jingwu keys rotate` again" in help_text


# ----------------------------------------------------------------- new accounts: place, password


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
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    from jingwu.service.auth import AuthService

    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "correct-horse-battery")
    engine = _database_with_a_unit(tmp_path)
    assert main(["--data-dir", str(tmp_path), "user-add", "li", "dispatcher"]) == 0
    capsys.readouterr()
    monkeypatch.delenv("JINGWU_NEW_PASSWORD")
    prompts = _typed(monkeypatch)  # nothing to type: no prompt may be shown
    assert main(["--data-dir", str(tmp_path), "user-add", *args]) == 2
    assert message in _one_line_error(capsys.readouterr().err)
    assert prompts == []
    assert [u.username for u in AuthService(engine).list_users()] == ["li"]
    engine.dispose()


def test_user_add_refuses_a_password_containing_the_user_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    engine = _database_with_a_unit(tmp_path)
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "sysadmin12345")
    assert main(["--data-dir", str(tmp_path), "user-add", "sysadmin", "admin"]) == 2
    assert "a password must not contain the user name" in _one_line_error(capsys.readouterr().err)
    engine.dispose()


def test_user_add_with_no_terminal_and_no_password_in_the_environment_is_one_line(tmp_path: Path) -> None:
    import os

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
    assert _one_line_error(done.stderr) == (
        "error: no terminal to ask for the password: set JINGWU_NEW_PASSWORD or run in a terminal"
    )
    assert "GetPassWarning" not in done.stderr and done.stdout == ""


def test_a_password_typed_at_a_terminal_is_asked_twice_and_a_mismatch_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jingwu.service.auth import AuthService

    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    engine = _database_with_a_unit(tmp_path)
    auth = AuthService(engine)
    base = ["--data-dir", str(tmp_path)]
    _typed(monkeypatch, "correct-horse-battery", "correct-horse-batterz")
    assert main([*base, "user-add", "li", "dispatcher"]) == 2
    assert "the two passwords differ; nothing was changed" in _one_line_error(capsys.readouterr().err)
    assert auth.list_users() == []
    _typed(monkeypatch, "correct-horse-battery", None)  # Ctrl-D at the second prompt
    assert main([*base, "user-add", "li", "dispatcher"]) == 2
    assert "no password was given" in _one_line_error(capsys.readouterr().err)
    prompts = _typed(monkeypatch, "correct-horse-battery", "correct-horse-battery")
    assert main([*base, "user-add", "li", "dispatcher"]) == 0
    assert prompts == ["new password: ", "the same again: "]
    assert auth.password_matches("li", "correct-horse-battery")
    capsys.readouterr()

    # user-password asks the same way.
    _typed(monkeypatch, "staple-battery-horse-7", "staple-battery-horse-8")
    assert main([*base, "user-password", "li"]) == 2
    assert "the two passwords differ" in _one_line_error(capsys.readouterr().err)
    assert auth.password_matches("li", "correct-horse-battery")
    _typed(monkeypatch, "staple-battery-horse-7", "staple-battery-horse-7")
    assert main([*base, "user-password", "li"]) == 0
    assert auth.password_matches("li", "staple-battery-horse-7")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main([*base, "user-password", "li"]) == 2
    assert "set JINGWU_NEW_PASSWORD or run in a terminal" in _one_line_error(capsys.readouterr().err)
    engine.dispose()
