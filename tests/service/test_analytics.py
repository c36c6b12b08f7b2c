"""The analytical store over the bureau's own incidents: months exported from the operational
database and brought up to date by what changed, the caller's stations only, imports audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from jingwu.composition import Services
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Incident
from jingwu.domain.status import IncidentStatus, SourceChannel
from jingwu.errors import NotFound, ValidationFailed
from jingwu.service.dispatching import NewIncident
from jingwu.store.db import write_transaction
from jingwu.store.history import insert_past_incidents
from tests.analytics.police_uk import Crime, write_street_csv
from tests.conftest import FakeClock, ServicesFactory

ZONE = ZoneInfo("Asia/Shanghai")  # the tests' JINGWU_TIMEZONE (the default)
TYPES = ("crim.theft.burglary", "crim.theft", "order.fight", "traffic.accident.injury")


def past_incidents(
    n: int, *, seed: int = 3, start: datetime = datetime(2024, 1, 1, tzinfo=UTC)
) -> list[Incident]:
    """``n`` closed incidents over two years in the test city: south of 45.77 the south station's."""
    rng = np.random.default_rng(seed)
    found = []
    for i in range(n):
        created = start + timedelta(seconds=int(rng.integers(0, 730 * 86400)))
        lat, lon = float(rng.uniform(45.70, 45.82)), float(rng.uniform(126.55, 126.70))
        dispatch = created + timedelta(seconds=int(rng.integers(20, 300)))
        arrive = dispatch + timedelta(seconds=int(rng.integers(60, 900)))
        found.append(
            Incident(
                id=f"h{i:05d}",
                type_code=TYPES[int(rng.integers(0, len(TYPES)))],
                priority=2,
                location=GeoPoint(lat, lon),
                source=SourceChannel.CALL_110,
                status=IncidentStatus.CLOSED,
                created_at=created,
                station_id="south" if lat < 45.77 else "north",
                stage_times={
                    IncidentStatus.DISPATCHED: dispatch,
                    IncidentStatus.ON_SCENE: arrive,
                    IncidentStatus.CLOSED: arrive + timedelta(minutes=30),
                },
            )
        )
    return found


@pytest.fixture
def services(make_services: ServicesFactory) -> Services:
    built = make_services()
    with write_transaction(built.engine) as conn:
        insert_past_incidents(conn, past_incidents(600))
    return built


def _local_month_counts(incidents: list[Incident], month: str, station: str | None = None) -> int:
    return sum(
        i.created_at.astimezone(ZONE).strftime("%Y-%m") == month
        and (station is None or i.station_id == station)
        for i in incidents
    )


def test_compstat_over_the_bureaus_incidents_counts_each_month_in_local_time(services: Services) -> None:
    history = past_incidents(600)
    table = services.analytics.compstat("2025-03", by="group", dataset="jingwu", station_ids=None)
    total = table["total"]
    assert total["current"] == _local_month_counts(history, "2025-03")
    assert total["previous"] == _local_month_counts(history, "2024-03")
    assert {r["group"] for r in table["rows"]} <= {"刑事案件", "治安案件", "交通类警情"}
    south = services.analytics.compstat("2025-03", by="station", dataset="jingwu", station_ids={"south"})
    assert [r["station"] for r in south["rows"]] == ["south"]
    assert south["total"]["current"] == _local_month_counts(history, "2025-03", "south")


def test_response_times_come_from_the_stage_times(services: Services) -> None:
    history = past_incidents(600)
    report = services.analytics.response_times("2025", dataset="jingwu", station_ids=None)
    in_2025 = [i for i in history if i.created_at.astimezone(ZONE).year == 2025]
    dispatch = sorted(
        (i.stage_times[IncidentStatus.DISPATCHED] - i.created_at).total_seconds() for i in in_2025
    )
    assert report["overall"]["call_to_dispatch"]["n"] == len(in_2025)
    assert report["overall"]["call_to_dispatch"]["p50_s"] == pytest.approx(float(np.percentile(dispatch, 50)))
    assert report["trend"]["by"] == "week"  # a year: weeks (months beyond, days under two months)


def test_new_incidents_reach_the_store_at_the_next_refresh_and_old_months_are_not_rewritten(
    services: Services, clock: FakeClock
) -> None:
    services.analytics.refresh()
    months = {p.name: p.stat().st_mtime_ns for p in services.analytics.live_folder.glob("*.parquet")}
    assert len(months) == 24
    before = services.analytics.datasets()[0].records
    incident = services.dispatch.create_incident(
        NewIncident("crim.theft", GeoPoint(45.7560, 126.6420), SourceChannel.CALL_110), actor="t"
    )
    done = services.analytics.refresh()
    assert done.months == [incident.created_at.astimezone(UTC).strftime("%Y-%m")]
    assert services.analytics.datasets()[0].records == before + 1
    assert services.analytics.refresh().months == []  # nothing new: nothing rewritten
    for path in services.analytics.live_folder.glob("incidents-2024-*.parquet"):
        assert path.stat().st_mtime_ns == months[path.name]  # untouched


def test_an_import_is_kept_audited_and_refused_when_its_columns_are_wrong(
    services: Services, tmp_path: Path
) -> None:
    csv_path = write_street_csv(
        tmp_path / "x.csv", [Crime("2019-07", "Burglary")] * 3 + [Crime("2019-07", "Burglary", lat=99.0)]
    )
    done = services.analytics.import_csv(
        "west-midlands",
        csv_path.read_bytes(),
        format_name="police-uk",
        filename="x.csv",
        actor="ana",
        source=None,
    )
    assert (done["records"]["loaded"], done["records"]["bad"]) == (3, 1)
    names = {d.name: d.records for d in services.analytics.datasets()}
    assert names["west-midlands"] == 3 and names["jingwu"] == 600
    (record,) = [r for r in services.audit.page(limit=50) if r.action == "analytics.import"]
    assert (record.actor, record.target, record.details["loaded"]) == ("ana", "dataset:west-midlands", 3)
    with pytest.raises(ValidationFailed) as caught:
        services.analytics.import_csv(
            "west-midlands",
            b"a,b\n1,2\n",
            format_name="police-uk",
            filename="y.csv",
            actor="ana",
            source=None,
        )
    assert caught.value.code == "missing_column"
    assert services.analytics.datasets()[1].files == 1  # nothing more kept
    for bad in ("jingwu", "West Midlands", "../x"):
        with pytest.raises(ValidationFailed):
            services.analytics.import_csv(
                bad, b"", format_name="police-uk", filename="z", actor="a", source=None
            )
    assert services.analytics.drop_dataset("west-midlands", actor="ana", source=None) == 1
    with pytest.raises(NotFound):
        services.analytics.compstat("2019-07", by="category", dataset="west-midlands", station_ids=None)
