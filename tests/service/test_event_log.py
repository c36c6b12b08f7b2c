"""The event log read back as the live stream and the cluster bus read it."""

from __future__ import annotations

from tests.conftest import ServicesFactory
from tests.service.test_dispatching import CENTRE, robbery_at


def test_events_after_replays_in_order_from_a_given_id(make_services: ServicesFactory) -> None:
    services = make_services()
    for _ in range(3):
        services.dispatch.create_incident(robbery_at(*CENTRE), actor="d")
    all_events = services.event_log.events_after(0, 100)
    assert [m.id for m in all_events] == sorted(m.id for m in all_events if m.id is not None)
    tail = services.event_log.events_after(all_events[0].id or 0, 100)
    assert [m.id for m in tail] == [m.id for m in all_events[1:]]
    assert services.event_log.last_event_id() == all_events[-1].id
