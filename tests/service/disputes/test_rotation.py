"""Key rotation of the disputes' parties: every sealed value moves to the new key, the blind
indexes stay (or are repaired), and a call from a party still escalates afterwards."""

from __future__ import annotations

import time

from sqlalchemy import select, update

from jingwu.composition import assemble
from jingwu.domain.disputes import DisputeKind
from jingwu.domain.geo import GeoPoint
from jingwu.domain.identity import id_check_char
from jingwu.domain.model import Reporter
from jingwu.domain.status import SourceChannel
from jingwu.service.dispatching import NewIncident
from jingwu.service.disputes import NewDispute, NewParty, everywhere
from jingwu.service.disputes.rotation import rotate_disputes
from jingwu.store import disputes_tables as d
from jingwu.store.db import read_transaction
from jingwu.store.fieldcrypt import KeyRing, format_key_line
from tests.conftest import ServicesFactory

K1 = format_key_line("k1", b"\x01" * 32)
K2 = format_key_line("k2", b"\x02" * 32)
ID17 = "23010319900101123"
ID_NUMBER = ID17 + id_check_char(ID17)
PHONE = "+8613812345678"
HOME = GeoPoint(45.7560, 126.6420)
FAR = GeoPoint(45.7420, 126.6600)


def test_rotation_reseals_the_parties_and_a_call_from_one_still_escalates(
    make_services: ServicesFactory,
) -> None:
    first = make_services()
    old = KeyRing.parse(K1)
    services = assemble(first.settings, first.engine, first.dispatch.network, keys=old)
    case = services.disputes.cases.open(
        NewDispute(
            DisputeKind.DEBT,
            "借款未还",
            "保健路 1 号",
            HOME,
            [NewParty("王建国", phone=PHONE, id_number=ID_NUMBER), NewParty("李四")],
        ),
        actor="c",
        reach=everywhere,
    )
    services.close()
    with first.engine.begin() as conn:  # an index gone stale (as after a change of index key)
        conn.execute(
            update(d.dispute_parties).where(d.dispute_parties.c.position == 0).values(phone_index="0" * 32)
        )

    new = KeyRing.parse(f"{K1}\n{K2}")  # k2 encrypts; k1 (the first) still indexes
    resealed, rewritten = rotate_disputes(first.engine, new)
    assert (resealed, rewritten) == (4, 1)  # two names, a phone, an ID number; the stale phone index
    with read_transaction(first.engine) as conn:
        rows = conn.execute(
            select(d.dispute_parties.c.name, d.dispute_parties.c.phone, d.dispute_parties.c.id_number)
        ).all()
    assert all(not new.needs_rotation(v) for row in rows for v in row if v)
    assert rotate_disputes(first.engine, new) == (0, 0)

    rotated = assemble(first.settings, first.engine, first.dispatch.network, keys=new)
    try:
        shown = rotated.disputes.cases.parties(
            case["id"], actor="c", reason="核对当事人", full=True, source=None, reach=everywhere
        )
        assert (shown[0]["name"], shown[0]["phone"], shown[0]["id_number"]) == ("王建国", PHONE, ID_NUMBER)
        call = rotated.dispatch.create_incident(
            NewIncident("crim.fraud", FAR, SourceChannel.CALL_110, reporter=Reporter(name="王", phone=PHONE)),
            actor="d",
        )
        deadline = time.monotonic() + 10
        while not rotated.disputes.cases.get(case["id"], reach=everywhere)["incidents"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        linked = rotated.disputes.cases.get(case["id"], reach=everywhere)["incidents"][0]
        assert linked["incident_id"] == call.id and linked["matched_by"] == ["party"]
    finally:
        rotated.close()
