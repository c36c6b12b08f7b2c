"""A synthetic city near Harbin for the hotspot tests: a few dense clusters of incidents in uniform
noise, month after month, drawn from a seeded generator so every run sees the same points.

Most clusters last the whole year; one fades out after the first months and one emerges in the
last ones (and goes on into the test month), so that weighting recent incidents has something to
find. Offsets in metres become degrees on a sphere of the mean Earth radius, near enough for data."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from jingwu.analytics.hotspots import Points

LON0, LAT0 = 126.6, 45.75
R = 6_371_008.8


def to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Metres east and north of the city centre → degrees."""
    lat = LAT0 + np.degrees(y / R)
    lon = LON0 + np.degrees(x / (R * math.cos(math.radians(LAT0))))
    return lon, lat


@dataclass(frozen=True)
class City:
    points: Points  # the training months and the test month
    train_months: tuple[str, ...]
    test_month: str
    steady: np.ndarray  # (n, 2) metres: clusters active in every month
    fading: np.ndarray  # (1, 2): active in the first months only
    emerging: np.ndarray  # (1, 2): active in the last training months and the test month

    def centres_lonlat(self, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return to_lonlat(which[:, 0], which[:, 1])


def make_city(
    seed: int = 7,
    *,
    half_side_m: float = 5_000.0,
    per_month: int = 300,
    months: int = 12,
    noise_share: float = 0.35,
    spread_m: float = 100.0,
) -> City:
    """``months`` training months from 2019-01, then the test month, in a box of ``2·half_side_m``."""
    rng = np.random.default_rng(seed)
    steady = np.array([[-3000.0, 2500.0], [1500.0, 1000.0], [-500.0, -2500.0], [3200.0, -3000.0], [0.0, 0.0]])
    fading = np.array([[-3500.0, -1000.0]])
    emerging = np.array([[2500.0, 3500.0]])
    labels = [f"2019-{m:02d}" if m <= 12 else f"2020-{m - 12:02d}" for m in range(1, months + 2)]
    xs, ys, ts = [], [], []
    for number, month in enumerate(labels):
        active = [steady]
        if number < 4:
            active.append(fading)
        if number >= months - 2:
            active.append(emerging)
        centres = np.concatenate(active)
        n_noise = round(per_month * noise_share)
        n_hot = per_month - n_noise
        which = rng.integers(0, len(centres), n_hot)
        hot = centres[which] + rng.normal(0.0, spread_m, (n_hot, 2))
        noise = rng.uniform(-half_side_m, half_side_m, (n_noise, 2))
        xy = np.concatenate([hot, noise])
        start = np.datetime64(f"{month}-01T00:00:00", "s")
        seconds = rng.integers(0, 28 * 86_400, len(xy))
        xs.append(xy[:, 0])
        ys.append(xy[:, 1])
        ts.append(start + seconds.astype("timedelta64[s]"))
    lon, lat = to_lonlat(np.concatenate(xs), np.concatenate(ys))
    points = Points(lon, lat, np.concatenate(ts))
    return City(points, tuple(labels[:-1]), labels[-1], steady, fading, emerging)
