"""The server side of WebSocket connections: uvicorn's sans-I/O protocol, compressing at deflate's
fastest level.

Every live viewer's connection compresses every message on its own (permessage-deflate keeps a
window per connection), so a city's position batches are deflated once per console. uvicorn
compresses at zlib's default level (6): 1.6 µs of CPU per position per viewer on our 2-core VM,
for a stream of 70 kB batches deflated to 4.7 kB; level 1 takes 0.26 µs for 5.6 kB. The window
and memory settings stay uvicorn's.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.server import ServerProtocol

#: zlib's level for the live stream: the fastest; positions compress about 13 to 1 even so.
DEFLATE_LEVEL = 1


class LiveWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        if config.ws_per_message_deflate:
            # The connection's protocol state as uvicorn makes it (nothing has happened on it
            # yet), but for the compression level.
            self.conn = ServerProtocol(
                extensions=[
                    ServerPerMessageDeflateFactory(
                        server_max_window_bits=12,
                        client_max_window_bits=12,
                        compress_settings={"memLevel": 5, "level": DEFLATE_LEVEL},
                    )
                ],
                max_size=config.ws_max_size,
                logger=logging.getLogger("uvicorn.error"),
            )


__all__ = ["DEFLATE_LEVEL", "LiveWebSocketProtocol"]
