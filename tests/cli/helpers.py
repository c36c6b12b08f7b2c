"""What the command-line tests share: running ``jingwu`` as a process, a database with a unit, the
audit records a command wrote, and the one-line error every refusal must be."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any


def jingwu(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jingwu.cli", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def audit_records(engine: object) -> list[Any]:
    from jingwu.service.audit import AuditService

    return list(reversed(AuditService(engine).page(limit=100)))  # type: ignore[arg-type]


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def database_with_a_unit(data_dir: Path) -> Any:
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


def printed_key(out: str) -> str:
    keys = [line.strip() for line in out.splitlines() if line.strip().startswith("dev_")]
    assert len(keys) == 1, out
    return keys[0]
