"""The analytics routes: an analyst's CompStat, response times and hotspots over the bureau's
incidents and imported files; a station's commander sees their station only; bad input is 4xx."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from jingwu.composition import Services
from jingwu.domain.access import Jurisdiction, Role
from jingwu.store.db import write_transaction
from jingwu.store.history import insert_past_incidents
from tests.analytics.police_uk import Crime, write_street_csv
from tests.api.conftest import login
from tests.conftest import add_user
from tests.service.test_analytics import past_incidents

# The routes on one backend: the store's part (the monthly export from SQLite or PostgreSQL) is
# tested on both in tests/service/test_analytics.py; here every test seeds and loads a city's past.
pytestmark = pytest.mark.parametrize("migrated_database_url", ["sqlite"], indirect=True)


def _with_history(client: TestClient, services: Services) -> dict[str, str]:
    with write_transaction(services.engine) as conn:
        insert_past_incidents(conn, past_incidents(400))
    add_user(services, "analyst", Role.ANALYST)
    return login(client, "analyst")


def test_an_analyst_reads_compstat_response_times_and_hotspots(
    client: TestClient, services: Services
) -> None:
    analyst = _with_history(client, services)
    table = client.get(
        "/api/analytics/compstat", params={"period": "2025-06", "by": "group"}, headers=analyst
    )
    assert table.status_code == 200, table.text
    body = table.json()
    assert body["previous_period"] == "2024-06" and body["filed"]["total"]["current"] > 0
    assert {r["key"] for r in body["filed"]["rows"]} <= {"刑事案件", "治安案件", "交通类警情"}
    times = client.get("/api/analytics/response-times", params={"period": "2025"}, headers=analyst).json()
    assert times["overall"]["dispatch_to_arrival"]["n"] > 100
    hot = client.get(
        "/api/analytics/hotspots", params={"month": "2025-06", "area_share": 0.05}, headers=analyst
    )
    assert hot.status_code == 200, hot.text
    geojson = hot.json()["geojson"]
    assert geojson["type"] == "FeatureCollection" and geojson["features"] and "score" in hot.json()
    datasets = client.get("/api/analytics/datasets", headers=analyst).json()
    assert datasets[0]["name"] == "jingwu" and datasets[0]["records"] == 400


def test_a_station_commander_counts_their_station_only_and_a_dispatcher_not_at_all(
    client: TestClient, services: Services
) -> None:
    _with_history(client, services)
    services.auth.accounts.create_user(
        "chief", "correct-horse-battery", Role.COMMANDER, jurisdiction=Jurisdiction.parse("station:south")
    )
    chief = login(client, "chief")
    table = client.get("/api/analytics/compstat", params={"period": "2025", "by": "station"}, headers=chief)
    assert [r["key"] for r in table.json()["filed"]["rows"]] == ["south"]
    dispatcher = login(client, "dispatcher")
    refused = client.get("/api/analytics/compstat", params={"period": "2025"}, headers=dispatcher)
    assert refused.status_code == 403


def test_an_import_through_the_api_and_its_refusals(client: TestClient, services: Services, tmp_path) -> None:  # type: ignore[no-untyped-def]
    analyst = _with_history(client, services)
    data = write_street_csv(
        tmp_path / "s.csv", [Crime("2019-07", "Burglary")] * 2 + [Crime("2018-07", "Drugs")]
    )
    done = client.post(
        "/api/analytics/datasets/west-midlands/files",
        params={"format": "police-uk", "filename": "2019-07-street.csv"},
        content=data.read_bytes(),
        headers=analyst | {"Content-Type": "text/csv"},
    )
    assert done.status_code == 201, done.text
    assert done.json()["records"]["loaded"] == 3
    table = client.get(
        "/api/analytics/compstat", params={"period": "2019-07", "dataset": "west-midlands"}, headers=analyst
    ).json()
    assert table["filed"]["total"] == {"current": 2, "previous": 1, "change_pct": 100.0}
    wrong = client.post(
        "/api/analytics/datasets/west-midlands/files",
        params={"format": "nopd"},
        content=data.read_bytes(),
        headers=analyst | {"Content-Type": "text/csv"},
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "missing_column"
    for params, code in (
        ({"period": "2019-13"}, "bad_period"),
        ({"period": "2030-01"}, "period_outside_data"),
        ({"period": "2019-07", "dataset": "nowhere"}, "dataset_not_found"),
    ):
        answer = client.get("/api/analytics/compstat", params=params, headers=analyst)
        assert answer.status_code in (404, 422) and answer.json()["error"]["code"] == code, answer.text
    assert client.delete("/api/analytics/datasets/west-midlands", headers=analyst).json()["files"] == 1


def test_the_heat_map_counts_a_periods_located_incidents_in_fixed_cells_within_reach(
    client: TestClient, services: Services
) -> None:
    analyst = _with_history(client, services)
    month = client.get("/api/analytics/heat", params={"period": "2025-06", "cell_m": 500}, headers=analyst)
    assert month.status_code == 200, month.text
    body = month.json()
    table = client.get("/api/analytics/compstat", params={"period": "2025-06"}, headers=analyst).json()
    # Every test incident has coordinates: the map holds the period's whole count, cell by cell.
    assert body["columns"] == ["south", "west", "north", "east", "count"] and body["cell_m"] == 500
    assert sum(c[4] for c in body["cells"]) == body["located"] == table["filed"]["total"]["current"] > 0
    assert body["without_coordinates"] == 0 and body["max"] == max(c[4] for c in body["cells"])
    for south, west, north, east, _ in body["cells"]:
        assert 45.69 < south < north < 45.83 and 126.54 < west < east < 126.71
    # The grid is centred on the dataset, not on the period: a month's cells are the year's cells.
    year = client.get("/api/analytics/heat", params={"period": "2025", "cell_m": 500}, headers=analyst).json()
    assert {tuple(c[:4]) for c in body["cells"]} <= {tuple(c[:4]) for c in year["cells"]}
    services.auth.accounts.create_user(
        "chief", "correct-horse-battery", Role.COMMANDER, jurisdiction=Jurisdiction.parse("station:south")
    )
    south = client.get(
        "/api/analytics/heat", params={"period": "2025-06", "cell_m": 500}, headers=login(client, "chief")
    ).json()
    assert 0 < south["located"] < body["located"]
    assert all(c[0] < 45.775 for c in south["cells"])  # the south station's incidents lie below 45.77
    for params, code in (
        ({"period": "2030-01"}, "period_outside_data"),
        ({"period": "2025-06", "cell_m": "10"}, "validation_failed"),
        ({"period": "2025-06", "dataset": "nowhere"}, "dataset_not_found"),
    ):
        answer = client.get("/api/analytics/heat", params=params, headers=analyst)
        assert answer.status_code in (404, 422), answer.text
        assert answer.json()["error"]["code"] == code, answer.text


def test_the_printable_report_reads_back_in_chinese_and_is_audited(
    client: TestClient, services: Services
) -> None:
    import shutil
    import subprocess

    import pytest

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed: `make test` installs it")
    analyst = _with_history(client, services)
    answer = client.get("/api/analytics/report.pdf", params={"period": "2025-06"}, headers=analyst)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf" and answer.content.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=answer.content, capture_output=True, check=True
    ).stdout.decode()
    table = client.get(
        "/api/analytics/compstat", params={"period": "2025-06", "by": "group"}, headers=analyst
    )
    assert "警情态势分析报告" in text and "刑事案件" in text
    assert str(table.json()["filed"]["total"]["current"]) in text
    (record,) = [r for r in services.audit.page(limit=50) if r.action == "analytics.report"]
    assert record.actor == "analyst" and record.details["period"] == "2025-06"
