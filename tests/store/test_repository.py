from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from jingwu.domain import rules
from jingwu.domain.geo import GeoPoint
from jingwu.domain.status import SourceChannel, UnitStatus
from jingwu.errors import Conflict
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.db import make_engine, read_transaction, upgrade_schema, write_transaction
from tests.conftest import SOUTH, make_unit

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_a_decision_made_on_a_stale_read_is_refused_and_rolled_back(migrated_database_url: str) -> None:
    """Two servers read the same unit and both dispatch it: the version check lets one win."""
    engine = make_engine(migrated_database_url)
    upgrade_schema(engine)
    with write_transaction(engine) as conn:
        repo.insert_station(conn, SOUTH)
        repo.insert_unit(conn, make_unit("u1", 45.75, 126.63))
        for incident_id in ("J1", "J2"):
            opened = rules.open_incident(
                incident_id=incident_id,
                now=T0,
                type_code="crim.robbery",
                priority=1,
                location=GeoPoint(45.75, 126.63),
                source=SourceChannel.CALL_110,
            )
            repo.apply_decision(conn, opened, new_incident_ids=frozenset({incident_id}))
    with read_transaction(engine) as conn:
        unit = repo.get_unit(conn, "u1")
        first, second = repo.get_incident(conn, "J1"), repo.get_incident(conn, "J2")
    winner = rules.dispatch(first, [unit], now=T0, ack_timeout_s=30)
    loser = rules.dispatch(second, [unit], now=T0, ack_timeout_s=30)  # decided on the same stale read
    with write_transaction(engine) as conn:
        repo.apply_decision(conn, winner)
    with pytest.raises(Conflict) as err, write_transaction(engine) as conn:
        repo.apply_decision(conn, loser)
    assert err.value.code in ("stale_incident", "stale_unit")
    with read_transaction(engine) as conn:
        stored = repo.get_unit(conn, "u1")
        assert stored.status is UnitStatus.DISPATCHED and stored.incident_id == "J1"
        assert repo.get_incident(conn, "J2").version == 1
        assert conn.execute(select(func.count()).select_from(t.assignments)).scalar_one() == 1
    engine.dispose()
