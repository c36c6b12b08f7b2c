"""Dispute cases on a real store (SQLite, and PostgreSQL where reachable): opening, editing with
a history, mediation work, the work lists, personal data read on purpose, and escalation by a new call."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from jingwu.composition import Services
from jingwu.domain.disputes import DisputeKind, RiskFactor
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Reporter
from jingwu.domain.status import SourceChannel
from jingwu.errors import Conflict, Forbidden, ValidationFailed
from jingwu.service.dispatching import NewIncident
from jingwu.service.disputes import DisputeEdit, NewDispute, NewParty, everywhere
from jingwu.store import disputes_tables as d
from jingwu.store import tables as t
from jingwu.store.db import read_transaction
from tests.conftest import FakeClock, ServicesFactory

CENTRE = GeoPoint(45.7560, 126.6420)
FAR = GeoPoint(45.7420, 126.6600)  # about 2 km away, on the same bank
PHONE = "+8613812345678"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x01" * 64


def _open(services: Services, *, at: GeoPoint = CENTRE, **overrides: object) -> dict:
    new = NewDispute(
        kind=overrides.pop("kind", DisputeKind.FAMILY),  # type: ignore[arg-type]
        summary="夫妻因家务多次争吵",
        address="保健路 12 号 3 单元 501",
        location=at,
        parties=[NewParty("王建国", phone=PHONE, role="applicant"), NewParty("李秀梅", role="respondent")],
        factors=overrides.pop("factors", frozenset({RiskFactor.REPEATED_CONFLICT})),  # type: ignore[arg-type]
        officer=None,
    )
    return services.disputes.cases.open(new, actor="community", reach=everywhere)


def _call(
    services: Services, at: GeoPoint, *, phone: str | None = None, type_code: str = "dispute.family"
) -> str:
    reporter = Reporter(name="报警人", phone=phone) if phone else None
    incident = services.dispatch.create_incident(
        NewIncident(type_code, at, SourceChannel.CALL_110, reporter=reporter), actor="dispatcher"
    )
    return incident.id


def _links(services: Services, dispute_id: str) -> int:
    with read_transaction(services.engine) as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(d.dispute_incident_links)
                .where(d.dispute_incident_links.c.dispute_id == dispute_id)
            ).scalar_one()
        )


def _wait_for_link(services: Services, dispute_id: str, count: int = 1) -> None:
    deadline = time.monotonic() + 10
    while _links(services, dispute_id) < count:
        assert time.monotonic() < deadline, "the bus subscriber did not escalate"
        time.sleep(0.05)


@pytest.fixture
def services(make_services: ServicesFactory) -> Services:
    return make_services()


def test_a_case_opens_with_its_station_risk_and_masked_parties(services: Services) -> None:
    case = _open(services, factors=frozenset({RiskFactor.VIOLENCE_THREATENED, RiskFactor.REPEATED_CONFLICT}))
    assert case["station_id"] == "south" and case["status"] == "open" and case["version"] == 1
    # Family + a threat of violence + repeated conflict: 3 + 1 + 2 = 6, critical.
    assert case["risk_level"] == "critical"
    assert [r["code"] for r in case["risk_reasons"]] == ["violence_threatened", "repeated_conflict"]
    assert [p["name"] for p in case["parties"]] == ["王**", "李**"]
    # Sealed at rest: the name is not in the row, the phone's blind index is.
    with read_transaction(services.engine) as conn:
        rows = conn.execute(select(d.dispute_parties).order_by(d.dispute_parties.c.position)).all()
    assert "王建国" not in rows[0].name and rows[0].name.startswith("v1:")
    assert rows[0].phone_index is not None and rows[1].phone_index is None


def test_a_case_outside_the_callers_reach_is_refused_and_not_stored(services: Services) -> None:
    def only_north(station_id: str | None) -> None:
        if station_id != "north":
            raise Forbidden("out", code="out_of_jurisdiction")

    with pytest.raises(Forbidden):
        services.disputes.cases.open(
            NewDispute(DisputeKind.DEBT, "欠款", "某地", CENTRE, [NewParty("张三")]),
            actor="x",
            reach=only_north,
        )
    with pytest.raises(ValidationFailed) as no_parties:
        _open_without_parties(services)
    assert no_parties.value.code == "parties_required"
    assert services.disputes.lists.list(station_ids=None) == []


def _open_without_parties(services: Services) -> None:
    services.disputes.cases.open(
        NewDispute(DisputeKind.DEBT, "欠款", "某地", CENTRE, []), actor="x", reach=everywhere
    )


def test_an_edit_is_versioned_and_kept_in_the_history(services: Services) -> None:
    case = _open(services)
    edited = services.disputes.cases.edit(
        case["id"],
        DisputeEdit(version=1, factors=frozenset({RiskFactor.WEAPONS}), summary="提及菜刀"),
        actor="community",
        reach=everywhere,
    )
    assert edited["version"] == 2 and edited["risk_level"] == "high" and edited["summary"] == "提及菜刀"
    with pytest.raises(Conflict) as stale:
        services.disputes.cases.edit(
            case["id"], DisputeEdit(version=1, summary="x"), actor="b", reach=everywhere
        )
    assert stale.value.code == "stale_dispute"
    history = services.disputes.cases.history(case["id"], reach=everywhere)
    assert [h["action"] for h in history] == ["opened", "edited"]
    assert history[1]["actor"] == "community"
    assert history[1]["changes"]["risk_level"] == ["medium", "high"]
    assert history[1]["changes"]["summary"] == ["夫妻因家务多次争吵", "提及菜刀"]


def test_reading_the_parties_is_audited_with_its_reason_and_masked_unless_full(services: Services) -> None:
    case = _open(services)
    masked = services.disputes.cases.parties(
        case["id"], actor="community", reason="调解前核实", full=False, source="test", reach=everywhere
    )
    assert masked[0]["phone"] == "138****5678" and masked[0]["name"] == "王**"
    full = services.disputes.cases.parties(
        case["id"], actor="chief", reason="约谈当事人", full=True, source="test", reach=everywhere
    )
    assert full[0]["phone"] == PHONE and full[0]["name"] == "王建国"
    records = [r for r in services.audit.page(limit=10) if r.action == "personal_data.read"]
    assert [(r.actor, r.reason, r.details["full"]) for r in records] == [
        ("chief", "约谈当事人", True),
        ("community", "调解前核实", False),
    ]
    assert all(r.target == f"dispute:{case['id']}" for r in records)


def test_visits_photos_agreements_and_follow_ups_change_the_case(
    services: Services, clock: FakeClock
) -> None:
    case = _open(services)
    visit = services.disputes.work.add_visit(
        case["id"],
        note="上门调解，双方情绪平稳",
        visited_at=None,
        visit_id="dvs_terminal01",
        actor="community",
        reach=everywhere,
    )
    assert visit["id"] == "dvs_terminal01"
    photo = services.disputes.work.add_photo(
        case["id"], visit["id"], "image/png", PNG, actor="community", reach=everywhere
    )
    from jingwu.domain.attachments import UnsupportedMediaType

    with pytest.raises(UnsupportedMediaType):
        services.disputes.work.add_photo(
            case["id"], visit["id"], "image/jpeg", PNG, actor="community", reach=everywhere
        )
    services.disputes.work.add_agreement(
        case["id"], text="双方同意分摊维修费", agreed_on=None, actor="community", reach=everywhere
    )
    today = clock().date()
    follow = services.disputes.work.add_follow_up(
        case["id"], due_on=today + timedelta(days=1), note="回访", actor="community", reach=everywhere
    )
    with pytest.raises(ValidationFailed) as past:
        services.disputes.work.add_follow_up(
            case["id"], due_on=today - timedelta(days=3), note=None, actor="community", reach=everywhere
        )
    assert past.value.code == "follow_up_in_past"
    whole = services.disputes.cases.get(case["id"], reach=everywhere)
    assert whole["version"] == 5  # opened, visit, photo, agreement, follow-up
    assert whole["visits"][0]["photos"][0]["id"] == photo["id"]
    assert whole["agreements"][0]["text"] == "双方同意分摊维修费"
    assert whole["next_follow_up_on"] == today + timedelta(days=1) and whole["overdue_days"] == 0
    assert services.disputes.work.photo(photo["id"], reach=everywhere)[2] == PNG
    clock.advance(3 * 86400)
    assert services.disputes.cases.get(case["id"], reach=everywhere)["overdue_days"] == 2
    services.disputes.work.complete_follow_up(
        case["id"], follow["id"], note="已回访", actor="community", reach=everywhere
    )
    done = services.disputes.cases.get(case["id"], reach=everywhere)
    assert done["next_follow_up_on"] is None and done["overdue_days"] == 0


def test_the_work_list_puts_overdue_first_then_rising_risk(services: Services, clock: FakeClock) -> None:
    calm = _open(services, at=FAR, factors=frozenset({RiskFactor.WEAPONS, RiskFactor.VIOLENCE_THREATENED}))
    late = _open(services, at=FAR, factors=frozenset())
    services.disputes.work.add_follow_up(
        late["id"], due_on=clock().date(), note=None, actor="c", reach=everywhere
    )
    rising = _open(services, factors=frozenset())
    clock.advance(2 * 86400)
    _call(services, CENTRE)  # raises the risk of the one at the centre
    _wait_for_link(services, rising["id"])
    listed = services.disputes.lists.list(station_ids={"south"})
    assert [c["id"] for c in listed] == [late["id"], rising["id"], calm["id"]]
    assert listed[0]["overdue_days"] == 2 and listed[1]["risk_rising"]
    assert [c["id"] for c in services.disputes.lists.list(station_ids={"south"}, overdue=True)] == [
        late["id"]
    ]
    assert services.disputes.lists.list(station_ids={"north"}) == []


def test_a_new_call_at_the_address_escalates_the_dispute_once(services: Services) -> None:
    case = _open(services)  # medium
    incident_id = _call(services, GeoPoint(CENTRE.lat + 0.0002, CENTRE.lon))  # about 22 m away
    _wait_for_link(services, case["id"])
    after = services.disputes.cases.get(case["id"], reach=everywhere)
    assert after["risk_level"] == "high" and after["risk_rising"]
    assert after["risk_reasons"][-1]["code"] == "new_call" and incident_id in after["risk_reasons"][-1]["en"]
    assert after["incidents"][0]["incident_id"] == incident_id
    assert after["incidents"][0]["matched_by"] == ["address"]
    # Heard again (another process, a replay): nothing changes twice.
    assert services.disputes.escalation.escalate_for_incident(incident_id) == []
    again = services.disputes.cases.get(case["id"], reach=everywhere)
    assert again["risk_level"] == "high" and again["version"] == after["version"]
    timeline = [m.type for m in services.dispatch.incident_timeline(incident_id)]
    assert timeline.count("dispute.escalated") == 1
    beside = services.disputes.escalation.for_incident(incident_id, station_ids={"south"})
    assert [v["id"] for v in beside] == [case["id"]] and beside[0]["escalated"]
    assert services.disputes.escalation.for_incident(incident_id, station_ids={"north"}) == []


def test_a_call_from_a_partys_phone_escalates_wherever_it_comes_from(services: Services) -> None:
    case = _open(services)
    far_call = _call(services, FAR, phone=PHONE, type_code="order.domestic_violence")
    _wait_for_link(services, case["id"])
    after = services.disputes.cases.get(case["id"], reach=everywhere)
    assert after["incidents"][0]["matched_by"] == ["party"]
    assert after["risk_level"] == "high"  # medium, one up; violence takes it to high at least
    unrelated = _call(services, FAR, phone="+8613900001111")
    assert services.disputes.escalation.escalate_for_incident(unrelated) == []
    assert far_call != unrelated and _links(services, case["id"]) == 1


def test_a_closed_dispute_is_not_escalated(services: Services) -> None:
    case = _open(services)
    services.disputes.cases.close(case["id"], outcome="resolved", note="已调解", actor="c", reach=everywhere)
    incident_id = _call(services, CENTRE)
    assert services.disputes.escalation.escalate_for_incident(incident_id) == []
    assert services.disputes.cases.get(case["id"], reach=everywhere)["risk_level"] == "medium"
    with pytest.raises(Conflict) as closed:
        services.disputes.work.add_visit(
            case["id"], note="x", visited_at=None, visit_id=None, actor="c", reach=everywhere
        )
    assert closed.value.code == "dispute_closed"


def test_processes_racing_to_escalate_link_once_and_raise_once(
    services: Services, make_services: ServicesFactory
) -> None:
    other = make_services()  # a second server process on the same database (its own bus)
    case = _open(services)
    incident_id = _call(services, CENTRE)
    barrier = threading.Barrier(3)
    results: list[list[str]] = []

    def run(s: Services) -> None:
        barrier.wait()
        results.append(s.disputes.escalation.escalate_for_incident(incident_id))

    threads = [threading.Thread(target=run, args=(s,)) for s in (services, other, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _wait_for_link(services, case["id"])
    time.sleep(0.3)  # the bus subscriber's own attempt, if it came last
    assert _links(services, case["id"]) == 1
    after = services.disputes.cases.get(case["id"], reach=everywhere)
    assert after["risk_level"] == "high"
    assert (
        sum(
            1
            for h in services.disputes.cases.history(case["id"], reach=everywhere)
            if h["action"] == "escalated"
        )
        == 1
    )
    assert sum(len(r) for r in results) <= 1
    with read_transaction(services.engine) as conn:
        events = conn.execute(
            select(func.count()).select_from(t.events).where(t.events.c.type == "dispute.escalated")
        ).scalar_one()
    assert events == 1


def test_a_case_of_another_kind_or_factor_is_refused_with_a_clear_code() -> None:
    from jingwu.domain.disputes import parse_factors, parse_kind

    with pytest.raises(ValidationFailed) as kind:
        parse_kind("marital")
    assert kind.value.code == "bad_dispute_kind"
    with pytest.raises(ValidationFailed) as factor:
        parse_factors(["weapons", "bad_mood"])
    assert factor.value.code == "bad_risk_factor"
    assert date.today()  # (pure: no store touched)


def test_a_call_corrected_to_the_disputes_address_escalates_it(services: Services) -> None:
    from jingwu.domain.incident_edits import IncidentEdit

    case = _open(services)
    incident_id = _call(services, FAR)
    time.sleep(0.3)
    assert _links(services, case["id"]) == 0
    services.dispatch.records.edit(
        incident_id,
        IncidentEdit(location=CENTRE),
        actor="dispatcher",
        expected_version=None,
        reason="回拨核实地址",
    )
    _wait_for_link(services, case["id"])
    assert (
        services.disputes.cases.get(case["id"], reach=everywhere)["incidents"][0]["incident_id"]
        == incident_id
    )
