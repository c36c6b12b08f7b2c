"""Photos on an incident: upload as the raw body, list, download; refusals change nothing."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jingwu.api.factory import create_app
from jingwu.composition import Services
from jingwu.service.auth import Role
from tests.api.conftest import create, login
from tests.conftest import add_user

# Only the leading bytes are checked; the rest of a real photo would follow.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x01" * 500


def upload(
    client: TestClient, incident_id: str, headers: dict[str, str], data: bytes, content_type: str
) -> Any:
    return client.post(
        f"/api/incidents/{incident_id}/attachments",
        content=data,
        headers=headers | {"Content-Type": content_type},
    )


def dispatched_incident(client: TestClient, dispatcher: dict[str, str], unit_id: str = "u0") -> str:
    incident = create(client, dispatcher).json()
    client.post(f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": [unit_id]}, headers=dispatcher)
    return str(incident["id"])


def test_officer_uploads_a_photo_that_is_listed_streamed_and_downloadable(client: TestClient) -> None:
    dispatcher = login(client, "dispatcher")
    incident_id = dispatched_incident(client, dispatcher)
    officer = login(client, "u0")
    token = dispatcher["Authorization"].split()[1]
    with client.websocket_connect(f"/api/events?access_token={token}") as ws:
        ws.receive_json()  # hello
        answer = upload(client, incident_id, officer, JPEG, "image/jpeg")
        assert answer.status_code == 201, answer.text
        meta = answer.json()
        while (event := ws.receive_json())["type"] != "incident.attachment_added":
            pass
    assert set(meta) == {"id", "incident_id", "content_type", "size", "sha256", "created_at", "created_by"}
    assert meta["incident_id"] == incident_id and meta["content_type"] == "image/jpeg"
    assert meta["size"] == len(JPEG) and meta["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert meta["created_by"] == "u0"
    assert event["incident_id"] == incident_id and event["data"]["attachment"] == meta
    assert isinstance(event["id"], int)

    listed = client.get(f"/api/incidents/{incident_id}/attachments", headers=dispatcher)
    assert listed.json() == [meta]
    photo = client.get(f"/api/attachments/{meta['id']}", headers=dispatcher)
    assert photo.status_code == 200 and photo.content == JPEG
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["cache-control"] == "private"
    assert "content-encoding" not in photo.headers  # images are not gzipped again
    timeline = client.get(f"/api/incidents/{incident_id}/timeline", headers=dispatcher).json()
    assert "incident.attachment_added" in [e["type"] for e in timeline]


def test_dispatcher_may_attach_to_any_incident_and_png_is_accepted(client: TestClient) -> None:
    dispatcher = login(client, "dispatcher")
    incident = create(client, dispatcher).json()
    answer = upload(client, incident["id"], dispatcher, PNG, "image/png")
    assert answer.status_code == 201 and answer.json()["content_type"] == "image/png"


BAD_UPLOADS = [
    (JPEG, "image/gif", 415, "unsupported_media_type"),
    (JPEG, "application/octet-stream", 415, "unsupported_media_type"),
    (PNG, "image/jpeg", 415, "unsupported_media_type"),  # the bytes say otherwise
    (b"<html>not an image</html>", "image/png", 415, "unsupported_media_type"),
    (b"", "image/jpeg", 422, "empty_upload"),
]


def test_bad_upload_is_refused_and_stores_nothing(client: TestClient) -> None:
    dispatcher = login(client, "dispatcher")
    incident = create(client, dispatcher).json()
    for data, content_type, status, code in BAD_UPLOADS:
        answer = upload(client, incident["id"], dispatcher, data, content_type)
        assert answer.status_code == status, (content_type, data[:8], answer.text)
        assert answer.json()["error"]["code"] == code
    assert client.get(f"/api/incidents/{incident['id']}/attachments", headers=dispatcher).json() == []


def test_officer_may_attach_only_to_their_own_incident(client: TestClient) -> None:
    dispatcher = login(client, "dispatcher")
    incident_id = dispatched_incident(client, dispatcher, unit_id="u1")
    refused = upload(client, incident_id, login(client, "u0"), JPEG, "image/jpeg")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_own_incident"
    assert client.get(f"/api/incidents/{incident_id}/attachments", headers=dispatcher).json() == []


def test_officer_sees_only_the_photos_of_their_own_incident(client: TestClient, services: Services) -> None:
    add_user(services, "u1", Role.OFFICER, unit_id="u1")
    dispatcher = login(client, "dispatcher")
    incident_id = dispatched_incident(client, dispatcher, unit_id="u0")
    own = login(client, "u0")
    meta = upload(client, incident_id, own, JPEG, "image/jpeg").json()
    other = login(client, "u1")
    for path in (f"/api/incidents/{incident_id}/attachments", f"/api/attachments/{meta['id']}"):
        refused = client.get(path, headers=other)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "not_own_incident"
    assert client.get(f"/api/incidents/{incident_id}/attachments", headers=own).json() == [meta]
    assert client.get(f"/api/attachments/{meta['id']}", headers=own).content == JPEG


def test_unknown_incident_and_attachment_are_404(client: TestClient) -> None:
    dispatcher = login(client, "dispatcher")
    missing = upload(client, "J19990101-XXXXXX", dispatcher, JPEG, "image/jpeg")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "incident_not_found"
    gone = client.get("/api/attachments/att_nothing", headers=dispatcher)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "attachment_not_found"


def test_upload_over_the_limit_is_refused_by_its_declared_length(
    client: TestClient, services: Services
) -> None:
    services.settings = services.settings.model_copy(update={"max_upload_bytes": 1000})
    dispatcher = login(client, "dispatcher")
    incident = create(client, dispatcher).json()
    answer = upload(client, incident["id"], dispatcher, JPEG, "image/jpeg")  # 1,035 bytes
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "upload_too_large"
    assert answer.json()["error"]["params"] == {"limit_bytes": 1000}
    assert upload(client, incident["id"], dispatcher, JPEG[:1000], "image/jpeg").status_code == 201


class _Upload:
    """Drives the ASGI app directly with a body sent in chunks, counting what the app reads."""

    def __init__(self, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> None:
        self.chunks = chunks
        self.headers = headers
        self.read = 0
        self.status = 0
        self.body = b""

    async def run(self, app: Any, path: str) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": self.headers,
            "client": ("127.0.0.1", 1),
            "server": ("testserver", 80),
        }

        async def receive() -> dict[str, Any]:
            if self.read < len(self.chunks):
                self.read += 1
                return {"type": "http.request", "body": self.chunks[self.read - 1], "more_body": True}
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif message["type"] == "http.response.body":
                self.body += message.get("body", b"")

        await app(scope, receive, send)


@pytest.mark.parametrize("idempotency_key", [None, "photo-1"])
def test_upload_without_a_length_stops_reading_once_past_the_limit(
    client: TestClient, services: Services, idempotency_key: str | None
) -> None:
    services.settings = services.settings.model_copy(update={"max_upload_bytes": 1000})
    dispatcher = login(client, "dispatcher")
    incident = create(client, dispatcher).json()
    headers = [
        (b"authorization", dispatcher["Authorization"].encode()),
        (b"content-type", b"image/jpeg"),
    ]
    if idempotency_key:
        headers.append((b"idempotency-key", idempotency_key.encode()))
    sender = _Upload([JPEG[:300]] * 100, headers)  # 30 kB offered, 300 bytes at a time
    asyncio.run(sender.run(create_app(services), f"/api/incidents/{incident['id']}/attachments"))
    assert sender.status == 413 and b"upload_too_large" in sender.body
    assert sender.read == 4  # 1,200 bytes: the first chunk past the limit, and no more
    assert client.get(f"/api/incidents/{incident['id']}/attachments", headers=dispatcher).json() == []


def test_upload_declared_too_large_is_refused_before_reading_the_body(
    client: TestClient, services: Services
) -> None:
    services.settings = services.settings.model_copy(update={"max_upload_bytes": 1000})
    dispatcher = login(client, "dispatcher")
    incident = create(client, dispatcher).json()
    headers = [
        (b"authorization", dispatcher["Authorization"].encode()),
        (b"content-type", b"image/jpeg"),
        (b"content-length", b"30000"),
    ]
    sender = _Upload([JPEG[:300]] * 100, headers)
    asyncio.run(sender.run(create_app(services), f"/api/incidents/{incident['id']}/attachments"))
    assert sender.status == 413 and sender.read == 0
