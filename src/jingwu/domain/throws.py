"""Thrown objects (高空抛物) as the command room takes them: what a detection is, how it is worded
on the incident, and when a second one from the same camera is a note rather than a new call.
Pure: the clock's time and the incident's state are handed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

THROW_TYPE_CODE = "order.thrown_object"
THROW_PRIORITY = 2
#: A throw this soon after one from the same window, while that incident is open, is the same
#: thrower at work: a note on it, not a second call for the same patrol.
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
    previous_landed_at: datetime | None,
    detected_at: datetime,
    *,
    incident_open: bool,
    previous_window: tuple[int | None, int | None] = (None, None),
    window: tuple[int | None, int | None] = (None, None),
) -> bool:
    """Whether a throw first seen at ``detected_at`` from ``window`` (floor, column) belongs on
    the incident of a previous throw of the same camera, which landed at ``previous_landed_at``
    from ``previous_window``: soon after, while that incident is open, and from the same window
    (a floor either way: the floor's uncertainty). Another window of the tower is another thrower,
    another call; a window not placed is taken for the same."""
    if previous_landed_at is None or not incident_open:
        return False
    if detected_at - previous_landed_at > REPEAT_WINDOW:
        return False
    (floor, column), (before_floor, before_column) = window, previous_window
    if floor is not None and before_floor is not None and abs(floor - before_floor) > 1:
        return False
    return column is None or before_column is None or column == before_column


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
