"""A throw drawn on the camera's picture for the incident's snapshot: the whole track in a strong
colour, a circle where it started with "F12 · C3" beside it, and the facade's floor lines faint, so
that whoever opens the incident sees at a glance which window it came from. Pure: an RGB picture
in, a new RGB picture out."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from jingwu.vision.throws.calibration import FacadeGeometry

#: RGB. A saturated orange-red over a dark outline shows on a pale wall and a dark one alike.
TRACK_COLOUR = (255, 64, 0)
OUTLINE_COLOUR = (0, 0, 0)
LABEL_COLOUR = (255, 255, 255)
FACADE_COLOUR = (120, 220, 255)
FACADE_ALPHA = 0.35
FONT = cv2.FONT_HERSHEY_SIMPLEX


def throw_label(floor: int | None, column: int | None) -> tuple[str, str]:
    """The two halves of "F12 · C3" (a question mark where the detector could not tell)."""
    return f"F{floor if floor is not None else '?'}", f"C{column if column is not None else '?'}"


def render_throw(
    picture: np.ndarray,
    track: Sequence[tuple[int, float, float]],
    launch_px: tuple[float, float],
    floor: int | None,
    column: int | None,
    geometry: FacadeGeometry | None = None,
) -> np.ndarray:
    """``picture`` (height × width × 3, uint8 RGB) with the throw drawn on it; the input is left
    as it was. ``track`` holds (frame, u, v) points in the picture's pixels."""
    if picture.ndim != 3 or picture.shape[2] != 3 or picture.dtype != np.uint8:
        raise ValueError(f"an RGB picture (h, w, 3) of uint8 is needed, not {picture.shape} {picture.dtype}")
    height, width = picture.shape[:2]
    scale = max(height / 1080, 0.25)
    thick = max(2, round(4 * scale))
    out = np.ascontiguousarray(picture.copy())
    if geometry is not None:
        out = _facade(out, geometry)
    points = np.array([(u, v) for _f, u, v in track], dtype=np.float64).reshape(-1, 2)
    if len(points):
        fixed = _px(points, width, height).reshape(-1, 1, 2)
        cv2.polylines(out, [fixed], False, OUTLINE_COLOUR, thick + 2 * max(1, thick // 2), cv2.LINE_AA)
        cv2.polylines(out, [fixed], False, TRACK_COLOUR, thick, cv2.LINE_AA)
    centre = tuple(int(c) for c in _px(np.array([launch_px], dtype=np.float64), width, height)[0])
    radius = max(6, round(18 * scale))
    cv2.circle(out, centre, radius, OUTLINE_COLOUR, thick + 2, cv2.LINE_AA)
    cv2.circle(out, centre, radius, TRACK_COLOUR, thick, cv2.LINE_AA)
    _label(out, centre, radius, throw_label(floor, column), scale)
    return out


def _px(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixels as int32, clipped well outside the picture (OpenCV clips lines itself, but not
    coordinates beyond its int range)."""
    limit = 4 * max(width, height)
    return np.clip(np.round(points), -limit, limit).astype(np.int32)


def _facade(out: np.ndarray, geometry: FacadeGeometry) -> np.ndarray:
    """The floor lines and the wall's two ends, blended in faintly."""
    height, width = out.shape[:2]
    cal = geometry.calibration
    overlay = out.copy()
    thin = max(1, round(height / 720))
    lines = [((0.0, k * cal.floor_height_m), (1.0, k * cal.floor_height_m)) for k in range(cal.floors + 1)]
    lines += [((s, 0.0), (s, cal.height_m)) for s in (0.0, 1.0)]
    for (s0, y0), (s1, y1) in lines:
        ends = np.array([geometry.to_image(s0, y0), geometry.to_image(s1, y1)], dtype=np.float64)
        if not np.all(np.isfinite(ends)):
            continue
        a, b = (tuple(int(c) for c in p) for p in _px(ends, width, height))
        cv2.line(overlay, a, b, FACADE_COLOUR, thin, cv2.LINE_AA)
    return cv2.addWeighted(overlay, FACADE_ALPHA, out, 1 - FACADE_ALPHA, 0)


def _label(
    out: np.ndarray, centre: tuple[int, ...], radius: int, parts: tuple[str, str], scale: float
) -> None:
    """ "F12 · C3" beside the launch circle (to its left near the picture's right edge), outlined
    so that it reads on any wall. Hershey fonts have no middle dot: it is drawn as a small disc."""
    height, width = out.shape[:2]
    scale = max(scale, 0.5)  # legible on a small sub-stream's picture too
    size = 1.1 * scale
    weight = max(1, round(2.5 * scale))
    gap = max(4, round(10 * scale))
    (w0, h0), _ = cv2.getTextSize(parts[0], FONT, size, weight)
    (w1, _h1), _ = cv2.getTextSize(parts[1], FONT, size, weight)
    total = w0 + 3 * gap + w1
    x = centre[0] + radius + gap
    if x + total > width - 2:
        x = centre[0] - radius - gap - total
    x = min(max(x, 2), max(2, width - total - 2))
    y = min(max(centre[1] + h0 // 2, h0 + 2), height - 4)
    dot = (x + w0 + round(1.5 * gap), y - h0 // 2)
    for colour, extra in ((OUTLINE_COLOUR, weight + 3), (LABEL_COLOUR, weight)):
        cv2.putText(out, parts[0], (x, y), FONT, size, colour, extra, cv2.LINE_AA)
        cv2.putText(out, parts[1], (x + w0 + 3 * gap, y), FONT, size, colour, extra, cv2.LINE_AA)
        cv2.circle(out, dot, max(2, round(3 * scale)) + (extra - weight) // 2, colour, -1, cv2.LINE_AA)


__all__ = ["render_throw", "throw_label"]
