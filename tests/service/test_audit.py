"""The hash-chained audit log: appends under concurrency, and `jingwu audit verify` against a table
edited, deleted from, re-ordered and truncated directly in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from jingwu.cli import main
from jingwu.service import audit
from jingwu.service.audit import GENESIS_HASH, AuditService, Damage, Head, verify_chain
from jingwu.store import tables as t
from jingwu.store.db import make_engine, upgrade_schema, write_transaction

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def _chain(n: int) -> list[audit.AuditRecord]:
    records: list[audit.AuditRecord] = []
    prev = GENESIS_HASH
    for i in range(1, n + 1):
        fields: dict[str, Any] = {
            "id": i,
            "ts": T0 + timedelta(seconds=i),
            "actor": f"user{i}",
            "action": "auth.login",
            "target": None,
            "outcome": "ok",
            "source": "10.0.0.1",
            "reason": None,
            "details": {"b": 1, "a": [i, "警务"]},
            "prev_hash": prev,
        }
        prev = audit.record_hash(**fields)
        records.append(audit.AuditRecord(**fields, hash=prev))
    return records


def test_an_intact_chain_verifies_and_names_its_head() -> None:
    records = _chain(5)
    result = verify_chain(records, Head(5, records[-1].hash))
    assert result.intact and result.count == 5 and result.last_hash == records[-1].hash
    assert verify_chain([], Head(0, GENESIS_HASH)).intact


def test_the_hash_is_of_a_canonical_form_independent_of_key_order_and_time_zone() -> None:
    base: dict[str, Any] = {
        "id": 1,
        "ts": T0,
        "actor": None,
        "action": "a",
        "target": None,
        "outcome": "ok",
        "source": None,
        "reason": None,
        "details": {"x": 1, "y": 2},
        "prev_hash": GENESIS_HASH,
    }
    shifted = base | {"ts": T0.astimezone(timezone(timedelta(hours=8))), "details": {"y": 2, "x": 1}}
    assert audit.record_hash(**base) == audit.record_hash(**shifted)
    assert audit.record_hash(**base) != audit.record_hash(**(base | {"actor": "x"}))


def test_pure_verification_names_each_kind_of_damage() -> None:
    records = _chain(6)
    edited = list(records)
    edited[2] = audit.AuditRecord(**(edited[2].to_dict() | {"ts": edited[2].ts, "outcome": "refused"}))
    finding = verify_chain(edited).finding
    assert finding is not None and (finding.record_id, finding.damage) == (3, Damage.EDITED)

    deleted = records[:3] + records[4:]
    finding = verify_chain(deleted).finding
    assert finding is not None and (finding.record_id, finding.damage) == (4, Damage.DELETED)

    def moved(r: audit.AuditRecord, new_id: int) -> audit.AuditRecord:
        return audit.AuditRecord(**(r.to_dict() | {"ts": r.ts, "id": new_id}))

    swapped = list(records)
    swapped[1], swapped[2] = moved(records[2], 2), moved(records[1], 3)
    finding = verify_chain(swapped).finding
    assert finding is not None and (finding.record_id, finding.damage) == (2, Damage.REORDERED)

    finding = verify_chain(records[:4], Head(6, records[5].hash)).finding
    assert finding is not None and (finding.record_id, finding.damage) == (5, Damage.TRUNCATED)

    finding = verify_chain(records[:4], anchors=[(5, records[4].hash)]).finding
    assert finding is not None and finding.damage is Damage.ANCHOR


# ------------------------------------------------------------------------- in the database


@pytest.fixture
def audited(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    engine = make_engine(database_url)
    upgrade_schema(engine)
    service = AuditService(engine, clock=lambda: T0)
    for i in range(6):
        service.record(
            "auth.login", actor=f"user{i}", target=f"user{i}", source="192.0.2.7", details={"n": i}
        )
    monkeypatch.setenv("JINGWU_DATABASE_URL", database_url)
    yield engine
    engine.dispose()


def _verify(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["audit", "verify", *extra])
    return code, capsys.readouterr().out


def test_cli_says_an_intact_chain_is_intact(audited: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _verify(capsys)
    assert code == 0 and "audit chain intact: 6 records" in out
    head = out.split("head: ")[1].strip()
    code, _ = _verify(capsys, "--anchor", head)
    assert code == 0


def test_cli_catches_an_edited_record(audited: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with write_transaction(audited) as conn:
        conn.execute(update(t.audit_log).where(t.audit_log.c.id == 3).values(outcome="refused"))
    code, out = _verify(capsys)
    assert code == 1 and "record 3" in out and "edited" in out


def test_cli_catches_a_deleted_record(audited: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with write_transaction(audited) as conn:
        conn.execute(delete(t.audit_log).where(t.audit_log.c.id == 4))
    code, out = _verify(capsys)
    assert code == 1 and "record 4" in out and "deleted" in out


def test_cli_catches_two_swapped_records(audited: Any, capsys: pytest.CaptureFixture[str]) -> None:
    columns = [c for c in t.audit_log.c if c.name != "id"]
    with write_transaction(audited) as conn:
        rows = {r.id: r for r in conn.execute(select(t.audit_log).where(t.audit_log.c.id.in_([2, 5])))}
        for target, source in ((2, 5), (5, 2)):
            values = {c.name: getattr(rows[source], c.name) for c in columns}
            conn.execute(update(t.audit_log).where(t.audit_log.c.id == target).values(**values))
    code, out = _verify(capsys)
    assert code == 1 and "record 2" in out and "re-ordered" in out


def test_cli_catches_a_truncated_tail_by_the_head_and_by_an_anchor(
    audited: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = _verify(capsys)
    anchor = out.split("head: ")[1].strip()
    with write_transaction(audited) as conn:
        conn.execute(delete(t.audit_log).where(t.audit_log.c.id >= 5))
    code, out = _verify(capsys)
    assert code == 1 and "record 5" in out and "truncated" in out
    # A thorough intruder also rewinds the head: only the anchor kept off-site shows it.
    with write_transaction(audited) as conn:
        last = conn.execute(select(t.audit_log.c.hash).where(t.audit_log.c.id == 4)).scalar_one()
        conn.execute(update(t.audit_head).values(last_id=4, last_hash=last))
    code, out = _verify(capsys)
    assert code == 0
    code, out = _verify(capsys, "--anchor", anchor)
    assert code == 1 and "record 6" in out and "anchor mismatch" in out


def test_concurrent_appenders_keep_one_unbroken_chain(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_schema(engine)
    service = AuditService(engine)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                service.record("test.append", actor=f"w{n}", details={"i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = service.verify()
    assert result.intact and result.count == 90, result.finding
    engine.dispose()
