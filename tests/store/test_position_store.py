"""The position history's storage: migration 0010 on both databases, PostgreSQL's daily
partitions in their own schema, and the batched insert that skips repeats."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import insert, inspect, text

from jingwu.domain.gps import Fix, Verdict
from jingwu.store import positions as store
from jingwu.store import tables
from jingwu.store.db import alembic_config, make_engine, upgrade_schema, write_transaction

DAY = date(2026, 11, 25)
NOON = datetime(2026, 11, 25, 12, tzinfo=UTC)


def test_revision_0010_adds_the_history_and_downgrades_cleanly(database_url: str) -> None:
    engine = make_engine(database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0009")
    command.upgrade(config, "0010")
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        assert "positions" in inspect(conn).get_table_names()
        assert inspect(conn).get_pk_constraint("positions")["constrained_columns"] == ["unit_id", "ts"]
        if postgres:
            strategy = conn.execute(
                text("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = to_regclass('positions')")
            ).scalar_one()
            assert strategy == "r"  # range
            assert "position_parts" in inspect(conn).get_schema_names()
    if postgres:
        with write_transaction(engine) as conn:
            store.create_partition(conn, DAY)
    command.downgrade(config, "0009")
    with engine.connect() as conn:
        assert "positions" not in inspect(conn).get_table_names()
        if postgres:
            assert "position_parts" not in inspect(conn).get_schema_names()
    engine.dispose()


def test_revision_0012_moves_the_anchors_accuracy_into_the_unit_row_and_downgrades_cleanly(
    database_url: str,
) -> None:
    from jingwu.store import repository as repo
    from tests.conftest import SOUTH, make_unit

    engine = make_engine(database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0011")
    postgres = engine.dialect.name == "postgresql"
    with write_transaction(engine) as conn:
        if postgres:
            store.create_partition(conn, DAY)
        # Rows as revision 0011 held them: a bare ring, no columns of later revisions.
        ring = [list(p) for p in SOUTH.jurisdiction.polygons[0][0]]
        conn.execute(
            insert(tables.stations).values(
                id=SOUTH.id, name=SOUTH.name, district=SOUTH.district, jurisdiction=ring
            )
        )
        later = {"radio_id", "terminal_id", "retired_at"}
        for unit in (
            make_unit("u1", 45.75, 126.64, at=NOON),  # its fix is in the history
            make_unit("u2", 45.70, 126.60, at=NOON),  # placed without one
        ):
            values = {k: v for k, v in repo._unit_values(unit).items() if k not in later}
            conn.execute(insert(tables.units).values(id=unit.id, version=unit.version, **values))
        store.insert_history(
            conn,
            [
                store.HistoryRow(
                    "u1",
                    Fix(NOON, 45.75, 126.64, altitude=140.0, accuracy=12.5),
                    "gateway",
                    Verdict.CURRENT,
                    None,
                    NOON,
                ),
                store.HistoryRow(
                    "u1",
                    Fix(NOON - timedelta(minutes=1), 45.7, 126.6, altitude=1.0, accuracy=3.0),
                    "gateway",
                    Verdict.CURRENT,
                    None,
                    NOON,
                ),
            ],
        )
    command.upgrade(config, "0012")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, pos_accuracy, pos_altitude FROM units ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [("u1", 12.5, 140.0), ("u2", None, None)]
        if postgres:
            options = conn.execute(
                text("SELECT reloptions FROM pg_class WHERE oid = 'units'::regclass")
            ).scalar()
            assert options == ["fillfactor=50"]
    with write_transaction(engine) as conn:
        assert store.lock_anchors(conn, ["u1", "u2"]) == {
            "u1": Fix(NOON, 45.75, 126.64, 0.0, 0.0, altitude=140.0, accuracy=12.5),
            "u2": Fix(NOON, 45.70, 126.60, 0.0, 0.0),
        }
    command.downgrade(config, "0011")
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("units")}
        assert not columns & {"pos_accuracy", "pos_altitude"} and "pos_ts" in columns
        if postgres:
            assert (
                conn.execute(text("SELECT reloptions FROM pg_class WHERE oid = 'units'::regclass")).scalar()
                is None
            )
    engine.dispose()


def _row(unit_id: str, ts: datetime, verdict: Verdict = Verdict.CURRENT) -> store.HistoryRow:
    return store.HistoryRow(unit_id, Fix(ts, 45.75, 126.64), "gateway", verdict, None, ts)


def test_insert_skips_repeats_and_says_which(migrated_database_url: str) -> None:
    engine = make_engine(migrated_database_url)
    upgrade_schema(engine)
    with write_transaction(engine) as conn:
        if engine.dialect.name == "postgresql":
            store.create_partition(conn, DAY)
    rows = [_row("u1", NOON), _row("u1", NOON + timedelta(seconds=1)), _row("u2", NOON)]
    with write_transaction(engine) as conn:
        assert store.insert_history(conn, rows) == set()
    with write_transaction(engine) as conn:
        again = [_row("u1", NOON, Verdict.REJECTED), _row("u1", NOON + timedelta(seconds=2))]
        assert store.insert_history(conn, again) == {("u1", NOON)}
        assert store.count_history(conn) == 4 and store.count_history(conn, "u1") == 3
    engine.dispose()


def test_postgres_partitions_are_whole_utc_days_in_their_own_schema(migrated_postgres_url: str) -> None:
    engine = make_engine(migrated_postgres_url)
    upgrade_schema(engine)
    with write_transaction(engine) as conn:
        store.create_partition(conn, DAY)
        store.create_partition(conn, DAY)  # making one twice is harmless
        store.create_partition(conn, DAY + timedelta(days=1))
    with engine.connect() as conn:
        conn.execute(text("SET TIME ZONE 'UTC'"))  # how the bounds below are printed
        assert store.partition_days(conn) == {DAY, DAY + timedelta(days=1)}
        # Not tables of the model: the migration test's comparison never sees them.
        assert not any(name.startswith("positions_p") for name in inspect(conn).get_table_names())
        bounds = conn.execute(
            text("SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = :name"),
            {"name": store.partition_name(DAY)},
        ).scalar_one()
    assert bounds == "FOR VALUES FROM ('2026-11-25 00:00:00+00') TO ('2026-11-26 00:00:00+00')"
    with write_transaction(engine) as conn:
        store.insert_history(conn, [_row("u1", NOON), _row("u1", NOON + timedelta(days=1))])
        store.drop_partition(conn, DAY)
    with engine.connect() as conn:
        assert store.partition_days(conn) == {DAY + timedelta(days=1)}
        assert store.count_history(conn) == 1
    engine.dispose()


ODD_IDS = ['car "7"', "back\\slash", "{braces,comma}", "NULL", "巡逻-1", "line\nbreak\ttab"]


def test_the_batched_statements_keep_odd_unit_ids_and_exact_values(migrated_database_url: str) -> None:
    # The hot path writes its own array literals (PostgreSQL) and time text (SQLite): what it
    # stores must read back through the ordinary queries exactly, and compare in time order.
    from jingwu.store import repository as repo
    from tests.conftest import SOUTH, make_unit

    engine = make_engine(migrated_database_url)
    upgrade_schema(engine)
    earlier = NOON - timedelta(minutes=5)
    with write_transaction(engine) as conn:
        if engine.dialect.name == "postgresql":
            store.create_partition(conn, DAY)
        repo.insert_station(conn, SOUTH)
        for unit_id in ODD_IDS:
            repo.insert_unit(conn, make_unit(unit_id, 45.70, 126.60, at=earlier))
    fixes = {
        unit_id: Fix(NOON + timedelta(microseconds=k), 45.75 + k * 1e-9, 126.64, 8.25, 359.5, -3.0, 4.5, 77.0)
        for k, unit_id in enumerate(ODD_IDS)
    }
    # Numbers in every notation the literals may use, and unknown values.
    fixes[ODD_IDS[1]] = fixes[ODD_IDS[1]]._replace(speed=1e-7, altitude=1e22, accuracy=None, battery=None)
    fixes[ODD_IDS[2]] = fixes[ODD_IDS[2]]._replace(speed=None, heading=None, altitude=-0.0)
    with write_transaction(engine) as conn:
        assert set(store.lock_anchors(conn, ODD_IDS)) == set(ODD_IDS)
        rows = [
            store.HistoryRow(unit_id, fix, "gateway", Verdict.CURRENT, None, NOON)
            for unit_id, fix in fixes.items()
        ]
        assert store.insert_history(conn, rows) == set()
        store.update_last_known(conn, fixes)
        # Never back in time: an older fix leaves the newer one in place.
        store.update_last_known(conn, {ODD_IDS[0]: Fix(earlier, 45.0, 126.0)})
    with write_transaction(engine) as conn:
        anchors = store.lock_anchors(conn, ODD_IDS)
        for unit_id, fix in fixes.items():
            track = store.track(
                conn, unit_id, NOON, NOON + timedelta(seconds=1), include_rejected=True, limit=5
            )
            assert [
                (p.ts, p.lat, p.lon, p.speed, p.heading, p.altitude, p.accuracy, p.battery) for p in track
            ] == [(fix.ts, fix.lat, fix.lon, fix.speed, fix.heading, fix.altitude, fix.accuracy, fix.battery)]
            assert anchors[unit_id] == Fix(
                fix.ts, fix.lat, fix.lon, fix.speed, fix.heading, fix.altitude, fix.accuracy
            )
            unit = repo.get_unit(conn, unit_id)
            assert unit.position is not None and unit.position.ts == fix.ts and unit.position.lat == fix.lat
    engine.dispose()


def test_the_ingests_own_statements_fail_as_sqlalchemy_errors_with_the_drivers_inside(
    migrated_database_url: str,
) -> None:
    # They go to the driver directly; their errors must still be what callers retry on.
    from sqlalchemy.exc import DBAPIError, IntegrityError

    engine = make_engine(migrated_database_url)
    with pytest.raises(DBAPIError) as failed, write_transaction(engine) as conn:
        store.update_last_known(conn, {"u1": Fix(NOON, 45.75, 126.64)})  # fine: no such unit
        store._cursor(conn).execute("SELECT * FROM no_such_table")
    assert isinstance(failed.value.orig, engine.dialect.loaded_dbapi.Error)
    with write_transaction(engine) as conn:
        if engine.dialect.name == "postgresql":
            store.create_partition(conn, DAY)
    # The same key twice: what the history's plain insert falls back on.
    postgres = engine.dialect.name == "postgresql"
    row = (
        "('u1', %s, 45.7, 126.6, 'gateway', 'current', %s)"
        if postgres
        else "('u1', ?, 45.7, 126.6, 'gateway', 'current', ?)"
    )
    stamp = NOON if postgres else store._sqlite_time(NOON)
    with pytest.raises(IntegrityError), write_transaction(engine) as conn:
        store._cursor(conn).execute(
            f"INSERT INTO positions (unit_id, ts, lat, lon, source, verdict, received_at) "
            f"VALUES {row}, {row}",
            [stamp] * 4,
        )
    engine.dispose()
