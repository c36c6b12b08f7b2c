"""An alarm-column press: a priority-1 incident at the column's registered place (source
``alarm_device``, the column as its actor); a press within two minutes of the previous one, while
the incident it opened is open, is a note on it instead (``domain.devices.is_repeat_press``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, update

from jingwu.devices.protocol import AlarmPress, Frame
from jingwu.domain import rules
from jingwu.domain.devices import (
    ALARM_PRIORITY,
    ALARM_TYPE_CODE,
    CommunityDevice,
    device_actor,
    is_repeat_press,
)
from jingwu.domain.events import DomainEvent, EventType
from jingwu.domain.rules import Decision
from jingwu.domain.status import SourceChannel
from jingwu.errors import JingwuError, NotFound
from jingwu.routing import RoadPoint
from jingwu.service.community_devices.claim import claim, online_event
from jingwu.service.community_devices.registry import DeviceRegistry
from jingwu.service.dispatching import DispatchService
from jingwu.service.ids import IncidentIdTaken
from jingwu.store import incident_search
from jingwu.store import repository as repo
from jingwu.store import tables as t

log = logging.getLogger(__name__)

REPEAT_NOTE = "报警柱再次按下 / the alarm column was pressed again"


class AlarmPresses:
    """Turns a verified press into an incident (or a note), through :meth:`DispatchService.commit`
    so that its events are logged and published in order with every other."""

    def __init__(
        self,
        dispatch: DispatchService,
        registry: DeviceRegistry,
        *,
        clock: Callable[[], datetime],
        max_snap_distance_m: float,
    ) -> None:
        self.dispatch = dispatch
        self.registry = registry
        self.clock = clock
        self.max_snap_distance_m = max_snap_distance_m

    def press(self, frame: Frame, device: CommunityDevice, sealed: str, press: AlarmPress) -> None:
        """A press: a new priority-1 incident at the column, or a note on the one it opened.
        ``sealed``: the secret the message was verified with, as stored (see :func:`.claim.claim`,
        which raises :class:`.claim.Rekeyed`, having changed nothing, when the row holds another)."""
        location = device.location
        road_point: RoadPoint | None
        try:
            road_point = self.dispatch.network.snap(location.lat, location.lon, self.max_snap_distance_m)
        except JingwuError as exc:
            # Checked at registration; a new road graph may have moved the roads. The call is
            # opened all the same: recommendation snaps it with its own, wider bound.
            log.error(
                "alarm column %s stands off the roads now (%s); opening the call anyway", device.id, exc
            )
            road_point = None
        station_id = self.dispatch.station_for(location)
        actor = device_actor(device.id)
        c = t.community_devices.c
        outcome: list[tuple[CommunityDevice, bool]] = []

        def decide(conn: Connection, now: datetime, incident_id: str) -> Decision:
            current, counters = claim(conn, frame, sealed)
            events: list[DomainEvent] = [] if current.online else [online_event(current, now)]
            incident_open = False
            if current.alarm_incident_id is not None:
                try:
                    # Locked: a close committing meanwhile is either seen here (a new call opens)
                    # or waits for this note (PostgreSQL; SQLite writes one at a time anyway).
                    noted = repo.get_incident(conn, current.alarm_incident_id, for_update=True)
                    incident_open = noted.is_open
                except NotFound:
                    incident_open = False
            values: dict[str, Any] = {**counters, "last_seen": now, "online": True}
            values["alarm_pressed_at"] = now
            incidents: tuple[Any, ...] = ()
            if is_repeat_press(current, now=now, incident_open=incident_open):
                target = current.alarm_incident_id
                assert target is not None
                conn.execute(
                    insert(t.notes).values(incident_id=target, author=actor, ts=now, text=REPEAT_NOTE)
                )
                events.append(
                    DomainEvent(
                        EventType.INCIDENT_NOTE_ADDED,
                        now,
                        incident_id=target,
                        actor=actor,
                        data={"text": REPEAT_NOTE},
                    )
                )
                created = False
            else:
                # Inside the write transaction, as for any new incident: a drawn id that is taken
                # already (30 random bits a day) is drawn again below.
                if incident_search.incident_exists(conn, incident_id):
                    raise IncidentIdTaken(incident_id)
                opened = rules.open_incident(
                    incident_id=incident_id,
                    now=now,
                    type_code=ALARM_TYPE_CODE,
                    priority=ALARM_PRIORITY,
                    location=location,
                    source=SourceChannel.ALARM_DEVICE,
                    address=current.address,
                    description=alarm_description(current, press, now),
                    station_id=station_id,
                    actor=actor,
                )
                incidents = opened.incidents
                events.extend(opened.events)
                values["alarm_incident_id"] = incident_id
                created = True
            conn.execute(update(t.community_devices).where(c.id == current.id).values(**values))
            after = replace(
                current,
                **counters,
                last_seen=now,
                online=True,
                alarm_pressed_at=now,
                alarm_incident_id=values.get("alarm_incident_id", current.alarm_incident_id),
            )
            outcome[:] = [(after, created)]
            return Decision(incidents=incidents, events=tuple(events))

        incident_id = self.dispatch.commit_with_incident_id(decide, what="the alarm")
        after, created = outcome[0]
        self.registry.remember(after)
        if created:
            if road_point is not None:
                self.dispatch.board.remember_incident(incident_id, location, road_point)
            log.info("alarm column %s pressed: incident %s opened", device.id, incident_id)
        else:
            log.info("alarm column %s pressed again: noted on %s", device.id, after.alarm_incident_id)


def alarm_description(device: CommunityDevice, press: AlarmPress, now: datetime) -> str:
    text = (
        f"一键报警柱 {device.id}（{device.community}）被按下 / "
        f"alarm column {device.id} ({device.community}) pressed"
    )
    delay = (now - press.ts).total_seconds()
    if delay > 30:
        # Held by the broker or the device through an outage: say when it really happened.
        text += f"; 按下时间 / pressed at {press.ts.isoformat(timespec='seconds')}"
    return text


__all__ = ["REPEAT_NOTE", "AlarmPresses", "alarm_description"]
