from datetime import UTC, datetime

from jingwu.domain import rules
from jingwu.domain.events import EventType
from tests.domain.test_rules import make_incident, make_unit

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_dispatched_event_carries_each_units_road_eta_rounded_to_a_tenth() -> None:
    decision = rules.dispatch(
        make_incident(),
        [make_unit("u1"), make_unit("u2"), make_unit("u3")],
        now=T0,
        ack_timeout_s=30,
        etas={"u1": 123.456, "u2": None, "u3": float("inf")},
    )
    etas = {e.unit_id: e.data["eta_s"] for e in decision.events if e.type is EventType.UNIT_DISPATCHED}
    assert etas == {"u1": 123.5, "u2": None, "u3": None}


def test_dispatch_without_etas_says_the_eta_is_unknown() -> None:
    decision = rules.dispatch(make_incident(), [make_unit("u1")], now=T0, ack_timeout_s=30)
    dispatched = next(e for e in decision.events if e.type is EventType.UNIT_DISPATCHED)
    assert dispatched.data["eta_s"] is None
