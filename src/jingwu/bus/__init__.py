"""The event bus: committed events fan out to live clients, timers and (later) other processes."""

from jingwu.bus.base import Bus, BusMessage, Unsubscribe
from jingwu.bus.memory import InProcessBus

__all__ = ["Bus", "BusMessage", "InProcessBus", "Unsubscribe"]
