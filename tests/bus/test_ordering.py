"""LogOrder: the cluster's events in log order, each once, gaps filled from the shared log."""

from __future__ import annotations

from jingwu.bus import BusMessage
from jingwu.bus.ordering import LOG_ORIGIN, LogOrder


def event(event_id: int, origin: str | None = None) -> BusMessage:
    return BusMessage(event_id, "incident.created", {"id": event_id, "type": "incident.created"}, origin)


class FakeLog:
    def __init__(self, ids: list[int]) -> None:
        self.ids = ids
        self.reads = 0
        self.broken = False

    def last_event_id(self) -> int:
        return max(self.ids, default=0)

    def events_after(self, after_id: int, limit: int) -> list[BusMessage]:
        self.reads += 1
        if self.broken:
            raise OSError("database unreachable")
        return [event(i) for i in sorted(self.ids) if i > after_id][:limit]


def ids(messages: list[BusMessage]) -> list[int | None]:
    return [m.id for m in messages]


def test_log_order_starts_after_the_last_logged_event() -> None:
    order = LogOrder(FakeLog([1, 2, 3]))
    assert order.admit(event(3)) == []
    assert ids(order.admit(event(4))) == [4]


def test_log_order_in_sequence_reads_nothing() -> None:
    log = FakeLog([])
    order = LogOrder(log)
    delivered = [m for i in (1, 2, 3) for m in order.admit(event(i))]
    assert ids(delivered) == [1, 2, 3] and log.reads == 0


def test_log_order_drops_repeats() -> None:
    order = LogOrder(FakeLog([]))
    order.admit(event(1))
    assert order.admit(event(1, origin="other")) == []


def test_log_order_gap_is_filled_from_the_log_before_the_later_event() -> None:
    log = FakeLog([])
    order = LogOrder(log)
    log.ids += [1, 2, 3]  # committed by other processes; their messages are still on the way
    delivered = order.admit(event(3, origin="b"))
    assert ids(delivered) == [1, 2, 3]
    assert [m.origin for m in delivered] == [LOG_ORIGIN, LOG_ORIGIN, "b"]
    assert order.admit(event(1, origin="a")) == [] and order.admit(event(2, origin="a")) == []


def test_log_order_unused_id_is_skipped() -> None:
    log = FakeLog([])
    order = LogOrder(log)
    log.ids += [1, 3]  # 2 was drawn by a transaction that rolled back
    assert ids(order.admit(event(3))) == [1, 3]
    assert ids(order.admit(event(4))) == [4]


def test_log_order_catch_up_reads_events_no_message_brought() -> None:
    log = FakeLog([5])
    order = LogOrder(log)
    log.ids += [6, 7]  # the publisher died between its commit and its publish
    assert ids(order.catch_up()) == [6, 7]
    assert order.catch_up() == []
    assert order.admit(event(7)) == []


def test_log_order_positions_pass_straight_through() -> None:
    order = LogOrder(FakeLog([9]))
    position = BusMessage(None, "unit.positions", {"positions": []})
    assert order.admit(position) == [position]


def test_log_order_unreadable_log_delivers_what_arrived() -> None:
    log = FakeLog([])
    order = LogOrder(log)
    log.broken = True
    assert ids(order.admit(event(3))) == [3]
    assert order.catch_up() == []
