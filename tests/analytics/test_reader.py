"""Reading CSV exports through a mapping: every row counted or reported by reason, never dropped."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest

from jingwu.analytics.mapping import MappingError, load_mapping, parse_mapping
from jingwu.analytics.reader import read_files
from tests.analytics.police_uk import HEADER, Crime, write_street_csv

CALLS = Path(__file__).parent.parent / "data" / "calls"


def test_police_uk_rows_become_records_and_bad_rows_are_reported_by_reason(tmp_path: Path) -> None:
    path = write_street_csv(
        tmp_path / "2019-07-west-midlands-street.csv",
        [
            Crime("2019-07", "Burglary", outcome="Offender given a caution"),
            Crime("2019-07", "Anti-social behaviour", lon=None, lat=None),
            Crime("2019-07", "Vehicle crime", lat=91.0),
            Crime("July 2019", "Vehicle crime"),
            Crime("2019-07", ""),
            Crime("2019-07", "Drugs", lon=0.0, lat=0.0),
        ],
    )
    loaded = read_files([path], load_mapping("police-uk"))
    records = loaded.table.to_pylist()
    assert [r["category"] for r in records] == ["Burglary", "Anti-social behaviour", "Drugs"]
    assert records[0]["occurred_at"] == datetime(2019, 7, 1) and records[0]["solved"] is True
    assert records[0]["lat"] == pytest.approx(52.48) and records[0]["time_precision"] == "month"
    assert records[1]["lat"] is None and records[1]["solved"] is None  # counted, not mapped
    assert records[2]["lat"] is None  # 0,0 is how exports write "no location"
    report = loaded.report.as_json()
    assert (report["read"], report["loaded"], report["bad"], report["without_coordinates"]) == (6, 3, 3, 2)
    reasons = {(b["reason"], b["column"]): b["lines"] for b in report["bad_by_reason"]}
    assert reasons == {
        ("coordinates_out_of_range", "Latitude"): [4],
        ("bad_time", "Month"): [5],
        ("missing_value", "Crime type"): [6],
    }


def test_a_file_of_another_format_is_refused_naming_the_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as caught:
        read_files([CALLS / "nopd_calls_2025-01-01.csv"], load_mapping("police-uk"))
    assert caught.value.code == "missing_column"
    assert "'Crime type'" in caught.value.message and "'Month'" in caught.value.message
    assert "nopd_calls_2025-01-01.csv" in caught.value.message


def test_a_file_missing_one_required_column_names_that_column(tmp_path: Path) -> None:
    header = [h for h in HEADER if h != "Latitude"]
    path = write_street_csv(tmp_path / "x.csv", [Crime("2019-07", "Burglary")], header=header)
    with pytest.raises(MappingError) as caught:
        read_files([path], load_mapping("police-uk"))
    assert caught.value.params["columns"] == ["Latitude"]


def test_an_empty_file_and_a_binary_file_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "photo.csv").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01" * 20)
    for name in ("empty.csv", "photo.csv"):
        with pytest.raises(MappingError) as caught:
            read_files([tmp_path / name], load_mapping("police-uk"))
        assert name in caught.value.message


def test_rows_with_too_many_or_too_few_fields_are_bad_rows(tmp_path: Path) -> None:
    path = write_street_csv(tmp_path / "x.csv", [Crime("2019-07", "Burglary")] * 2)
    with path.open("a", encoding="utf-8") as f:
        f.write("a,2019-07,b\n\n")
    loaded = read_files([path], load_mapping("police-uk"))
    report = loaded.report.as_json()
    assert report["loaded"] == 2 and report["bad_by_reason"][0]["reason"] == "wrong_field_count"
    assert report["bad_by_reason"][0]["lines"] == [4]


def test_berkeley_joins_date_and_time_and_reads_the_point_out_of_a_three_line_location() -> None:
    loaded = read_files([CALLS / "berkeley_pd_calls_2018.csv"], load_mapping("berkeley"))
    first = loaded.table.slice(0, 1).to_pylist()[0]
    assert first["occurred_at"] == datetime(2018, 8, 26, 11, 0)
    assert (first["lat"], first["lon"]) == (37.869522, -122.27965)
    assert first["category"] == "BURGLARY RESIDENTIAL" and first["group"] == "BURGLARY - RESIDENTIAL"
    with (CALLS / "berkeley_pd_calls_2018.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    without_point = sum("(" not in r["Block_Location"] for r in rows)
    report = loaded.report.as_json()
    assert report["read"] == report["loaded"] == len(rows) == 4337
    assert report["without_coordinates"] == without_point > 0
    # Records on the line after a multi-line field keep their own line number in the file.
    assert loaded.table.column("source_line")[1].as_py() == 5


def test_nopd_stage_times_and_its_point_zero_zero_as_no_location() -> None:
    loaded = read_files([CALLS / "nopd_calls_2025-01-01.csv"], load_mapping("nopd"))
    records = loaded.table.to_pylist()
    with (CALLS / "nopd_calls_2025-01-01.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(records) == len(rows) == 857
    assert loaded.report.without_coordinates == sum(r["Location"] == "POINT (0 0)" for r in rows)
    first = records[0]
    assert first["call_at"] == datetime(2025, 1, 1, 0, 1, 31)
    assert first["dispatch_at"] == datetime(2025, 1, 1, 1, 49, 0) and first["arrive_at"] is None
    assert (first["lon"], first["lat"]) == (-90.04995412, 29.97710343)
    assert sum(r["self_initiated"] for r in records) == sum(r["SelfInitiated"] == "Y" for r in rows)


def test_a_mapping_of_ones_own_reads_a_new_forces_file(tmp_path: Path) -> None:
    mapping_path = tmp_path / "harbin.toml"
    mapping_path.write_text(
        'name = "harbin-110"\ntime_precision = "second"\n[fields]\n'
        'category = "警情类别"\noccurred_at = { column = "接警时间", format = "%Y/%m/%d %H:%M:%S" }\n'
        'lat = "纬度"\nlon = "经度"\nstation = { column = "派出所", optional = true }\n',
        encoding="utf-8",
    )
    data = tmp_path / "calls.csv"
    data.write_text(
        "警情类别,接警时间,纬度,经度\n盗窃,2024/03/01 08:30:00,45.75,126.63\n", encoding="utf-8-sig"
    )
    loaded = read_files([data], load_mapping(str(mapping_path)))
    record = loaded.table.to_pylist()[0]
    assert (record["category"], record["occurred_at"], record["station"]) == (
        "盗窃",
        datetime(2024, 3, 1, 8, 30),
        None,
    )
    assert record["dataset"] == "harbin-110"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[fields]\noccurred_at = "t"\n', "category"),
        ('[fields]\ncategory = "c"\noccurred_at = "t"\nlat = "y"\n', "lat and lon"),
        ('[fields]\ncategory = "c"\noccurred_at = "t"\nweather = "w"\n', "weather"),
        ('[fields]\ncategory = "c"\noccurred_at = "t"\npoint = { column = "p", pattern = "(x)" }\n', "lat"),
        ("fields = [", "TOML"),
    ],
)
def test_a_broken_mapping_is_refused_saying_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_mapping(text, source="mine.toml")
    assert says in caught.value.message


def test_an_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(MappingError) as caught:
        load_mapping("nypd")
    assert caught.value.code == "unknown_format" and "police-uk" in caught.value.message


def test_the_same_record_twice_is_a_bad_row_not_a_second_count(tmp_path: Path) -> None:
    path = write_street_csv(tmp_path / "x.csv", [Crime("2019-07", "Burglary"), Crime("2019-07", "Drugs")])
    loaded = read_files([path, path], load_mapping("police-uk"))
    report = loaded.report.as_json()
    assert (report["read"], report["loaded"]) == (4, 2)
    assert report["bad_by_reason"][0]["reason"] == "duplicate_record"
    assert report["bad_by_reason"][0]["column"] == "Crime ID"


def test_a_bad_longitude_names_the_longitude_column(tmp_path: Path) -> None:
    path = write_street_csv(tmp_path / "x.csv", [Crime("2019-07", "Burglary")])
    text = path.read_text().replace("-1.900000", "abc")
    path.write_text(text)
    report = read_files([path], load_mapping("police-uk")).report.as_json()
    assert report["bad_by_reason"][0]["column"] == "Longitude"


def test_a_folder_named_like_a_format_does_not_hide_the_built_in_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "police-uk").mkdir()
    monkeypatch.chdir(tmp_path)
    assert load_mapping("police-uk").name == "police-uk"
