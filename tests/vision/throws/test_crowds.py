"""Falls the tracker made out of a crowd of moving things: tracks captured from generated
scenes that the detector once reported as throws (a cloud's edge drifting that leapt to one blob
far below it; one snowflake falling steadily among others), and the throws that must still be
found among them."""

from __future__ import annotations

from jingwu.vision.throws.calibration import FacadeGeometry, parse_calibration
from jingwu.vision.throws.detector import ThrowDetector
from jingwu.vision.throws.motion import Blob
from jingwu.vision.throws.physics import judge
from jingwu.vision.throws.tracks import Track

FPS = 25.0
WIDTH, HEIGHT = 1920, 1080

#: Calibrations of the two scenes (27 floors; a tower seen from its foot, its top cut by the frame).
CLOUDY_TOWER = {
    "corners_px": [[659.0, 1573.9], [1569.7, 1565.5], [1017.7, -9.3], [893.5, 20.5]],
    "floors": 27,
    "columns": 3,
    "floor_height_m": 2.801,
}
SNOWY_TOWER = {
    "corners_px": [[558.7, 1399.9], [1260.5, 1365.6], [1049.9, 157.1], [825.8, 102.5]],
    "floors": 27,
    "columns": 5,
    "floor_height_m": 2.893,
    "protrusion_depth_m": 0.851,
}

#: (frame, u, v, size): a cloud's edge drifting right for 22 frames, then a blob 22 px below.
DRIFT_THEN_LEAP = [
    (63, 1072.2, 107.9, 15), (65, 1076.4, 108.8, 12), (67, 1079.7, 107.8, 16), (69, 1083.3, 108.7, 12),
    (70, 1084.1, 107.0, 19), (72, 1088.3, 107.5, 14), (75, 1094.7, 108.2, 16), (76, 1095.7, 106.7, 19),
    (78, 1099.7, 108.5, 11), (79, 1101.1, 107.3, 16), (81, 1105.0, 108.0, 11), (82, 1105.6, 107.3, 17),
    (84, 1109.5, 109.2, 10), (85, 1109.6, 109.3, 13), (93, 1111.5, 131.0, 3),
]  # fmt: skip
#: A snowflake near the lens, 2 px a frame down the top of the picture: as fast as a bag at its
#: terminal speed would be seen falling from the 22nd floor.
STEADY_FLAKE = [
    (513, 968.9, 230.8, 7), (514, 967.3, 233.5, 6), (516, 965.6, 237.6, 6), (518, 964.8, 238.7, 12),
    (520, 961.6, 244.8, 8), (521, 961.3, 245.8, 10), (522, 959.3, 249.3, 7), (524, 958.1, 253.0, 8),
    (525, 957.8, 253.5, 10), (526, 957.3, 254.4, 12), (527, 955.2, 259.1, 8), (528, 954.7, 261.0, 6),
    (529, 954.1, 263.8, 7), (530, 953.2, 265.7, 7), (531, 952.5, 267.4, 6), (532, 952.1, 269.2, 6),
    (533, 951.7, 271.9, 7), (534, 950.9, 273.8, 7), (535, 950.5, 275.6, 8), (536, 950.1, 277.5, 7),
    (537, 949.6, 279.4, 8), (538, 949.3, 281.4, 6), (539, 949.1, 283.4, 6), (540, 948.5, 286.2, 6),
    (541, 948.2, 288.3, 7), (542, 947.6, 289.6, 8), (543, 947.4, 291.3, 6), (544, 947.2, 293.3, 6),
]  # fmt: skip


def track(points: list[tuple[int, float, float, int]], ident: int = 1) -> Track:
    made = Track(ident)
    for frame, u, v, size in points:
        made.add(frame, Blob(u, v, size * size // 2, size, size, 30.0))
    return made


def detector(facade: dict[str, object]) -> ThrowDetector:
    return ThrowDetector(parse_calibration({"facade": facade}), WIDTH, HEIGHT, FPS)


def snow_beside(points: list[tuple[int, float, float, int]], count: int = 5) -> list[Track]:
    """Flakes falling 1.5–2.5 px a frame, each passing 15–55 px beside the track."""
    first, last = points[0][0], points[-1][0]
    _, u0, v0, _ = points[0]
    flakes = []
    for k in range(count):
        speed = 1.5 + 0.25 * k
        side = (15 + 10 * k) * (1 if k % 2 else -1)
        flakes.append(
            track(
                [(f, u0 + side, v0 - 10 + speed * (f - first), 5) for f in range(first - 5, last + 5)],
                100 + k,
            )
        )
    return flakes


def test_a_drift_that_leaps_to_one_blob_below_is_no_fall() -> None:
    geometry = FacadeGeometry.build(parse_calibration({"facade": CLOUDY_TOWER}), WIDTH, HEIGHT)
    verdict = judge(track(DRIFT_THEN_LEAP), geometry, FPS)
    assert not verdict.is_throw
    assert verdict.reason == "leap: the fall rests on its last point"
    # Without the leap it moves sideways only.
    assert judge(track(DRIFT_THEN_LEAP[:-1]), geometry, FPS).reason == "fell less than two floors"


def test_a_steady_fall_in_clear_air_is_a_bag_at_its_terminal_speed() -> None:
    found = detector(SNOWY_TOWER)
    (event,) = found._judge([track(STEADY_FLAKE)])
    assert event.frame == 513 and event.floor is not None


def test_a_steady_fall_among_falling_snow_raises_nothing() -> None:
    found = detector(SNOWY_TOWER)
    found.ended.extend(snow_beside(STEADY_FLAKE))
    assert found._judge([track(STEADY_FLAKE)]) == []
    assert found.rejected == {"crowd": 1}


def test_snow_falling_elsewhere_or_clouds_drifting_beside_make_no_crowd() -> None:
    found = detector(SNOWY_TOWER)
    far = snow_beside(STEADY_FLAKE)
    for flake in far:
        flake.us[:] = [u + 400 for u in flake.us]
    drifting = [
        track([(f, 900 + 2 * (f - 505) + 20 * k, 240 + 30 * k, 9) for f in range(505, 550)], 200 + k)
        for k in range(4)
    ]
    found.ended.extend(far + drifting)
    assert len(found._judge([track(STEADY_FLAKE)])) == 1


def fall_from(found: ThrowDetector, floor: int, frames: range) -> list[tuple[int, float, float, int]]:
    """An object dropped from the middle window of ``floor`` at frame 300, seen at ``frames``."""
    floor_m = float(SNOWY_TOWER["floor_height_m"])  # type: ignore[arg-type]
    launch = (floor - 1) * floor_m + 1.3
    points = []
    for frame in frames:
        t = (frame - 300) / FPS
        u, v = found.geometry.to_image(0.5, launch - 4.9 * t * t, 0.3)
        points.append((frame, u, v, 6))
    return points


def test_a_throw_falling_fast_through_the_snow_is_still_reported() -> None:
    found = detector(SNOWY_TOWER)
    followed = fall_from(found, 15, range(300, 330))
    found.ended.extend(snow_beside(followed, count=8))
    (event,) = found._judge([track(followed)])
    assert (event.floor, event.column) == (15, 3)
    # Seen on every third frame only (behind the flakes), its drop down the picture is longer
    # than a flake's leaps.
    found = detector(SNOWY_TOWER)
    glimpsed = fall_from(found, 15, range(300, 336, 3))
    found.ended.extend(snow_beside(glimpsed, count=8))
    (event,) = found._judge([track(glimpsed)])
    assert (event.floor, event.column) == (15, 3)


def test_a_short_glimpse_high_up_among_snow_is_not_told_from_the_flakes() -> None:
    clear, snowy = detector(SNOWY_TOWER), detector(SNOWY_TOWER)
    glimpsed = fall_from(clear, 25, range(300, 332, 3))
    assert max(v for _, _, v, _ in glimpsed) - glimpsed[0][2] < 80
    assert len(clear._judge([track(glimpsed)])) == 1  # in clear air, a throw
    snowy.ended.extend(snow_beside(glimpsed))
    assert snowy._judge([track(glimpsed)]) == []
    assert snowy.rejected == {"crowd": 1}


def test_a_bag_falling_steadily_a_long_way_through_the_rain_is_still_reported() -> None:
    found = detector(SNOWY_TOWER)
    floor_m = float(SNOWY_TOWER["floor_height_m"])  # type: ignore[arg-type]
    # At its terminal speed of 9 m/s from above the 20th floor, followed for two seconds.
    points = []
    for i in range(50):
        u, v = found.geometry.to_image(0.3, 20 * floor_m - 9.0 * i / FPS, 0.3)
        points.append((300 + i, u, v, 8))
    assert points[-1][2] - points[0][2] > 160
    found.ended.extend(snow_beside(points, count=8))
    (event,) = found._judge([track(points)])
    assert event.frame == 300
    # Its first 1.6 s alone is a throw in clear air, but in the rain it goes too short a way
    # down the picture to be told from the drops.
    first = points[:40]
    assert points[39][2] - points[0][2] < 160
    assert len(detector(SNOWY_TOWER)._judge([track(first)])) == 1
    again = detector(SNOWY_TOWER)
    again.ended.extend(snow_beside(first, count=8))
    assert again._judge([track(first)]) == []
    assert again.rejected == {"crowd": 1}
