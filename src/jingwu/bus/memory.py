"""In-process bus: one delivery thread, so a slow or failing subscriber never holds up a publisher."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from jingwu.bus.base import BusMessage, Unsubscribe

log = logging.getLogger(__name__)

_STOP = object()


class InProcessBus:
    def __init__(self) -> None:
        self._handlers: dict[int, Callable[[BusMessage], None]] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._deliver, name="jingwu-bus", daemon=True)
        self._thread.start()

    def publish(self, message: BusMessage) -> None:
        self._queue.put(message)

    def subscribe(self, handler: Callable[[BusMessage], None]) -> Unsubscribe:
        with self._lock:
            key = self._next
            self._next += 1
            self._handlers[key] = handler

        def unsubscribe() -> None:
            with self._lock:
                self._handlers.pop(key, None)

        return unsubscribe

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=5)

    def _deliver(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, BusMessage)
            with self._lock:
                handlers = list(self._handlers.values())
            for handler in handlers:
                try:
                    handler(item)
                except Exception:  # one broken listener must not silence the others
                    log.exception("bus subscriber failed on %s", item.type)


__all__ = ["InProcessBus"]
