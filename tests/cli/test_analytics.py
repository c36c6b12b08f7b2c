"""``jingwu analytics``: the public contracts, run on files as a user would (errors in process)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from jingwu.cli import main
from tests.analytics.police_uk import Crime, write_street_csv
from tests.cli.helpers import jingwu, one_line_error

CALLS = Path(__file__).parent.parent / "data" / "calls"


def _two_years(folder: Path) -> list[Path]:
    return [
        write_street_csv(
            folder / "2019-07-test-street.csv",
            [Crime("2019-07", "Burglary")] * 3
            + [Crime("2019-07", "Vehicle crime")]
            + [Crime("2019-07", "Anti-social behaviour", lon=None, lat=None)] * 2
            + [Crime("2019-07", "Drugs", lat=123.0)],
        ),
        write_street_csv(
            folder / "2018-07-test-street.csv",
            [Crime("2018-07", "Burglary")] * 4 + [Crime("2018-07", "Anti-social behaviour")],
        ),
    ]


def test_compstat_json_gives_each_category_against_a_year_earlier(tmp_path: Path) -> None:
    files = _two_years(tmp_path)
    done = jingwu(
        "analytics",
        "compstat",
        "--format",
        "police-uk",
        "--input",
        *map(str, files),
        "--period",
        "2019-07",
        "--json",
        data_dir=tmp_path / "data",
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["period"], answer["previous_period"]) == ("2019-07", "2018-07")
    assert answer["rows"] == [
        {"category": "Burglary", "current": 3, "previous": 4, "change_pct": -25.0},
        {"category": "Anti-social behaviour", "current": 2, "previous": 1, "change_pct": 100.0},
        {"category": "Vehicle crime", "current": 1, "previous": 0, "change_pct": None},
    ]
    assert answer["total"] == {"current": 6, "previous": 5, "change_pct": 20.0}
    records = answer["records"]
    assert (records["read"], records["bad"], records["without_coordinates"]) == (12, 1, 2)
    assert records["bad_by_reason"][0]["reason"] == "coordinates_out_of_range"
    assert not (tmp_path / "data").exists()  # files in, answer out: nothing written


def test_compstat_prints_a_table_for_a_person(tmp_path: Path) -> None:
    done = jingwu(
        "analytics",
        "compstat",
        "--format",
        "berkeley",
        "--input",
        str(CALLS / "berkeley_pd_calls_2018.csv"),
        str(CALLS / "berkeley_pd_calls_2019.csv"),
        "--period",
        "2019-07",
        "--by",
        "group",
        data_dir=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "LARCENY" in done.stdout and "2018-07" in done.stdout and "total" in done.stdout


def test_compstat_refuses_bad_input_in_one_line_naming_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(f) for f in _two_years(tmp_path)]
    cases = [
        (["--format", "police-uk", "--input", *files, "--period", "2025-01"], "outside the data"),
        (["--format", "police-uk", "--input", *files, "--period", "2019-13"], "unknown period"),
        (
            [
                "--format",
                "police-uk",
                "--input",
                str(CALLS / "nopd_calls_2025-01-01.csv"),
                "--period",
                "2025-01",
            ],
            "'Crime type'",
        ),
        (["--format", "nopd", "--input", *files, "--period", "2019-07"], "'TypeText'"),
        (["--format", "nypd", "--input", *files, "--period", "2019-07"], "unknown format"),
        (["--format", "police-uk", "--input", str(tmp_path / "none.csv"), "--period", "2019-07"], "none.csv"),
    ]
    for args, says in cases:
        # In process, as the installed command runs it: a process each would cost a second apiece.
        assert main(["analytics", "compstat", *args, "--json"]) == 2
        out, err = capsys.readouterr()
        assert out == "" and says in one_line_error(err)


def _clustered_months(folder: Path) -> list[Path]:
    """Six months of street crime in a 6 km box: most around two corners, the rest anywhere."""
    rng = np.random.default_rng(5)
    files = []
    for month in range(1, 7):
        crimes = []
        for _ in range(200):
            if rng.random() < 0.6:
                lon, lat = (-1.93, 52.47) if rng.random() < 0.5 else (-1.87, 52.50)
                lon, lat = lon + rng.normal(0, 0.001), lat + rng.normal(0, 0.0007)
            else:
                lon, lat = rng.uniform(-1.95, -1.86), rng.uniform(52.46, 52.51)
            crimes.append(Crime(f"2019-{month:02d}", "Burglary", lon=lon, lat=lat))
        crimes.append(Crime(f"2019-{month:02d}", "Anti-social behaviour", lon=None, lat=None))
        files.append(write_street_csv(folder / f"2019-{month:02d}-street.csv", crimes))
    return files


def test_hotspots_writes_the_forecast_cells_as_geojson_polygons(tmp_path: Path) -> None:
    files = _clustered_months(tmp_path)
    out = tmp_path / "june.geojson"
    done = jingwu(
        "analytics",
        "hotspots",
        "--format",
        "police-uk",
        "--input",
        *map(str, files),
        "--for",
        "2019-06",
        "--area-share",
        "0.05",
        "--out",
        str(out),
        data_dir=tmp_path / "data",
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text())
    assert document["type"] == "FeatureCollection" and document["method"] and document["study_area_m2"] > 1e7
    cells = document["features"]
    assert len(cells) == round(0.05 * document["n_cells"])
    assert all(f["geometry"]["type"] == "Polygon" for f in cells)
    corners = [p for f in cells for p in f["geometry"]["coordinates"][0]]
    # The hottest cells are at the two corners where most crime happens, in lon/lat order.
    first = cells[0]["geometry"]["coordinates"][0][0]
    assert min(math.dist(first, c) for c in ((-1.93, 52.47), (-1.87, 52.50))) < 0.005
    assert all(-1.96 < lon < -1.85 and 52.45 < lat < 52.52 for lon, lat in corners)


def test_hotspots_refuses_a_month_outside_the_data_and_a_bad_share(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(f) for f in _clustered_months(tmp_path)]
    out = tmp_path / "x.geojson"
    for extra, says in (
        (["--for", "2020-06"], "outside the data"),
        (["--for", "2019-01"], "outside the data"),
        (["--for", "2019-06", "--area-share", "1.5"], "--area-share"),
    ):
        args = [
            "analytics",
            "hotspots",
            "--format",
            "police-uk",
            "--input",
            *files,
            "--out",
            str(out),
            *extra,
        ]
        assert main(args) == 2
        assert says in one_line_error(capsys.readouterr().err)
    assert not out.exists()
