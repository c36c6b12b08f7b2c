"""An alarm-column press: a priority-1 incident at the column's place, notes for repeats while it
is open, a new call once it is closed; a test press opens nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from jingwu.composition import Services
from jingwu.domain.devices import MessageKind
from jingwu.domain.status import IncidentStatus, SourceChannel
from tests.conftest import FakeClock
from tests.service.community_devices.conftest import ON_ROAD, Device, EventLog, types

# ------------------------------------------------------------------------------ alarm presses


def test_a_press_opens_a_priority_1_incident_at_the_columns_place(
    services: Services, register: Callable[..., Device], events: EventLog
) -> None:
    column = register()
    assert column.send(MessageKind.ALARM) is None
    [incident] = services.dispatch.list_incidents(open_only=True)
    assert incident.type_code == "other.alarm_column" and incident.priority == 1
    assert incident.location == ON_ROAD and incident.address == "保健路12号"
    assert incident.source is SourceChannel.ALARM_DEVICE and incident.status is IncidentStatus.PENDING
    assert incident.created_by == "device:col-baojian-001" and incident.station_id == "south"
    assert "col-baojian-001" in (incident.description or "")
    assert types(events) == ["device.online", "incident.created"]
    device = services.community_devices.get(column.id)
    assert device.alarm_incident_id == incident.id and device.state == "online"
    # The dispatcher gets units for it at once: the incident's road point is known.
    assert services.dispatch.recommend(incident.id, limit=1) == []  # (no units in this city)


def test_repeated_presses_while_the_call_is_open_are_notes_on_it(
    services: Services, register: Callable[..., Device], clock: FakeClock, events: EventLog
) -> None:
    column = register()
    column.send(MessageKind.ALARM)
    clock.advance(90)
    column.send(MessageKind.ALARM)
    clock.advance(110)  # within two minutes of the last press, not of the first
    column.send(MessageKind.ALARM)
    [incident] = services.dispatch.list_incidents(open_only=True)
    timeline = services.dispatch.incident_timeline(incident.id)
    notes = [m for m in timeline if m.type == "incident.note_added"]
    assert len(notes) == 2 and notes[0].payload["actor"] == "device:col-baojian-001"
    # More than two minutes after the last press: a new call.
    clock.advance(121)
    column.send(MessageKind.ALARM)
    assert len(services.dispatch.list_incidents(open_only=True)) == 2


def test_a_press_after_its_incident_was_closed_opens_a_new_one(
    services: Services, register: Callable[..., Device], clock: FakeClock
) -> None:
    column = register()
    column.send(MessageKind.ALARM)
    [first] = services.dispatch.list_incidents(open_only=True)
    services.dispatch.close_incident(first.id, disposition="误报", actor="dispatcher")
    clock.advance(5)
    column.send(MessageKind.ALARM)
    [second] = services.dispatch.list_incidents(open_only=True)
    assert second.id != first.id


def test_a_test_press_opens_nothing_but_counts_as_heard(
    services: Services, register: Callable[..., Device], events: EventLog
) -> None:
    column = register()
    assert column.send(MessageKind.ALARM, test=True) is None
    assert services.dispatch.list_incidents() == []
    assert services.community_devices.get(column.id).state == "online"
    assert services.community_devices.counters.snapshot()["accepted"]["alarm_test"] == 1


def test_a_press_whose_drawn_incident_id_is_taken_draws_another(
    services: Services, register: Callable[..., Device], monkeypatch: pytest.MonkeyPatch
) -> None:
    column = register()
    assert column.send(MessageKind.ALARM) is None
    [first] = services.dispatch.list_incidents(open_only=True)
    services.dispatch.close_incident(first.id, disposition="已处理", actor="dispatcher")
    draws = iter([first.id, first.id, "J20261125-FRESH2"])
    monkeypatch.setattr(services.dispatch, "new_incident_id", lambda: next(draws))
    assert column.send(MessageKind.ALARM) is None
    [second] = services.dispatch.list_incidents(open_only=True)
    assert second.id == "J20261125-FRESH2"
    assert services.dispatch.get_incident(first.id).status is IncidentStatus.CLOSED  # untouched
