"""`jingwu import-osm`: a city's extract compiled into the cached road graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from jingwu.cli import main
from tests.cli.helpers import jingwu


def test_import_osm_compiles_and_caches_the_graph(tmp_path: Path) -> None:
    from jingwu.settings import bundled_osm_file

    done = jingwu("import-osm", str(bundled_osm_file()), data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "nodes" in done.stdout and "reading OSM" in done.stderr
    assert "5 turn restrictions" in done.stdout  # the Harbin extract's complete relations
    assert list((tmp_path / "graph-cache").glob("*.npz"))


def test_import_osm_of_a_missing_file_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path), "import-osm", str(tmp_path / "nope.pbf")]) == 2
    assert "no such OSM file" in capsys.readouterr().err
