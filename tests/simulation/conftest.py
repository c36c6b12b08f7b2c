from pathlib import Path

import pytest

from tests.conftest import copy_sqlite_template


@pytest.fixture
def migrated_database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """The simulator is storage-agnostic; SQLite alone keeps these (long) scenarios quick."""
    return copy_sqlite_template(sqlite_template, tmp_path / "jingwu.db")
