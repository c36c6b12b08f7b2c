"""The live event stream (WebSocket), with resume from the last event id a client saw.

Protocol: connect to ``/api/events?access_token=T[&after=ID]``. The server first sends
``{"type": "hello", "last_event_id": N}``; with ``after`` it then replays every logged event with a
larger id, in order, and goes on live. Durable events carry an ``id``; position batches carry
``"id": null`` and are not replayed (a client reloads ``/api/units`` for current positions).
A client that falls too far behind is disconnected (close code 1013) and resumes with ``after``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from jingwu.bus import BusMessage
from jingwu.errors import JingwuError
from jingwu.services import Services

log = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

SEND_QUEUE_LIMIT = 20_000


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
        principal = await run_in_threadpool(services.auth.authenticate, access_token)
    except JingwuError as exc:
        await websocket.close(code=4401, reason=exc.message[:120])
        return
    after: int | None = None
    if after_text is not None:
        if not after_text.isdigit():
            await websocket.close(code=4422, reason="after must be an event id (a whole number ≥ 0)")
            return
        after = int(after_text)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[BusMessage | None] = asyncio.Queue()

    def on_message(message: BusMessage) -> None:
        loop.call_soon_threadsafe(_enqueue, message)

    def _enqueue(message: BusMessage) -> None:
        if queue.qsize() >= SEND_QUEUE_LIMIT:
            queue.put_nowait(None)  # overflow: drop the client; it resumes from its last id
        else:
            queue.put_nowait(message)

    # Subscribe before reading the log, so nothing committed in between is missed; the copies
    # that arrive both ways are dropped by id.
    unsubscribe = services.bus.subscribe(on_message)
    try:
        last_id = await run_in_threadpool(services.dispatch.last_event_id)
        await websocket.send_json({"type": "hello", "last_event_id": last_id, "user": principal.username})
        replayed: set[int] = set()
        if after is not None:
            cursor = after
            while True:
                batch = await run_in_threadpool(
                    services.dispatch.events_after, cursor, services.settings.event_replay_limit
                )
                for message in batch:
                    await websocket.send_json(message.payload)
                    replayed.add(message.id or 0)
                if len(batch) < services.settings.event_replay_limit:
                    break
                cursor = batch[-1].id or cursor
        else:
            replayed = set()
            after = last_id
        receiver = asyncio.create_task(_drain_client(websocket))
        try:
            while True:
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
                if receiver in done:
                    getter.cancel()
                    return
                next_message = getter.result()
                if next_message is None:
                    await websocket.close(code=1013, reason="too far behind; resume with ?after=")
                    return
                if next_message.id is not None and (
                    next_message.id in replayed or next_message.id <= (after or 0)
                ):
                    continue
                await websocket.send_json(next_message.payload)
        finally:
            receiver.cancel()
    except WebSocketDisconnect:
        pass
    finally:
        unsubscribe()
        with contextlib.suppress(Exception):
            await websocket.close()


async def _drain_client(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends; returns when it goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
