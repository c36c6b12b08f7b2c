"""Thrown objects (高空抛物) as the command room takes them: what a detection is, how it is worded
on the incident, and when a second one from the same camera is a note rather than a new call.
Pure: the clock's time and the incident's state are handed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

THROW_TYPE_CODE = "order.thrown_object"
THROW_PRIORITY = 2
#: A throw this soon after the camera's last one, while that incident is open, is the same
#: window at work: a note on it, not a second call for the same patrol.
REPEAT_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class ThrowDetection:
    """One throw a camera's worker detected, as kept: the wall times of the first frame it was
    seen in and of its landing, where it came from, and its track in the picture."""

    id: str
    incident_id: str
    camera_id: str
    detected_at: datetime
    landed_at: datetime
    floor: int | None
    column: int | None
    floor_uncertainty: float
    confidence: float
    track: tuple[tuple[int, float, float], ...]
    snapshot_attachment_id: str | None
    clip_id: str | None
    created_at: datetime


def is_repeat_throw(
    previous_landed_at: datetime | None, detected_at: datetime, *, incident_open: bool
) -> bool:
    """Whether a throw first seen at ``detected_at`` belongs on the incident of the camera's
    previous throw (which landed at ``previous_landed_at``)."""
    if previous_landed_at is None or not incident_open:
        return False
    return detected_at - previous_landed_at <= REPEAT_WINDOW


def _where(floor: int | None, column: int | None) -> tuple[str, str]:
    zh_floor = f"{floor}层" if floor is not None else "楼层不明"
    en_floor = f"floor {floor}" if floor is not None else "floor unknown"
    zh_column = f" 第{column}列窗" if column is not None else ""
    en_column = f", window column {column}" if column is not None else ""
    return zh_floor + zh_column, en_floor + en_column


def throw_description(camera_name: str, floor: int | None, column: int | None, confidence: float) -> str:
    """The incident's description, Chinese first: where it came from and how sure the detector is."""
    zh, en = _where(floor, column)
    return (
        f"高空抛物：{zh}（置信度 {confidence:.2f}）/ thrown object from {en} "
        f"(confidence {confidence:.2f}; camera {camera_name})"
    )


def throw_note(floor: int | None, column: int | None, confidence: float) -> str:
    """The note a repeat throw leaves on the open incident."""
    zh, en = _where(floor, column)
    return (
        f"再次高空抛物：{zh}（置信度 {confidence:.2f}）/ "
        f"another thrown object from {en} (confidence {confidence:.2f})"
    )


__all__ = [
    "REPEAT_WINDOW",
    "THROW_PRIORITY",
    "THROW_TYPE_CODE",
    "ThrowDetection",
    "is_repeat_throw",
    "throw_description",
    "throw_note",
]
