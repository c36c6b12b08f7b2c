"""Opening a camera's stream with PyAV (FFmpeg), and saying in words why it could not be opened.

One place decides which codecs Jingwu keeps and plays: H.264, which every IP camera and NVR can
send and every browser can play without transcoding. An H.265 main stream is refused with the
advice to send the camera's H.264 (sub-)stream: transcoding it would take a core per camera."""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass
from typing import Any

import av
import av.container

from jingwu.errors import UserError

#: Codecs a worker keeps, relays and cuts clips of, by FFmpeg's name.
SUPPORTED_CODECS: frozenset[str] = frozenset({"h264"})

OPEN_TIMEOUT_S = 8.0
READ_TIMEOUT_S = 5.0


class StreamFault(UserError):
    """The stream cannot be used; ``code`` says why in a word the console can translate."""

    http_status = 422
    code = "stream_unreachable"

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message, code=code, **params)


def ffmpeg_url(url: str) -> str:
    """FFmpeg reads a local file by its path; everything else by the URL itself."""
    return url[len("file://") :] if url.startswith("file://") else url


def open_stream(
    url: str, *, open_timeout_s: float = OPEN_TIMEOUT_S, read_timeout_s: float = READ_TIMEOUT_S
) -> av.container.InputContainer:
    """The stream opened for reading, or a :class:`StreamFault` that names the cause."""
    options = {"rtsp_transport": "tcp"} if url.startswith(("rtsp://", "rtsps://")) else {}
    try:
        return av.open(ffmpeg_url(url), mode="r", options=options, timeout=(open_timeout_s, read_timeout_s))
    except Exception as exc:  # FFmpeg's errors come as many classes; each is put into words here
        raise classify(exc, shown=public_url(url)) from exc


def video_stream(container: av.container.InputContainer, url: str) -> av.VideoStream:
    """The container's first video stream, refused unless its codec is one Jingwu keeps."""
    if not container.streams.video:
        raise StreamFault("no_video", f"{public_url(url)} carries no video stream")
    stream = container.streams.video[0]
    codec = stream.codec_context.name
    if codec not in SUPPORTED_CODECS:
        raise StreamFault(
            "unsupported_codec",
            f"the stream is {codec.upper()}, which Jingwu does not keep or play: set the camera "
            "(or its sub-stream) to H.264",
            codec=codec,
        )
    return stream


def classify(exc: BaseException, *, shown: str) -> StreamFault:
    """An FFmpeg error as a stream fault with a code and a sentence a person can act on."""
    if isinstance(exc, StreamFault):
        return exc
    text = reason_of(exc)
    number = getattr(exc, "errno", None)
    lowered = text.lower()
    if "401" in text or "unauthorized" in lowered or "authorization failed" in lowered:
        return StreamFault("stream_auth_failed", f"{shown} refused the user name or password (401)")
    if "403" in text or "forbidden" in lowered:
        return StreamFault("stream_forbidden", f"{shown} refused access (403)")
    if "404" in text or "not found" in lowered or number == errno.ENOENT:
        return StreamFault("stream_not_found", f"{shown}: no such stream (404 or no such file)")
    if number == errno.ECONNREFUSED or "refused" in lowered:
        return StreamFault("stream_unreachable", f"{shown} refused the connection: is the camera on?")
    if is_timeout(exc) or number in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return StreamFault("stream_unreachable", f"{shown} did not answer in time (unreachable)")
    if isinstance(exc, av.error.InvalidDataError):
        return StreamFault("stream_invalid", f"{shown} sent nothing that decodes as video")
    return StreamFault("stream_unreachable", f"{shown} could not be opened: {text[:160]}")


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")


def reason_of(exc: BaseException) -> str:
    """FFmpeg's words for an error without the URL it names (which may hold the password: the
    words are shown to users, stored and logged); any URL left in them is masked."""
    text = getattr(exc, "strerror", None) if isinstance(exc, av.error.FFmpegError) else None
    return _URL.sub(lambda m: public_url(m.group(0)), str(text or exc))


def is_timeout(exc: BaseException) -> bool:
    """PyAV's time-out interrupts FFmpeg, which then reports an "immediate exit"."""
    return (
        isinstance(exc, av.error.ExitError)
        or getattr(exc, "errno", None) == errno.ETIMEDOUT
        or "timed out" in str(exc).lower()
    )


def public_url(url: str) -> str:
    """The URL as it may be shown and logged: any user name and password replaced."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    host, slash, path = rest.partition("/")
    if "@" in host:
        host = "***@" + host.rpartition("@")[2]
    return f"{scheme}://{host}{slash}{path}"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What a first look at a stream found."""

    codec: str
    width: int
    height: int
    fps: float | None


def probe(url: str, *, timeout_s: float = OPEN_TIMEOUT_S) -> ProbeResult:
    """Open the stream and read until its first video packet: the checks a new camera passes
    before it is registered (reachable, credentials right, codec kept)."""
    container = open_stream(url, open_timeout_s=timeout_s, read_timeout_s=timeout_s)
    try:
        stream = video_stream(container, url)
        try:
            for packet in container.demux(stream):
                if packet.size:
                    break
        except Exception as exc:
            raise classify(exc, shown=public_url(url)) from exc
        rate = stream.average_rate or stream.guessed_rate
        return ProbeResult(
            codec=stream.codec_context.name,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=float(rate) if rate else None,
        )
    finally:
        container.close()


__all__ = [
    "OPEN_TIMEOUT_S",
    "READ_TIMEOUT_S",
    "SUPPORTED_CODECS",
    "ProbeResult",
    "StreamFault",
    "classify",
    "ffmpeg_url",
    "is_timeout",
    "open_stream",
    "probe",
    "public_url",
    "reason_of",
    "video_stream",
]
