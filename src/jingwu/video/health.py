"""Whether a camera's picture is usable, judged on small grey copies of its keyframes: black (a
covered lens, a dead sensor) or frozen (an encoder that repeats one picture). Pure: the reader
hands in each picture with its time.

A picture must stay black or unchanged for a while before the state changes, and the state
comes back to online at the first picture that is neither: a dark street at night is not black
(it has lights), and a quiet street is not frozen (sensor noise changes every picture)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from jingwu.domain.cameras import CameraState

BLACK_MEAN = 20.0  # mean luma (0–255) at or below which, with little spread, a picture is black
BLACK_SPREAD = 6.0
FROZEN_DIFF = 0.3  # mean absolute luma change between pictures below which nothing moved
BLACK_AFTER_S = 3.0
FROZEN_AFTER_S = 6.0
RECENT = 3


@dataclass(slots=True)
class PictureJudge:
    """Feed it each judged picture; it says the camera's state by its picture."""

    black_since: float | None = None
    still_since: float | None = None
    # The last few different pictures: a picture equal to any of them is "nothing moved", so an
    # encoder stuck repeating a short cycle of pictures counts as frozen too.
    recent: deque[npt.NDArray[np.float32]] = field(default_factory=lambda: deque(maxlen=RECENT))

    def judge(self, t: float, gray: npt.NDArray[np.uint8]) -> CameraState:
        picture = gray.astype(np.float32)
        dark = float(picture.mean()) <= BLACK_MEAN and float(picture.std()) <= BLACK_SPREAD
        self.black_since = (self.black_since if self.black_since is not None else t) if dark else None
        same = any(
            seen.shape == picture.shape and float(np.abs(picture - seen).mean()) < FROZEN_DIFF
            for seen in self.recent
        )
        self.still_since = (self.still_since if self.still_since is not None else t) if same else None
        if not same:
            self.recent.append(picture)
        if self.black_since is not None and t - self.black_since >= BLACK_AFTER_S:
            return CameraState.BLACK
        if self.still_since is not None and not dark and t - self.still_since >= FROZEN_AFTER_S:
            return CameraState.FROZEN
        return CameraState.ONLINE

    def reset(self) -> None:
        self.black_since = self.still_since = None
        self.recent.clear()


__all__ = ["BLACK_AFTER_S", "FROZEN_AFTER_S", "PictureJudge"]
