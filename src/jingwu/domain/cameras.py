"""Cameras (capability 6, 视频资源共享): the registry's records and rules, pure (no I/O).

A camera is fixed (it stands somewhere and looks one way), a body camera (it goes where its unit
goes) or a drone's (the drone is a unit; its video is its camera). Every camera has a stream
URL; credentials are taken out of the URL here so that they are stored sealed and never shown.
Reading the stream, its health and its video are the video workers' (:mod:`jingwu.video`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from jingwu.domain.geo import GeoPoint
from jingwu.errors import ValidationFailed


class CameraKind(StrEnum):
    FIXED = "fixed"  # 固定摄像机: a position, a height, a heading and a field of view
    BODY = "body"  # 执法记录仪: bound to a unit, its position is the unit's
    DRONE = "drone"  # 无人机: bound to a unit of kind drone


class CameraOwner(StrEnum):
    POLICE = "police"  # 公安自建
    PROPERTY = "property"  # 物业 / 社会面: a community's property company shares it


class CameraState(StrEnum):
    """What the console shows for a camera; only ``online`` has a usable picture."""

    UNKNOWN = "unknown"  # registered, no worker has read it yet
    ONLINE = "online"
    OFFLINE = "offline"  # cannot be reached (refused, timed out, wrong password, stream gone)
    NO_SIGNAL = "no_signal"  # connected, but no frames arrive
    FROZEN = "frozen"  # frames arrive, the picture does not change
    BLACK = "black"  # frames arrive, the picture is black (covered lens, dead sensor)
    UNSUPPORTED = "unsupported"  # the stream's codec cannot be kept or played (H.265 and others)


#: States in which a camera has no usable picture: listed as offline on the console.
FAULT_STATES: frozenset[CameraState] = frozenset(
    {
        CameraState.OFFLINE,
        CameraState.NO_SIGNAL,
        CameraState.FROZEN,
        CameraState.BLACK,
        CameraState.UNSUPPORTED,
    }
)

#: Stream URL schemes a worker can read: RTSP (most IP cameras and NVRs), HLS or an H.264 stream
#: over HTTP(S), and a file (tests, and recorded footage replayed as a camera). The codec must be
#: H.264 whatever the scheme (jingwu.video.source).
STREAM_SCHEMES: frozenset[str] = frozenset({"rtsp", "rtsps", "http", "https", "file"})

#: A password in a URL's path or query, as some cameras take it (Dahua ``?password=``, Xiongmai
#: ``/user=admin&password=``).
_SECRET_IN_URL = re.compile(r"(?i)(?:^|[/?&;])(?:password|passwd|pwd|pass)=")

MAX_RANGE_M = 2_000.0  # beyond this no street camera identifies anything
MAX_HEIGHT_M = 300.0


@dataclass(frozen=True, slots=True)
class CameraView:
    """Where a fixed camera looks: heading clockwise from north, horizontal field of view, the
    range within which it shows something useful, its mounting height and its tilt (negative:
    looking down)."""

    heading_deg: float
    fov_deg: float
    range_m: float
    height_m: float = 6.0
    tilt_deg: float = -15.0

    def __post_init__(self) -> None:
        problems = view_problems(self)
        if problems:
            raise ValidationFailed("; ".join(problems), fields=sorted(problems))


def view_problems(view: CameraView) -> dict[str, str]:
    problems: dict[str, str] = {}
    checks = (
        ("heading_deg", view.heading_deg, 0.0, 360.0, "between 0 and 360 (clockwise from north)"),
        ("fov_deg", view.fov_deg, 1.0, 360.0, "between 1 and 360 degrees"),
        ("range_m", view.range_m, 1.0, MAX_RANGE_M, f"between 1 and {MAX_RANGE_M:.0f} m"),
        ("height_m", view.height_m, 0.0, MAX_HEIGHT_M, f"between 0 and {MAX_HEIGHT_M:.0f} m"),
        ("tilt_deg", view.tilt_deg, -90.0, 90.0, "between -90 and 90 degrees"),
    )
    for name, value, low, high, wording in checks:
        if not math.isfinite(value) or not low <= value <= high:
            problems[name] = f"{name} must be {wording}, not {value}"
    return problems


@dataclass(frozen=True, slots=True)
class Camera:
    """A registered camera. ``stream_url`` never holds credentials (``has_credentials`` says
    whether sealed ones are kept); ``position`` is None for body cameras and drones, whose
    position is their unit's. ``throw_calibration``: the facade a fixed camera watches for thrown
    objects, as checked JSON (vision.throws.calibration), or None."""

    id: str
    name: str
    kind: CameraKind
    stream_url: str
    station_id: str | None
    owner: CameraOwner
    position: GeoPoint | None = None
    view: CameraView | None = None
    unit_id: str | None = None
    community: str | None = None
    has_credentials: bool = False
    enabled: bool = True
    created_at: datetime | None = None
    state: CameraState = CameraState.UNKNOWN
    state_since: datetime | None = None
    state_detail: str | None = None
    throw_calibration: Mapping[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class StreamCredentials:
    username: str
    password: str


def split_stream_url(url: str) -> tuple[str, StreamCredentials | None]:
    """``rtsp://admin:pw@10.0.0.5/ch1`` → (``rtsp://10.0.0.5/ch1``, credentials): what is kept in
    the clear and what is sealed. Refuses what no worker can read."""
    text = url.strip()
    if not text or any(c in text for c in "\r\n\t "):
        raise ValidationFailed("stream_url must be a URL without spaces", fields=["stream_url"])
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in STREAM_SCHEMES:
        accepted = ", ".join(sorted(STREAM_SCHEMES))
        raise ValidationFailed(
            f"stream_url scheme {parts.scheme or '(none)'!r} is not one of {accepted}",
            fields=["stream_url"],
        )
    if scheme == "file":
        if not parts.path:
            raise ValidationFailed("a file:// stream_url needs a path", fields=["stream_url"])
        return urlunsplit(("file", "", parts.path, "", "")), None
    if not parts.hostname:
        raise ValidationFailed("stream_url has no host", fields=["stream_url"])
    if _SECRET_IN_URL.search(f"{parts.path}?{parts.query}"):
        # Kept in the clear and shown, a password there would leak: the URL's user part is sealed.
        raise ValidationFailed(
            "stream_url carries a password in its path or query: give it as "
            "rtsp://USER:PASSWORD@host/… (it is sealed and never shown)",
            code="password_in_url_path",
            fields=["stream_url"],
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ValidationFailed(f"stream_url has a bad port: {exc}", fields=["stream_url"]) from exc
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host if port is None else f"{host}:{port}"
    bare = urlunsplit((scheme, netloc, parts.path, parts.query, ""))
    if parts.username is None and parts.password is None:
        return bare, None
    return bare, StreamCredentials(unquote(parts.username or ""), unquote(parts.password or ""))


def stream_url_with(url: str, credentials: StreamCredentials | None) -> str:
    """The URL a worker opens: the bare URL with the credentials put back in."""
    if credentials is None:
        return url
    parts = urlsplit(url)
    user = quote(credentials.username, safe="")
    secret = quote(credentials.password, safe="")
    netloc = f"{user}:{secret}@{parts.netloc}" if secret else f"{user}@{parts.netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


@dataclass(frozen=True, slots=True)
class CameraSpec:
    """A camera as registered (by the admin page, the API, `jingwu camera-add` or a bulk import),
    checked by :func:`check_spec` before anything is stored."""

    name: str
    kind: CameraKind
    stream_url: str
    owner: CameraOwner = CameraOwner.POLICE
    position: GeoPoint | None = None
    view: CameraView | None = None
    unit_id: str | None = None
    community: str | None = None
    station_id: str | None = None


def check_spec(spec: CameraSpec) -> None:
    """Each kind's own rules: a fixed camera has a place and a view and no unit; a body camera
    or a drone has a unit and no place of its own."""
    problems: dict[str, str] = {}
    name = spec.name.strip()
    if not name or len(name) > 120:
        problems["name"] = "name must be 1 to 120 characters"
    if spec.community is not None and len(spec.community.strip()) > 120:
        problems["community"] = "community must be at most 120 characters"
    if spec.station_id is not None and len(spec.station_id) > 64:
        problems["station_id"] = "station_id must be at most 64 characters"
    if spec.kind is CameraKind.FIXED:
        if spec.position is None:
            problems["position"] = "a fixed camera needs its position (lat, lon)"
        if spec.view is None:
            problems["view"] = "a fixed camera needs its view (heading, field of view, range)"
        if spec.unit_id is not None:
            problems["unit_id"] = "a fixed camera is not bound to a unit"
    else:
        if not spec.unit_id:
            problems["unit_id"] = f"a {spec.kind.value} camera is bound to a unit: unit_id is required"
        if spec.position is not None:
            problems["position"] = f"a {spec.kind.value} camera's position is its unit's: leave it out"
    if problems:
        raise ValidationFailed("; ".join(problems.values()), fields=sorted(problems))


E = TypeVar("E", bound=StrEnum)


def parse_enum(kind: type[E], value: object, field: str) -> E:
    """An enum value from outside, refused with the accepted values named."""
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        accepted = ", ".join(m.value for m in kind)
        raise ValidationFailed(f"{field} {value!r} is not one of: {accepted}", fields=[field]) from None


#: The words the console shows for each state, Chinese first.
STATE_LABELS: Mapping[CameraState, str] = {
    CameraState.UNKNOWN: "未知",
    CameraState.ONLINE: "在线",
    CameraState.OFFLINE: "离线",
    CameraState.NO_SIGNAL: "无信号",
    CameraState.FROZEN: "画面冻结",
    CameraState.BLACK: "黑屏",
    CameraState.UNSUPPORTED: "编码不支持",
}

__all__ = [
    "FAULT_STATES",
    "MAX_HEIGHT_M",
    "MAX_RANGE_M",
    "STATE_LABELS",
    "STREAM_SCHEMES",
    "Camera",
    "CameraKind",
    "CameraOwner",
    "CameraSpec",
    "CameraState",
    "CameraView",
    "StreamCredentials",
    "check_spec",
    "parse_enum",
    "split_stream_url",
    "stream_url_with",
    "view_problems",
]
