"""`jingwu camera-add`, `camera-import` and `camera-list`: what is registered, what is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jingwu.cli import main
from jingwu.video.testsrc import write_test_video


@pytest.fixture
def data_dir(migrated_data_dir: Path) -> Path:
    return migrated_data_dir


def test_camera_add_probes_the_stream_seals_credentials_and_lists_it(
    data_dir: Path, network: object, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(data_dir)]
    (data_dir / "video-files").mkdir()
    video = write_test_video(data_dir / "video-files" / "gate.mp4", seconds=1.0)
    place = ["--lat", "45.7560", "--lon", "126.6420", "--heading", "90"]
    assert main([*base, "camera-add", "小区北门", "--url", f"file://{video}", *place]) == 0
    assert "registered" in capsys.readouterr().out
    # Unreachable: refused in one line, nothing stored; --no-probe registers it anyway.
    url = "rtsp://admin:s3cret@127.0.0.1:9/ch1"
    assert main([*base, "camera-add", "南门", "--url", url, *place]) == 2
    assert "refused the connection" in capsys.readouterr().err
    assert main([*base, "camera-add", "南门", "--url", url, *place, "--no-probe"]) == 0
    assert "credentials sealed" in capsys.readouterr().out
    assert main([*base, "camera-list"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [c["name"] for c in listed] == ["南门", "小区北门"]
    assert "s3cret" not in json.dumps(listed)


def test_camera_import_names_every_bad_line_and_registers_nothing(
    data_dir: Path, network: object, capsys: pytest.CaptureFixture[str]
) -> None:
    table = data_dir / "cameras.csv"
    table.write_text(
        "name,kind,stream_url,lat,lon,heading_deg\n"
        "A,fixed,rtsp://10.0.0.1/1,45.756,126.642,90\n"
        "B,fixed,rtsp://10.0.0.2/1,45.756,126.642,\n"
        "C,tripod,rtsp://10.0.0.3/1,45.756,126.642,90\n",
        encoding="utf-8",
    )
    assert main(["--data-dir", str(data_dir), "camera-import", str(table)]) == 2
    err = capsys.readouterr().err
    assert "line 3:" in err and "view" in err and "line 4:" in err and "tripod" in err
    assert main(["--data-dir", str(data_dir), "camera-list"]) == 0
    assert capsys.readouterr().out == ""
    table.write_text(
        "name,kind,stream_url,lat,lon,heading_deg\nA,fixed,rtsp://10.0.0.1/1,45.756,126.642,90\n"
    )
    assert main(["--data-dir", str(data_dir), "camera-import", str(table)]) == 0
    assert "1 cameras registered" in capsys.readouterr().out


def test_camera_add_reads_the_password_from_standard_input(
    data_dir: Path, network: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret:with:colons\n"))
    args = ["camera-add", "东门", "--url", "rtsp://10.0.0.7/ch1", "--user", "admin", "--no-probe"]
    assert (
        main(["--data-dir", str(data_dir), *args, "--lat", "45.756", "--lon", "126.642", "--heading", "0"])
        == 0
    )
    assert "credentials sealed" in capsys.readouterr().out
    from jingwu.composition import build_services
    from jingwu.settings import Settings

    services = build_services(Settings.from_environment(), migrate=False)
    try:
        [url] = services.video.registry.readable().values()
        assert url == "rtsp://admin:s3cret%3Awith%3Acolons@10.0.0.7/ch1"
    finally:
        services.close()


def test_camera_calibrate_sets_refuses_and_removes_the_facade(
    data_dir: Path, network: object, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(data_dir)]
    place = ["--lat", "45.7560", "--lon", "126.6420", "--heading", "0"]
    assert main([*base, "camera-add", "7号楼", "--url", "rtsp://10.0.0.7/1", *place, "--no-probe"]) == 0
    camera_id = capsys.readouterr().out.split()[1]
    facade = {
        "corners_px": [[180, 340], [460, 340], [420, 30], [220, 30]],
        "floors": 18,
        "columns": 4,
        "floor_height_m": 2.9,
    }
    good, bad = data_dir / "facade.json", data_dir / "bad.json"
    good.write_text(json.dumps({"facade": facade}), encoding="utf-8")
    bad.write_text(json.dumps({"facade": {**facade, "floors": 0}}), encoding="utf-8")
    assert main([*base, "camera-calibrate", camera_id, "--calibration", str(bad)]) == 2
    assert "floors must be at least 1" in capsys.readouterr().err
    assert main([*base, "camera-calibrate", camera_id, "--calibration", str(good)]) == 0
    assert "18 floors and 4 window columns" in capsys.readouterr().out
    assert main([*base, "camera-list"]) == 0
    [listed] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed["throw_calibration"]["facade"]["floors"] == 18
    assert main([*base, "camera-calibrate", camera_id, "--remove"]) == 0
    assert "no longer watched" in capsys.readouterr().out
