"""`jingwu serve` and `jingwu demo`: the log-in policy they serve with, their help, and start-up
failures told in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from jingwu.cli import build_parser, main
from jingwu.cli.serve import serving_settings


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
    if environment is not None:
        monkeypatch.setenv("JINGWU_REQUIRE_TOTP", environment)
    args = build_parser().parse_args(["--data-dir", str(tmp_path), command])
    assert serving_settings(args, demo=command == "demo").require_totp is required


@pytest.mark.parametrize(
    ("command", "environment", "sender"),
    [("serve", None, "none"), ("serve", "log", "log"), ("demo", None, "demo"), ("demo", "none", "none")],
)
def test_only_the_demo_shows_residents_their_sign_in_code_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str, environment: str | None, sender: str
) -> None:
    monkeypatch.delenv("JINGWU_SMS_SENDER", raising=False)
    if environment is not None:
        monkeypatch.setenv("JINGWU_SMS_SENDER", environment)
    args = build_parser().parse_args(["--data-dir", str(tmp_path), command])
    assert serving_settings(args, demo=command == "demo").sms_sender == sender


def test_serve_help_explains_the_log_in_policy(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "JINGWU_REQUIRE_TOTP" in help_text and "jingwu user-totp USERNAME" in help_text
    assert "`jingwu demo` is always password-only" in help_text


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
