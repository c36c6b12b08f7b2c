"""One server per data folder: a second ``jingwu serve`` or ``jingwu demo`` on the same folder would
share its SQLite database (the demo reseeds the first one's passwords, two simulators write to one
database), so it is refused, in one line that names the folder and how to choose another.

The lock is an ``fcntl.flock`` on ``DATA_DIR/server.lock``, held while the process serves: the
kernel drops it when the process ends, however it ends, so a crashed server never leaves the
folder locked. The file says who holds it (pid, command), for the refusal message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from jingwu.errors import Conflict
from jingwu.settings import Settings

LOCK_NAME = "server.lock"


def uses_data_dir_database(settings: Settings) -> bool:
    """True when the server's database is the SQLite file inside the data folder (the default);
    a PostgreSQL cluster's processes share their database on purpose and are not locked."""
    return settings.database_url is None or settings.resolved_database_url.startswith("sqlite")


@contextlib.contextmanager
def hold_data_dir(data_dir: Path, command: str) -> Iterator[Path]:
    """Hold the data folder's lock while the block runs; raise :class:`Conflict` at once (without
    waiting) when another process holds it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            raise Conflict(
                f"the data folder {data_dir} is in use by {holder}: one server per folder, or they "
                f"would share one database. Stop that one, or give this one its own folder: "
                f"JINGWU_DATA_DIR=/another/folder jingwu {command} (or jingwu --data-dir /another/folder "
                f"{command})",
                code="data_dir_in_use",
                data_dir=str(data_dir),
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"jingwu {command} (pid {os.getpid()})\n".encode())
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock


__all__ = ["LOCK_NAME", "hold_data_dir", "uses_data_dir_database"]
