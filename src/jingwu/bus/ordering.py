"""Delivering the cluster's events in log order, each once, whatever way they arrive.

Several server processes commit events into one log (the ``events`` table). Each process must
hand its live clients every event — its own and the others' — exactly once and in log-id order,
because a client resumes after the last id it saw (``?after=``): an event with a smaller id
shown after a larger one could be skipped by a resume.

Two things make that possible:

* **Ids are given in commit order.** On PostgreSQL an event's id is drawn under a cluster-wide
  transaction lock held until its transaction ends (see ``store.events.append_events``);
  SQLite's writers are serialised anyway. So once event *N* is committed, every event with a
  smaller id is committed too (or was rolled back and never will be).
* **The log fills gaps.** :class:`LogOrder` remembers the last id it delivered. An event that
  arrives with a larger id than the next one — another process's event still on its way over
  NATS, one that never reached NATS because its publisher died right after the commit, or an
  id left unused by a rolled-back transaction — makes it read the events in between from the
  log first. Events at or below the last id are duplicates and dropped. :meth:`LogOrder.catch_up`
  reads whatever was committed since the last delivery, so that a process also hears of events
  no message told it about (while NATS is unreachable, or after a publisher was killed). If
  the gap cannot be read (the database briefly unreachable), the later event is not delivered
  either: it is in the log, and the next read brings it after the gap.

Position batches (``id`` None) are not in the log and pass straight through.
"""

from __future__ import annotations

import logging
from typing import Protocol

from jingwu.bus.base import BusMessage

log = logging.getLogger(__name__)

LOG_ORIGIN = "log"  # the origin of events read back from the shared log
BACKFILL_BATCH = 1_000


class EventLog(Protocol):
    """The shared event log, as the ordering reads it."""

    def last_event_id(self) -> int: ...

    def events_after(self, after_id: int, limit: int) -> list[BusMessage]:
        """Committed events with ids above ``after_id``, oldest first, at most ``limit``."""


class LogOrder:
    """Puts durable events into log order and drops repeats; not thread-safe (one delivery thread)."""

    def __init__(self, event_log: EventLog, last_id: int | None = None) -> None:
        self.event_log = event_log
        self.last_id = event_log.last_event_id() if last_id is None else last_id
        self.filled = 0  # events read from the log because no message brought them in time
        self.failed_reads = 0  # log reads failed in a row (0: the last one worked)

    def admit(self, message: BusMessage) -> list[BusMessage]:
        """What to deliver, in order, now that ``message`` has arrived (maybe nothing)."""
        if message.id is None:
            return [message]
        if message.id <= self.last_id:
            return []  # delivered already (from the log, or the same event by another way)
        out: list[BusMessage] = []
        if message.id > self.last_id + 1:
            out, complete = self._read(until=message.id)
            if not complete:
                # The gap could not be read: delivering this event would move ``last_id`` past
                # events this process's clients never got. It is in the log (it was committed
                # before it was published), so the next catch-up or arrival reads the gap and
                # it together, in order.
                return out
        out.append(message)
        self.last_id = message.id
        return out

    def catch_up(self) -> list[BusMessage]:
        """Every event committed since the last one delivered (what could be read of it: on a
        failed read, the rest waits for the next call)."""
        return self._read(until=None)[0]

    def _read(self, *, until: int | None) -> tuple[list[BusMessage], bool]:
        """Events after ``last_id`` and below ``until`` (None: all), from the log; advances
        ``last_id`` past them. Also says whether the read got to the end: when the log cannot
        be read (a pool timeout, the database briefly away), ``last_id`` stays after what was
        read, so the next read starts there and no event is skipped."""
        out: list[BusMessage] = []
        while True:
            try:
                batch = self.event_log.events_after(self.last_id, BACKFILL_BATCH)
            except Exception:
                self.failed_reads += 1
                # Once per outage with the trace; the 1 s catch-up would repeat it every second.
                if self.failed_reads == 1:
                    log.exception("could not read the event log after id %d; will retry", self.last_id)
                return out, False
            if self.failed_reads:
                log.warning("the event log is readable again (after %d failed reads)", self.failed_reads)
                self.failed_reads = 0
            for message in batch:
                assert message.id is not None
                if until is not None and message.id >= until:
                    return out, True
                out.append(BusMessage(message.id, message.type, message.payload, origin=LOG_ORIGIN))
                self.last_id = message.id
                self.filled += 1
            if len(batch) < BACKFILL_BATCH:
                return out, True


__all__ = ["LOG_ORIGIN", "EventLog", "LogOrder"]
