"""Road classes, speeds and one-way rules (pure functions)."""

from __future__ import annotations

import pytest

from jingwu.routing.speeds import (
    SPEED_KMH,
    URBAN_CAP_KMH,
    oneway_direction,
    parse_maxspeed,
    road_class,
    speed_kmh,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50", 50.0),
        ("50 km/h", 50.0),
        ("30 mph", 30 * 1.609344),
        ("60;40", 60.0),
        (None, None),
        ("none", None),
        ("signals", None),
        ("CN:urban", None),
        ("0", None),
    ],
)
def test_parse_maxspeed_common_forms_parsed_or_none(value: str | None, expected: float | None) -> None:
    result = parse_maxspeed(value)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_speed_kmh_no_maxspeed_uses_class_default() -> None:
    assert speed_kmh("residential", None) == SPEED_KMH["residential"]
    assert speed_kmh("primary", "signals") == SPEED_KMH["primary"]


def test_speed_kmh_posted_limit_honoured_but_capped_for_the_city() -> None:
    assert speed_kmh("residential", "20") == 20.0
    assert speed_kmh("trunk", "120") == URBAN_CAP_KMH


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"oneway": "yes"}, 1),
        ({"oneway": "1"}, 1),
        ({"oneway": "true"}, 1),
        ({"oneway": "-1"}, -1),
        ({"junction": "roundabout"}, 1),
        ({}, 0),
        ({"oneway": "no"}, 0),
    ],
)
def test_oneway_direction_tags_give_direction(tags: dict[str, str], expected: int) -> None:
    assert oneway_direction(tags, "residential") == expected


def test_oneway_direction_motorway_implied_unless_tagged_no() -> None:
    assert oneway_direction({}, "motorway") == 1
    assert oneway_direction({"oneway": "no"}, "motorway") == 0


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"highway": "residential"}, "residential"),
        ({"highway": "footway"}, None),
        ({"highway": "service", "service": "parking_aisle"}, None),
        ({"highway": "service", "service": "driveway"}, None),
        ({"highway": "service", "service": "alley"}, "service"),
        ({"highway": "pedestrian", "area": "yes"}, None),
        ({"highway": "residential", "access": "private"}, None),
        ({"highway": "residential", "access": "no", "motor_vehicle": "yes"}, "residential"),
        ({"highway": "tertiary", "motor_vehicle": "no"}, None),
    ],
)
def test_road_class_drivability_rules_applied(tags: dict[str, str], expected: str | None) -> None:
    assert road_class(tags) == expected
