from pathlib import Path

import pytest


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The simulator is storage-agnostic; SQLite alone keeps these (long) scenarios quick."""
    return f"sqlite:///{tmp_path / 'jingwu.db'}"
