"""`jingwu import stations|units|personnel|roster FILE`: a bureau's files in, every row checked,
and a file with a bad row refused whole, each bad row named by its line."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from jingwu.cli import main
from jingwu.store import tables as t
from jingwu.store.db import make_engine

SQUARE = [[126.60, 45.72], [126.68, 45.72], [126.68, 45.79], [126.60, 45.79], [126.60, 45.72]]
EAST = [[126.68, 45.72], [126.75, 45.72], [126.75, 45.79], [126.68, 45.79], [126.68, 45.72]]


@pytest.fixture
def data_dir(migrated_data_dir: Path) -> Path:
    return migrated_data_dir


def _count(data_dir: Path, table: Any) -> int:
    engine = make_engine(f"sqlite:///{data_dir / 'jingwu.db'}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def _stations_file(path: Path) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {
                "id": "nangang-a",
                "name": "南岗甲派出所",
                "district": "南岗区",
                "address": "甲路1号",
            },
            "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
        },
        {
            "type": "Feature",
            "properties": {"id": "daowai-b", "name": "道外乙派出所", "district": "道外区"},
            "geometry": {"type": "MultiPolygon", "coordinates": [[EAST]]},
        },
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _run(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), "import", *args])


def test_a_city_comes_in_from_its_files(
    data_dir: Path, network: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(data_dir, "stations", str(_stations_file(tmp_path / "stations.geojson"))) == 0
    units = tmp_path / "units.csv"
    units.write_text(
        "\ufeffcallsign,kind,station_id,capabilities,radio_id,terminal_id\n"
        "NA01,patrol_car,nangang-a,traffic;armed,R-01,T-01\n"
        "na02,foot,nangang-a,,,\n"
        "DB01,motorcycle,daowai-b,traffic,,\n",
        encoding="utf-8",
    )
    assert _run(data_dir, "units", str(units)) == 0
    people = tmp_path / "personnel.csv"
    people.write_text(
        "police_number,name,rank,station_id,role\n"
        "230101,张伟,一级警员,nangang-a,\n"
        "２３０１０２,李娜,二级警司,nangang-a,officer\n"
        "230103,王强,三级警督,daowai-b,commander\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert _run(data_dir, "personnel", str(people)) == 0
    out = capsys.readouterr().out
    passwords = dict(line.split("\t") for line in out.splitlines() if "\t" in line)
    assert set(passwords) == {"230101", "230102", "230103"}
    today = datetime.now(UTC).date()
    roster = tmp_path / "roster.csv"
    starts = datetime.now(UTC) - timedelta(minutes=10)
    ends = starts + timedelta(hours=8)
    roster.write_text(
        "date,shift,starts_at,ends_at,station_id,unit,officers\n"
        f"{today},custom,{starts.isoformat()},{ends.isoformat()},nangang-a,NA01,230101;230102\n"
        f"{today + timedelta(days=2)},day,,,nangang-a,NA02,230101\n",
        encoding="utf-8",
    )
    assert _run(data_dir, "roster", str(roster)) == 0
    assert _count(data_dir, t.stations) == 2
    assert _count(data_dir, t.units) == 3
    assert _count(data_dir, t.personnel) == 3
    assert _count(data_dir, t.shifts) == 2 and _count(data_dir, t.crews) == 3
    # The current shift put NA01 on duty and bound both its officers to it.
    engine = make_engine(f"sqlite:///{data_dir / 'jingwu.db'}")
    with engine.connect() as conn:
        na01 = conn.execute(select(t.units).where(t.units.c.callsign == "NA01")).one()
        bound = conn.execute(select(t.users.c.username).where(t.users.c.unit_id == na01.id)).scalars().all()
    engine.dispose()
    assert na01.status == "available" and na01.radio_id == "R-01"
    assert sorted(bound) == ["230101", "230102"]


def test_a_file_with_a_bad_row_writes_nothing_and_names_each_bad_row(
    data_dir: Path, network: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(data_dir, "stations", str(_stations_file(tmp_path / "stations.geojson"))) == 0
    units = tmp_path / "units.csv"
    units.write_text(
        "callsign,kind,station_id,capabilities\n"
        "NA01,patrol_car,nangang-a,traffic\n"
        "NA02,tank,nangang-a,\n"  # line 3: no such kind
        "NA03,foot,nowhere,\n"  # line 4: no such station
        "na01,foot,nangang-a,\n"  # line 5: the call sign of line 2
        "NA05,foot,nangang-a,\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert _run(data_dir, "units", str(units)) == 2
    err = capsys.readouterr().err
    assert "3 bad row(s); nothing was imported" in err
    assert "line 3: unknown unit kind 'tank'" in err
    assert "line 4: no station 'nowhere'" in err
    assert "line 5: 'NA01' belongs to another unit already" in err
    assert "line 2" not in err and "line 6" not in err
    assert _count(data_dir, t.units) == 0


def test_an_overlapping_or_broken_station_file_is_refused_whole(
    data_dir: Path, network: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stations = tmp_path / "stations.csv"
    # Written with the csv module, as a spreadsheet would quote it.
    with stations.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "district", "jurisdiction"])
        writer.writerow(["a", "甲所", "南岗区", json.dumps({"type": "Polygon", "coordinates": [SQUARE]})])
        writer.writerow(["b", "乙所", "南岗区", json.dumps({"type": "Polygon", "coordinates": [SQUARE]})])
        writer.writerow(["c", "丙所", "南岗区", "{not json"])
    capsys.readouterr()
    assert _run(data_dir, "stations", str(stations)) == 2
    err = capsys.readouterr().err
    assert "line 3: the jurisdiction overlaps that of a" in err
    assert "line 4: jurisdiction is not GeoJSON" in err
    assert _count(data_dir, t.stations) == 0


def test_a_missing_or_unreadable_file_is_one_line(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(data_dir, "units", str(tmp_path / "none.csv")) == 2
    assert capsys.readouterr().err.startswith("error: cannot read")
