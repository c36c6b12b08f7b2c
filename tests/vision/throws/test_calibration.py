"""The facade calibration: read and checked (each bad input a clear error), and the camera's pose
recovered from it well enough to put a point in front of the wall back where it was."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jingwu.vision.throws.calibration import (
    CalibrationError,
    FacadeGeometry,
    load_calibration,
    parse_calibration,
)


def camera(width: int, height: int, *, hfov: float, distance: float, tilt: float, yaw: float) -> Any:
    """A pinhole camera at the foot of a 20 m wide wall, looking up at it."""
    f = width / (2 * math.tan(math.radians(hfov) / 2))
    K = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]])
    centre = np.array([13.0, 1.5, distance])
    forward = np.array(
        [
            math.sin(math.radians(yaw)) * math.cos(math.radians(tilt)),
            math.sin(math.radians(tilt)),
            -math.cos(math.radians(yaw)) * math.cos(math.radians(tilt)),
        ]
    )
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    R = np.vstack([right, np.cross(forward, right), forward])
    t = -R @ centre

    def project(x: float, y: float, z: float) -> list[float]:
        p = K @ (R @ np.array([x, y, z]) + t)
        return [float(p[0] / p[2]), float(p[1] / p[2])]

    return project, f, centre


def facade(corners: list[list[float]], **extra: Any) -> dict[str, Any]:
    return {"facade": {"corners_px": corners, "floors": 18, "columns": 6, "floor_height_m": 2.9, **extra}}


SQUARE_ON = [[400.0, 1000.0], [1500.0, 1000.0], [1300.0, 100.0], [600.0, 100.0]]


@pytest.mark.parametrize(("yaw", "tilt"), [(12.0, 38.0), (-20.0, 45.0), (25.0, 30.0)])
def test_the_pose_puts_a_point_in_front_of_the_wall_back_at_its_height(yaw: float, tilt: float) -> None:
    project, f, centre = camera(1920, 1080, hfov=70, distance=25, tilt=tilt, yaw=yaw)
    height = 18 * 2.9
    corners = [project(0, 0, 0), project(20, 0, 0), project(20, height, 0), project(0, height, 0)]
    geometry = FacadeGeometry.build(parse_calibration(facade(corners, protrusion_depth_m=1.2)), 1920, 1080)
    assert geometry.K[0, 0] == pytest.approx(f, rel=0.01)
    assert geometry.wall_width_m == pytest.approx(20.0, rel=0.01)
    assert np.allclose(geometry.centre, centre, atol=0.1)
    # A balcony's front at 30 m: on the balcony's plane it is where it is; on the wall's plane the
    # camera below sees it higher (the error a protrusion depth corrects).
    u, v = project(7.0, 30.0, 1.2)
    s, y = geometry.to_wall(u, v, 1.2) or (0.0, 0.0)
    assert s * 20 == pytest.approx(7.0, abs=0.05) and y == pytest.approx(30.0, abs=0.05)
    _, y_wall = geometry.to_wall(u, v, 0.0) or (0.0, 0.0)
    assert y_wall > 31.0
    assert geometry.floor_at(y) == 11
    assert geometry.column_at(7.0 / 20) == 3


def test_a_wall_seen_square_on_still_gives_floors_and_columns() -> None:
    geometry = FacadeGeometry.build(parse_calibration(facade(SQUARE_ON)), 1920, 1080)
    s, y = geometry.to_wall(950.0, 1000.0) or (0.0, 0.0)
    assert y == pytest.approx(0.0, abs=0.01) and s == pytest.approx(0.5, abs=0.01)
    assert geometry.floor_at(0.5 * 2.9) == 1 and geometry.floor_at(18 * 2.9 - 0.1) == 18
    assert geometry.floor_at(80.0) is None
    assert [geometry.column_at(c) for c in (0.0, 0.3, 0.99)] == [1, 2, 6]
    assert geometry.column_at(1.3) is None
    assert geometry.watch_mask()[500, 950] == 255 and geometry.watch_mask()[50, 50] == 0


def test_columns_follow_the_given_centres() -> None:
    cal = parse_calibration(facade(SQUARE_ON, columns=3, column_centres=[0.1, 0.2, 0.8]))
    geometry = FacadeGeometry.build(cal, 1920, 1080)
    assert [geometry.column_at(s) for s in (0.05, 0.16, 0.45, 0.55)] == [1, 2, 2, 3]


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"floors": 0}, "calibration_invalid", "floors must be at least 1"),
        ({"floors": -3}, "calibration_invalid", "floors must be at least 1"),
        ({"floors": 2.5}, "calibration_invalid", "whole number"),
        ({"columns": 0}, "calibration_invalid", "columns must be between"),
        ({"floor_height_m": 0.5}, "calibration_invalid", "floor_height_m"),
        ({"floor_height_m": "3"}, "calibration_invalid", "must be a number"),
        ({"protrusion_depth_m": -1}, "calibration_invalid", "protrusion_depth_m"),
        ({"column_centres": [0.1, 0.5]}, "calibration_invalid", "column_centres"),
        ({"column_centres": [0.5, 0.4, 0.6, 0.7, 0.8, 0.9]}, "calibration_invalid", "rise"),
        ({"corners_px": [[0, 0], [1, 1], [2, 2]]}, "calibration_invalid", "four"),
        (  # a bow tie: two corners swapped
            {"corners_px": [[400, 1000], [1300, 100], [1500, 1000], [600, 100]]},
            "calibration_invalid",
            "convex",
        ),
        (
            {"corners_px": [[400, 1000], [1500, 1000], [1500, 1000], [400, 1000]]},
            "calibration_invalid",
            "convex",
        ),
        ({"corners_px": [[600, 100], [1300, 100], [1500, 1000], [400, 1000]]}, "camera_wrong_way", "below"),
        (
            {"corners_px": [[1500, 1000], [400, 1000], [600, 100], [1300, 100]]},
            "camera_wrong_way",
            "mirrored",
        ),
        ({"corners_px": [[600, 1000], [1300, 1000], [1500, 100], [400, 100]]}, "camera_wrong_way", "down"),
        (
            {"corners_px": [[400, "x"], [1500, 1000], [1300, 100], [600, 100]]},
            "calibration_invalid",
            "number",
        ),
        ({"windows": 3}, "calibration_invalid", "unknown fields"),
        ({"floors": float("nan")}, "calibration_invalid", "whole number"),
        ({"columns": float("inf")}, "calibration_invalid", "whole number"),
        ({"floor_height_m": float("nan")}, "calibration_invalid", "must be a number"),
    ],
)
def test_a_bad_calibration_is_refused_with_a_clear_error(
    change: dict[str, Any], code: str, words: str
) -> None:
    data = facade(SQUARE_ON)
    data["facade"].update(change)
    with pytest.raises(CalibrationError) as caught:
        parse_calibration(data)
    assert caught.value.code == code
    assert words in caught.value.message


def test_a_missing_field_is_named() -> None:
    data = facade(SQUARE_ON)
    del data["facade"]["floor_height_m"]
    with pytest.raises(CalibrationError, match="floor_height_m is missing"):
        parse_calibration(data)
    with pytest.raises(CalibrationError, match='"facade" object'):
        parse_calibration({"corners_px": SQUARE_ON})


def test_a_facade_outside_the_picture_is_a_camera_looking_away() -> None:
    cal = parse_calibration(facade([[x + 5000, y] for x, y in SQUARE_ON]))
    with pytest.raises(CalibrationError) as caught:
        FacadeGeometry.build(cal, 1920, 1080)
    assert caught.value.code == "camera_wrong_way"


def test_a_calibration_file_that_is_missing_or_not_json_says_so(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="no calibration file"):
        load_calibration(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"facade": {', encoding="utf-8")
    with pytest.raises(CalibrationError, match="not JSON"):
        load_calibration(broken)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(facade(SQUARE_ON)), encoding="utf-8")
    assert load_calibration(good).floors == 18
    assert parse_calibration(load_calibration(good).to_json()) == load_calibration(good)
