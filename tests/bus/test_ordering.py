"""LogOrder: the cluster's events in log order, each once, gaps filled from the shared log."""

from __future__ import annotations

from jingwu.bus import BusMessage
from jingwu.bus.ordering import BACKFILL_BATCH, LOG_ORIGIN, LogOrder


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


def test_log_order_unreadable_gap_holds_back_the_later_event() -> None:
    log = FakeLog([])
    order = LogOrder(log)
    log.ids += [1, 2, 3]
    log.broken = True  # a pool timeout, PostgreSQL briefly away
    assert order.admit(event(3, origin="b")) == []
    assert order.last_id == 0  # not past events this process's clients never got
    assert order.catch_up() == []


def test_log_order_unreadable_log_still_delivers_the_next_event_in_sequence() -> None:
    log = FakeLog([4])
    order = LogOrder(log)
    log.broken = True
    assert ids(order.admit(event(5))) == [5]  # nothing to read in between


def test_log_order_readable_log_again_brings_everything_once_in_order() -> None:
    log = FakeLog([])
    order = LogOrder(log)
    log.ids += [1, 2, 3, 4, 5]
    log.broken = True
    delivered = order.admit(event(5, origin="b"))
    delivered += order.catch_up()
    log.broken = False
    delivered += order.catch_up()  # the 1 s poll: the gap and the held-back event, from the log
    delivered += order.admit(event(5, origin="b")) + order.admit(event(2, origin="a"))
    log.ids += [6, 7]
    delivered += order.admit(event(7, origin="b"))
    assert ids(delivered) == [1, 2, 3, 4, 5, 6, 7]


def test_log_order_readable_log_again_next_arrival_fills_the_gap() -> None:
    log = FakeLog([])
    order = LogOrder(log)
    log.ids += [1, 2, 3]
    log.broken = True
    assert order.admit(event(3, origin="b")) == []
    log.broken = False
    log.ids += [4]
    assert ids(order.admit(event(4, origin="b"))) == [1, 2, 3, 4]


class FlakyLog(FakeLog):
    """The ``fail_on``-th read fails, e.g. a second backfill batch that times out."""

    def __init__(self, ids: list[int], fail_on: int) -> None:
        super().__init__(ids)
        self.fail_on = fail_on

    def events_after(self, after_id: int, limit: int) -> list[BusMessage]:
        self.broken = self.reads + 1 == self.fail_on
        return super().events_after(after_id, limit)


def test_log_order_gap_read_failing_halfway_delivers_what_was_read_and_resumes_after_it() -> None:
    log = FlakyLog([], fail_on=2)
    order = LogOrder(log)
    log.ids += list(range(1, BACKFILL_BATCH + 11))
    first = order.admit(event(BACKFILL_BATCH + 10, origin="b"))
    assert ids(first) == list(range(1, BACKFILL_BATCH + 1))
    assert order.last_id == BACKFILL_BATCH
    rest = order.catch_up()
    assert ids(rest) == list(range(BACKFILL_BATCH + 1, BACKFILL_BATCH + 11))
