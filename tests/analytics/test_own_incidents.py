"""The bureau's incidents as analytic records: local times, stages, cases, urban districts."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from jingwu.analytics.own_incidents import incident_records
from jingwu.domain.incident_types import INCIDENT_TYPES


def _row(incident_id: str, station: str, **extra: object) -> dict[str, object]:
    return {
        "id": incident_id,
        "type_code": "crim.theft",
        "priority": 2,
        "lat": 45.75,
        "lon": 126.64,
        "source": "call_110",
        "station_id": station,
        "status": "closed",
        "created_at": datetime(2025, 6, 30, 17, 30, tzinfo=UTC),
        "stage_times": {"dispatched": "2025-06-30T17:31:00+00:00", "on_scene": "2025-06-30T17:36:30+00:00"},
        "disposition": None,
        **extra,
    }


def test_times_are_local_cases_count_and_urban_follows_the_named_districts() -> None:
    rows = [
        _row("a", "nangang", case_filed_at=datetime(2025, 7, 1, 2, 0, tzinfo=UTC), case_solved_at=None),
        _row("b", "songbei"),
        _row("c", "nangang", status="merged"),
    ]
    flat = incident_records(
        rows,
        types=INCIDENT_TYPES,
        districts={"nangang": "南岗区", "songbei": "松北区"},
        zone=ZoneInfo("Asia/Shanghai"),
        urban_districts=frozenset({"南岗区"}),
    )
    records = flat.table.to_pylist()
    assert flat.merged == 1 and [r["record_id"] for r in records] == ["a", "b"]
    first = records[0]
    assert first["occurred_at"] == datetime(2025, 7, 1, 1, 30)  # 17:30 UTC is 01:30 the next day here
    assert first["arrive_at"] == datetime(2025, 7, 1, 1, 36, 30) and first["district"] == "南岗区"
    assert (first["filed_at"], first["solved"]) == (datetime(2025, 7, 1, 10, 0), False)
    assert records[1]["solved"] is None  # no case: nothing to solve
    assert [r["urban"] for r in records] == [True, False]
    unknown = incident_records(rows[:1], types=INCIDENT_TYPES, districts={}, zone=ZoneInfo("Asia/Shanghai"))
    assert unknown.table.to_pylist()[0]["urban"] is None
