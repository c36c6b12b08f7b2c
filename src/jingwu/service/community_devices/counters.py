"""What this process's subscriber has seen, for the health answer: its messages counted by kind
and by the reason each was dropped (:class:`Counters`), its connection (:class:`LinkState`); and
the log of dropped messages, held to a few lines a minute per reason (:class:`DropLog`)."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jingwu.devices.protocol import Drop, Rejected
from jingwu.domain.devices import MessageKind

log = logging.getLogger(__name__)

# At most this many log lines a minute for each reason a message is dropped (a misconfigured
# device sending ten messages a second must not bury everything else in the log).
DROP_LOG_LINES_PER_MINUTE = 10


@dataclass(slots=True)
class LinkState:
    """The subscriber's connection, for the health answer (per process)."""

    enabled: bool = False
    broker: str | None = None  # the URL without its password
    subscription: str | None = None
    connected: bool = False
    connected_since: datetime | None = None
    reconnects: int = 0
    last_error: str | None = None


@dataclass(slots=True)
class Counters:
    """What this process's subscriber has seen since it started: thread-safe."""

    started_at: datetime
    received: int = 0
    accepted: Counter[str] = field(default_factory=Counter)  # by message kind
    dropped: Counter[str] = field(default_factory=Counter)  # by Drop reason
    last_message_at: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, *, now: datetime, accepted: str | None = None, dropped: Drop | None = None) -> None:
        with self._lock:
            self.received += 1
            self.last_message_at = now
            if accepted is not None:
                self.accepted[accepted] += 1
            if dropped is not None:
                self.dropped[str(dropped)] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "since": self.started_at.isoformat(),
                "received": self.received,
                "accepted": {str(k): self.accepted.get(str(k), 0) for k in MessageKind}
                | {"alarm_test": self.accepted.get("alarm_test", 0)},
                "dropped": {str(d): self.dropped.get(str(d), 0) for d in Drop},
                "last_message_at": self.last_message_at.isoformat() if self.last_message_at else None,
            }


@dataclass(slots=True)
class _Window:
    start: float = 0.0
    lines: int = 0
    suppressed: int = 0


class DropLog:
    """Logs dropped messages: :data:`DROP_LOG_LINES_PER_MINUTE` lines a minute per reason; the rest
    are counted and summed up in the next line. Thread-safe."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._windows: dict[Drop, _Window] = {}

    def log(self, refusal: Rejected, topic: str, *, fault: BaseException | None = None) -> None:
        """A fault of ours (``failed``) is an error, with its traceback on the first line of each
        minute only: with the database down, every message fails the same way."""
        now = self.monotonic()
        with self._lock:
            state = self._windows.setdefault(refusal.reason, _Window(start=now))
            if now - state.start >= 60:
                state.start, state.lines = now, 0
            if state.lines >= DROP_LOG_LINES_PER_MINUTE:
                state.suppressed += 1
                return
            first = state.lines == 0
            state.lines += 1
            suppressed, state.suppressed = state.suppressed, 0
        if refusal.reason is Drop.FAILED:
            level = logging.ERROR
        elif refusal.reason is Drop.REPLAYED:
            level = logging.INFO
        else:
            level = logging.WARNING
        log.log(
            level,
            "device message dropped (%s) on %r: %s%s",
            refusal.reason,
            topic[:120],
            refusal.detail,
            f" ({suppressed} more {refusal.reason} since the last line)" if suppressed else "",
            exc_info=fault if first else None,
        )


__all__ = ["DROP_LOG_LINES_PER_MINUTE", "Counters", "DropLog", "LinkState"]
