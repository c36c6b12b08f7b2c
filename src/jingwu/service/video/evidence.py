"""Evidence clips: cut by the worker that holds the camera, kept in the evidence folder under
their SHA-256, recorded against the incident with a timeline event. A 201 means the file is on
disk (fsynced) and its row committed; a failure on the way leaves neither."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from jingwu.errors import Conflict, SystemFault, UserError, ValidationFailed

CLIP_TIMEOUT_S = 60.0
#: A "to" this far ahead of the server's clock is a desk PC whose clock runs ahead, taken as now;
#: further is a clip of the future, refused.
FUTURE_TOLERANCE_S = 5.0


@dataclass(frozen=True, slots=True)
class ClipInfo:
    id: str
    incident_id: str
    camera_id: str
    from_at: datetime
    to_at: datetime
    duration_s: float
    frames: int
    sha256: str
    size: int
    path: str
    created_at: datetime
    created_by: str | None
    requested_from: datetime | None = None  # as asked, when the buffer began later (or ended sooner)
    requested_to: datetime | None = None


def clip_view(clip: ClipInfo) -> dict[str, Any]:
    return {
        "id": clip.id,
        "incident_id": clip.incident_id,
        "camera_id": clip.camera_id,
        "from": clip.from_at.isoformat(),
        "to": clip.to_at.isoformat(),
        "duration_s": round(clip.duration_s, 3),
        "frames": clip.frames,
        "sha256": clip.sha256,
        "size": clip.size,
        "url": f"/api/clips/{clip.id}",
        "created_at": clip.created_at.isoformat(),
        "created_by": clip.created_by,
        "requested_from": clip.requested_from.isoformat() if clip.requested_from else None,
        "requested_to": clip.requested_to.isoformat() if clip.requested_to else None,
    }


class CameraUnavailable(UserError):
    http_status = 409
    code = "camera_unavailable"


def check_span(start: datetime, end: datetime, now: datetime, buffer_s: float) -> None:
    """A clip's span as asked: refused when it ends in the future, is empty or reversed, is
    longer than the buffer, or starts before the buffer could hold it."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed("from and to need a time zone (ISO-8601 with an offset)", code="clip_bad_time")
    if end <= start:
        raise ValidationFailed("a clip's from must come before its to", code="clip_bad_time")
    if (end - now).total_seconds() > FUTURE_TOLERANCE_S or start >= now:
        raise ValidationFailed(
            f"a clip cannot end in the future (to is {end.isoformat()}, now is {now.isoformat()})",
            code="clip_in_future",
        )
    if (end - start).total_seconds() > buffer_s:
        raise ValidationFailed(
            f"a clip is at most {buffer_s:.0f} s long, the camera's buffer",
            code="clip_too_long",
            max_s=buffer_s,
        )
    if (now - start).total_seconds() > buffer_s:
        raise ValidationFailed(
            f"the buffer keeps the last {buffer_s:.0f} s: that start is gone",
            code="clip_not_buffered",
            max_s=buffer_s,
        )


def fetch_clip(
    relay_url: str, token: str, camera_id: str, start: datetime, end: datetime, folder: Path
) -> tuple[Path, dict[str, str]]:
    """The clip from the worker's relay into a temporary file in ``folder`` (hashed on the way);
    the file and the worker's headers. The worker's refusal comes back as the same error."""
    folder.mkdir(parents=True, exist_ok=True)
    params = {"from_ms": int(start.timestamp() * 1000), "to_ms": int(end.timestamp() * 1000)}
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=".clip-", suffix=".part", delete=False)  # noqa: SIM115 (closed below, kept on success)
    path = Path(handle.name)
    try:
        digest = hashlib.sha256()
        with (
            handle,
            httpx.stream(
                "GET",
                f"{relay_url}/cameras/{camera_id}/clip",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                timeout=CLIP_TIMEOUT_S,
            ) as answer,
        ):
            if answer.status_code != 200:
                answer.read()
                raise _relay_error(answer)
            for block in answer.iter_bytes():
                handle.write(block)
                digest.update(block)
            handle.flush()
            os.fsync(handle.fileno())
            headers = dict(answer.headers)
        if headers.get("x-clip-sha256") != digest.hexdigest():
            raise SystemFault(
                "the clip arrived damaged (its hash does not match the worker's)", code="clip_damaged"
            )
        return path, headers
    except httpx.HTTPError as exc:
        path.unlink(missing_ok=True)
        raise CameraUnavailable(f"the camera's video worker did not answer: {exc}") from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _relay_error(answer: httpx.Response) -> UserError:
    try:
        body = answer.json()
    except ValueError:
        body = {}
    code = body.get("code") or "camera_unavailable"
    message = body.get("message") or f"the video worker answered {answer.status_code}"
    params = body.get("params") or {}
    if answer.status_code == 422:
        return ValidationFailed(message, code=code, **params)  # the span, as the worker judged it
    if answer.status_code == 409:
        return Conflict(message, code=code, **params)
    if answer.status_code == 404:
        # The worker no longer reads the camera (it moved, or the lease is being handed over).
        return CameraUnavailable(message, code="camera_unavailable", **params)
    # A refused relay token or a fault in the worker: the system's, not the caller's.
    raise SystemFault(f"the video worker answered {answer.status_code}: {message}", code="video_worker_fault")


def keep(part: Path, folder: Path, sha256: str) -> tuple[Path, bool]:
    """Move a fetched clip to its place, named by its hash (the same clip twice is one file);
    the path and whether it is new here (so a failed commit removes only what it added)."""
    target = folder / f"{sha256}.mp4"
    try:
        os.link(part, target)  # fails if it is there: the same clip, cut before or meanwhile
    except FileExistsError:
        part.unlink(missing_ok=True)
        return target, False
    part.unlink()
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)  # the rename itself survives a crash
    finally:
        os.close(descriptor)
    return target, True


def ms_to_datetime(ms: str | int) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


__all__ = [
    "CameraUnavailable",
    "ClipInfo",
    "check_span",
    "clip_view",
    "fetch_clip",
    "keep",
    "ms_to_datetime",
]
