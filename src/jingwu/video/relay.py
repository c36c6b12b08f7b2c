"""The worker's door for the API: live pictures, snapshots and clips of the cameras it reads,
over HTTP on the host's relay address, each request carrying the worker's token.

The API never touches a camera or decodes video; it asks the worker that holds the camera's lease
(its address and token are on the lease row). A live picture is a stream of frames — one byte of
kind (``T`` a JSON text, ``B`` binary), four bytes of length, the payload — that the API passes on
to the browser's WebSocket as they are."""

from __future__ import annotations

import hmac
import json
import logging
import queue
import struct
import threading
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jingwu.errors import JingwuError
from jingwu.video.clips import cut_clip
from jingwu.video.live import live_messages
from jingwu.video.reader import CameraReader

log = logging.getLogger(__name__)

FRAME_HEAD = struct.Struct(">cI")
MAX_CLIP_MS = 30 * 60 * 1000
KEEPALIVE_S = 5.0
PING = b'{"type": "ping"}'  # sent when nothing else was for KEEPALIVE_S


def frame(kind: bytes, payload: bytes) -> bytes:
    return FRAME_HEAD.pack(kind, len(payload)) + payload


async def read_frames_async(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[str, bytes]]:
    """The relay's live frames as ("text" | "binary", payload) from a stream of byte chunks, until
    it ends (the API's side)."""
    pending = bytearray()
    async for chunk in chunks:
        pending += chunk
        while len(pending) >= FRAME_HEAD.size:
            kind, length = FRAME_HEAD.unpack_from(pending)
            if len(pending) < FRAME_HEAD.size + length:
                break
            payload = bytes(pending[FRAME_HEAD.size : FRAME_HEAD.size + length])
            del pending[: FRAME_HEAD.size + length]
            yield ("text" if kind == b"T" else "binary"), payload


class Relay:
    """An HTTP server on a thread of the worker process, serving the readers it is handed."""

    def __init__(
        self,
        host: str,
        token: str,
        readers: Callable[[], dict[str, CameraReader]],
        clips_dir: Path,
    ) -> None:
        self.token = token
        self.readers = readers
        self.clips_dir = clips_dir
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("relay: " + format, *args)

            def do_GET(self) -> None:
                relay.handle(self)

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ requests

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            self._json(
                request, HTTPStatus.UNAUTHORIZED, {"code": "relay_token", "message": "bad relay token"}
            )
            return
        parts = urlsplit(request.path)
        path = parts.path.strip("/").split("/")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if len(path) != 3 or path[0] != "cameras":
            self._json(request, HTTPStatus.NOT_FOUND, {"code": "not_found", "message": "no such path"})
            return
        reader = self.readers().get(path[1])
        if reader is None:
            self._json(
                request,
                HTTPStatus.NOT_FOUND,
                {"code": "camera_not_read", "message": f"this worker does not read camera {path[1]}"},
            )
            return
        try:
            if path[2] == "live":
                self._live(request, reader)
            elif path[2] == "snapshot":
                self._snapshot(request, reader)
            elif path[2] == "clip":
                self._clip(request, reader, query)
            else:
                self._json(request, HTTPStatus.NOT_FOUND, {"code": "not_found", "message": "no such path"})
        except JingwuError as exc:
            self._json(request, HTTPStatus(exc.http_status), exc.to_dict())
        except (BrokenPipeError, ConnectionResetError):
            pass  # the API went away mid-answer (a viewer closed its tile)
        except Exception:
            log.exception("relay: %s failed", request.path.split("?")[0])
            self._json(
                request,
                HTTPStatus.INTERNAL_SERVER_ERROR,
                {"code": "relay_failed", "message": "the video worker failed to answer", "params": {}},
            )

    def _json(self, request: BaseHTTPRequestHandler, status: HTTPStatus, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _snapshot(self, request: BaseHTTPRequestHandler, reader: CameraReader) -> None:
        taken = reader.snapshot_jpeg()
        if taken is None:
            self._json(
                request,
                HTTPStatus.CONFLICT,
                {"code": "no_picture", "message": "the camera has sent no picture yet", "params": {}},
            )
            return
        data, at_ms = taken
        request.send_response(HTTPStatus.OK)
        request.send_header("Content-Type", "image/jpeg")
        request.send_header("Content-Length", str(len(data)))
        request.send_header("X-Taken-Ms", str(at_ms))
        request.end_headers()
        request.wfile.write(data)

    def _clip(self, request: BaseHTTPRequestHandler, reader: CameraReader, query: dict[str, str]) -> None:
        try:
            from_ms, to_ms = int(query["from_ms"]), int(query["to_ms"])
        except (KeyError, ValueError):
            self._json(
                request,
                HTTPStatus.UNPROCESSABLE_ENTITY,
                {"code": "validation_failed", "message": "from_ms and to_ms are needed", "params": {}},
            )
            return
        if not 0 < to_ms - from_ms <= MAX_CLIP_MS:
            self._json(
                request,
                HTTPStatus.UNPROCESSABLE_ENTITY,
                {"code": "clip_too_long", "message": "a clip is 0 to 30 minutes long", "params": {}},
            )
            return
        out = self.clips_dir / f"{reader.camera_id}-{from_ms}-{to_ms}-{threading.get_ident()}.mp4"
        clip = cut_clip(reader.writer.folder, from_ms, to_ms, out)
        try:
            request.send_response(HTTPStatus.OK)
            request.send_header("Content-Type", "video/mp4")
            request.send_header("Content-Length", str(clip.size))
            request.send_header("X-Clip-From-Ms", str(clip.from_ms))
            request.send_header("X-Clip-To-Ms", str(clip.to_ms))
            request.send_header("X-Clip-Frames", str(clip.frames))
            request.send_header("X-Clip-Sha256", clip.sha256)
            request.end_headers()
            with clip.path.open("rb") as handle:
                while block := handle.read(1 << 16):
                    request.wfile.write(block)
        finally:
            clip.path.unlink(missing_ok=True)

    def _live(self, request: BaseHTTPRequestHandler, reader: CameraReader) -> None:
        outbox: queue.Queue[bytes | None] = queue.Queue(maxsize=500)
        request.send_response(HTTPStatus.OK)
        request.send_header("Content-Type", "application/octet-stream")
        request.send_header("Cache-Control", "no-store")
        request.send_header("Connection", "close")
        request.end_headers()
        request.close_connection = True
        with live_messages(reader, outbox) as stop:
            try:
                while True:
                    try:
                        item = outbox.get(timeout=KEEPALIVE_S)
                    except queue.Empty:
                        if self.readers().get(reader.camera_id) is not reader:
                            return  # the camera is no longer read here: the API asks again
                        item = frame(b"T", PING)  # a write finds out whether the API is still there
                    if item is None:
                        return
                    request.wfile.write(item)
                    request.wfile.flush()
            finally:
                stop()


__all__ = ["FRAME_HEAD", "KEEPALIVE_S", "PING", "Relay", "frame", "read_frames_async"]
