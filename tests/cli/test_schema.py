"""Only `jingwu migrate` (and the server commands) change a schema: every admin command refuses a
database whose schema is missing, older or newer than this version's, in one line that says what
to run, and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from jingwu.cli import main
from jingwu.store.db import alembic_config, make_engine, schema_revisions
from tests.cli.helpers import one_line_error

ADMIN_COMMANDS = [
    ["user-add", "li", "dispatcher"],
    ["user-set", "li", "--disable"],
    ["user-password", "li"],
    ["user-logout", "li"],
    ["user-unlock", "li"],
    ["user-list"],
    ["user-totp", "li"],
    ["device-add", "gate"],
    ["device-key", "gate"],
    ["device-register", "col-1", "alarm_column", "--community", "c", "--lat", "45.756", "--lon", "126.642"],
    ["device-secret", "col-1"],
    ["audit", "verify"],
    ["audit", "prune"],
    ["keys", "rotate"],
]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", "correct-horse-battery")
    return tmp_path


def _head_and_previous(engine: Engine) -> tuple[str, str]:
    """This version's head revision and the one before it (whatever the newest migration is)."""
    (head,) = schema_revisions(engine)[1]
    previous = ScriptDirectory.from_config(alembic_config(engine)).get_revision(head).down_revision
    assert isinstance(previous, str)
    return head, previous


@pytest.mark.parametrize("args", ADMIN_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_an_admin_command_on_a_database_without_a_schema_says_to_migrate_and_makes_none(
    data_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert main(["--data-dir", str(data_dir), *args]) == 2
    error = one_line_error(capsys.readouterr().err)
    assert "has no Jingwu schema yet: run `jingwu migrate` first" in error
    assert not (data_dir / "jingwu.db").exists()  # not even an empty file left behind


def test_an_empty_database_that_exists_is_refused_the_same_and_stays_empty(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(f"sqlite:///{data_dir / 'jingwu.db'}")
    with engine.begin() as conn:
        conn.execute(text("SELECT 1"))
    assert (data_dir / "jingwu.db").exists()
    assert main(["--data-dir", str(data_dir), "user-list"]) == 2
    assert "has no Jingwu schema yet" in one_line_error(capsys.readouterr().err)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_an_admin_command_on_an_older_schema_names_both_revisions_and_leaves_it_old(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(f"sqlite:///{data_dir / 'jingwu.db'}")
    head, previous = _head_and_previous(engine)
    command.upgrade(alembic_config(engine), previous)
    assert main(["--data-dir", str(data_dir), "user-add", "li", "dispatcher"]) == 2
    error = one_line_error(capsys.readouterr().err)
    assert f"is at schema {previous}; this version of Jingwu needs {head}: run `jingwu migrate`" in error
    assert schema_revisions(engine)[0] == {previous}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 0

    assert main(["--data-dir", str(data_dir), "migrate"]) == 0
    assert capsys.readouterr().out == f"schema upgraded from {previous} to {head}\n"
    assert main(["--data-dir", str(data_dir), "user-add", "li", "dispatcher"]) == 0
    engine.dispose()


def test_a_schema_newer_than_this_version_asks_for_a_newer_jingwu(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(data_dir), "migrate"]) == 0
    engine = make_engine(f"sqlite:///{data_dir / 'jingwu.db'}")
    head, _ = _head_and_previous(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'from-a-newer-release'"))
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "user-list"]) == 2
    error = one_line_error(capsys.readouterr().err)
    assert f"newer than this version of Jingwu knows ({head}): upgrade Jingwu" in error
    # Nor does migrate touch what it does not know: it refuses in one line, and the row stays.
    assert main(["--data-dir", str(data_dir), "migrate"]) == 2
    assert "upgrade Jingwu" in one_line_error(capsys.readouterr().err)
    assert schema_revisions(engine)[0] == {"from-a-newer-release"}
    engine.dispose()


def test_migrate_says_it_made_the_schema_and_then_that_it_is_up_to_date(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(data_dir), "migrate"]) == 0
    assert main(["--data-dir", str(data_dir), "migrate"]) == 0
    engine = make_engine(f"sqlite:///{data_dir / 'jingwu.db'}")
    head, _ = _head_and_previous(engine)
    engine.dispose()
    assert capsys.readouterr().out.splitlines() == [
        f"schema created ({head})",
        f"schema is up to date ({head})",
    ]
    assert main(["--data-dir", str(data_dir), "user-list"]) == 0
