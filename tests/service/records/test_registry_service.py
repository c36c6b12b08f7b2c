"""The registry service on its own: history kept sealed and readable, a business updated by its
licence, a house correction that would collide refused, and no read of a person answered unless
its audit record was written."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from jingwu.composition import Services
from jingwu.errors import Conflict, ValidationFailed
from jingwu.service.records import NewCollection, lookups
from jingwu.simulation.people import synthetic_licence_number, synthetic_person
from jingwu.store import records_tables as rt
from tests.conftest import ServicesFactory

TODAY = date(2026, 11, 25)
POINT = {"lat": 45.7560, "lon": 126.6420}


def anywhere(station_id: str | None) -> None:
    return None


def _house(room: str, **point: float) -> dict[str, Any]:
    return {
        "street_address": "西大直街92号",
        "community": "工大",
        "building": "2",
        "unit": "1",
        "room": room,
    } | (point or POINT)


def _apply(services: Services, new: NewCollection) -> dict[str, Any]:
    services.records.submit(new, actor="collector", source=None, check_station=anywhere)
    return services.records.approve(new.id, actor="chief", source=None, check_station=anywhere)


@pytest.fixture
def services(make_services: ServicesFactory) -> Services:
    return make_services()


def test_a_business_is_updated_by_its_licence_and_its_history_is_sealed_and_masked(
    services: Services,
) -> None:
    rng = np.random.default_rng(1)
    boss, heir = (synthetic_person(rng, today=TODAY, min_age=30, max_age=60) for _ in range(2))
    licence = synthetic_licence_number(rng)
    record = {"name": "工大书店", "licence_number": licence, "kind": "shop",
              "people_in_charge": [{"name": boss.name, "id_number": boss.id_number}]}  # fmt: skip
    first = _apply(
        services, NewCollection(id="svc-biz-0001", kind="business", record=record, house=_house(""))
    )
    changed = record | {"people_in_charge": [{"name": heir.name, "id_number": heir.id_number}]}
    second = _apply(
        services,
        NewCollection(
            id="svc-biz-0002", kind="business", record=changed, house=_house(""), channel="station"
        ),
    )
    assert first["record_id"] == second["record_id"]
    with services.engine.connect() as conn:
        stored = conn.execute(
            select(rt.records_history).where(rt.records_history.c.field == "people_in_charge")
        ).all()
    assert len(stored) == 2 and all(boss.id_number not in (r.after or "") + (r.before or "") for r in stored)
    full = services.records.business(
        first["record_id"], "核查单位负责人", actor="chief", source=None, station_ids=None, full=True
    )
    change = [h for h in full["history"] if h["field"] == "people_in_charge"][-1]
    assert boss.name in change["before"] and heir.name in change["after"] and change["channel"] == "station"
    masked = services.records.business(
        first["record_id"], "核查单位负责人", actor="collector", source=None, station_ids=None, full=False
    )
    shown = [h for h in masked["history"] if h["field"] == "people_in_charge"][-1]
    assert boss.name not in shown["before"] and boss.id_number not in shown["before"]
    assert masked["people_in_charge"][0]["name"] != heir.name


def test_a_house_corrected_onto_another_houses_address_is_refused_and_changes_nothing(
    services: Services,
) -> None:
    a = _apply(services, NewCollection(id="svc-house-001", kind="house", record=_house("101")))
    _apply(services, NewCollection(id="svc-house-002", kind="house", record=_house("102")))
    onto = NewCollection(id="svc-house-003", kind="house", record=_house("102"), target_id=a["record_id"])
    services.records.submit(onto, actor="collector", source=None, check_station=anywhere)
    with pytest.raises(Conflict) as caught:
        services.records.approve(onto.id, actor="chief", source=None, check_station=anywhere)
    assert caught.value.code == "house_exists"
    with services.engine.connect() as conn:
        status = conn.execute(
            select(rt.records_collections.c.status).where(rt.records_collections.c.id == onto.id)
        ).scalar_one()
    assert status == "pending"


def test_a_change_of_an_unknown_record_is_refused_when_submitted(services: Services) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.records.submit(
            NewCollection(id="svc-unknown-1", kind="house", record=_house("1"), target_id="hse_nope"),
            actor="collector",
            source=None,
            check_station=anywhere,
        )
    assert caught.value.code == "unknown_record"


def test_no_person_is_shown_unless_the_read_was_audited(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = synthetic_person(np.random.default_rng(2), today=TODAY, min_age=30, max_age=60)
    record = {"name": person.name, "id_number": person.id_number, "relation": "head"}
    _apply(services, NewCollection(id="svc-audit-001", kind="resident", record=record, house=_house("301")))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the audit store is down")

    looked = []
    real_search = lookups.search

    def spy(*args: Any, **kwargs: Any) -> Any:
        looked.append(1)
        return real_search(*args, **kwargs)

    monkeypatch.setattr("jingwu.service.records.lookups.search", spy)
    monkeypatch.setattr("jingwu.service.records.reads.append_audit", broken)
    with pytest.raises(RuntimeError):
        services.records.search(
            "id_number",
            person.id_number,
            "核查人员信息",
            actor="chief",
            source=None,
            station_ids=None,
            full=True,
        )
    assert looked == [1]  # it was read, inside the transaction, and then not answered
