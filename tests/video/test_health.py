"""The picture judge on made-up pictures: black after a while, frozen after a while (a repeating
cycle too), back to online at the first picture that is neither; a dark street is not black."""

from __future__ import annotations

import numpy as np

from jingwu.domain.cameras import CameraState
from jingwu.video.health import BLACK_AFTER_S, FROZEN_AFTER_S, PictureJudge

rng = np.random.default_rng(7)


def _moving(i: int) -> np.ndarray:
    picture = np.full((90, 160), 90, np.uint8)
    picture[30:50, (i * 7) % 140 : (i * 7) % 140 + 20] = 220  # a bright car crossing
    return picture


def test_black_and_frozen_need_time_and_motion_brings_the_camera_back() -> None:
    judge = PictureJudge()
    assert judge.judge(0, _moving(0)) is CameraState.ONLINE
    black = np.full((90, 160), 12, np.uint8)
    states = [judge.judge(1 + t, black) for t in range(int(BLACK_AFTER_S) + 2)]
    assert states[0] is CameraState.ONLINE and states[-1] is CameraState.BLACK
    assert judge.judge(10, _moving(1)) is CameraState.ONLINE
    still = _moving(2)
    states = [judge.judge(11 + t, still) for t in range(int(FROZEN_AFTER_S) + 2)]
    assert states[-2] is CameraState.ONLINE or states[-1] is CameraState.FROZEN
    assert states[-1] is CameraState.FROZEN
    assert judge.judge(30, _moving(3)) is CameraState.ONLINE


def test_a_two_picture_cycle_is_frozen_but_a_noisy_quiet_street_is_not() -> None:
    judge = PictureJudge()
    a, b = _moving(4), _moving(9)
    states = [judge.judge(t, a if t % 2 else b) for t in range(int(FROZEN_AFTER_S) + 4)]
    assert states[-1] is CameraState.FROZEN
    quiet = PictureJudge()
    night = np.full((90, 160), 30, np.float32)
    night[10:14, 50:54] = 250  # a street lamp
    for t in range(20):
        noisy = np.clip(night + rng.normal(0, 3, night.shape), 0, 255).astype(np.uint8)
        assert quiet.judge(t, noisy) is CameraState.ONLINE  # sensor noise moves; lamps are not black
