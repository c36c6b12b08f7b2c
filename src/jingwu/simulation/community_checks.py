"""The demo's watch lists (布控名单): a few dozen synthetic people and cars, and four documented demo
subjects that hit, so that a new user can see a patrol check ring the console (docs/checks.md).

Synthetic only: the people come from simulation.people (valid GB 11643 numbers with Harbin's
district codes, names drawn from common surnames); none is a real person or car.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select

from jingwu.composition import Services
from jingwu.domain.watchlists import WatchList
from jingwu.simulation.people import synthetic_person, synthetic_plate
from jingwu.store.checks_tables import watchlist_entries
from jingwu.store.db import read_transaction

SEEDED_BY = "commander"  # the demo's city-wide commander (simulation.seed.DEMO_ACCOUNTS)


@dataclass(frozen=True, slots=True)
class DemoSubject:
    list: WatchList
    subject: str
    label: str
    reason: str


#: Checked on the terminal, each of these hits (and rings the console). Listed in docs/checks.md.
DEMO_SUBJECTS: tuple[DemoSubject, ...] = (
    DemoSubject(WatchList.WANTED, "230102198803152014", "演示甲（男）", "演示：涉嫌抢劫，网上追逃"),
    DemoSubject(WatchList.MISSING, "230108194109022025", "演示乙（女，85岁）", "演示：老人走失，家属报案"),
    DemoSubject(WatchList.STOLEN_VEHICLE, "黑A9X527", "白色轿车", "演示：车辆被盗，车主报案"),
    DemoSubject(
        WatchList.VEHICLE_OF_INTEREST, "黑AD12345", "黑色新能源SUV", "演示：涉嫌非法营运，注意车上人员"
    ),
)

_WANTED_REASONS: tuple[str, ...] = (
    "涉嫌盗窃，网上追逃",
    "涉嫌诈骗，网上追逃",
    "涉嫌故意伤害，网上追逃",
    "取保候审期间脱逃",
)
_MISSING_REASONS: tuple[str, ...] = ("老人走失，家属报案", "未成年人离家未归", "精神障碍患者走失")
_STOLEN_REASONS: tuple[str, ...] = ("车辆被盗，车主报案", "车辆被抢，案件侦办中")
_INTEREST_REASONS: tuple[str, ...] = ("涉嫌非法营运", "肇事逃逸嫌疑车辆", "多次违法未处理")
_CAR_LOOKS = ("白色轿车", "黑色SUV", "银色面包车", "红色两厢车", "灰色皮卡")


def seed_checks(services: Services, *, rng: np.random.Generator, now: datetime) -> None:
    """Idempotent: a store whose watch lists hold any entry is left alone."""
    with read_transaction(services.engine) as conn:
        if conn.execute(select(watchlist_entries.c.id).limit(1)).first() is not None:
            return
    add = services.checks.add_entry
    for demo in DEMO_SUBJECTS:
        add(
            demo.list,
            subject=demo.subject,
            label=demo.label,
            reason=demo.reason,
            actor=SEEDED_BY,
            station_id=None,
        )
    today = now.astimezone(services.settings.zone).date()
    for count, list_, reasons in (
        (12, WatchList.WANTED, _WANTED_REASONS),
        (8, WatchList.MISSING, _MISSING_REASONS),
    ):
        for _ in range(count):
            person = synthetic_person(
                rng,
                today=today,
                min_age=16 if list_ is WatchList.WANTED else 6,
                max_age=60 if list_ is WatchList.WANTED else 90,
            )
            add(
                list_,
                subject=person.id_number,
                label=person.name,
                reason=str(reasons[int(rng.integers(0, len(reasons)))]),
                actor=SEEDED_BY,
                station_id=None,
                expires_at=_expiry(rng, now),
            )
    for count, list_, reasons in (
        (10, WatchList.STOLEN_VEHICLE, _STOLEN_REASONS),
        (8, WatchList.VEHICLE_OF_INTEREST, _INTEREST_REASONS),
    ):
        for _ in range(count):
            add(
                list_,
                subject=synthetic_plate(rng),
                label=str(_CAR_LOOKS[int(rng.integers(0, len(_CAR_LOOKS)))]),
                reason=str(reasons[int(rng.integers(0, len(reasons)))]),
                actor=SEEDED_BY,
                station_id=None,
                expires_at=_expiry(rng, now),
            )


def _expiry(rng: np.random.Generator, now: datetime) -> datetime | None:
    """Most entries stand until removed; some lapse within months (a vehicle of interest, say)."""
    if rng.random() < 0.7:
        return None
    return now + timedelta(days=int(rng.integers(30, 365)))


__all__ = ["DEMO_SUBJECTS", "DemoSubject", "seed_checks"]
