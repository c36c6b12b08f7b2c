import json
import subprocess
import sys
from pathlib import Path

import pytest

from jingwu.cli import main


def jingwu(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jingwu.cli", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_bench_dispatch_json_reports_latency_and_baseline(tmp_path: Path) -> None:
    done = jingwu("bench", "dispatch", "--units", "50", "--queries", "20", "--json", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["units"] == 50 and result["queries"] == 20
    for key in ("p50_ms", "p99_ms", "baseline_p50_ms", "baseline_p99_ms"):
        assert result[key] > 0
    assert result["agree"] is True


def test_bench_dispatch_json_with_several_rosters_is_one_object(tmp_path: Path) -> None:
    done = jingwu(
        "bench", "dispatch", "--units", "5", "--units", "40", "--queries", "10", "--json", data_dir=tmp_path
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["units"] == 40 and [r["units"] for r in result["runs"]] == [5, 40]


def test_import_osm_compiles_and_caches_the_graph(tmp_path: Path) -> None:
    from jingwu.settings import bundled_osm_file

    done = jingwu("import-osm", str(bundled_osm_file()), data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "nodes" in done.stdout and "reading OSM" in done.stderr
    assert list((tmp_path / "graph-cache").glob("*.npz"))


def test_import_osm_of_a_missing_file_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path), "import-osm", str(tmp_path / "nope.pbf")]) == 2
    assert "no such OSM file" in capsys.readouterr().err


def test_server_logs_never_show_a_live_stream_token() -> None:
    import logging

    from jingwu.cli import _RedactTokens

    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:50000", "/api/events?access_token=s3cret-T0ken_x&after=5"),
        None,
    )
    _RedactTokens().filter(record)
    assert "s3cret" not in record.getMessage()
    assert "access_token=***&after=5" in record.getMessage()
