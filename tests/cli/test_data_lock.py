"""One server per data folder: a second `jingwu demo` (or `serve`) on a folder another process
serves from is refused in one line, before it touches that folder's database."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from jingwu.cli import main
from jingwu.cli.data_lock import hold_data_dir
from jingwu.errors import Conflict
from tests.cli.helpers import jingwu, one_line_error
from tests.e2e.test_server import PASSWORD, Server


def _holder(data_dir: Path) -> subprocess.Popen[str]:
    """Another process that holds the folder's lock until its stdin closes."""
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from jingwu.cli.data_lock import hold_data_dir
        with hold_data_dir(Path({str(data_dir)!r}), "demo"):
            print("held", flush=True)
            sys.stdin.read()
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_a_second_demo_on_a_held_folder_is_refused_naming_the_folder_and_the_way_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    holder = _holder(tmp_path)
    try:
        assert main(["--data-dir", str(tmp_path), "demo", "--port", "1"]) == 2
        line = one_line_error(capsys.readouterr().err)
        assert f"the data folder {tmp_path} is in use by jingwu demo (pid {holder.pid})" in line
        assert "JINGWU_DATA_DIR=/another/folder jingwu demo" in line
        # Refused before the database was opened: nothing of the other server's was touched.
        assert not (tmp_path / "jingwu.db").exists()
    finally:
        holder.communicate(timeout=10)  # closes its stdin: it lets go and exits
    # The lock died with its process: the folder is free again.
    # Held by this process, it refuses a second holder here too.
    with hold_data_dir(tmp_path, "demo"), pytest.raises(Conflict), hold_data_dir(tmp_path, "serve"):
        pass


def test_a_postgres_server_takes_no_folder_lock(tmp_path: Path) -> None:
    from jingwu.cli.data_lock import uses_data_dir_database
    from jingwu.settings import Settings

    assert uses_data_dir_database(Settings(data_dir=tmp_path))
    assert not uses_data_dir_database(
        Settings(data_dir=tmp_path, database_url="postgresql+psycopg://u@127.0.0.1/jingwu")
    )


@pytest.mark.slow
def test_two_real_demos_on_one_folder_the_second_refuses_and_the_first_keeps_its_passwords(
    tmp_path: Path, city_cache_dir: Path
) -> None:
    import shutil

    shutil.copytree(city_cache_dir, tmp_path / "graph-cache")
    first = Server(tmp_path, "demo", "--units", "10", "--auto-dispatch-after", "3600")
    try:
        second = jingwu("demo", "--port", "1", data_dir=tmp_path)
        assert second.returncode == 2
        line = one_line_error(second.stderr)
        assert f"the data folder {tmp_path} is in use by jingwu demo (pid {first.process.pid})" in line
        login = httpx.post(
            f"{first.base}/api/auth/login", json={"username": "dispatcher", "password": PASSWORD}, timeout=10
        )
        assert login.status_code == 200, login.text
    finally:
        first.stop()
