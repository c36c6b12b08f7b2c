"""`jingwu bench ingest` measures what it says: a short run on a small fleet, through the real
server process(es), stores every position it counts and streams every one that moves a unit."""

from __future__ import annotations

from pathlib import Path

import pytest

from jingwu.bench.ingest import IngestConfig, check_config, run_ingest_bench
from jingwu.store.db import make_engine, read_transaction
from jingwu.store.positions import count_history

pytestmark = pytest.mark.slow


def _stored(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with read_transaction(engine) as conn:
            return count_history(conn)
    finally:
        engine.dispose()


def _check(result: dict[str, object], config: IngestConfig, database_url: str) -> None:
    assert result["units"] == config.units and result["processes"] == config.processes
    positions = result["positions"]
    assert isinstance(positions, int) and positions > 0
    assert result["refused"] == 0 and result["stream_closed"] is None
    assert result["streamed"] == positions - result["late"]  # type: ignore[operator]
    assert 0 < result["lag_p50_ms"] <= result["lag_p99_ms"] <= result["lag_max_ms"]  # type: ignore[operator]
    assert result["positions_per_s"] == pytest.approx(positions / result["seconds"], rel=0.01)  # type: ignore[operator]
    assert _stored(database_url) == positions  # each counted position is in the history
    # The servers' CPU while posting: some, and not more than all the cores for all the time.
    cpu_us = result["server_cpu_us_per_position"]
    assert (
        isinstance(cpu_us, float) and 0 < cpu_us * positions / 1e6 <= 2 * result["seconds"] * config.processes
    )  # type: ignore[operator]


def test_one_process_on_sqlite(graph_cache_dir: Path, tmp_path: Path) -> None:
    config = IngestConfig(units=300, seconds=2.0, batch=100, connections=2, data_dir=tmp_path)
    result = run_ingest_bench(config, graph_cache_dir)
    assert result["database"] == "sqlite" and result["bus"] == "in-process"
    _check(result, config, f"sqlite:///{tmp_path / 'jingwu.db'}")


@pytest.mark.postgres
def test_two_processes_share_the_load_over_postgres_and_nats(
    graph_cache_dir: Path, tmp_path: Path, postgres_url: str, nats_url: str, bus_stream: str
) -> None:
    config = IngestConfig(
        units=300,
        seconds=2.0,
        batch=100,
        connections=2,
        data_dir=tmp_path,
        database_url=postgres_url,
        bus_url=nats_url,
        bus_stream=bus_stream,
        processes=2,
    )
    result = run_ingest_bench(config, graph_cache_dir)
    assert result["database"] == "postgresql" and result["bus"] == "nats"
    # Half the batches went to the second process: the stream of the first heard them over NATS.
    _check(result, config, postgres_url)


@pytest.mark.parametrize(
    ("config", "needs"),
    [
        (IngestConfig(processes=2), "--database-url postgresql"),
        (IngestConfig(processes=2, database_url="postgresql+psycopg://db/x"), "--bus-url"),
        (IngestConfig(processes=0), "at least 1"),
    ],
)
def test_a_cluster_run_without_what_a_cluster_needs_is_refused(config: IngestConfig, needs: str) -> None:
    with pytest.raises(ValueError, match=needs):
        check_config(config)
