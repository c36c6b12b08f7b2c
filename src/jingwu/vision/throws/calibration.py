"""A camera's facade calibration (the wall's outline, floors and window columns, drawn on a still
frame) read and checked, and the geometry the detector needs from it: where a pixel lies on the
wall or in front of it, which floor and column that is, and which part of the picture to watch.

The camera's pose is recovered from the outline alone (the wall is a rectangle of known height):
the focal length from the two vanishing directions when they are finite, the wall's width from the
same homography. It is what lets a throw from a balcony that stands out from the wall be put on
its own floor rather than the one above (a camera at the foot sees it higher than it is)."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from jingwu.errors import ValidationFailed

MAX_FLOORS = 200
MAX_COLUMNS = 100
FLOOR_HEIGHT_RANGE_M = (2.0, 8.0)
MAX_PROTRUSION_M = 4.0
#: Used when the outline cannot give the focal length (a wall seen square-on): an 80° lens.
DEFAULT_HFOV_DEG = 80.0
#: How far in front of the wall a falling object is looked for: balconies plus an outward throw.
WATCH_DEPTH_M = 4.0


class CalibrationError(ValidationFailed):
    code = "calibration_invalid"


@dataclass(frozen=True, slots=True)
class FacadeCalibration:
    """The facade as drawn: corners in the video's pixels (bottom-left, bottom-right, top-right,
    top-left), floors counted from 1 at the ground, columns from the left of the picture."""

    corners_px: tuple[tuple[float, float], ...]
    floors: int
    columns: int
    floor_height_m: float
    column_centres: tuple[float, ...]
    protrusion_depth_m: float = 0.0

    @property
    def height_m(self) -> float:
        return self.floors * self.floor_height_m

    def to_json(self) -> dict[str, Any]:
        return {
            "facade": {
                "corners_px": [[u, v] for u, v in self.corners_px],
                "floors": self.floors,
                "columns": self.columns,
                "floor_height_m": self.floor_height_m,
                "column_centres": list(self.column_centres),
                "protrusion_depth_m": self.protrusion_depth_m,
            }
        }


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CalibrationError(f"facade.{name} must be a number", field=name)
    return float(value)


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, float) and not math.isfinite(value):
        raise CalibrationError(f"facade.{name} must be a whole number, not {value}", field=name)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise CalibrationError(f"facade.{name} must be a whole number", field=name)
    if not low <= value <= high:
        raise CalibrationError(f"facade.{name} must be between {low} and {high}, not {value}", field=name)
    return int(value)


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _check_corners(raw: Any) -> tuple[tuple[float, float], ...]:
    if not isinstance(raw, list) or len(raw) != 4:
        raise CalibrationError(
            "facade.corners_px must be four [u, v] points: bottom-left, bottom-right, top-right, top-left",
            field="corners_px",
        )
    corners: list[tuple[float, float]] = []
    for i, point in enumerate(raw):
        if not isinstance(point, list | tuple) or len(point) != 2:
            raise CalibrationError(f"facade.corners_px[{i}] must be [u, v]", field="corners_px")
        u, v = (_number(x, f"corners_px[{i}]") for x in point)
        if max(abs(u), abs(v)) > 1e5:
            raise CalibrationError(
                f"facade.corners_px[{i}] lies absurdly far outside the picture", field="corners_px"
            )
        corners.append((u, v))
    turns = [_cross(corners[i], corners[(i + 1) % 4], corners[(i + 2) % 4]) for i in range(4)]
    area = 0.5 * sum(
        corners[i][0] * corners[(i + 1) % 4][1] - corners[(i + 1) % 4][0] * corners[i][1] for i in range(4)
    )
    if abs(area) < 100 or not (all(t > 0 for t in turns) or all(t < 0 for t in turns)):
        raise CalibrationError(
            "facade.corners_px is not a convex quadrilateral (the four corners of the wall, "
            "in order bottom-left, bottom-right, top-right, top-left)",
            field="corners_px",
        )
    bl, br, tr, tl = corners
    if (tl[1] + tr[1]) / 2 >= (bl[1] + br[1]) / 2:
        raise CalibrationError(
            "the camera looks the wrong way: the facade's top edge lies below its bottom edge in the "
            "picture (an upside-down camera, or corners not given bottom-left, bottom-right, "
            "top-right, top-left)",
            code="camera_wrong_way",
            field="corners_px",
        )
    # In image coordinates (v down) bottom-left → bottom-right → top-right turns one way when the
    # wall is seen from the front; the other way is its mirror image: the wall seen from behind.
    if area > 0:
        raise CalibrationError(
            "the camera looks the wrong way: the facade is mirrored (bottom-right lies left of "
            "bottom-left), as if the wall were seen from behind; give the corners as the camera "
            "sees them: bottom-left, bottom-right, top-right, top-left",
            code="camera_wrong_way",
            field="corners_px",
        )
    top, bottom = math.dist(tl, tr), math.dist(bl, br)
    if top > bottom * 1.05:
        raise CalibrationError(
            "the camera looks the wrong way: it looks down on the facade (its top edge is wider "
            "than its bottom edge); thrown objects are watched by a camera at the foot of the "
            "building, looking up",
            code="camera_wrong_way",
            field="corners_px",
        )
    return tuple(corners)


def parse_calibration(data: Any) -> FacadeCalibration:
    """The calibration from its JSON form; a :class:`CalibrationError` naming the field otherwise."""
    if not isinstance(data, dict) or not isinstance(data.get("facade"), dict):
        raise CalibrationError('the calibration must be an object with a "facade" object', field="facade")
    facade = data["facade"]
    unknown = set(facade) - {
        "corners_px",
        "floors",
        "columns",
        "floor_height_m",
        "column_centres",
        "protrusion_depth_m",
    }
    if unknown:
        raise CalibrationError(f"facade has unknown fields: {', '.join(sorted(unknown))}", field="facade")
    for name in ("corners_px", "floors", "columns", "floor_height_m"):
        if name not in facade:
            raise CalibrationError(f"facade.{name} is missing", field=name)
    floors_given = facade["floors"]
    if isinstance(floors_given, int | float) and not isinstance(floors_given, bool) and floors_given <= 0:
        raise CalibrationError(f"facade.floors must be at least 1, not {floors_given}", field="floors")
    floors = _whole(facade["floors"], "floors", 1, MAX_FLOORS)
    columns = _whole(facade["columns"], "columns", 1, MAX_COLUMNS)
    floor_height = _number(facade["floor_height_m"], "floor_height_m")
    low, high = FLOOR_HEIGHT_RANGE_M
    if not low <= floor_height <= high:
        raise CalibrationError(
            f"facade.floor_height_m must be between {low} and {high} metres, not {floor_height}",
            field="floor_height_m",
        )
    raw_centres = facade.get("column_centres")
    if raw_centres is None:
        centres = tuple((i + 0.5) / columns for i in range(columns))
    else:
        if not isinstance(raw_centres, list) or len(raw_centres) != columns:
            raise CalibrationError(
                f"facade.column_centres must list {columns} fractions of the wall's width",
                field="column_centres",
            )
        centres = tuple(_number(c, "column_centres") for c in raw_centres)
        if any(not 0 <= c <= 1 for c in centres) or any(b <= a for a, b in itertools.pairwise(centres)):
            raise CalibrationError(
                "facade.column_centres must rise from left to right, each between 0 and 1",
                field="column_centres",
            )
    protrusion = _number(facade.get("protrusion_depth_m", 0.0), "protrusion_depth_m")
    if not 0 <= protrusion <= MAX_PROTRUSION_M:
        raise CalibrationError(
            f"facade.protrusion_depth_m must be between 0 and {MAX_PROTRUSION_M} metres",
            field="protrusion_depth_m",
        )
    corners = _check_corners(facade["corners_px"])
    return FacadeCalibration(corners, floors, columns, floor_height, centres, protrusion)


def load_calibration(path: Path) -> FacadeCalibration:
    """A calibration file read and checked; a :class:`CalibrationError` saying what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CalibrationError(f"no calibration file at {path}", code="calibration_missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"the calibration file {path} cannot be read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CalibrationError(f"the calibration file {path} is not JSON: {exc}") from None
    return parse_calibration(data)


@dataclass(frozen=True, slots=True)
class FacadeGeometry:
    """The calibration in one camera's picture: wall coordinates are (s, y) with s the fraction of
    the wall's width from its left end and y metres above the ground; depth is metres in front of
    the wall, towards the camera."""

    calibration: FacadeCalibration
    width: int
    height: int
    homography: np.ndarray  # (s, y, 1) on the wall → image pixels
    inverse: np.ndarray
    K: np.ndarray
    R: np.ndarray  # world → camera; a rotation when the focal length could be measured
    t: np.ndarray
    wall_width_m: float
    centre: np.ndarray  # the camera's position in wall metres (X along, Y up, Z out)

    @classmethod
    def build(cls, calibration: FacadeCalibration, width: int, height: int) -> FacadeGeometry:
        """The geometry for a ``width`` × ``height`` picture; a :class:`CalibrationError` when the
        facade is not in it or the camera cannot be where the outline says."""
        top = calibration.height_m
        wall = np.array([[0, 0], [1, 0], [1, top], [0, top]], dtype=np.float32)
        image = np.array(calibration.corners_px, dtype=np.float32)
        homography = cv2.getPerspectiveTransform(wall, image).astype(np.float64)
        inverse = np.linalg.inv(homography)
        frame = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
        overlap, _ = cv2.intersectConvexConvex(image.reshape(-1, 1, 2), frame.reshape(-1, 1, 2))
        if overlap < 0.02 * width * height:
            raise CalibrationError(
                f"the facade's corners lie outside the {width}×{height} picture: the camera looks "
                "away from the wall it is calibrated for (or the calibration is for another video)",
                code="camera_wrong_way",
                field="corners_px",
            )
        K, R, t, wall_width = _pose(homography, width, height, top)
        centre = -np.linalg.solve(R, t)
        if centre[2] <= 0.5:
            raise CalibrationError(
                "the camera looks the wrong way: the outline puts it behind the wall",
                code="camera_wrong_way",
                field="corners_px",
            )
        return cls(calibration, width, height, homography, inverse, K, R, t, wall_width, centre)

    def to_wall(self, u: float, v: float, depth_m: float = 0.0) -> tuple[float, float] | None:
        """Where the camera's ray through pixel (u, v) meets the plane ``depth_m`` in front of the
        wall, as (s, y); None when the ray runs away from it."""
        ray = np.linalg.solve(self.K @ self.R, np.array([u, v, 1.0]))
        if abs(ray[2]) < 1e-9:
            return None
        mu = (depth_m - self.centre[2]) / ray[2]
        if mu <= 0:
            return None
        point = self.centre + mu * ray
        return float(point[0] / self.wall_width_m), float(point[1])

    def to_wall_many(self, points: np.ndarray, depth_m: float | np.ndarray = 0.0) -> np.ndarray:
        """(u, v) rows → (X metres along the wall, y metres up) rows on the plane ``depth_m`` in
        front of the wall, or each on its own plane (NaN where a ray runs away from it)."""
        homogeneous = np.column_stack([points, np.ones(len(points))])
        rays = np.linalg.solve(self.K @ self.R, homogeneous.T).T
        with np.errstate(divide="ignore", invalid="ignore"):
            mu = (depth_m - self.centre[2]) / rays[:, 2]
        mu[~(mu > 0)] = np.nan
        world = self.centre[None, :] + mu[:, None] * rays
        return world[:, :2]

    def to_image(self, s: float, y: float, depth_m: float = 0.0) -> tuple[float, float]:
        p = self.K @ (self.R @ np.array([s * self.wall_width_m, y, depth_m]) + self.t)
        return float(p[0] / p[2]), float(p[1] / p[2])

    def floor_at(self, y_m: float) -> int | None:
        """The floor whose band holds height ``y_m`` (1 = ground floor); None off the building."""
        fh = self.calibration.floor_height_m
        if y_m < -0.5 * fh or y_m > self.calibration.height_m + 0.5 * fh:
            return None
        return min(max(int(y_m // fh) + 1, 1), self.calibration.floors)

    def column_at(self, s: float) -> int | None:
        """The window column nearest fraction ``s`` of the wall's width (1 = leftmost); None off
        the wall."""
        centres = self.calibration.column_centres
        if s < -0.05 or s > 1.05:
            return None
        return int(np.argmin([abs(s - c) for c in centres])) + 1

    def watch_polygon(self) -> np.ndarray:
        """The part of the picture a falling object from this facade can be in: the box in front
        of the wall, from the ground to the top, up to :data:`WATCH_DEPTH_M` out, seen by this
        camera (int32 points, clipped to the frame later)."""
        depth = min(WATCH_DEPTH_M + self.calibration.protrusion_depth_m, 0.7 * float(self.centre[2]))
        margin = 0.04
        points = [
            self.to_image(s, y, d)
            for s in (-margin, 1 + margin)
            for y in (0.0, self.calibration.height_m + self.calibration.floor_height_m)
            for d in (0.0, depth)
        ]
        hull = cv2.convexHull(np.array(points, dtype=np.float32))
        return hull.reshape(-1, 2)

    def anchor_box(self) -> tuple[int, int, int, int]:
        """The box (x0, y0, x1, y1) around the wall's outline, inside the frame: mostly wall,
        whose window grid gives shake something to be measured on (a narrower box inside the
        outline is too thin on a tower seen from below; the sky's smooth clouds weigh little)."""
        us = [u for u, _ in self.calibration.corners_px]
        vs = [v for _, v in self.calibration.corners_px]
        return (
            int(max(min(us), 0)),
            int(max(min(vs), 0)),
            int(min(max(us), self.width)),
            int(min(max(vs), self.height)),
        )

    def wall_mask(self, inset_px: int = 6) -> np.ndarray:
        """uint8 mask (255) of the wall's outline, ``inset_px`` inside it: the pixels that move
        only when the camera does (the sky beside the wall has clouds drifting)."""
        mask: np.ndarray = np.zeros((self.height, self.width), dtype=np.uint8)
        corners = np.clip(np.asarray(self.calibration.corners_px), -4 * self.width, 4 * self.width)
        cv2.fillConvexPoly(mask, np.round(corners).astype(np.int32), 255)
        if inset_px > 0:
            mask = cv2.erode(mask, np.ones((2 * inset_px + 1, 2 * inset_px + 1), np.uint8))
        return mask

    def watch_mask(self, pad_px: int = 8) -> np.ndarray:
        """uint8 mask (255 = watched) of :meth:`watch_polygon`, padded by ``pad_px``."""
        mask: np.ndarray = np.zeros((self.height, self.width), dtype=np.uint8)
        poly = np.clip(self.watch_polygon(), -4 * self.width, 4 * self.width).astype(np.int32)
        cv2.fillConvexPoly(mask, poly, 255)
        if pad_px > 0:
            mask = cv2.dilate(mask, np.ones((2 * pad_px + 1, 2 * pad_px + 1), np.uint8))
        return mask


def _pose(
    homography: np.ndarray, width: int, height: int, top_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """K, R, t and the wall's width in metres from the wall → image homography (Zhang's
    constraint r1 ⟂ r2 gives the focal length; principal point at the centre, square pixels)."""
    cx, cy = width / 2.0, height / 2.0
    h0, h1, h2 = homography[:, 0], homography[:, 1], homography[:, 2]
    a = np.array([h0[0] - cx * h0[2], h0[1] - cy * h0[2]])
    b = np.array([h1[0] - cx * h1[2], h1[1] - cy * h1[2]])
    focal = width / (2 * math.tan(math.radians(DEFAULT_HFOV_DEG) / 2))
    denominator = h0[2] * h1[2]
    if abs(denominator) > 1e-12:
        f2 = -float(a @ b) / denominator
        if f2 > 0 and 0.25 * width <= math.sqrt(f2) <= 6 * width:
            focal = math.sqrt(f2)
    K = np.array([[focal, 0, cx], [0, focal, cy], [0, 0, 1.0]])
    k_inv = np.linalg.inv(K)
    ka, kb, kc = k_inv @ h0, k_inv @ h1, k_inv @ h2
    scale = 1.0 / np.linalg.norm(kb)
    r2 = kb * scale
    wall_width = float(np.linalg.norm(ka) * scale)
    # Not made orthogonal to r2: kept as it is, the wall's own plane maps exactly as drawn even
    # where the focal length is only assumed (a wall seen square-on).
    r1 = ka * scale / wall_width
    t = kc * scale
    probe = np.array([0.5 * wall_width, top_m / 2, 0.0])
    if (np.column_stack([r1, r2, np.zeros(3)]) @ probe + t)[2] < 0:
        r1, r2, t = -r1, -r2, -t  # the wall must lie in front of the camera
    normal = np.cross(r1, r2)
    R = np.column_stack([r1, r2, normal / np.linalg.norm(normal)])
    return K, R, t, wall_width


__all__ = [
    "CalibrationError",
    "FacadeCalibration",
    "FacadeGeometry",
    "load_calibration",
    "parse_calibration",
]
