"""Patrol checks through the real service: the store (sealed, indexed), the audit chain, the
event log and bus, and backup by road on the real Harbin network."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from jingwu.bus import BusMessage
from jingwu.composition import Services
from jingwu.domain.events import EventType
from jingwu.domain.geo import GeoPoint
from jingwu.domain.identity import id_check_char
from jingwu.domain.status import UnitStatus
from jingwu.domain.watchlists import SubjectKind, WatchList
from jingwu.errors import Forbidden, NotFound, ValidationFailed
from jingwu.service.checks.sealing import PLATE_INDEX_KIND
from jingwu.service.community_devices.sealing import PLATE_INDEX_KIND as GATE_PLATE_INDEX_KIND
from jingwu.store import tables as t
from jingwu.store.checks_tables import patrol_checks, watchlist_entries
from jingwu.store.db import read_transaction
from tests.conftest import FakeClock, ServicesFactory, make_unit

# On the south bank near 哈尔滨工业大学 (tests.conftest's "south" station), on a road.
PLACE = GeoPoint(45.7560, 126.6420)
ID17 = "23010319900101123"
WANTED_ID = ID17 + id_check_char(ID17)
OTHER17 = "23010219770305002"
CLEAR_ID = OTHER17 + id_check_char(OTHER17)


@pytest.fixture
def services(make_services: ServicesFactory) -> Services:
    return make_services(
        [
            make_unit("p1", 45.7560, 126.6420),  # the checking officer's own car
            make_unit("p2", 45.7585, 126.6470),
            make_unit("p3", 45.7500, 126.6300),
            make_unit("busy", 45.7561, 126.6421, status=UnitStatus.ON_SCENE),
        ]
    )


def _count(services: Services, table: object) -> int:
    with read_transaction(services.engine) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _heard(services: Services) -> list[BusMessage]:
    heard: list[BusMessage] = []
    services.bus.subscribe(heard.append)
    return heard


def test_a_clear_check_is_stored_and_audited_but_announces_nothing(services: Services) -> None:
    heard = _heard(services)
    outcome = services.checks.check(
        SubjectKind.PERSON, CLEAR_ID, reason="形迹可疑", location=PLACE, officer="w1", unit_id="p1"
    )
    assert outcome.result == "clear" and outcome.hits == [] and outcome.backup == []
    assert outcome.station_id == "south"
    services.bus.close()  # drains the delivery thread
    assert not [m for m in heard if m.type == EventType.CHECK_HIT]
    with read_transaction(services.engine) as conn:
        row = conn.execute(select(patrol_checks)).one()
        audit = conn.execute(
            select(t.audit_log).where(t.audit_log.c.target == f"check:{outcome.check_id}")
        ).one()
    assert (row.officer, row.unit_id, row.reason, row.result) == ("w1", "p1", "形迹可疑", "clear")
    assert CLEAR_ID not in row.subject  # sealed at rest
    assert audit.actor == "w1" and audit.reason == "形迹可疑" and audit.details["result"] == "clear"
    assert CLEAR_ID not in str(audit.details)


def test_a_hit_is_announced_with_the_instruction_and_backup_by_road(services: Services) -> None:
    entry = services.checks.add_entry(
        WatchList.WANTED,
        subject=WANTED_ID,
        reason="网上追逃",
        label="王五",
        actor="chief",
        station_id="south",
    )
    heard = _heard(services)
    outcome = services.checks.check(
        SubjectKind.PERSON, WANTED_ID.lower(), reason="盘查", location=PLACE, officer="w1", unit_id="p1"
    )
    assert outcome.result == "hit"
    assert [h.id for h in outcome.hits] == [entry.id]
    assert outcome.instruction is not None and "增援" in outcome.instruction.zh_cn
    # Free units only, never the officer's own, fastest by road first.
    backup = [b.unit_id for b in outcome.backup]
    assert set(backup) == {"p2", "p3"}
    assert [b.eta_s for b in outcome.backup] == sorted(b.eta_s for b in outcome.backup)
    services.bus.close()  # drains the delivery thread
    events = [m for m in heard if m.type == EventType.CHECK_HIT]
    assert len(events) == 1
    data = events[0].payload["data"]
    assert events[0].id is not None  # durable: in the event log
    assert events[0].payload["unit_id"] == "p1" and data["unit"]["station_id"] == "south"
    check = data["check"]
    assert check["check_id"] == outcome.check_id and check["officer"] == "w1"
    assert check["position"] == {"lat": PLACE.lat, "lon": PLACE.lon} and check["station_id"] == "south"
    assert check["hits"][0]["list"] == "wanted" and check["hits"][0]["label"] == "王*"
    assert WANTED_ID not in str(check)  # masked in the event log
    assert check["instruction"]["zh-CN"] == outcome.instruction.zh_cn
    assert [b["unit_id"] for b in check["backup"]] == backup
    replay = services.event_log.events_after(0, 100)
    assert any(m.type == EventType.CHECK_HIT for m in replay)


def test_expired_and_removed_entries_do_not_hit(services: Services, clock: FakeClock) -> None:
    services.checks.add_entry(
        WatchList.STOLEN_VEHICLE,
        subject="黑A12345",
        reason="被盗",
        actor="chief",
        station_id="south",
        expires_at=clock.now + timedelta(hours=1),
    )
    removed = services.checks.add_entry(
        WatchList.VEHICLE_OF_INTEREST, subject="黑A12345", reason="关注", actor="chief", station_id="south"
    )
    services.checks.remove_entry(WatchList.VEHICLE_OF_INTEREST, removed.id, actor="chief", station_ids=None)
    first = services.checks.check(
        SubjectKind.VEHICLE, "黑A·12345", reason="例行", location=None, officer="w1", unit_id=None
    )
    assert first.result == "hit" and [h.list for h in first.hits] == [WatchList.STOLEN_VEHICLE]
    clock.advance(3601)
    later = services.checks.check(
        SubjectKind.VEHICLE, "黑A12345", reason="例行", location=None, officer="w1", unit_id=None
    )
    assert later.result == "clear"


def test_a_person_check_does_not_hit_a_vehicle_list_entry(services: Services) -> None:
    services.checks.add_entry(
        WatchList.WANTED, subject=WANTED_ID, reason="追逃", actor="chief", station_id=None
    )
    outcome = services.checks.check(
        SubjectKind.VEHICLE, "黑A12345", reason="例行", location=None, officer="w1", unit_id=None
    )
    assert outcome.result == "clear"


@pytest.mark.parametrize(
    ("kind", "subject", "reason", "code"),
    [
        (SubjectKind.PERSON, ID17 + ("0" if id_check_char(ID17) != "0" else "1"), "盘查", "bad_id_checksum"),
        (SubjectKind.PERSON, "2301031990", "盘查", "bad_id_number_format"),
        (
            SubjectKind.PERSON,
            "99010319900101123" + id_check_char("99010319900101123"),
            "盘查",
            "bad_id_region",
        ),
        (SubjectKind.VEHICLE, "黑A1234", "盘查", "bad_plate"),
        (SubjectKind.VEHICLE, "黑A12345", "   ", "reason_required"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    services: Services, kind: SubjectKind, subject: str, reason: str, code: str
) -> None:
    before = services.audit.page(limit=1)
    with pytest.raises(ValidationFailed) as exc:
        services.checks.check(kind, subject, reason=reason, location=PLACE, officer="w1", unit_id="p1")
    assert exc.value.code == code
    assert _count(services, patrol_checks) == 0
    assert services.audit.page(limit=1) == before


def test_entries_are_sealed_and_listed_masked_unless_full(services: Services) -> None:
    services.checks.add_entry(
        WatchList.MISSING,
        subject=WANTED_ID,
        reason="走失老人",
        label="李四",
        actor="chief",
        station_id="south",
    )
    with read_transaction(services.engine) as conn:
        row = conn.execute(select(watchlist_entries)).one()
    assert WANTED_ID not in row.subject and "李四" not in (row.label or "")
    masked = services.checks.list_entries(WatchList.MISSING, actor="chief", full=False)
    assert masked.total == 1 and masked.entries[0].subject != WANTED_ID and masked.entries[0].label == "李*"
    full = services.checks.list_entries(WatchList.MISSING, actor="chief", full=True)
    assert full.entries[0].subject == WANTED_ID and full.entries[0].label == "李四"
    assert services.checks.list_entries(WatchList.WANTED, actor="chief", full=True).total == 0
    reads = [r for r in services.audit.page(limit=10) if r.action == "watchlist.read"]
    assert len(reads) == 3


def test_removing_is_limited_to_the_jurisdiction_and_happens_once(services: Services) -> None:
    entry = services.checks.add_entry(
        WatchList.WANTED, subject=WANTED_ID, reason="追逃", actor="chief", station_id="south"
    )
    with pytest.raises(Forbidden):
        services.checks.remove_entry(WatchList.WANTED, entry.id, actor="north-chief", station_ids={"north"})
    with pytest.raises(NotFound) as exc:
        services.checks.remove_entry(WatchList.MISSING, entry.id, actor="chief", station_ids={"south"})
    assert exc.value.code == "watchlist_entry_not_found"
    services.checks.remove_entry(WatchList.WANTED, entry.id, actor="chief", station_ids={"south"})
    with pytest.raises(NotFound):
        services.checks.remove_entry(WatchList.WANTED, entry.id, actor="chief", station_ids={"south"})
    shown = services.checks.list_entries(WatchList.WANTED, actor="chief", full=True, include_inactive=True)
    assert shown.entries[0].removed_by == "chief" and not shown.entries[0].in_force


def test_recent_checks_are_cut_to_the_stations_and_audited(services: Services) -> None:
    services.checks.check(
        SubjectKind.VEHICLE, "黑A12345", reason="例行", location=PLACE, officer="w1", unit_id="p1"
    )
    north = GeoPoint(45.80, 126.60)
    services.checks.check(
        SubjectKind.VEHICLE, "黑B54321", reason="例行", location=north, officer="n1", unit_id=None
    )
    south = services.checks.recent_checks(actor="chief", full=False, station_ids={"south"})
    assert [c["subject"] for c in south] == ["黑A***45"]
    mine = services.checks.recent_checks(actor="n1", full=True, station_ids=None, officer="n1")
    assert [c["subject"] for c in mine] == ["黑B54321"]


def test_the_plate_index_is_the_community_gates_one() -> None:
    assert PLATE_INDEX_KIND == GATE_PLATE_INDEX_KIND
