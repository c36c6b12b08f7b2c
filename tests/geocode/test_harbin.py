"""The index of the bundled Harbin extract: real districts, streets and intersections."""

from __future__ import annotations

import numpy as np

from jingwu.geocode import Geocoder
from jingwu.geocode.boundaries import contains


def test_harbin_has_its_five_districts_and_their_street_offices(harbin: Geocoder) -> None:
    areas = harbin.boundaries()
    assert {name for name, level, _ in areas if level == 6} == {
        "道里区",
        "道外区",
        "南岗区",
        "松北区",
        "香坊区",
    }
    assert sum(1 for _, level, _ in areas if level == 8) >= 70


def test_every_district_polygon_holds_its_own_label_point(harbin: Geocoder) -> None:
    # Label nodes of the OSM relations (place=city nodes), as in the extract.
    labels = {
        "道里区": (126.6133114, 45.7538705),
        "南岗区": (126.5919596, 45.6991743),
        "香坊区": (126.6569134, 45.7061795),
    }
    rings = {name: r for name, level, r in harbin.boundaries() if level == 6}
    for name, (lon, lat) in labels.items():
        assert contains(rings[name], np.array([lon]), np.array([lat])).tolist() == [True], name


def test_a_street_with_its_district_comes_first(harbin: Geocoder) -> None:
    top = harbin.search("哈尔滨市南岗区红军街")[0]
    assert (top.label, top.kind, top.district) == ("红军街", "street", "南岗区")
    assert harbin.search("道里区中央大街")[0].label == "中央大街"
    assert harbin.search("南岗红军街")[0].district == "南岗区"  # the district without 区


def test_an_intersection_in_harbin_is_one_point_in_either_order(harbin: Geocoder) -> None:
    a = harbin.search("南岗区红军街与邮政街交口")[0]
    b = harbin.search("邮政街和红军街")[0]
    assert a.kind == "crossing" and (a.lat, a.lon) == (b.lat, b.lon)


def test_reverse_in_harbin_names_a_street_and_a_district(harbin: Geocoder) -> None:
    top = harbin.search("南岗区红军街")[0]
    place = harbin.reverse(top.lat, top.lon)
    assert place.district == "南岗区"
    assert place.street is not None and place.street.distance_m < 5
    assert place.label.startswith("南岗区")
