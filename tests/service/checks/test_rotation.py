"""Key rotation of the watch lists and the checks: every sealed value moves to the new key, the
blind indexes stay (or are repaired), and checks still hit afterwards."""

from __future__ import annotations

from sqlalchemy import select, update

from jingwu.composition import assemble
from jingwu.domain.identity import id_check_char
from jingwu.domain.watchlists import SubjectKind, WatchList
from jingwu.service.checks.rotation import rotate_checks
from jingwu.store.checks_tables import patrol_checks, watchlist_entries
from jingwu.store.db import read_transaction
from jingwu.store.fieldcrypt import KeyRing, format_key_line
from tests.conftest import ServicesFactory

K1 = format_key_line("k1", b"\x01" * 32)
K2 = format_key_line("k2", b"\x02" * 32)
ID17 = "23010319900101123"
WANTED = ID17 + id_check_char(ID17)


def test_rotation_reseals_under_the_new_key_and_checks_still_hit(make_services: ServicesFactory) -> None:
    first = make_services()
    old = KeyRing.parse(K1)
    services = assemble(first.settings, first.engine, first.dispatch.network, keys=old)
    services.checks.add_entry(
        WatchList.WANTED, subject=WANTED, label="王五", reason="追逃", actor="c", station_id=None
    )
    services.checks.add_entry(
        WatchList.STOLEN_VEHICLE, subject="黑A12345", reason="被盗", actor="c", station_id=None
    )
    services.checks.check(SubjectKind.PERSON, WANTED, reason="盘查", location=None, officer="o", unit_id=None)
    services.close()
    with first.engine.begin() as conn:  # an index gone stale (as after a change of index key)
        conn.execute(update(patrol_checks).values(subject_index="0" * 32))

    new = KeyRing.parse(f"{K1}\n{K2}")  # k2 encrypts; k1 (the first) still indexes
    resealed, rewritten = rotate_checks(first.engine, new)
    assert resealed == 4 and rewritten == 1  # two subjects and a name, one checked subject
    with read_transaction(first.engine) as conn:
        tokens = [*conn.execute(select(watchlist_entries.c.subject, watchlist_entries.c.label)).all()]
        tokens += [(r.subject, None) for r in conn.execute(select(patrol_checks.c.subject)).all()]
    assert all(not new.needs_rotation(t) for pair in tokens for t in pair if t)
    assert rotate_checks(first.engine, new) == (0, 0)

    rotated = assemble(first.settings, first.engine, first.dispatch.network, keys=new)
    try:
        outcome = rotated.checks.check(
            SubjectKind.PERSON, WANTED, reason="盘查", location=None, officer="o", unit_id=None
        )
        assert outcome.result == "hit" and outcome.hits[0].label == "王五"
        listed = rotated.checks.list_entries(WatchList.STOLEN_VEHICLE, actor="c", full=True)
        assert listed.entries[0].subject == "黑A12345"
        assert rotated.checks.recent_checks(actor="c", full=True, station_ids=None)[-1]["subject"] == WANTED
    finally:
        rotated.close()
