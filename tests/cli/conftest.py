"""The command line run in-process on a data directory of its own, with the test city's database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from jingwu.cli import main
from jingwu.service.auth import AuthService
from tests.cli.helpers import database_with_a_unit

PASSWORD = "correct-horse-battery"


@dataclass(frozen=True, slots=True)
class Cli:
    """``jingwu --data-dir DIR …`` as a call (its exit status), and the directory's database."""

    data_dir: Path
    engine: Engine

    def __call__(self, *args: str) -> int:
        return main(["--data-dir", str(self.data_dir), *args])

    @property
    def auth(self) -> AuthService:
        return AuthService(self.engine)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """A migrated database with the south station and its unit u1; new passwords come from
    JINGWU_NEW_PASSWORD (``PASSWORD``) unless a test takes it away."""
    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGWU_NEW_PASSWORD", PASSWORD)
    engine = database_with_a_unit(tmp_path)
    yield Cli(tmp_path, engine)
    engine.dispose()


@pytest.fixture
def migrated_data_dir(tmp_path: Path, graph_cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory at the current schema, sharing the session's compiled road graph
    (not compiled again for each command), for the commands that load the services."""
    (tmp_path / "graph-cache").symlink_to(graph_cache_dir, target_is_directory=True)
    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    assert main(["--data-dir", str(tmp_path), "migrate"]) == 0
    return tmp_path
