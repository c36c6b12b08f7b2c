"""The server's WebSocket protocol (api.websocket): uvicorn's, deflating at the fastest level."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.sync.client import connect

from jingwu.api.factory import WEBSOCKETS
from jingwu.api.websocket import DEFLATE_LEVEL, LiveWebSocketProtocol

BATCH = {
    "type": "unit.positions",
    "positions": [{"unit_id": f"u{i:05d}", "lat": 45.7 + i * 1e-5} for i in range(500)],
}


async def _positions(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(json.dumps(BATCH))
    await websocket.close()


def test_every_server_process_compresses_the_live_stream_at_the_fastest_level() -> None:
    assert WEBSOCKETS is LiveWebSocketProtocol
    config = Config(Starlette(), ws=LiveWebSocketProtocol)
    config.load()
    loop = asyncio.new_event_loop()
    try:
        protocol = LiveWebSocketProtocol(config, ServerState(), {}, _loop=loop)
    finally:
        loop.close()
    (factory,) = protocol.conn.available_extensions  # type: ignore[attr-defined]
    assert factory.compress_settings == {"memLevel": 5, "level": DEFLATE_LEVEL} and DEFLATE_LEVEL == 1


def test_a_client_offering_deflate_gets_the_stream_compressed_and_whole() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = Starlette(routes=[WebSocketRoute("/ws", _positions)])
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", ws=WEBSOCKETS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        with connect(f"ws://127.0.0.1:{port}/ws") as ws:  # offers permessage-deflate
            assert "permessage-deflate" in (ws.response.headers.get("Sec-WebSocket-Extensions") or "")
            assert json.loads(ws.recv(timeout=10)) == BATCH
    finally:
        server.should_exit = True
        thread.join(timeout=10)
