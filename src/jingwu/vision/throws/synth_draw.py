"""Drawing small moving things into a frame with anti-aliasing and motion blur: each thing is a list
of sampled shapes over the shutter time, accumulated into a coverage patch and blended in.

Shapes under ~4 pixels are analytic discs (cv2's anti-aliased fill overstates tiny shapes by about
half a pixel of radius); larger ones are cv2 ellipses and polygons at sub-pixel precision."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_SHIFT = 4
_ONE = 1 << _SHIFT


@dataclass(frozen=True)
class Shape:
    """A shape at one instant: "disc" (a = diameter), "ellipse" (full axes a × b) or "rect" (a × b),
    turned by ``angle_deg``; its coverage counts ``weight`` (the share of the shutter it stands for)."""

    kind: str
    u: float
    v: float
    a: float
    b: float = 0.0
    angle_deg: float = 0.0
    weight: float = 1.0

    @property
    def reach(self) -> float:
        return max(self.a, self.b, 1.0) / 2 + 2.0


def coverage(shapes: list[Shape], width: int, height: int) -> tuple[int, int, np.ndarray] | None:
    """(x0, y0, coverage 0..1 float32 patch) of the shapes clipped to the frame; None when all lie outside."""
    if not shapes:
        return None
    x0 = max(0, int(min(s.u - s.reach for s in shapes)))
    y0 = max(0, int(min(s.v - s.reach for s in shapes)))
    x1 = min(width, int(max(s.u + s.reach for s in shapes)) + 2)
    y1 = min(height, int(max(s.v + s.reach for s in shapes)) + 2)
    if x1 <= x0 or y1 <= y0:
        return None
    acc = np.zeros((y1 - y0, x1 - x0), np.float32)
    small = [s for s in shapes if max(s.a, s.b) < 4.0]
    if small:
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        for s in small:
            r = max(s.a, s.b, 1.0) / 2
            dist = np.sqrt((xs - s.u) ** 2 + (ys - s.v) ** 2)
            acc += np.clip(r + 0.5 - dist, 0, 1) * s.weight
    scratch = np.zeros_like(acc, dtype=np.uint8)
    for s in shapes:
        if max(s.a, s.b) < 4.0:
            continue
        scratch[:] = 0
        centre = (round((s.u - x0) * _ONE), round((s.v - y0) * _ONE))
        if s.kind == "disc":
            cv2.circle(scratch, centre, max(1, round((s.a / 2 - 0.4) * _ONE)), 255, -1, cv2.LINE_AA, _SHIFT)
        elif s.kind == "ellipse":
            axes = (max(1, round((s.a / 2 - 0.4) * _ONE)), max(1, round((max(s.b, 1.0) / 2 - 0.4) * _ONE)))
            cv2.ellipse(scratch, centre, axes, s.angle_deg, 0, 360, 255, -1, cv2.LINE_AA, _SHIFT)
        else:
            box = cv2.boxPoints(
                ((s.u - x0, s.v - y0), (max(s.a - 0.8, 0.5), max(s.b - 0.8, 0.5)), s.angle_deg)
            )
            cv2.fillConvexPoly(scratch, np.round(box * _ONE).astype(np.int32), 255, cv2.LINE_AA, _SHIFT)
        acc += scratch.astype(np.float32) * (s.weight / 255.0)
    return x0, y0, acc


def blend(
    frame: np.ndarray, shapes: list[Shape], colour: tuple[float, float, float] | np.ndarray, gain: float = 1.0
) -> None:
    """Lay ``colour`` over the frame where the shapes are, by their accumulated coverage × ``gain``."""
    found = coverage(shapes, frame.shape[1], frame.shape[0])
    if found is None:
        return
    x0, y0, acc = found
    alpha = np.clip(acc * gain, 0, 1)[..., None]
    patch = frame[y0 : y0 + acc.shape[0], x0 : x0 + acc.shape[1]]
    mixed = patch + alpha * (np.asarray(colour, np.float32) - patch)
    patch[:] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def blob_sprite(size: float) -> np.ndarray:
    """A soft round blob (float32 0..1) ``size`` pixels across: an out-of-focus thing near the lens."""
    half = max(2, int(size * 0.75))
    ys, xs = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float32)
    sigma = max(size / 4, 0.8)
    return np.exp(-(xs**2 + ys**2) / (2 * sigma**2)).astype(np.float32)


def blend_sprite(
    frame: np.ndarray, sprite: np.ndarray, u: float, v: float, colour: np.ndarray, strength: float
) -> None:
    """Lay ``colour`` over the frame through a sprite centred at (u, v) (whole-pixel placement)."""
    h, w = sprite.shape
    x0, y0 = round(u) - w // 2, round(v) - h // 2
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + w, frame.shape[1]), min(y0 + h, frame.shape[0])
    if fx1 <= fx0 or fy1 <= fy0:
        return
    alpha = sprite[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0, None] * strength
    patch = frame[fy0:fy1, fx0:fx1]
    patch[:] = np.clip(patch + alpha * (colour - patch) + 0.5, 0, 255).astype(np.uint8)
