"""The demo's disputes (矛盾纠纷): a dozen-odd cases, most of them on the beat of the demo community
officer of 保健路派出所 ("community-baojianlu"), so that their work list has something to do:
some follow-ups overdue, one family dispute at high risk, visits and an agreement here and there.

Synthetic only: the parties come from simulation.people (valid GB 11643 numbers with Harbin's
district codes, names from common surnames); none is a real person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select

from jingwu.composition import Services
from jingwu.domain.disputes import DisputeKind, RiskFactor
from jingwu.domain.geo import GeoPoint
from jingwu.domain.identity import parse_phone
from jingwu.service.disputes import NewDispute, NewParty, everywhere
from jingwu.simulation.people import synthetic_person, synthetic_phone
from jingwu.store import disputes_tables as d
from jingwu.store import records_tables
from jingwu.store.db import read_transaction

OFFICER = "community-baojianlu"  # simulation.seed.DEMO_ACCOUNTS
HOME_STATION = "nangang-baojianlu"
OTHER_STATIONS = ("daoli-xinfa", "daowai-donglaijie")
F = RiskFactor


@dataclass(frozen=True, slots=True)
class DemoCase:
    kind: DisputeKind
    summary: str
    factors: frozenset[RiskFactor]
    overdue_days: int | None = None  # a follow-up set this many days in the past (None: one ahead)
    visits: tuple[str, ...] = ()
    agreement: str | None = None


#: 保健路's cases, the work list of the demo community officer (listed in docs/disputes.md).
HOME_CASES: tuple[DemoCase, ...] = (
    DemoCase(
        DisputeKind.FAMILY,
        "夫妻因家务和子女教育长期争吵，男方酒后扬言动手",
        frozenset({F.VIOLENCE_THREATENED, F.ALCOHOL_OR_DRUGS}),  # the high one: 3 + 1 (family) + 1
        overdue_days=2,
        visits=("上门劝解，女方称近期多次争吵，已告知家暴求助渠道",),
    ),
    DemoCase(
        DisputeKind.NEIGHBOUR,
        "楼上漏水致楼下天花板受损，双方就赔偿金额争执",
        frozenset({F.REPEATED_CONFLICT}),
        overdue_days=5,
        visits=("组织双方与物业现场查看漏水点",),
    ),
    DemoCase(
        DisputeKind.NEIGHBOUR,
        "楼道堆放杂物、占用公共空间引发口角",
        frozenset(),
        visits=("走访双方，约定周末前清理",),
        agreement="双方同意本周内清理楼道杂物，物业负责监督",
    ),
    DemoCase(
        DisputeKind.NEIGHBOUR, "夜间噪音扰民，多次敲门争吵", frozenset({F.PREVIOUS_CALLS}), overdue_days=1
    ),
    DemoCase(
        DisputeKind.LABOUR,
        "装修工人称被拖欠工资，聚集在小区门口讨薪",
        frozenset({F.GROUP_INVOLVED, F.PREVIOUS_CALLS}),
    ),
    DemoCase(DisputeKind.DEBT, "亲戚间借款两万元逾期未还，双方互有怨言", frozenset()),
    DemoCase(
        DisputeKind.PROPERTY,
        "业主与物业因车位收费产生纠纷",
        frozenset({F.REPEATED_CONFLICT}),
        overdue_days=3,
    ),
    DemoCase(
        DisputeKind.FAMILY,
        "兄弟姐妹因老人赡养和房产分割争执，老人独居",
        frozenset({F.VULNERABLE_PARTIES}),
        visits=("看望老人，了解子女探望情况",),
    ),
    DemoCase(DisputeKind.OTHER, "小区广场舞音量与周边居民矛盾", frozenset()),
    DemoCase(
        DisputeKind.NEIGHBOUR,
        "宠物犬未拴绳吓到儿童，两家发生推搡",
        frozenset({F.VULNERABLE_PARTIES}),
        agreement="犬主承诺出门拴绳并赔礼道歉",
    ),
)
OTHER_CASES: tuple[DemoCase, ...] = (
    DemoCase(DisputeKind.DEBT, "个体商户间货款纠纷", frozenset({F.PREVIOUS_CALLS})),
    DemoCase(DisputeKind.LABOUR, "餐馆员工被辞退后讨要工资", frozenset(), overdue_days=4),
    DemoCase(DisputeKind.NEIGHBOUR, "共用院墙翻修费用分摊争执", frozenset()),
    DemoCase(DisputeKind.FAMILY, "离婚后子女探视安排反复争吵", frozenset({F.REPEATED_CONFLICT})),
)


def _place(services: Services, station_id: str, rng: np.random.Generator) -> GeoPoint:
    """A point on a road inside the station's area (drawn until one falls there)."""
    for _ in range(5000):
        p = services.network.random_road_point(rng)
        point = GeoPoint(p.lat, p.lon)
        if services.dispatch.station_for(point) == station_id:
            return point
    raise RuntimeError(f"no road point found in {station_id}")


def _address(services: Services, point: GeoPoint, rng: np.random.Generator) -> str:
    try:
        label = services.geocoding.reverse(point.lat, point.lon).label
    except Exception:  # an address index that cannot load is no reason to leave the demo empty
        label = "南岗区"
    label = label.strip() or "南岗区"
    return f"{label} {int(rng.integers(1, 7))}单元{int(rng.integers(1, 18))}0{int(rng.integers(1, 5))}室"


def _home(services: Services, station_id: str, rng: np.random.Generator) -> tuple[GeoPoint, str]:
    """Where a case is: a house of the registry at the station (the demo's disputes are between
    its residents), else a point on a road with the address the index gives it."""
    houses = records_tables.records_houses
    with read_transaction(services.engine) as conn:
        rows = conn.execute(
            select(houses.c.lat, houses.c.lon, houses.c.label)
            .where(houses.c.station_id == station_id)
            .order_by(houses.c.id)
        ).all()
    if rows:
        house = rows[int(rng.integers(0, len(rows)))]
        return GeoPoint(house.lat, house.lon), str(house.label)
    point = _place(services, station_id, rng)
    return point, _address(services, point, rng)


def _parties(rng: np.random.Generator, today: datetime) -> list[NewParty]:
    parties = []
    for role in ("applicant", "respondent"):
        person = synthetic_person(rng, today=today.date(), min_age=22, max_age=78)
        phone = parse_phone(person.phone or synthetic_phone(rng)).normalised
        parties.append(NewParty(person.name, phone=phone, id_number=person.id_number, role=role))
    return parties


def seed_disputes(services: Services, *, rng: np.random.Generator, now: datetime) -> None:
    """Idempotent: a store that holds any dispute is left alone. Stations the demo city lacks are
    skipped (a smaller city in a test)."""
    with read_transaction(services.engine) as conn:
        if conn.execute(select(d.disputes.c.id).limit(1)).first() is not None:
            return
    present = {s.id for s in services.dispatch.stations}
    today = now.astimezone(services.settings.zone)
    plan: list[tuple[str, str | None, DemoCase]] = [(HOME_STATION, OFFICER, c) for c in HOME_CASES]
    plan += [(OTHER_STATIONS[i % len(OTHER_STATIONS)], None, c) for i, c in enumerate(OTHER_CASES)]
    for station_id, officer, case in plan:
        if station_id not in present:
            continue
        point, address = _home(services, station_id, rng)
        opened = services.disputes.cases.open(
            NewDispute(
                kind=case.kind,
                summary=case.summary,
                address=address,
                location=point,
                parties=_parties(rng, today),
                factors=case.factors,
                officer=officer,
            ),
            actor=officer or "commander",
            reach=everywhere,
        )
        actor = officer or "commander"
        for note in case.visits:
            services.disputes.work.add_visit(
                opened["id"],
                note=note,
                visited_at=now - timedelta(days=int(rng.integers(3, 10))),
                visit_id=None,
                actor=actor,
                reach=everywhere,
            )
        if case.agreement:
            services.disputes.work.add_agreement(
                opened["id"], text=case.agreement, agreed_on=None, actor=actor, reach=everywhere
            )
        due = (
            today.date() - timedelta(days=case.overdue_days)
            if case.overdue_days is not None
            else today.date() + timedelta(days=int(rng.integers(2, 15)))
        )
        services.disputes.work.add_follow_up(
            opened["id"],
            due_on=due,
            note="回访了解矛盾化解情况",
            actor=actor,
            reach=everywhere,
            backdated=True,
        )


__all__ = ["HOME_CASES", "OFFICER", "OTHER_CASES", "seed_disputes"]
