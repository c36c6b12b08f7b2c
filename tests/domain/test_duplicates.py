from datetime import UTC, datetime, timedelta

import pytest

from jingwu.domain.duplicates import (
    DUPLICATE_RADIUS_M,
    DUPLICATE_WINDOW,
    DuplicateCandidate,
    likely_duplicates,
)
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Incident
from jingwu.domain.status import IncidentStatus, SourceChannel

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
HERE = GeoPoint(45.7560, 126.6420)
# One thousandth of a degree of latitude is about 111 m.
M_PER_MILLIDEGREE = 111.2


def incident(
    incident_id: str,
    *,
    north_m: float = 0.0,
    after: timedelta = timedelta(0),
    type_code: str = "order.fight",
    status: IncidentStatus = IncidentStatus.PENDING,
) -> Incident:
    return Incident(
        id=incident_id,
        type_code=type_code,
        priority=2,
        location=GeoPoint(HERE.lat + north_m / M_PER_MILLIDEGREE / 1000, HERE.lon),
        source=SourceChannel.CALL_110,
        status=status,
        created_at=T0 + after,
    )


def ids(found: list[DuplicateCandidate]) -> list[str]:
    return [c.incident.id for c in found]


def test_duplicates_are_nearby_open_reports_of_the_same_type_nearest_first() -> None:
    me = incident("me")
    others = [
        incident("far", north_m=300),
        incident("near", north_m=40),
        incident("other-type", north_m=10, type_code="crim.robbery"),
        incident("closed", north_m=10, status=IncidentStatus.CLOSED),
        incident("merged", north_m=10, status=IncidentStatus.MERGED),
        incident("on-scene", north_m=150, status=IncidentStatus.ON_SCENE),
        me,
    ]
    found = likely_duplicates(me, others)
    assert ids(found) == ["near", "on-scene", "far"]
    assert found[0].distance_m == pytest.approx(40.0, abs=1.0)


def test_radius_is_inclusive_and_a_step_beyond_it_is_not_a_duplicate() -> None:
    me = incident("me")
    inside = incident("inside", north_m=DUPLICATE_RADIUS_M - 1)
    outside = incident("outside", north_m=DUPLICATE_RADIUS_M + 5)
    assert ids(likely_duplicates(me, [inside, outside])) == ["inside"]


def test_window_reaches_both_before_and_after_the_incident() -> None:
    me = incident("me")
    others = [
        incident("earlier", north_m=20, after=-DUPLICATE_WINDOW),
        incident("later", north_m=30, after=DUPLICATE_WINDOW),
        incident("too-early", north_m=5, after=-DUPLICATE_WINDOW - timedelta(seconds=1)),
        incident("too-late", north_m=5, after=DUPLICATE_WINDOW + timedelta(seconds=1)),
    ]
    assert ids(likely_duplicates(me, others)) == ["earlier", "later"]


def test_equally_near_candidates_are_ordered_by_time_then_id() -> None:
    me = incident("me")
    others = [
        incident("b", north_m=50, after=timedelta(minutes=2)),
        incident("c", north_m=50, after=timedelta(minutes=1)),
        incident("a", north_m=50, after=timedelta(minutes=2)),
    ]
    assert ids(likely_duplicates(me, others)) == ["c", "a", "b"]
