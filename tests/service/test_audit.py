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
def audited(migrated_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    engine = make_engine(migrated_database_url)
    upgrade_schema(engine)
    service = AuditService(engine, clock=lambda: T0)
    for i in range(6):
        service.record(
            "auth.login", actor=f"user{i}", target=f"user{i}", source="192.0.2.7", details={"n": i}
        )
    monkeypatch.setenv("JINGWU_DATABASE_URL", migrated_database_url)
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


def test_concurrent_appenders_keep_one_unbroken_chain(migrated_database_url: str) -> None:
    engine = make_engine(migrated_database_url)
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


# --------------------------------------------------------------------------------- retention

OLD = T0 - timedelta(days=400)
YOUNG = T0 - timedelta(days=10)
CUTOFF = T0 - timedelta(days=365)


@pytest.fixture
def empty_log(migrated_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    engine = make_engine(migrated_database_url)
    upgrade_schema(engine)
    monkeypatch.setenv("JINGWU_DATABASE_URL", migrated_database_url)
    yield engine
    engine.dispose()


def _append_at(engine: Any, *stamps: datetime) -> None:
    with write_transaction(engine) as conn:
        for n, ts in enumerate(stamps):
            audit.append(conn, ts=ts, action="auth.login", actor=f"user{n}", details={"n": n})


def _ids(engine: Any) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(t.audit_log.c.id).order_by(t.audit_log.c.id)).scalars())


def test_prune_removes_the_old_prefix_records_its_base_and_verifies(empty_log: Any) -> None:
    _append_at(empty_log, OLD, OLD, OLD, YOUNG, YOUNG)
    with empty_log.connect() as conn:
        hash_3 = conn.execute(select(t.audit_log.c.hash).where(t.audit_log.c.id == 3)).scalar_one()
    service = AuditService(empty_log, clock=lambda: T0)
    result = service.prune(before=CUTOFF, actor="admin", source="cli")
    assert (result.count, result.first_id, result.last_id) == (3, 1, 3)
    assert (result.base_id, result.base_hash) == (3, hash_3)
    assert _ids(empty_log) == [4, 5, 6]
    record = result.record
    assert record is not None and (record.id, record.action, record.actor) == (6, "audit.pruned", "admin")
    assert record.details == {
        "count": 3,
        "first_id": 1,
        "last_id": 3,
        "base_hash": hash_3,
        "before": CUTOFF.isoformat(timespec="microseconds"),
    }
    with empty_log.connect() as conn:
        head = audit.read_head(conn)
    assert head == Head(6, record.hash, 3, hash_3)
    verification = service.verify()
    assert verification.intact, verification.finding
    assert (verification.count, verification.base_id, verification.last_id) == (3, 3, 6)
    # A second prune later takes the pruned record too, and moves the base past it.
    result = service.prune(before=T0 + timedelta(seconds=1))
    assert (result.count, result.first_id, result.last_id, result.base_id) == (3, 4, 6, 6)
    assert _ids(empty_log) == [7] and service.verify().intact


def test_a_young_record_stops_the_prune_even_if_later_ones_are_old(empty_log: Any) -> None:
    # Timestamps come from the appenders' clocks, so they need not rise with the ids.
    _append_at(empty_log, OLD, YOUNG, OLD, OLD)
    service = AuditService(empty_log, clock=lambda: T0)
    result = service.prune(before=CUTOFF)
    assert (result.count, result.first_id, result.last_id) == (1, 1, 1)
    assert _ids(empty_log) == [2, 3, 4, 5]
    assert service.verify().intact


def test_prune_with_nothing_old_enough_writes_nothing(empty_log: Any) -> None:
    _append_at(empty_log, YOUNG, YOUNG)
    service = AuditService(empty_log, clock=lambda: T0)
    assert service.prunable(before=CUTOFF).count == 0
    result = service.prune(before=CUTOFF)
    assert result == audit.Pruned(0, None, None, 0, GENESIS_HASH, None)
    assert _ids(empty_log) == [1, 2]
    with empty_log.connect() as conn:
        head = audit.read_head(conn)
    assert head is not None and (head.last_id, head.base_id) == (2, 0)


def test_prunable_is_a_dry_run(empty_log: Any) -> None:
    _append_at(empty_log, OLD, OLD, YOUNG)
    service = AuditService(empty_log, clock=lambda: T0)
    would = service.prunable(before=CUTOFF)
    assert (would.count, would.first_id, would.last_id, would.base_id) == (2, 1, 2, 2)
    assert would.record is None and _ids(empty_log) == [1, 2, 3]


def _pruned(engine: Any) -> audit.Pruned:
    _append_at(engine, OLD, OLD, OLD, YOUNG, YOUNG)
    return AuditService(engine, clock=lambda: T0).prune(before=CUTOFF)


def test_cli_catches_the_first_remaining_record_deleted_after_a_prune(
    empty_log: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _pruned(empty_log)
    with write_transaction(empty_log) as conn:
        conn.execute(delete(t.audit_log).where(t.audit_log.c.id == 4))
    code, out = _verify(capsys)
    assert code == 1 and "record 4" in out and "deleted" in out


def test_cli_catches_an_edited_base_hash(empty_log: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _pruned(empty_log)
    with write_transaction(empty_log) as conn:
        conn.execute(update(t.audit_head).values(base_hash="f" * 64))
    code, out = _verify(capsys)
    assert code == 1 and "record 4" in out and "base mismatch" in out


def test_cli_catches_a_base_moved_to_hide_deleted_records(
    empty_log: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Delete the first remaining record and move the base over it, consistently: only the
    # audit.pruned record, which names the real base, disagrees.
    _pruned(empty_log)
    with write_transaction(empty_log) as conn:
        hash_4 = conn.execute(select(t.audit_log.c.hash).where(t.audit_log.c.id == 4)).scalar_one()
        conn.execute(delete(t.audit_log).where(t.audit_log.c.id == 4))
        conn.execute(update(t.audit_head).values(base_id=4, base_hash=hash_4))
    code, out = _verify(capsys)
    assert code == 1 and "record 4" in out and "base mismatch" in out and "audit.pruned" in out


def test_anchors_at_the_base_are_checked_and_anchors_before_it_are_named(
    empty_log: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _append_at(empty_log, OLD, OLD, OLD, YOUNG, YOUNG)
    _, out = _verify(capsys)
    old_head = out.split("head: ")[1].strip()  # record 5: survives the prune
    with empty_log.connect() as conn:
        hash_1 = conn.execute(select(t.audit_log.c.hash).where(t.audit_log.c.id == 1)).scalar_one()
    result = AuditService(empty_log, clock=lambda: T0).prune(before=CUTOFF)
    base = f"{result.base_id}:{result.base_hash}"
    code, out = _verify(capsys, "--anchor", old_head, "--anchor", base, "--anchor", f"1:{hash_1}")
    assert code == 0, out
    assert f"base: {base}" in out and "anchor 1: not checked (pruned" in out
    code, out = _verify(capsys, "--anchor", f"3:{'e' * 64}")
    assert code == 1 and "record 3" in out and "anchor mismatch" in out


def test_cli_prune_uses_the_retention_setting_and_prints_the_base(
    empty_log: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    _append_at(empty_log, now - timedelta(days=400), now - timedelta(days=380), now - timedelta(days=300))
    monkeypatch.setenv("JINGWU_AUDIT_RETENTION_DAYS", "390")
    capsys.readouterr()
    assert main(["audit", "prune", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: 1 audit records older than" in out and "(390 days) would be pruned" in out
    assert _ids(empty_log) == [1, 2, 3]

    monkeypatch.setenv("JINGWU_AUDIT_RETENTION_DAYS", "365")
    assert main(["audit", "prune"]) == 0
    out = capsys.readouterr().out
    assert "pruned 2 audit records older than" in out and "(ids 1–2)" in out
    base = out.split("base: ")[1].split()[0]
    assert base.startswith("2:") and _ids(empty_log) == [3, 4]
    record = AuditService(empty_log).page(limit=1)[0]
    assert (record.action, record.source, record.details["retention_days"]) == ("audit.pruned", "cli", 365)
    assert f"head: {record.id}:{record.hash}" in out

    code, out = _verify(capsys, "--anchor", base)
    assert code == 0 and "audit chain intact: 2 records" in out and f"base: {base}" in out

    assert main(["audit", "prune"]) == 0  # nothing left to prune: exit 0, nothing written
    assert "pruned 0 audit records" in capsys.readouterr().out and _ids(empty_log) == [3, 4]


def test_prune_and_concurrent_appenders_keep_one_verifiable_chain(empty_log: Any) -> None:
    service = AuditService(empty_log)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                service.record("test.append", actor=f"w{n}", details={"i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)

    def pruner() -> None:
        try:
            for _ in range(10):
                service.prune(before=datetime.now(UTC) + timedelta(days=1))  # everything so far
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    threads.append(threading.Thread(target=pruner))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = service.verify()
    assert result.intact, result.finding
    # All 60 appends and every prune's own record got an id, and only pruned ones are gone.
    assert result.last_id >= 60 and result.count == result.last_id - result.base_id
