"""The throw drawn for the incident's snapshot: the track and the launch circle in the strong
colour, the label beside the launch, the facade's floor lines faint, the picture handed in left
as it was; a picture that is not RGB refused."""

from __future__ import annotations

import numpy as np
import pytest

from jingwu.vision.throws.calibration import FacadeGeometry, parse_calibration
from jingwu.vision.throws.render import FACADE_COLOUR, TRACK_COLOUR, render_throw, throw_label

CALIBRATION = {
    "facade": {
        "corners_px": [[180.0, 340.0], [460.0, 340.0], [420.0, 30.0], [220.0, 30.0]],
        "floors": 10,
        "columns": 4,
        "floor_height_m": 3.0,
    }
}
TRACK = tuple((i, 300.0 + i, 100.0 + 0.2 * i * i) for i in range(30))


def _near(picture: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> np.ndarray:
    return np.all(np.abs(picture.astype(int) - np.array(colour)) <= tolerance, axis=2)


def test_the_track_the_launch_and_its_label_are_drawn_on_a_copy() -> None:
    grey = np.full((360, 640, 3), 128, dtype=np.uint8)
    before = grey.copy()
    geometry = FacadeGeometry.build(parse_calibration(CALIBRATION), 640, 360)
    drawn = render_throw(grey, TRACK, (300.0, 100.0), 8, 3, geometry)
    assert np.array_equal(grey, before) and drawn.shape == grey.shape and drawn.dtype == np.uint8
    track = _near(drawn, TRACK_COLOUR)
    assert track[110:200, 300:335].any(), "the track's middle is drawn"
    assert track[85:115, 285:315].any(), "the launch circle is drawn"
    # The label sits right of the launch circle: white text over a black outline.
    label = drawn[80:120, 315:420]
    assert (label.min(axis=2) > 230).any() and (label.max(axis=2) < 30).any()
    # The floor lines are faint: a blend of the facade colour into the grey, never the colour itself.
    floor_line = drawn[338:343, 250:400]
    assert (floor_line != 128).any() and not _near(floor_line, FACADE_COLOUR, 10).any()


def test_unknown_floor_or_column_reads_as_a_question_mark() -> None:
    assert throw_label(12, 3) == ("F12", "C3")
    assert throw_label(None, 3) == ("F?", "C3")
    assert throw_label(12, None) == ("F12", "C?")
    drawn = render_throw(np.zeros((90, 160, 3), dtype=np.uint8), TRACK[:3], (600.0, -50.0), None, None)
    assert drawn.shape == (90, 160, 3)  # a launch off the picture is drawn clipped, not refused


@pytest.mark.parametrize("picture", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32)])
def test_a_picture_that_is_not_rgb_bytes_is_refused(picture: np.ndarray) -> None:
    with pytest.raises(ValueError, match="RGB"):
        render_throw(picture, TRACK, (1.0, 1.0), 1, 1)
