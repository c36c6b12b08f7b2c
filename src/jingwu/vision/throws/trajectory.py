"""A falling object's flight in metres, fitted to its track through the calibrated camera, and
taken back to where it left the building.

Seen from the foot of a tower, an object thrown outward comes nearer the camera as it falls, and
the picture makes it look higher than it is (several metres, at the top of a tower, after a
second of flight): the track cannot be read off the wall's plane alone. Gravity sets the scale
instead: the flight is a throw from the plane of the windows (or of the balconies' fronts) at an
unknown time before the first point seen, with the air's drag (quadratic in the speed, with a
fitted terminal speed g·τ: a bottle hardly slows, a bag of rubbish reaches its terminal speed in
a second or two), and its seven numbers are fitted to the pixels by least squares. The launch
height and its uncertainty follow.

Drag linear in the speed has a closed form and was the model at first, but it reaches terminal
speed along the wrong curve: over a fall of seconds it put a bag's launch a floor or two low (19
of 96 simulated throws from floors 6–20 at terminal speeds of 8–40 m/s on the wrong floor,
against 1 with quadratic drag)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeResult, least_squares

from jingwu.vision.throws.calibration import FacadeGeometry

G = 9.81
#: Bounds of a hand's throw: speed along the wall, up (+) or down, outward; terminal speed over g
#: (τ: 5–100 m/s); how long before the first point seen it was thrown.
BOUNDS = {
    "vx": (-3.5, 3.5),
    "vy": (-3.5, 4.5),
    "vz": (0.0, 4.5),
    "tau": (0.5, 10.0),
    "lag": (0.0, 3.0),
}
#: What a hand's throw usually is (mean, spread), as weak priors: without them an outward speed
#: and a launch height trade against each other along a valley of equally good fits.
PRIOR_VY = (0.5, 1.5)
PRIOR_VZ = (1.2, 1.0)
#: A throw seen from its start: the launch is at the first point, give or take this (seconds).
SEEN_AT_LAUNCH_LAG_S = 0.06
#: Iterations of the fit from each start before it is asked whether a throw could fit at all,
#: and at most in all: a track that no flight explains (rain near the lens, a bird, a cloud's
#: edge) crept for hundreds of iterations down a valley of equally bad fits.
FIRST_LOOK_ITERATIONS = 20
MAX_ITERATIONS = 100
#: A start that is still this many times the acceptable pixel error after its first look is
#: given up. (On 182 simulated throws, the best of each one's starts was within 1.6 times it by
#: then; one start in three of a throw seen late can be 9 times off, and another finds it.)
HOPELESS = 3.0
#: A tenth of a track's points may be off its flight and the fit still judged by the rest: a
#: streak broken by the windows behind it, a blob of rain joined to it, a splash where it lands.
#: The fit weighs such points down (soft L1 beyond this many pixel sigmas).
OUTLIER_SHARE = 0.1
ROBUST_SCALE = 2.0
#: Of those, a point this many times the error of the rest away (and two pixel sigmas at least)
#: was not the object: it is left out of the track reported.
OUTLIER_FACTOR = 3.0


@dataclass(frozen=True, slots=True)
class Flight:
    """The fitted throw: launch point (X along the wall, height, both metres), speeds, drag time
    constant, how long before the first point it was thrown, and the fit's pixel error."""

    x: float
    y: float
    vx: float
    vy: float
    vz: float
    tau: float
    lag: float
    rms_px: float
    sigma_y: float
    sigma_x: float
    #: The points (indices into the track fitted) that lie off the flight: not the object.
    outliers: tuple[int, ...] = ()

    @property
    def terminal_speed(self) -> float:
        return G * self.tau


#: Integration step of the quadratic-drag flight (seconds): RK4 over a time scale of v_t/g ≥ 0.5 s
#: stays within 1.5 cm of a 5 ms step's flight at the bounds' extremes (0.1 s: half the speed).
STEP_S = 0.2


def _positions(params: np.ndarray, t: np.ndarray, depth: float) -> np.ndarray:
    """The flight under gravity and quadratic drag (a = g − g |v| v / v_t², with v_t = g·τ), which
    has no closed form in three dimensions: integrated by RK4 from the launch, then read at the
    samples' times by cubic Hermite interpolation between the steps."""
    x0, y0, vx, vy, vz, tau, lag = (float(p) for p in params)
    k = 1.0 / (G * tau * tau)  # g / v_t²
    s = t + lag
    # A fixed step, whatever the lag: the points read off stay smooth in the parameters, as the
    # fit's finite-difference Jacobian needs.
    h = STEP_S
    steps = max(1, math.ceil(float(s[-1]) / h))

    def accel(ux: float, uy: float, uz: float) -> tuple[float, float, float]:
        drag = k * math.sqrt(ux * ux + uy * uy + uz * uz)
        return -drag * ux, -G - drag * uy, -drag * uz

    state = [x0, y0, depth, vx, vy, vz]
    states = [state]
    for _ in range(steps):
        px, py, pz, ux, uy, uz = state
        a1 = accel(ux, uy, uz)
        v2 = (ux + 0.5 * h * a1[0], uy + 0.5 * h * a1[1], uz + 0.5 * h * a1[2])
        a2 = accel(*v2)
        v3 = (ux + 0.5 * h * a2[0], uy + 0.5 * h * a2[1], uz + 0.5 * h * a2[2])
        a3 = accel(*v3)
        v4 = (ux + h * a3[0], uy + h * a3[1], uz + h * a3[2])
        a4 = accel(*v4)
        state = [
            px + h / 6 * (ux + 2 * v2[0] + 2 * v3[0] + v4[0]),
            py + h / 6 * (uy + 2 * v2[1] + 2 * v3[1] + v4[1]),
            pz + h / 6 * (uz + 2 * v2[2] + 2 * v3[2] + v4[2]),
            ux + h / 6 * (a1[0] + 2 * a2[0] + 2 * a3[0] + a4[0]),
            uy + h / 6 * (a1[1] + 2 * a2[1] + 2 * a3[1] + a4[1]),
            uz + h / 6 * (a1[2] + 2 * a2[2] + 2 * a3[2] + a4[2]),
        ]
        states.append(state)
    grid = np.asarray(states)
    i = np.clip((s / h).astype(int), 0, steps - 1)
    u = (s / h - i)[:, None]
    p0, p1 = grid[i, :3], grid[i + 1, :3]
    m0, m1 = grid[i, 3:] * h, grid[i + 1, 3:] * h
    u2, u3 = u * u, u * u * u
    at = (2 * u3 - 3 * u2 + 1) * p0 + (u3 - 2 * u2 + u) * m0 + (-2 * u3 + 3 * u2) * p1 + (u3 - u2) * m1
    return at.T


def _project(geometry: FacadeGeometry, world: np.ndarray) -> np.ndarray:
    camera = geometry.R @ world + geometry.t[:, None]
    pixels = geometry.K @ camera
    return pixels[:2] / np.maximum(pixels[2], 1e-6)


def fit_flight(
    geometry: FacadeGeometry,
    t: np.ndarray,
    us: np.ndarray,
    vs: np.ndarray,
    depth: float,
    start: tuple[float, float, float],
    pixel_sigma: float = 1.0,
    seen_at_launch: bool = True,
    acceptable_px: float = math.inf,
) -> Flight | None:
    """The throw that best explains the pixels (``t`` seconds from the first point), launched
    from the plane ``depth`` metres in front of the wall; ``start`` = (X, height, vertical speed)
    read off that plane, to begin from; ``seen_at_launch``: the first point is the launch (it
    did not come into the picture already falling fast); ``acceptable_px``: the error the caller
    will accept, beyond which a start is not pursued. None when no throw fits."""
    observed = np.concatenate([us, vs])
    lows = np.array([-1e3, -50.0] + [BOUNDS[k][0] for k in ("vx", "vy", "vz", "tau", "lag")])
    highs = np.array([1e4, 1e3] + [BOUNDS[k][1] for k in ("vx", "vy", "vz", "tau", "lag")])
    n = len(t)

    def offsets(params: np.ndarray) -> np.ndarray:
        """The points' offsets from the flight (all u, then all v), in pixel sigmas."""
        return (np.concatenate(_project(geometry, _positions(params, t, depth))) - observed) / pixel_sigma

    def residuals(params: np.ndarray) -> np.ndarray:
        off = offsets(params)
        # Soft L1 on each point's distance (its square grows only linearly far out), the priors
        # left quadratic: least_squares' own loss would weaken them too.
        z = (off[:n] ** 2 + off[n:] ** 2) / ROBUST_SCALE**2
        weight = np.tile(np.sqrt(2.0 / (np.sqrt(1.0 + z) + 1.0)), 2)
        priors = [(params[3] - PRIOR_VY[0]) / PRIOR_VY[1], (params[4] - PRIOR_VZ[0]) / PRIOR_VZ[1]]
        if seen_at_launch:
            priors.append(params[6] / SEEN_AT_LAUNCH_LAG_S)
        return np.concatenate([off * weight, priors])

    kept = n - int(OUTLIER_SHARE * n)

    def distances_px(params: np.ndarray) -> np.ndarray:
        off = offsets(params)
        return np.hypot(off[:n], off[n:]) * pixel_sigma

    def rms_px(distances: np.ndarray) -> float:
        """The pixel error of the points that fit best, the worst tenth left out."""
        return float(np.sqrt(np.mean(np.sort(distances)[:kept] ** 2)))

    def solve(guess: np.ndarray, iterations: int) -> OptimizeResult | None:
        guess = np.clip(guess, lows + 1e-6, highs - 1e-6)
        try:
            # Dogbox, not the reflective trust region: a throw seen from its start holds the lag
            # at its bound of 0, where the reflective steps shrink (2.5 times the evaluations).
            return least_squares(
                residuals,
                guess,
                bounds=(lows, highs),
                method="dogbox",
                x_scale="jac",
                max_nfev=iterations,
            )
        except (ValueError, np.linalg.LinAlgError):
            return None

    x_start, y_start, vy_start = start
    best = None
    for lag in (0.0,) if seen_at_launch else (0.0, 0.4, 1.2):
        # Begin from the apex rule: a throw seen late was at most a hand's speed at its start.
        vy0 = float(np.clip(vy_start + G * lag, *BOUNDS["vy"]))
        y0 = y_start + (vy_start * -lag) + 0.5 * G * lag**2
        result = solve(np.array([x_start, y0, 0.0, vy0, 1.0, 3.0, lag]), FIRST_LOOK_ITERATIONS)
        if (
            result is not None
            and result.status == 0
            and rms_px(distances_px(result.x)) <= HOPELESS * acceptable_px
        ):
            # Not done yet, and a throw may fit: on from where it got to.
            result = solve(result.x, MAX_ITERATIONS - FIRST_LOOK_ITERATIONS) or result
        if result is not None and (best is None or result.cost < best.cost):
            best = result
    if best is None or not np.all(np.isfinite(best.x)):
        return None
    distances = distances_px(best.x)
    rms = rms_px(distances)
    sigma_x, sigma_y = _sigmas(best.jac, best.cost, n)
    if not (math.isfinite(sigma_x) and math.isfinite(sigma_y) and math.isfinite(rms)):
        return None  # a degenerate fit says nothing about where the throw came from
    x0, y0, vx, vy, vz, tau, lag = (float(v) for v in best.x)
    worst = np.argsort(distances)[kept:]
    far = max(OUTLIER_FACTOR * rms, 2 * pixel_sigma)
    outliers = tuple(sorted(int(i) for i in worst if distances[i] > far))
    return Flight(x0, y0, vx, vy, vz, tau, lag, rms, sigma_y, sigma_x, outliers)


def _sigmas(jacobian: np.ndarray, cost: float, n: int) -> tuple[float, float]:
    """Standard errors of the launch X and height from the fit's Jacobian (scaled by its own
    residual: a ragged track says it is less sure)."""
    dof = max(2 * n - 7, 1)
    variance = 2 * cost / dof
    try:
        covariance = np.linalg.pinv(jacobian.T @ jacobian) * max(variance, 0.25)
    except np.linalg.LinAlgError:
        return math.inf, math.inf
    x, y = float(covariance[0, 0]), float(covariance[1, 1])
    if not (math.isfinite(x) and math.isfinite(y)):
        return math.inf, math.inf
    return math.sqrt(max(x, 0.0)), math.sqrt(max(y, 0.0))


__all__ = ["BOUNDS", "Flight", "fit_flight"]
