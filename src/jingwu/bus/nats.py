"""The bus of a cluster: several ``jingwu serve`` processes over NATS JetStream.

Every process publishes what it commits, and delivers to its own subscribers (live clients, the
unit board, the demo simulator) every message of the cluster, exactly once:

* **Events** (durable, with a log id) go to the JetStream stream ``JINGWU_BUS_STREAM`` on the
  subject ``<stream>.events.<type>``, one at a time and in log order, each with its log id as
  ``Nats-Msg-Id`` so that a publish retried after a lost acknowledgment is stored once. Each
  process reads the stream through an ordered consumer that starts at what is new.
* **Positions** (``unit.positions`` batches, no log id) go on the core-NATS subject
  ``<stream>.positions``, not stored: a position is superseded by the next report within
  seconds, and a client that missed some reloads ``/api/units``. Storing thousands of fixes a
  second in a stream nobody replays would only cost the broker disk.
* **Own messages** are delivered locally at once, not round-tripped through NATS (the copies
  that come back are recognised by the ``Jingwu-Origin`` header and dropped), so a process's own
  clients do not depend on the broker being up.
* **Order and gaps** are handled by :class:`~jingwu.bus.ordering.LogOrder` against the shared
  event log: events are delivered in log-id order, repeats are dropped, and an event that NATS
  did not bring (a publisher killed between its commit and its publish, the broker unreachable)
  is read from the log — as soon as a later event arrives, and in any case within
  ``CATCH_UP_S``. The broker is the fast path; the database is the truth.

Threads: the nats-py asyncio client runs on an event loop of its own (thread ``jingwu-nats``);
subscribers are called on one delivery thread (``jingwu-bus``), as with the in-process bus, so
``publish`` is safe from any thread and never waits for the broker.

Losing the broker: the process logs it and keeps going. Commands never block on it: events wait
in a bounded outbox (``OUTBOX_LIMIT``, oldest dropped beyond it — they are in the log, and the
other processes read them from there) and are sent in order once NATS is back; positions are
dropped while disconnected. An event NATS will never take (above its ``max_payload``, or
refused by the stream's limits) is dropped with a warning rather than retried ahead of all the
others; it too reaches the other processes from the log. After a reconnect the event
subscription is made afresh (and the stream, if the broker lost it), tried again with back-off
until it works; so is a stream deleted under a connected process. The catch-up from the log
covers whatever was missed meanwhile.

At start-up the broker must be reachable (within ``connect_timeout_s``): a process that cannot
reach it stops with an error, like one that cannot reach its database, rather than silently
running cut off from its cluster.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from nats.js.errors import NoStreamResponseError, NotFoundError

from jingwu.bus.base import BusMessage, Unsubscribe
from jingwu.bus.jetstream import (
    ORIGIN_HEADER,
    STREAM_NAME,
    described,
    encode,
    ensure_stream,
    parse,
    refused_for_good,
    shown,
)
from jingwu.bus.ordering import EventLog, LogOrder
from jingwu.errors import SystemFault

log = logging.getLogger(__name__)

OUTBOX_LIMIT = 10_000  # events waiting for the broker; beyond it the oldest go (they are in the log)
POSITIONS_LIMIT = 100  # position batches waiting to be sent; while disconnected none are kept
PUBLISH_TIMEOUT_S = 2.0
CATCH_UP_S = 1.0  # at most this long until an event no message brought is read from the log
CLOSE_TIMEOUT_S = 5.0  # for the outbox to be sent when stopping
CLOSE_STEPS_S = 3.0  # then for the tasks to end and the connection to close, all together
SHUTDOWN_LIMIT_S = CLOSE_TIMEOUT_S + CLOSE_STEPS_S  # what close() waits for, at most (plus a margin)
RESUBSCRIBE_FIRST_S = 0.5  # back-off between tries to make the stream and subscription again,
RESUBSCRIBE_MAX_S = 10.0  # doubling up to this
# The broker beats the event consumer's heart this often while nothing is sent; after two missed
# beats the client makes the consumer again (which tells a deleted stream, see _on_error).
IDLE_HEARTBEAT_S = 5.0
WARN_EVERY_S = 60.0  # a repeated warning (malformed messages, a failing delivery step) at most this often

_STOP = object()


def _origin_id() -> str:
    """This process's name on the bus: unique for the process's lifetime, readable in logs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class NatsBus:
    """A :class:`~jingwu.bus.Bus` shared by every server process that names the same stream."""

    def __init__(
        self,
        url: str,
        *,
        stream: str,
        event_log: EventLog,
        connect_timeout_s: float = 5.0,
        catch_up_s: float = CATCH_UP_S,
        idle_heartbeat_s: float = IDLE_HEARTBEAT_S,
    ) -> None:
        if not STREAM_NAME.fullmatch(stream):
            raise ValueError(f"bad stream name {stream!r}: letters, digits, _ and - only")
        self.url = url
        self.stream = stream
        self.origin = _origin_id()
        self.events_subject = f"{stream}.events"
        self.positions_subject = f"{stream}.positions"
        self.catch_up_s = catch_up_s
        self.idle_heartbeat_s = idle_heartbeat_s
        self.dropped_events = 0  # events the outbox could not keep while the broker was away
        self.dropped_positions = 0
        self.dropped_malformed = 0  # messages on our subjects that no Jingwu process sent as they are
        self._malformed_warned_at = -WARN_EVERY_S  # on the loop thread
        self.delivery_failures = 0
        self.refused_events = 0  # events NATS will never take (too large, a full stream): left to the log
        self._refused_warned_at = -WARN_EVERY_S  # on the loop thread, as the next one
        self._retry_warned_at = -WARN_EVERY_S

        self._handlers: dict[int, Callable[[BusMessage], None]] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._closed = False
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._order = LogOrder(event_log)

        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=self._loop.run_forever, name="jingwu-nats", daemon=True)
        self._loop_thread.start()
        self._nc = Client()  # connected on the loop, in _start
        self._js: JetStreamContext | None = None
        self._event_sub: Any = None
        self._outbox: collections.deque[BusMessage] = collections.deque()
        self._positions: collections.deque[BusMessage] = collections.deque(maxlen=POSITIONS_LIMIT)
        self._tasks: list[asyncio.Task[None]] = []
        # Set when the sending tasks are cancelled: the client swallows a cancellation that
        # comes while it waits for its buffer to flush, and the task would go on sending.
        self._stopping = False
        self._resubscribing: asyncio.Task[None] | None = None
        self._warned_positions = False
        # Created on the loop (asyncio primitives belong to the loop they are used on).
        self._connected: asyncio.Event
        self._outbox_ready: asyncio.Event
        self._positions_ready: asyncio.Event
        starting = asyncio.run_coroutine_threadsafe(self._start(connect_timeout_s), self._loop)
        try:
            starting.result(timeout=connect_timeout_s + 10)
        except Exception as exc:
            # Connected but not set up (the stream refused, a JetStream timeout): close the
            # connection, or the server keeps it (and its subscriptions) until its ping timeout.
            starting.cancel()
            with contextlib.suppress(Exception):
                closing = self._close_client(time.monotonic() + CLOSE_STEPS_S)
                asyncio.run_coroutine_threadsafe(closing, self._loop).result(timeout=CLOSE_STEPS_S + 1)
            self._stop_loop()
            raise SystemFault(
                f"cannot use the NATS server at {shown(url)} (JINGWU_BUS_URL): {exc or type(exc).__name__}",
                code="bus_unavailable",
            ) from exc
        self._delivery = threading.Thread(target=self._deliver, name="jingwu-bus", daemon=True)
        self._delivery.start()
        log.info("bus: NATS %s, stream %s, this process %s", shown(url), stream, self.origin)

    # ------------------------------------------------------------ the Bus protocol

    def publish(self, message: BusMessage) -> None:
        """Deliver here at once and hand to the broker; never waits for it."""
        if self._closed:
            return
        self._inbox.put(message)
        with contextlib.suppress(RuntimeError):  # the loop is closing: the process is stopping
            self._loop.call_soon_threadsafe(self._enqueue, message)

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
        """Send what is still in the outbox (for a few seconds at most), then stop both threads."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(
                timeout=SHUTDOWN_LIMIT_S + 1
            )
        self._stop_loop()
        self._inbox.put(_STOP)
        self._delivery.join(timeout=5)

    @property
    def connected(self) -> bool:
        return bool(self._nc.is_connected)

    # ------------------------------------------------------------ on the event loop

    async def _start(self, connect_timeout_s: float) -> None:
        self._connected = asyncio.Event()
        self._outbox_ready = asyncio.Event()
        self._positions_ready = asyncio.Event()
        # On failure the caller closes the client (_close_client).
        await asyncio.wait_for(
            self._nc.connect(
                [u.strip() for u in self.url.split(",") if u.strip()],
                name=f"jingwu {self.origin}",
                allow_reconnect=True,
                max_reconnect_attempts=-1,  # a police platform keeps trying for ever
                reconnect_time_wait=1,
                connect_timeout=max(1, int(connect_timeout_s)),
                error_cb=self._on_error,
                disconnected_cb=self._on_disconnected,
                reconnected_cb=self._on_reconnected,
            ),
            timeout=connect_timeout_s,
        )
        self._js = self._nc.jetstream(timeout=PUBLISH_TIMEOUT_S)
        await self._ensure_stream()
        await self._subscribe_events()
        await self._nc.subscribe(self.positions_subject, cb=self._on_position)
        await self._nc.flush()  # the server has the subscription: nothing published from now is missed
        self._connected.set()
        self._tasks = [
            asyncio.create_task(self._send_events()),
            asyncio.create_task(self._send_positions()),
        ]

    async def _ensure_stream(self) -> None:
        assert self._js is not None
        stores_positions = await ensure_stream(
            self._js, self.stream, self.events_subject, self.positions_subject
        )
        if stores_positions and not self._warned_positions:
            self._warned_positions = True  # once, not after every reconnect
            log.warning(
                "bus: the stream %s also stores %s, the unit positions (many a second, never read "
                "back from it); give it the subjects %s.> only",
                self.stream,
                self.positions_subject,
                self.events_subject,
            )

    async def _subscribe_events(self) -> None:
        """An ordered consumer from what is new: flow-controlled, heart-beaten, re-created by the
        client on a gap. What came before is in the log (the catch-up reads it)."""
        assert self._js is not None
        if self._event_sub is not None:
            with contextlib.suppress(Exception):
                await self._event_sub.unsubscribe()
        self._event_sub = await self._js.subscribe(
            f"{self.events_subject}.>",
            stream=self.stream,
            cb=self._on_event,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
            idle_heartbeat=self.idle_heartbeat_s,
        )

    def _enqueue(self, message: BusMessage) -> None:
        if message.id is None:
            if not self._nc.is_connected:
                self.dropped_positions += 1  # superseded within seconds anyway
                return
            self._positions.append(message)
            self._positions_ready.set()
            return
        if len(self._outbox) >= OUTBOX_LIMIT:
            self._outbox.popleft()
            self.dropped_events += 1
            if self.dropped_events % 1000 == 1:
                log.warning(
                    "bus: outbox full while NATS is away; %d events left to the log catch-up",
                    self.dropped_events,
                )
        self._outbox.append(message)
        self._outbox_ready.set()

    async def _send_events(self) -> None:
        """One event at a time, in log order, until the broker has acknowledged it."""
        assert self._js is not None
        while not self._stopping:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self._outbox and not self._stopping:
                await self._connected.wait()
                message = self._outbox[0]
                try:
                    await self._js.publish(
                        f"{self.events_subject}.{message.type}",
                        encode(message),
                        headers={"Nats-Msg-Id": str(message.id), ORIGIN_HEADER: self.origin},
                    )
                except asyncio.CancelledError:
                    raise
                except (NotFoundError, NoStreamResponseError):
                    # The stream went away (a broker restarted without its store): wait (a
                    # while) for it to be made again, then publish again.
                    await asyncio.wait({self._resubscribe()}, timeout=RESUBSCRIBE_MAX_S)
                    continue
                except Exception as exc:
                    if refused_for_good(exc):
                        # Retrying would hold up every later event for ever. This one is in the
                        # log: the other processes read it from there when the next one arrives.
                        self._refused(message, exc)
                    else:  # timeouts, no responders, a connection going down, JetStream busy
                        self._not_acknowledged(message, exc)
                        if not self._nc.is_connected:
                            self._connected.clear()
                        await asyncio.sleep(0.2)
                        continue
                if self._outbox and self._outbox[0] is message:
                    self._outbox.popleft()

    def _refused(self, message: BusMessage, exc: Exception) -> None:
        self.refused_events += 1
        now = time.monotonic()
        if now - self._refused_warned_at >= WARN_EVERY_S:
            self._refused_warned_at = now
            log.warning(
                "bus: NATS refused event %s (%s) for good, dropped (the other processes read it "
                "from the log); %d refused so far: %s",
                message.id,
                message.type,
                self.refused_events,
                described(exc),
            )

    def _not_acknowledged(self, message: BusMessage, exc: Exception) -> None:
        log.debug("bus: event %s not acknowledged yet (%s); retrying", message.id, described(exc))
        now = time.monotonic()
        # Quiet while disconnected (that is warned of once), but a broker that is up and keeps
        # refusing should be seen.
        if self._nc.is_connected and now - self._retry_warned_at >= WARN_EVERY_S:
            self._retry_warned_at = now
            log.warning(
                "bus: NATS has not acknowledged event %s yet, retrying: %s", message.id, described(exc)
            )

    def _resubscribe(self, *, afresh: bool = False) -> asyncio.Task[None]:
        """Make the stream (if missing) and the event subscription again, in a task that tries
        until it works: without it this process would hear no other process's event over NATS
        (only the 1 s catch-up from the log) until the next disconnect. One such task at a time;
        ``afresh`` replaces a running one (after a reconnect, its tries were on the old
        connection)."""
        task = self._resubscribing
        if task is not None and not task.done():
            if not afresh:
                return task
            task.cancel()
        self._resubscribing = asyncio.create_task(self._resubscribe_until_done())
        return self._resubscribing

    async def _resubscribe_until_done(self) -> None:
        delay = RESUBSCRIBE_FIRST_S
        tries = 0
        warned_at = -WARN_EVERY_S
        while not self._closed:
            tries += 1
            try:
                await self._ensure_stream()
                await self._subscribe_events()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # JetStream not ready yet, the subjects taken, a timeout
                if time.monotonic() - warned_at >= WARN_EVERY_S:
                    warned_at = time.monotonic()
                    log.warning(
                        "bus: could not make the stream %s and its subscription again (try %d, "
                        "trying on; events come from the log meanwhile): %s",
                        self.stream,
                        tries,
                        exc,
                    )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RESUBSCRIBE_MAX_S)
                continue
            if tries > 1:
                log.info("bus: subscribed to the stream %s again after %d tries", self.stream, tries)
            return

    async def _send_positions(self) -> None:
        while not self._stopping:
            await self._positions_ready.wait()
            self._positions_ready.clear()
            while self._positions and not self._stopping:
                message = self._positions.popleft()
                try:
                    await self._nc.publish(
                        self.positions_subject,
                        encode(message),
                        headers={ORIGIN_HEADER: self.origin},
                    )
                except asyncio.CancelledError:
                    raise
                except Exception:
                    self.dropped_positions += 1

    async def _on_event(self, msg: Msg) -> None:
        self._receive(msg)

    async def _on_position(self, msg: Msg) -> None:
        self._receive(msg)

    def _receive(self, msg: Msg) -> None:
        origin = (msg.headers or {}).get(ORIGIN_HEADER)
        if origin == self.origin:
            return  # delivered here when it was published
        try:
            message = parse(msg.data, durable=msg.subject != self.positions_subject, origin=origin or "nats")
        except Exception as exc:  # whatever its content, one message must not stop the others
            self.dropped_malformed += 1
            now = time.monotonic()
            if now - self._malformed_warned_at >= WARN_EVERY_S:
                self._malformed_warned_at = now
                log.warning(
                    "bus: dropped a malformed message on %s from %s (%s); %d dropped so far",
                    msg.subject,
                    origin or "another client",
                    exc,
                    self.dropped_malformed,
                )
            return
        self._inbox.put(message)

    async def _on_error(self, exc: Exception) -> None:
        log.warning("bus: NATS error: %s", exc)
        if isinstance(exc, NotFoundError) and not self._closed:
            # The client could not re-make our ordered consumer (it does so on its own after
            # missed heartbeats): the stream was deleted while we stayed connected. A process
            # that publishes nothing would not notice otherwise.
            self._resubscribe()

    async def _on_disconnected(self) -> None:
        self._connected.clear()
        if not self._closed:
            log.warning("bus: disconnected from NATS; commands go on, events are read from the log")

    async def _on_reconnected(self) -> None:
        log.info("bus: reconnected to NATS")
        # In a task: the client awaits this callback before it counts as reconnected, and the
        # stream may take several tries (JetStream still starting, the subjects taken).
        self._resubscribe(afresh=True)
        self._connected.set()

    async def _shutdown(self) -> None:
        """Within SHUTDOWN_LIMIT_S in all (close() waits no longer): each step below can hang on a
        broker that is up but stuck, a task that does not end when cancelled included."""
        drained = time.monotonic() + CLOSE_TIMEOUT_S
        while self._outbox and self._nc.is_connected and time.monotonic() < drained:
            await asyncio.sleep(0.05)
        deadline = time.monotonic() + CLOSE_STEPS_S
        self._stopping = True
        tasks = [*self._tasks, *([self._resubscribing] if self._resubscribing else [])]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_left(deadline))
        if self._outbox:
            log.warning(
                "bus: stopped with %d events not sent to NATS (they are in the log)", len(self._outbox)
            )
        await self._close_client(deadline)

    async def _close_client(self, deadline: float) -> None:
        """Unsubscribe, close the connection and end whatever the client left running on this
        loop (consumer heartbeat checks), all by ``deadline``."""
        if self._event_sub is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._event_sub.unsubscribe(), timeout=_left(deadline))
        try:
            await asyncio.wait_for(self._nc.close(), timeout=_left(deadline))
        except Exception:
            self._abort_connection()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        if others:
            await asyncio.wait(others, timeout=_left(deadline))

    def _abort_connection(self) -> None:
        """Drop the socket at once. The client's close sends what it has buffered first, which
        never ends on a broker that reads nothing (up but stuck); the client has no other way
        to close, so this reaches under it, carefully."""
        writer = getattr(getattr(self._nc, "_transport", None), "_io_writer", None)
        transport = getattr(writer, "transport", None)
        if isinstance(transport, asyncio.Transport):
            transport.abort()

    def _stop_loop(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop_thread.join(timeout=5)
        if not self._loop.is_running():
            self._loop.close()

    # ------------------------------------------------------------ the delivery thread

    def _deliver(self) -> None:
        next_catch_up = time.monotonic() + self.catch_up_s
        warned_at = -WARN_EVERY_S
        while True:
            try:
                item = self._inbox.get(timeout=max(0.0, next_catch_up - time.monotonic()))
            except queue.Empty:
                item = None
            if item is _STOP:
                return
            try:
                batch = self._order.admit(item) if isinstance(item, BusMessage) else []
                if time.monotonic() >= next_catch_up:
                    # Set first: a catch-up that fails is retried at the next poll, not at once.
                    next_catch_up = time.monotonic() + self.catch_up_s
                    batch += self._order.catch_up()
            except Exception:
                # This thread is the process's only delivery: if it died, every live client here
                # would go silent. Whatever one message does, the next ones are delivered (and
                # an event lost here is in the log, read by the next catch-up past it).
                self.delivery_failures += 1
                if time.monotonic() - warned_at >= WARN_EVERY_S:
                    warned_at = time.monotonic()
                    what = f"{item.type} {item.id}" if isinstance(item, BusMessage) else "the catch-up"
                    log.exception(
                        "bus: could not deliver %s; %d failures so far", what, self.delivery_failures
                    )
                continue
            if not batch:
                continue
            with self._lock:
                handlers = list(self._handlers.values())
            for message in batch:
                for handler in handlers:
                    try:
                        handler(message)
                    except Exception:  # one broken listener must not silence the others
                        log.exception("bus subscriber failed on %s", message.type)


def _left(deadline: float) -> float:
    """The time left until ``deadline``, and a moment more: a step past it still gets its try."""
    return max(0.1, deadline - time.monotonic())


__all__ = ["ORIGIN_HEADER", "NatsBus"]
