"""The live event stream (WebSocket), with resume from the last event id a client saw.

Protocol: connect to ``/api/events?access_token=T[&after=ID]``. The server first sends
``{"type": "hello", "last_event_id": N, "reset": false}``; with ``after`` it then replays every
logged event with a larger id, in order, and goes on live. ``"reset": true`` says the id is
unknown here (e.g. from before a database reset): the client should reload its state instead.
Durable events carry an ``id``; position batches carry ``"id": null`` and are not replayed (a
client reloads ``/api/units`` for current positions). A client that falls too far behind, or
stops reading, is disconnected (close code 1013) and resumes with ``after``; a session that is
revoked or expires is closed with 4401.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import OrderedDict

import pydantic_core
from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from jingwu.bus import BusMessage
from jingwu.composition import Services
from jingwu.domain.access import Level, Permission, Principal, Role
from jingwu.domain.events import EventType
from jingwu.errors import JingwuError

log = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

SEND_QUEUE_LIMIT = 20_000
#: Live messages whose JSON text is kept, so that a hundred consoles shown the same position
#: batch cost one encoding, not a hundred (all sends run on the event loop's thread).
ENCODED_KEPT = 256
SEND_TIMEOUT_S = 10.0
TOKEN_RECHECK_S = 30.0
_EVENT_ID = re.compile(r"[0-9]{1,18}")


@router.websocket("/api/events")
async def live_events(
    websocket: WebSocket,
    access_token: str = Query(default=""),
    after_text: str | None = Query(default=None, alias="after"),
) -> None:
    services: Services = websocket.app.state.services
    # Accept first, then refuse with a close code and reason a browser can read (4401 / 4422):
    # a refusal at the handshake reaches a browser only as a bare, unexplained failure.
    await websocket.accept()
    try:
        principal = await run_in_threadpool(services.auth.sessions.authenticate, access_token)
    except JingwuError as exc:
        await websocket.close(code=4401, reason=exc.message[:120])
        return
    if not principal.may(Permission.LIVE_READ):
        # Refused like a 403 elsewhere, and recorded like one (access.refused).
        await run_in_threadpool(
            services.audit.record,
            "access.refused",
            outcome="refused",
            actor=principal.username,
            target="WS /api/events",
            source=websocket.client.host if websocket.client else None,
            details={"code": "role_forbidden", "permission": str(Permission.LIVE_READ)},
        )
        await websocket.close(code=4403, reason=f"the role {principal.role} has no live stream")
        return
    after: int | None = None
    if after_text is not None:
        if not _EVENT_ID.fullmatch(after_text):
            await websocket.close(code=4422, reason="after must be an event id (a whole number ≥ 0)")
            return
        after = int(after_text)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[BusMessage] = asyncio.Queue()
    overflowed = asyncio.Event()

    def on_message(message: BusMessage) -> None:
        shown = for_viewer(message, principal, services)
        if shown is not None:
            loop.call_soon_threadsafe(_enqueue, shown)

    def _enqueue(message: BusMessage) -> None:
        if overflowed.is_set():
            return
        if queue.qsize() >= SEND_QUEUE_LIMIT:
            overflowed.set()  # the sender drops this client; it resumes from its last id
        else:
            queue.put_nowait(message)

    async def send(payload: dict[str, object]) -> None:
        # A client that stops reading must not hold its queue (and our memory) forever.
        await asyncio.wait_for(websocket.send_text(encoded(payload)), timeout=SEND_TIMEOUT_S)

    # Subscribe before reading the log, so nothing committed in between is missed; the copies
    # that arrive both ways are dropped by id.
    unsubscribe = services.bus.subscribe(on_message)
    receiver = asyncio.create_task(_drain_client(websocket))
    try:
        last_id = await run_in_threadpool(services.event_log.last_event_id)
        reset = after is not None and after > last_id  # e.g. an id from before a database reset
        await send({"type": "hello", "last_event_id": last_id, "user": principal.username, "reset": reset})
        replayed: set[int] = set()
        if after is None or reset:
            after = last_id
        else:
            cursor = after
            while True:
                batch = await run_in_threadpool(
                    services.event_log.events_after, cursor, services.settings.event_replay_limit
                )
                for message in batch:
                    replayed.add(message.id or 0)
                    # The replay is cut to the viewer's reach exactly as the live feed is.
                    shown = for_viewer(message, principal, services)
                    if shown is not None:
                        await send(shown.payload)
                if len(batch) < services.settings.event_replay_limit:
                    break
                cursor = batch[-1].id or cursor
        checked_at = time.monotonic()
        while True:
            getter = asyncio.create_task(queue.get())
            stop = asyncio.create_task(overflowed.wait())
            done, _ = await asyncio.wait(
                {getter, receiver, stop}, timeout=TOKEN_RECHECK_S, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
            stop.cancel()
            if receiver in done:
                return
            if overflowed.is_set():
                await websocket.close(code=1013, reason="too far behind; resume with ?after=")
                return
            if time.monotonic() - checked_at >= TOKEN_RECHECK_S:
                # A revoked or expired session stops receiving, not only a new connection.
                try:
                    await run_in_threadpool(services.auth.sessions.authenticate, access_token)
                except JingwuError as exc:
                    await websocket.close(code=4401, reason=exc.message[:120])
                    return
                checked_at = time.monotonic()
            if getter not in done:
                continue
            message = getter.result()
            if message.id is not None and (message.id in replayed or message.id <= after):
                continue
            await send(message.payload)
    except (WebSocketDisconnect, TimeoutError):
        pass
    finally:
        receiver.cancel()
        unsubscribe()
        with contextlib.suppress(Exception):
            await websocket.close()


_encoded: OrderedDict[int, tuple[dict[str, object], str]] = OrderedDict()


def encoded(payload: dict[str, object]) -> str:
    """The payload's JSON text, encoded once for every viewer it is sent to (by identity: a
    payload is never changed once published; the entry keeps it alive, so its id is not reused)."""
    hit = _encoded.get(id(payload))
    if hit is not None and hit[0] is payload:
        return hit[1]
    # pydantic's serialiser (compiled): a city's position batch took json.dumps four times as long.
    text = pydantic_core.to_json(payload).decode()
    _encoded[id(payload)] = (payload, text)
    while len(_encoded) > ENCODED_KEPT:
        _encoded.popitem(last=False)
    return text


def for_viewer(message: BusMessage, principal: Principal, services: Services) -> BusMessage | None:
    """What of a live message this viewer receives.

    Events reach a viewer whose jurisdiction holds the incident or the unit they are about (a
    station sees its own cars sent across the boundary, and the calls sent into it). Positions
    are cut to the units in reach; an officer's phone gets only its own unit's: the whole
    city's feed (2,000 units a second) would cost a patrol car's mobile data plan about a
    gigabyte an hour and show the officer nothing they need."""
    district_of = services.dispatch.district_of
    scope = principal.jurisdiction
    if message.type == EventType.UNIT_POSITIONS:
        if principal.role is not Role.OFFICER and scope.level is Level.CITY:
            return message
        positions = message.payload.get("positions") or []
        board = services.dispatch.board
        shown = [
            p
            for p in positions
            if p.get("unit_id") == principal.unit_id
            or (
                principal.role is not Role.OFFICER
                and scope.covers_station(board.station_of(str(p.get("unit_id"))), district_of)
            )
        ]
        if not shown:
            return None
        if len(shown) == len(positions):
            return message
        return BusMessage(id=message.id, type=message.type, payload={**message.payload, "positions": shown})
    data = message.payload.get("data") or {}
    # A camera's state (camera.state) goes to those who may watch cameras where it stands, the
    # city's too: an analyst's live picture carries no camera records.
    camera = data.get("camera") or {}
    if camera:
        if principal.may(Permission.CAMERA_READ) and scope.covers_station(
            camera.get("station_id"), district_of
        ):
            return message
        return None
    if scope.level is Level.CITY:
        return message
    incident = data.get("incident") or {}
    unit = data.get("unit") or {}
    if principal.unit_id is not None:
        if message.payload.get("unit_id") == principal.unit_id:
            return message
        # A crew sent across a boundary hears everything about the call it was sent to.
        own_incident = services.dispatch.board.incident_of(principal.unit_id)
        if own_incident is not None and message.payload.get("incident_id") == own_incident:
            return message
    if scope.level is Level.OWN:
        return message if incident and incident.get("created_by") == principal.username else None
    if incident and scope.covers_station(incident.get("station_id"), district_of):
        return message
    if unit and scope.covers_station(unit.get("station_id"), district_of):
        return message
    # A community device's state (device.online / device.offline) goes where its place lies.
    device = data.get("device") or {}
    if device and scope.covers_station(device.get("station_id"), district_of):
        return message
    # A patrol check's hit (check.hit) goes where the check was made, too (service.checks).
    check = data.get("check") or {}
    if check and scope.covers_station(check.get("station_id"), district_of):
        return message
    # An analyst's model's warning (model.warning) goes to the station it was raised for, one event
    # per station concerned (service.warning_models), to those who may read warnings.
    warning = data.get("warning") or {}
    if (
        warning
        and principal.may(Permission.WARNING_READ)
        and scope.covers_station(warning.get("station_id"), district_of)
    ):
        return message
    return None


async def _drain_client(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends; returns when it goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
