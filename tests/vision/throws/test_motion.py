"""The moving-pixel finder's stabiliser and its eyes, on pictures made here: a textured wall moved
by known sub-pixel shakes beside a sky whose texture drifts on its own."""

from __future__ import annotations

import cv2
import numpy as np

from jingwu.vision.throws.motion import MotionFinder

H, W = 360, 480
WALL = (120, 40, 360, 330)  # x0, y0, x1, y1


def _world(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A wall of windows (sharp edges, as a facade's) and a cloudy sky texture, each larger than
    the picture so that shifted crops stay filled."""
    wall = np.full((H + 40, W + 40), 150, np.float32)
    for y in range(10, H + 30, 28):
        for x in range(10, W + 30, 36):
            wall[y : y + 16, x : x + 20] = 60 + 40 * rng.random()
    sky = cv2.GaussianBlur(rng.normal(180, 40, (H + 40, 4 * W)).astype(np.float32), (0, 0), 5)
    return wall, sky


def _frame(wall: np.ndarray, sky: np.ndarray, shake: tuple[float, float], cloud_px: float) -> np.ndarray:
    """The picture with the camera moved by ``shake`` and the clouds moved by ``cloud_px``."""
    dx, dy = shake
    move = np.array([[1, 0, 20 - dx], [0, 1, 20 - dy]], np.float32)
    wall_view = cv2.warpAffine(wall, move, (W, H), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    drift = np.array([[1, 0, 20 - dx + cloud_px], [0, 1, 20 - dy]], np.float32)
    sky_view = cv2.warpAffine(sky, drift, (W, H), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    picture = sky_view.copy()
    x0, y0, x1, y1 = WALL
    inside = np.zeros((H, W), np.uint8)
    cv2.rectangle(inside, (x0 + round(dx), y0 + round(dy)), (x1 + round(dx), y1 + round(dy)), 255, -1)
    picture[inside > 0] = wall_view[inside > 0]
    return np.clip(picture, 0, 255).astype(np.uint8)


def _finder() -> MotionFinder:
    mask = np.full((H, W), 255, np.uint8)
    wall = np.zeros((H, W), np.uint8)
    x0, y0, x1, y1 = WALL
    wall[y0 + 6 : y1 - 6, x0 + 6 : x1 - 6] = 255
    return MotionFinder(mask, anchor=(x0 - 60, y0, x1 + 60, y1), wall=wall)


def test_shake_is_measured_to_a_tenth_of_a_pixel_while_clouds_drift() -> None:
    rng = np.random.default_rng(7)
    wall, sky = _world(rng)
    finder = _finder()
    errors = []
    for i in range(60):
        shake = (0.0, 0.0) if i < 20 else tuple(rng.uniform(-3.5, 3.5, 2))
        finder.push(_frame(wall, sky, shake, cloud_px=0.6 * i))
        if i >= 20:
            errors.append(np.hypot(finder.shift[0] - shake[0], finder.shift[1] - shake[1]))
    assert max(errors) < 0.15, errors


def test_a_shaking_camera_shows_the_object_and_not_the_wall() -> None:
    rng = np.random.default_rng(11)
    wall, sky = _world(rng)
    finder = _finder()
    spots = []
    for i in range(50):
        shake = (0.0, 0.0) if i < 15 else tuple(rng.uniform(-3, 3, 2))
        picture = _frame(wall, sky, shake, cloud_px=0.0)
        if i >= 30:
            u, v = 240, 80 + 6 * (i - 30)
            cv2.circle(picture, (u + round(shake[0]), v + round(shake[1])), 3, 20, -1)
            spots.append((i, u, v))
        blobs = finder.push(picture)
        if i >= 33:
            # Where the object is on the still picture (blobs are given on it, as the calibration).
            _, u, v = spots[-1]
            assert any(abs(b.u - u) < 3 and abs(b.v - v) < 3 for b in blobs), (i, blobs)
            assert len(blobs) <= 3, (i, blobs)
