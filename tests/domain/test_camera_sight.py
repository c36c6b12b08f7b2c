"""Which cameras see a point: range, field of view across north, buildings in between, and the
order in which they are offered. Hand-made geometry in metres about a target in Harbin."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from jingwu.domain.camera_sight import (
    LocalFrame,
    Obstacle,
    Standing,
    off_axis_deg,
    rank_cameras,
    sight,
)
from jingwu.domain.cameras import Camera, CameraKind, CameraOwner, CameraState, CameraView
from jingwu.domain.geo import GeoPoint

TARGET = GeoPoint(45.75, 126.63)
FRAME = LocalFrame(TARGET)
#: A 20 m square building whose west wall is 30 m east of the target.
SQUARE: Obstacle = ((30.0, -10.0), (50.0, -10.0), (50.0, 10.0), (30.0, 10.0))


def at(x: float, y: float) -> GeoPoint:
    return FRAME.to_geo(x, y)


def view(heading: float, fov: float = 90.0, range_m: float = 200.0) -> CameraView:
    return CameraView(heading_deg=heading, fov_deg=fov, range_m=range_m)


def fixed(cid: str, x: float, y: float, heading: float, range_m: float = 200.0, **kw: object) -> Camera:
    return Camera(
        id=cid,
        name=cid,
        kind=CameraKind.FIXED,
        stream_url="rtsp://cam/1",
        station_id=None,
        owner=CameraOwner.POLICE,
        position=at(x, y),
        view=view(heading, range_m=range_m),
        **kw,  # type: ignore[arg-type]
    )


def mobile(cid: str, unit: str, kind: CameraKind = CameraKind.BODY) -> Camera:
    return Camera(
        id=cid,
        name=cid,
        kind=kind,
        stream_url="rtsp://cam/2",
        station_id=None,
        owner=CameraOwner.POLICE,
        unit_id=unit,
    )


def test_the_local_frame_round_trips_and_measures_metres() -> None:
    p = at(85.0, -40.0)
    x, y = FRAME.to_xy(p.lat, p.lon)
    assert (x, y) == pytest.approx((85.0, -40.0), abs=1e-6)


def test_a_camera_facing_the_target_within_range_sees_it() -> None:
    seen = sight(at(0.0, -85.0), view(0.0), TARGET)  # 85 m south, looking north
    assert seen.sees and seen.in_range and seen.in_view and not seen.occluded
    assert seen.distance_m == pytest.approx(85.0, abs=0.01)
    assert seen.bearing_deg == pytest.approx(0.0, abs=0.01)
    assert seen.why_zh == "在视野内，距离 85 m"
    assert seen.reasons == ("in view, 85 m away",)


def test_the_field_of_view_wraps_across_north() -> None:
    # The target is due north (bearing 0); a camera heading 350° with 40° sees it, 300° does not.
    assert sight(at(0.0, -50.0), view(350.0, fov=40.0), TARGET).sees
    turned = sight(at(0.0, -50.0), view(290.0, fov=40.0), TARGET)
    assert not turned.sees and not turned.in_view and turned.in_range
    assert turned.off_axis_deg == pytest.approx(70.0, abs=0.01)
    assert "不在视角内 (偏离 70°)" in turned.why_zh
    assert off_axis_deg(350.0, 10.0) == pytest.approx(20.0)
    assert off_axis_deg(10.0, 350.0) == pytest.approx(20.0)


def test_a_target_beyond_range_is_not_seen_and_says_by_how_much() -> None:
    far = sight(at(0.0, -320.0), view(0.0, range_m=200.0), TARGET)
    assert not far.sees and not far.in_range and far.in_view
    assert "超出量程 (距离 320 m > 200 m)" in far.why_zh
    assert "out of range (320 m > 200 m)" in far.reasons


def test_a_square_building_between_blocks_the_view() -> None:
    behind = sight(at(80.0, 0.0), view(270.0), TARGET, [SQUARE])  # east of the building, looking west
    assert behind.occluded and not behind.sees
    assert "被建筑遮挡" in behind.why_zh
    beside = sight(at(80.0, 40.0), view(270.0, fov=120.0), TARGET, [SQUARE])  # the ray passes north of it
    assert beside.sees


def test_a_wall_segment_blocks_as_a_building_does() -> None:
    wall: Obstacle = ((10.0, -5.0), (10.0, 5.0))
    assert sight(at(40.0, 0.0), view(270.0), TARGET, [wall]).occluded
    assert not sight(at(40.0, 30.0), view(270.0), TARGET, [wall]).occluded  # passes 2.5 m north of it


def test_a_camera_on_its_own_buildings_wall_is_not_blocked_by_it() -> None:
    # On the west wall, and a metre inside it (a registered point rarely falls exactly on the wall).
    for x in (30.0, 31.0, 29.0):
        on_wall = sight(at(x, 0.0), view(270.0), TARGET, [SQUARE])
        assert on_wall.sees, x
    # The building next door still blocks.
    other: Obstacle = ((10.0, -5.0), (20.0, -5.0), (20.0, 5.0), (10.0, 5.0))
    assert sight(at(31.0, 0.0), view(270.0), TARGET, [SQUARE, other]).occluded


def test_a_target_deep_inside_a_building_is_hidden_but_not_one_at_its_edge() -> None:
    around: Obstacle = ((-20.0, -20.0), (20.0, -20.0), (20.0, 20.0), (-20.0, 20.0))
    deep = sight(at(0.0, -60.0), view(0.0), TARGET, [around])
    assert deep.occluded and deep.inside_building and "目标在建筑内" in deep.why_zh
    doorway: Obstacle = ((-20.0, -1.0), (20.0, -1.0), (20.0, 39.0), (-20.0, 39.0))  # 1 m in
    assert sight(at(0.0, -60.0), view(0.0), TARGET, [doorway]).sees


def test_ranking_offers_seeing_then_units_then_turnable_then_occluded() -> None:
    cameras: Sequence[Camera] = [
        fixed("far-seeing", -150.0, 0.0, 90.0),
        fixed("out-of-range", 0.0, -400.0, 0.0),
        fixed("turnable", 0.0, 60.0, 0.0),  # 60 m north, looking away
        fixed("behind", 80.0, 0.0, 270.0),  # the square is in between
        fixed("near-seeing", 0.0, -40.0, 0.0),
        fixed("offline-seeing", 0.0, -20.0, 0.0, state=CameraState.OFFLINE),
        fixed("disabled", 0.0, -30.0, 0.0, enabled=False),
        mobile("body-near", "u1"),
        mobile("drone-far", "u2", CameraKind.DRONE),
        mobile("body-unknown", "u3"),
    ]
    units = {"u1": at(300.0, 400.0), "u2": at(0.0, 1500.0)}
    calls: list[float] = []

    def obstacles_for(lat: float, lon: float, radius_m: float) -> list[Obstacle]:
        assert (lat, lon) == (TARGET.lat, TARGET.lon)
        calls.append(radius_m)
        return [SQUARE]

    ranked = rank_cameras(cameras, TARGET, obstacles_for, units)
    assert [r.camera.id for r in ranked] == [
        "near-seeing",
        "far-seeing",
        "offline-seeing",  # it sees, but shows nothing now: after those with a picture
        "body-near",
        "turnable",
        "behind",
    ]
    assert [r.rank for r in ranked] == [1, 2, 3, 4, 5, 6]
    assert [r.standing for r in ranked] == [
        Standing.SEES,
        Standing.SEES,
        Standing.SEES,
        Standing.MOBILE,
        Standing.COULD_TURN,
        Standing.OCCLUDED,
    ]
    assert [r.sees for r in ranked] == [True, True, True, False, False, False]
    assert calls == [pytest.approx(152.5, abs=0.1)]  # once, out to the farthest camera's building
    body = ranked[3]
    assert body.distance_m == pytest.approx(500.0, abs=0.1)
    assert body.bearing_deg == pytest.approx((180.0 + 36.87) % 360.0, abs=0.1)
    assert body.why_zh == "执法记录仪，所在单位距离 500 m"
    assert "could be turned to it (PTZ)" in ranked[4].reasons and "不在视角内 (偏离 180°)" in ranked[4].why_zh
    assert ranked[5].why == "blocked by a building; 80 m away"
    assert "currently offline" in ranked[2].reasons


def test_ranking_without_obstacles_or_units_still_ranks_fixed_cameras() -> None:
    ranked = rank_cameras([fixed("a", 0.0, -100.0, 0.0), fixed("b", 0.0, -50.0, 0.0)], TARGET)
    assert [(r.camera.id, r.sees) for r in ranked] == [("b", True), ("a", True)]
    assert ranked[0].distance_m == pytest.approx(50.0, abs=0.01)
