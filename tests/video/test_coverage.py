"""Street coverage, blind spots and camera placement: a hand-made crossing whose figures are worked
out by hand below, and the real Harbin streets and buildings.

The crossing, in metres about FRAME (45.75 N, 126.63 E): 'A街' runs west–east along y = 0 and
'B路' south–north along x = 0, each from -100 to 100 and split at the junction into two 100 m
pieces (ten 10 m samples each, midpoints at ±5, ±15 … ±95). A building fills x ∈ [-20, -10], y ∈ [-30, -5].

Camera c1 at (-50, 4) looks east (90°, fov 90°, range 60 m): on A街 it sees the midpoints -45 … 5
(the range ends at x = 9.87); on B路 it would see y = -25 … 35 (|y - 4| ≤ 33.17), but the building
hides y = -25 and -15: 6 + 5 samples, 110 m. Camera c2 at (60, 60) (range 50 m) reaches nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jingwu.domain.camera_sight import LocalFrame
from jingwu.domain.cameras import Camera, CameraKind, CameraOwner, CameraView
from jingwu.domain.geo import GeoPoint
from jingwu.geocode.buildings import Buildings, load_buildings
from jingwu.routing import RoadNetwork
from jingwu.settings import bundled_osm_file
from jingwu.video.coverage import (
    Request,
    Streets,
    blind_spots,
    blind_spots_geojson,
    street_coverage,
    suggest_cameras,
    suggestions_geojson,
)

FRAME = LocalFrame(GeoPoint(45.75, 126.63))


def lonlat(x: float, y: float) -> tuple[float, float]:
    p = FRAME.to_geo(x, y)
    return p.lon, p.lat


def camera(cid: str, x: float, y: float, heading: float, fov: float, range_m: float) -> Camera:
    return Camera(
        id=cid,
        name=cid,
        kind=CameraKind.FIXED,
        stream_url="rtsp://cam/1",
        station_id=None,
        owner=CameraOwner.POLICE,
        position=FRAME.to_geo(x, y),
        view=CameraView(heading_deg=heading, fov_deg=fov, range_m=range_m),
    )


STREETS = Streets.from_pieces(
    [
        ("A街", [lonlat(-100, 0), lonlat(0, 0)]),
        ("A街", [lonlat(0, 0), lonlat(100, 0)]),
        ("B路", [lonlat(0, -100), lonlat(0, 0)]),
        ("B路", [lonlat(0, 0), lonlat(0, 100)]),
    ]
)
BUILDING = Buildings.from_rings([[lonlat(-20, -30), lonlat(-10, -30), lonlat(-10, -5), lonlat(-20, -5)]])
AREA = (*lonlat(-150, -150), *lonlat(150, 150))
CAMERAS = [camera("c1", -50, 4, 90, 90, 60), camera("c2", 60, 60, 225, 90, 50)]
#: Three incidents at (78, 0), on A街's east half: shared over the samples 35 … 95 (within 50 m)
#: in proportion to 1 - d/50: 1.4, 3.4, 5.4, 7.4, 9.4, 8.6, 6.6 (sum 42.2), nearest to 75.
INCIDENTS = [FRAME.to_geo(78, 0)] * 3


def test_coverage_per_camera_and_overall_match_the_hand_count() -> None:
    cov = street_coverage(STREETS, AREA, CAMERAS, BUILDING)
    assert cov.total_m == pytest.approx(400.0)
    assert cov.per_camera_m == {"c1": pytest.approx(110.0), "c2": 0.0}
    assert cov.covered_m == pytest.approx(110.0)
    assert cov.ratio == pytest.approx(0.275)


def test_without_the_building_c1_also_sees_the_two_samples_it_hid() -> None:
    empty = Buildings.from_rings([])
    assert street_coverage(STREETS, AREA, CAMERAS, empty).per_camera_m["c1"] == pytest.approx(130.0)


def test_the_layer_merges_samples_into_covered_and_uncovered_stretches() -> None:
    layer = street_coverage(STREETS, AREA, CAMERAS, BUILDING).geojson()
    got = sorted(
        (f["properties"]["name"], f["properties"]["covered"], round(f["properties"]["length_m"]))
        for f in layer["features"]
    )
    assert got == sorted(
        [
            ("A街", False, 50),  # -100 … -50
            ("A街", True, 50),  # -50 … 0, c1
            ("A街", True, 10),  # 0 … 10, c1
            ("A街", False, 90),
            ("B路", False, 90),  # -100 … -10: the building hides -30 … -10 from c1
            ("B路", True, 10),
            ("B路", True, 40),
            ("B路", False, 60),
        ]
    )
    first = layer["features"][0]
    assert first["geometry"]["type"] == "LineString"
    assert first["geometry"]["coordinates"][0] == pytest.approx(list(lonlat(-100, 0)), abs=1e-6)
    assert first["geometry"]["coordinates"][-1] == pytest.approx(list(lonlat(-50, 0)), abs=1e-6)
    assert all(
        f["properties"]["camera_ids"] == ["c1"] for f in layer["features"] if f["properties"]["covered"]
    )


def test_blind_spots_are_ranked_by_incidents_and_requests_then_length() -> None:
    # 150 m cells: A街 west (-1, 0) 50 m; A街 east and B路 north (0, 0) 90 + 60 m; B路 south (0, -1) 90 m.
    cov = street_coverage(STREETS, AREA, CAMERAS, BUILDING)
    spots = blind_spots(cov, INCIDENTS, [Request(FRAME.to_geo(0, -80), 1.0)])
    assert [(round(s.length_m), s.incidents) for s in spots] == [(150, 3), (90, 0), (50, 0)]
    assert [s.weight for s in spots] == pytest.approx([1.5 + 3.0, 0.9 + 1.0, 0.5])
    assert spots[0].streets == ("A街", "B路")
    assert spots[0].label_zh == "A街、B路一带监控盲区"
    assert spots[1].label == "blind spot on B路" and spots[1].label_zh == "B路监控盲区"
    cx, cy = FRAME.to_xy(spots[0].centroid.lat, spots[0].centroid.lon)
    assert (cx, cy) == pytest.approx(((55 * 9) / 15, (70 * 6) / 15), abs=0.01)  # length-weighted
    collection = blind_spots_geojson(spots)
    assert collection["features"][0]["geometry"]["type"] == "MultiLineString"
    assert collection["features"][0]["properties"]["incidents"] == 3
    # Without the incidents and the request, length alone ranks them.
    assert [round(s.weight, 3) for s in blind_spots(cov)] == [1.5, 0.9, 0.5]


def test_greedy_placement_takes_the_views_a_hand_count_says() -> None:
    """From P2 (80, 0) looking west (fov 80°) the samples 25 … 75 are seen: 0.6 for 60 m plus
    3 x 27 / 42.2 of the incidents; then looking east 85, 95: 0.2 + 3 x 15.2 / 42.2; then from
    the junction looking south the five open samples -15 … -55: 0.5. The junction looking east
    (0.1 + 3 x 9.8 / 42.2 at first) and P3 (-80, 0) (0.3 at best) never lead."""
    cov = street_coverage(STREETS, AREA, CAMERAS, BUILDING)
    picks = suggest_cameras(
        cov,
        BUILDING,
        k=4,
        incidents=INCIDENTS,
        fov_deg=80.0,
        candidates=[FRAME.to_geo(0, 0), FRAME.to_geo(80, 0), FRAME.to_geo(-80, 0)],
    )
    where = [(round(FRAME.to_xy(p.position.lat, p.position.lon)[0]), p.view.heading_deg) for p in picks]
    assert where[:3] == [(80, 270.0), (80, 90.0), (0, 180.0)]
    assert [p.weight_added for p in picks[:3]] == pytest.approx([0.6 + 81 / 42.2, 0.2 + 45.6 / 42.2, 0.5])
    assert [p.metres_added for p in picks[:3]] == pytest.approx([60.0, 20.0, 50.0])
    assert [p.incidents_added for p in picks[:3]] == [3, 0, 0]
    assert picks[0].street == "A街" and picks[2].street == "B路"
    assert picks[0].view.range_m == 60.0 and picks[0].view.height_m == 6.0
    points = suggestions_geojson(picks)["features"]
    assert points[0]["geometry"]["type"] == "Point" and points[0]["properties"]["heading_deg"] == 270.0


def test_placement_from_its_own_candidates_goes_for_the_incidents_first() -> None:
    cov = street_coverage(STREETS, AREA, CAMERAS, BUILDING)
    picks = suggest_cameras(cov, BUILDING, k=10, incidents=INCIDENTS)
    assert picks and picks[0].incidents_added == 3 and picks[0].street == "A街"
    assert picks[0].weight_added >= 1.9
    assert sum(p.metres_added for p in picks) <= 290.0 + 1e-6  # never more than was uncovered
    assert [p.weight_added for p in picks] == sorted((p.weight_added for p in picks), reverse=True)


@pytest.fixture(scope="module")
def harbin_buildings(graph_cache_dir: Path) -> Buildings:
    return load_buildings(bundled_osm_file(), graph_cache_dir)


@pytest.fixture(scope="module")
def harbin_streets(network: RoadNetwork) -> Streets:
    return Streets.from_geojson(network.road_geojson())


def test_a_few_cameras_in_harbin_cover_some_street_without_a_pathological_wait(
    network: RoadNetwork, harbin_streets: Streets, harbin_buildings: Buildings
) -> None:
    centre = LocalFrame(GeoPoint(45.75, 126.63))
    cameras = []
    for i, (dx, dy) in enumerate([(0, 0), (300, 0), (-300, 200), (0, -400), (400, 400)]):
        spot = centre.to_geo(dx, dy)
        road = network.snap(spot.lat, spot.lon)
        cameras.append(
            Camera(
                id=f"h{i}",
                name=f"h{i}",
                kind=CameraKind.FIXED,
                stream_url="rtsp://cam/1",
                station_id=None,
                owner=CameraOwner.POLICE,
                position=GeoPoint(road.lat, road.lon),
                view=CameraView(heading_deg=0.0, fov_deg=360.0, range_m=80.0),
            )
        )
    area = (*lonlat(-1000, -1000), *lonlat(1000, 1000))
    start = time.perf_counter()
    cov = street_coverage(harbin_streets, area, cameras, harbin_buildings)
    spots = blind_spots(cov, [centre.to_geo(50, 50)])
    picks = suggest_cameras(cov, harbin_buildings, k=5)
    elapsed = time.perf_counter() - start
    assert cov.total_m > 20_000 and 0 < cov.covered_m < cov.total_m
    assert sum(m > 0 for m in cov.per_camera_m.values()) >= 3
    assert spots and len(picks) == 5
    # A tenth of a second alone, 5.5 s once under a loaded suite: the bound catches a blow-up only.
    assert elapsed < 30.0
