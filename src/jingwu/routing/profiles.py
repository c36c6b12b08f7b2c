"""Time-of-day speed profiles: how much slower (or faster) each road class drives at each hour.

An operator who knows the city's rush hours sets, per road class, 24 factors on the class's usual
speed (0.6 at 08:00 on primaries: 60 % of the usual speed, so 1/0.6 of the time). Classes left out
keep factor 1, or the ``"*"`` entry's factors when there is one. Turn costs are not scaled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from jingwu.errors import ValidationFailed
from jingwu.routing.speeds import ROAD_CLASSES

HOURS = 24
#: Outside this a factor is a typo, not traffic: 0.05 is walking pace on an arterial.
MIN_FACTOR, MAX_FACTOR = 0.05, 2.0
DEFAULT_KEY = "*"


class SpeedProfile:
    """Speed factors, ``factors[hour, class]``; immutable once parsed."""

    __slots__ = ("factors",)

    def __init__(self, factors: NDArray[np.float64]) -> None:
        self.factors = factors
        self.factors.setflags(write=False)

    @classmethod
    def parse(cls, spec: Mapping[str, Sequence[float]]) -> SpeedProfile:
        """From ``{class: [24 factors]}``; a clear error naming the entry at fault otherwise."""
        factors = np.ones((HOURS, len(ROAD_CLASSES)), np.float64)
        unknown = sorted(set(spec) - set(ROAD_CLASSES) - {DEFAULT_KEY})
        if unknown:
            raise ValidationFailed(
                f"speed profile: unknown road class {unknown[0]!r} "
                f"(one of {', '.join(ROAD_CLASSES)}, or '*')",
                code="bad_speed_profile",
                key=unknown[0],
            )
        for key in sorted(spec, key=lambda k: k != DEFAULT_KEY):  # "*" first, classes override it
            values = np.asarray(list(spec[key]), dtype=np.float64)
            if values.shape != (HOURS,) or not np.all(np.isfinite(values)):
                raise ValidationFailed(
                    f"speed profile: {key!r} needs {HOURS} numbers, one per hour from 00:00",
                    code="bad_speed_profile",
                    key=key,
                )
            if values.min() < MIN_FACTOR or values.max() > MAX_FACTOR:
                raise ValidationFailed(
                    f"speed profile: {key!r} factors must lie within {MIN_FACTOR}..{MAX_FACTOR}",
                    code="bad_speed_profile",
                    key=key,
                )
            if key == DEFAULT_KEY:
                factors[:, :] = values[:, None]
            else:
                factors[:, ROAD_CLASSES.index(key)] = values
        return cls(factors)

    def time_scale(self, hour: int, piece_class: NDArray[np.int64]) -> NDArray[np.float64]:
        """What an edge's time is multiplied by at ``hour``, for edges of the given classes."""
        if not 0 <= hour < HOURS:
            raise ValidationFailed(f"hour {hour} is not 0..23", code="bad_hour", hour=hour)
        scale: NDArray[np.float64] = 1.0 / self.factors[hour][piece_class]
        return scale

    def slowest(self) -> float:
        """The largest time scale of any class at any hour."""
        return float(1.0 / self.factors.min())
