"""Key rotation of the registry's sealed fields: every value re-sealed under the new key, the
residents' blind indexes rebuilt once the old (index) key is gone, and a search still finds them."""

from __future__ import annotations

from datetime import date

import numpy as np
from sqlalchemy import select

from jingwu.composition import Services
from jingwu.service.records import NewCollection
from jingwu.service.records.rotation import SEALED, rotate_records
from jingwu.simulation.people import synthetic_person
from jingwu.store.db import read_transaction
from jingwu.store.fieldcrypt import KeyRing, format_key_line
from tests.conftest import ServicesFactory

K1 = format_key_line("k1", b"\x01" * 32)
K2 = format_key_line("k2", b"\x02" * 32)
HOUSE = {"street_address": "西大直街92号", "community": "工大", "building": "2", "unit": "1", "room": "301",
         "lat": 45.7560, "lon": 126.6420}  # fmt: skip


def anywhere(station_id: str | None) -> None:
    return None


def test_rotation_reseals_every_sealed_value_and_rebuilds_the_indexes(make_services: ServicesFactory) -> None:
    services: Services = make_services()
    services.records.keys = KeyRing.parse(K1)
    person = synthetic_person(np.random.default_rng(9), today=date(2026, 11, 25), min_age=30, max_age=50)
    record = {"name": person.name, "id_number": person.id_number, "phone": "13812345678", "relation": "head"}
    new = NewCollection(id="rotate-0001", kind="resident", record=record, house=HOUSE)
    services.records.submit(new, actor="collector", source=None, check_station=anywhere)
    services.records.approve(new.id, actor="chief", source=None, check_station=anywhere)

    resealed, _ = rotate_records(services.engine, KeyRing.parse(f"{K1}\n{K2}"))
    # name, id number, phone; the payload; the history's name, id number and phone (after only)
    assert resealed == 7
    new_only = KeyRing.parse(K2)
    with read_transaction(services.engine) as conn:
        for table, _, columns in SEALED:
            for row in conn.execute(select(table)):
                for column, context, _, _ in columns:
                    value = getattr(row, column)
                    if value is not None and (
                        table.name != "records_history" or row.field in ("name", "phone")
                    ):
                        assert new_only.decrypt(value, context=context)
    assert rotate_records(services.engine, new_only) == (0, 3)  # name, id and phone indexes
    assert rotate_records(services.engine, new_only) == (0, 0)
    services.records.keys = new_only
    found = services.records.search(
        "id_number",
        person.id_number,
        "核查轮换后检索",
        actor="chief",
        source=None,
        station_ids=None,
        full=True,
    )
    assert [r["name"] for r in found["residents"]] == [person.name]
