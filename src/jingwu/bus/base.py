"""The publisher/subscriber protocol every bus implements: in-process (one server process) and
NATS JetStream (a cluster of them, see bus.nats)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class BusMessage:
    """What travels on the bus: a JSON-ready event as the live stream shows it.

    ``id`` is the event-log id for durable events (a client resumes after it) and ``None`` for
    ephemeral ones such as position batches, which a reconnecting client gets as a fresh snapshot.

    ``origin`` is None for what this process published itself, and names where anything else came
    from (another server process, or the shared event log when a gap was filled from it). A
    subscriber that keeps state from its own commits (the unit board) applies only the others.
    """

    id: int | None
    type: str
    payload: dict[str, Any]
    origin: str | None = None


Unsubscribe = Callable[[], None]


class Bus(Protocol):
    def publish(self, message: BusMessage) -> None:
        """Deliver to every subscriber; never blocks on a slow one. Safe from any thread."""

    def subscribe(self, handler: Callable[[BusMessage], None]) -> Unsubscribe:
        """``handler`` is called for every message, in publish order; returns its remover."""

    def close(self) -> None: ...


__all__ = ["Bus", "BusMessage", "Unsubscribe"]
