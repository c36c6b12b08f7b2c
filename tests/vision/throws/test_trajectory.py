"""The flight model under the trace-back: its integration is as good as a fine one, a track that
no flight explains is given up early rather than crept over for hundreds of iterations, and a
few stray points do not spoil a throw's fit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from jingwu.vision.throws import trajectory
from jingwu.vision.throws.trajectory import FIRST_LOOK_ITERATIONS, G, fit_flight
from tests.vision.throws.test_physics import FPS, flight, geometry, window


@pytest.mark.parametrize("terminal", [4.9, 8.0, 40.0])
@pytest.mark.parametrize("velocity", [(3.5, 4.5, 4.5), (0.2, 0.5, 1.2), (0.0, -3.5, 0.5)])
def test_the_flight_is_within_two_centimetres_of_a_fine_integration(
    terminal: float, velocity: tuple[float, float, float]
) -> None:
    """At the bounds' extremes too (a terminal speed of 4.9 m/s, every speed at its bound)."""

    def motion(_t: float, state: np.ndarray) -> np.ndarray:
        v = state[3:]
        return np.concatenate([v, [0.0, -G, 0.0] - G * np.linalg.norm(v) * v / terminal**2])

    t = np.arange(0, 4.0, 1 / FPS)
    start = np.array([2.0, 50.0, 0.2, *velocity])
    exact = solve_ivp(motion, (0, t[-1]), start, t_eval=t, method="DOP853", rtol=1e-10, atol=1e-10).y[:3]
    late = 8  # first seen 8 frames after the launch
    model = trajectory._positions(np.array([2.0, 50.0, *velocity, terminal / G, late / FPS]), t[:-late], 0.2)
    assert np.abs(model - exact[:, late:]).max() < 0.02


def _evaluations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    count = [0]
    positions = trajectory._positions

    def counted(*args: object) -> np.ndarray:
        count[0] += 1
        return positions(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(trajectory, "_positions", counted)
    return count


def test_a_track_no_flight_explains_is_given_up_after_a_first_look(monkeypatch: pytest.MonkeyPatch) -> None:
    geo, project = geometry()
    x, y = window(14, 3)
    points = flight((x, y, 0.2), (0.2, 0.5, 1.2), terminal=30.0, seconds=2.0)
    pixels = np.array([project(*p) for p in points])
    # Swaying 40 px from side to side as it goes down: a fluttering thing, not a throw.
    us = pixels[:, 0] + 40 * np.sin(np.arange(len(pixels)) / 2.0)
    vs = pixels[:, 1]
    t = np.arange(len(pixels)) / FPS
    count = _evaluations(monkeypatch)
    start = (x, y, 0.5)

    hopeless = fit_flight(geo, t, us, vs, 0.2, start, seen_at_launch=False, acceptable_px=2.0)
    looked = count[0]
    count[0] = 0
    pursued = fit_flight(geo, t, us, vs, 0.2, start, seen_at_launch=False)

    # Pursued or not, no flight explains it.
    assert hopeless is not None and hopeless.rms_px > 6.0
    assert pursued is not None and pursued.rms_px > 6.0
    # Three starts, each a first look of at most FIRST_LOOK_ITERATIONS steps (seven parameters:
    # eight evaluations a step, with the Jacobian's).
    assert looked <= 3 * 8 * (FIRST_LOOK_ITERATIONS + 1)
    assert count[0] > looked  # without an acceptable error, the starts are pursued further


def test_a_throw_seen_late_is_pursued_past_the_first_look_and_placed_as_without_a_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    geo, project = geometry()
    x, y = window(11, 4)
    late = 20  # its first 0.8 s unseen: three starts, which do not all settle in a first look
    points = flight((x, y, 0.2), (0.2, 0.8, 1.0), terminal=12.0, seconds=4.0)[late:]
    pixels = np.array([project(*p) for p in points]) + np.random.default_rng(1).normal(
        0, 0.3, (len(points), 2)
    )
    t = np.arange(len(pixels)) / FPS
    seen = late / FPS
    args = (geo, t, pixels[:, 0], pixels[:, 1], 0.2, (x, y - 0.5 * G * seen**2, -G * seen))
    count = _evaluations(monkeypatch)

    bounded = fit_flight(*args, seen_at_launch=False, acceptable_px=1.6)
    pursued = count[0]
    free = fit_flight(*args, seen_at_launch=False)
    monkeypatch.setattr(trajectory, "HOPELESS", 0.0)  # every start stopped after its first look
    count[0] = 0
    fit_flight(*args, seen_at_launch=False, acceptable_px=1.6)

    assert pursued > count[0]  # the promising starts went on
    assert bounded is not None and free is not None
    assert bounded.rms_px < 0.5
    assert abs(bounded.y - free.y) < 0.05 and abs(bounded.y - y) < 0.3


def _throw_pixels(floor: int, column: int) -> tuple[np.ndarray, tuple[float, float]]:
    _geo, project = geometry()
    x, y = window(floor, column)
    points = flight((x, y, 0.2), (0.2, 0.5, 1.2), terminal=20.0, seconds=3.0)
    jitter = np.random.default_rng(2).normal(0, 0.3, (len(points), 2))
    return np.array([project(*p) for p in points]) + jitter, (x, y)


def test_stray_points_are_named_and_left_out_of_the_fit() -> None:
    """A blob of something else taken at the start, a splash at the landing: the throw is
    placed by the rest, within a pixel, and the two are named as not the object."""
    geo, _project = geometry()
    pixels, (x, y) = _throw_pixels(13, 2)
    pixels[0] += (-60.0, 40.0)
    pixels[-1] += (35.0, -25.0)
    t = np.arange(len(pixels)) / FPS
    fitted = fit_flight(geo, t, pixels[:, 0], pixels[:, 1], 0.2, (x, y, 0.5), pixel_sigma=0.7)
    assert fitted is not None
    assert fitted.rms_px < 1.0
    assert fitted.outliers == (0, len(pixels) - 1)
    assert abs(fitted.y - y) < 0.3


def test_a_track_that_strays_often_is_not_rescued() -> None:
    """Only a tenth of the points may be left out: one point in four 12 px off is a poor fit."""
    geo, _project = geometry()
    pixels, (x, y) = _throw_pixels(13, 2)
    pixels[::4, 0] += 12.0
    t = np.arange(len(pixels)) / FPS
    fitted = fit_flight(geo, t, pixels[:, 0], pixels[:, 1], 0.2, (x, y, 0.5), pixel_sigma=0.7)
    assert fitted is not None and fitted.rms_px > 3.0
