"""The demo's community registry: houses on the real house-number addresses of the bundled Harbin
extract, households of synthetic residents in them, businesses on the extract's shops and offices,
and some field collections on the community officer's work list (one of them a conflict).

Idempotent: a store that already holds houses is left alone. Everything is drawn from ``rng``, so a
demo seeded twice from the same seed holds the same people; all are made up (simulation.people)."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import insert, select

from jingwu.composition import Services
from jingwu.domain.geo import GeoPoint
from jingwu.domain.registry import (
    BusinessFields,
    BusinessKind,
    Channel,
    HouseAddress,
    PersonInCharge,
    RecordKind,
    Relation,
    ResidentFields,
)
from jingwu.service.ids import new_id
from jingwu.service.records import NewCollection
from jingwu.service.records.registry_store import (
    Change,
    history_rows,
    house_history_values,
    house_values,
    put_business,
    put_house,
    resident_history_values,
    resident_values,
)
from jingwu.simulation.people import (
    HARBIN_DISTRICTS,
    SyntheticPerson,
    synthetic_household,
    synthetic_licence_number,
    synthetic_person,
)
from jingwu.store import records_tables as rt
from jingwu.store.db import read_transaction, write_transaction

log = logging.getLogger(__name__)

COLLECTOR = "community-baojianlu"  # simulation.seed's community officer
SEEDER = "demo-seed"
BAOJIANLU = "nangang-baojianlu"
#: Residents per station: the community officer's own station gets a full registry.
RESIDENTS = {BAOJIANLU: 420}
OTHER_STATION_RESIDENTS = 60
BUSINESSES_PER_STATION = 12
_STREET_TYPES = ("街", "路", "道", "巷", "胡同")


def seed_records(services: Services, *, rng: np.random.Generator, now: datetime) -> None:
    """Fill the registry of the demo stations (see the module's docstring)."""
    with read_transaction(services.engine) as conn:
        if conn.execute(select(rt.records_houses.c.id).limit(1)).first() is not None:
            return
    data = services.geocoding.geocoder().data
    today = now.astimezone(services.settings.zone).date()
    station_for = services.dispatch.station_for
    addresses: dict[str, list[int]] = defaultdict(list)
    for entry in np.flatnonzero(data.kind == "address"):
        i = int(entry)
        street = str(data.key_a[i])
        if not street.endswith(_STREET_TYPES) and not any("\u4e00" <= c <= "\u9fff" for c in street):
            continue  # a romanised street name: not how a registry writes an address
        station = station_for(GeoPoint(float(data.lat[i]), float(data.lon[i])))
        if station is not None:
            addresses[station].append(i)
    communities = np.flatnonzero(data.kind == "community")
    keys = services.records.keys
    change = Change(actor=SEEDER, reviewer=None, channel=Channel.STATION, collection_id=None, now=now)
    homes: list[tuple[str, SyntheticPerson]] = []  # (house_id, person) for the collections below
    counts = {"houses": 0, "residents": 0, "businesses": 0}

    def community_at(i: int) -> str:
        """The nearest named residential area, or the 街道 the point lies in."""
        if communities.size:
            d = (data.lat[communities] - data.lat[i]) ** 2 + (data.lon[communities] - data.lon[i]) ** 2
            j = int(communities[int(np.argmin(d))])
            name = str(data.name[j])
            if d.min() < 0.006**2 and not name.endswith(("街道", "镇", "乡")) and len(name) <= 16:
                return name.removesuffix("社区")
        return str(data.subdistrict[i]).removesuffix("街道") or str(data.district[i])

    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)  # table → rows, inserted in bulk
    seen: set[str] = set()
    for station, entries in sorted(addresses.items()):
        target = RESIDENTS.get(station, OTHER_STATION_RESIDENTS)
        placed = tries = 0
        while placed < target and tries < target * 20:
            tries += 1
            i = int(entries[int(rng.integers(0, len(entries)))])
            floor, door = int(rng.integers(1, 7)), int(rng.integers(1, 3))
            address = HouseAddress(
                street_address=str(data.name[i]),
                community=community_at(i),
                building=str(int(rng.integers(1, 7))),
                unit=str(int(rng.integers(1, 4))),
                room=str(floor * 100 + door),
                lat=float(data.lat[i]) + float(rng.normal(0, 0.0002)),
                lon=float(data.lon[i]) + float(rng.normal(0, 0.0002)),
            )
            if address.key in seen:
                continue
            seen.add(address.key)
            placed += _add_household(rows, keys, address, station, change, rng, today, homes)
        counts["residents"] += placed
    counts["houses"] = len(rows["houses"])
    with write_transaction(services.engine) as conn:
        for table, name in (
            (rt.records_houses, "houses"),
            (rt.records_households, "households"),
            (rt.records_residents, "residents"),
            (rt.records_plates, "plates"),
            (rt.records_history, "history"),
        ):
            if rows[name]:
                conn.execute(insert(table), rows[name])
        counts["businesses"] = _seed_businesses(services, conn, data, rng, today, change, community_at)
    log.info(
        "seeded the registry: %(houses)d houses, %(residents)d residents, %(businesses)d businesses", counts
    )
    _seed_collections(services, rng, today, homes, addresses.get(BAOJIANLU, []), data, community_at)


def _add_household(
    rows,
    keys,
    address: HouseAddress,
    station: str,
    change: Change,
    rng: np.random.Generator,
    today: date,
    homes,
) -> int:
    """One house with one household of synthetic people, as rows (and their history)."""
    now = change.now
    house_id, household_id = new_id("hse"), new_id("hh")
    values = house_values(address, station)
    rows["houses"].append({"id": house_id, "created_at": now, "updated_at": now, **values})
    rows["history"] += history_rows(
        keys, RecordKind.HOUSE, house_id, change, {}, house_history_values(values)
    )
    rows["households"].append(
        {"id": household_id, "house_id": house_id, "number": "", "created_at": now, "updated_at": now}
    )
    rows["history"] += history_rows(
        keys, RecordKind.HOUSEHOLD, household_id, change, {}, {"number": "", "house_id": house_id}
    )
    household = synthetic_household(rng, today=today)
    for member in household:
        fields = _resident(member.person, member.relation, rng, today)
        resident_id = new_id("res")
        rows["residents"].append(
            {
                "id": resident_id,
                "created_at": now,
                **resident_values(keys, fields, house_id, household_id, now),
            }
        )
        rows["plates"] += [{"plate": p, "resident_id": resident_id} for p in fields.plates]
        rows["history"] += history_rows(
            keys,
            RecordKind.RESIDENT,
            resident_id,
            change,
            {},
            resident_history_values(fields, house_id, household_id),
        )
        homes.append((house_id, member.person))
    return len(household)


def _resident(
    person: SyntheticPerson, relation: str, rng: np.random.Generator, today: date
) -> ResidentFields:
    years = int(rng.integers(0, 25))
    moved_in = date(max(person.birth_date.year, today.year - years), int(rng.integers(1, 13)), 1)
    district = HARBIN_DISTRICTS.get(person.region_code, (None,))[0]
    registered = f"黑龙江省哈尔滨市{district}" if district else "外省市户籍"
    return ResidentFields(
        name=person.name,
        id_number=person.id_number,
        phone=f"+86{person.phone}" if person.phone else None,
        relation=Relation(relation),
        registered_address=registered,
        moved_in=min(moved_in, today),
        moved_out=None,
        plates=person.plates,
    )


def _business_kind(name: str) -> BusinessKind:
    for words, kind in (
        (("银行", "Bank", "公司", "事务所", "大厦"), BusinessKind.OFFICE),
        (("酒店", "宾馆", "旅馆", "Hotel", "招待所"), BusinessKind.HOTEL),
        (("KTV", "酒吧", "Bar", "网吧", "歌厅"), BusinessKind.ENTERTAINMENT),
        (
            (
                "饭",
                "餐",
                "肯德基",
                "麦当劳",
                "面",
                "烧烤",
                "火锅",
                "酱骨",
                "东来顺",
                "全聚德",
                "咖啡",
                "Food",
            ),
            BusinessKind.RESTAURANT,
        ),
        (("修", "汽配"), BusinessKind.REPAIR),
    ):
        if any(w in name for w in words):
            return kind
    return BusinessKind.SHOP


def _seed_businesses(services, conn, data, rng, today, change, community_at) -> int:
    """Businesses on the extract's shops, offices, restaurants and hotels (OSM POIs with a name)."""
    station_for = services.dispatch.station_for
    per_station: dict[str, int] = defaultdict(int)
    made = 0
    licences: set[str] = set()
    candidates = np.flatnonzero((data.kind == "place") | (data.kind == "mall"))
    for i in rng.permutation(candidates):
        name = str(data.name[i])
        if not any("\u4e00" <= c <= "\u9fff" for c in name) or len(name) > 40:
            continue
        station = station_for(GeoPoint(float(data.lat[i]), float(data.lon[i])))
        limit = BUSINESSES_PER_STATION * (3 if station == BAOJIANLU else 1)
        if station is None or per_station[station] >= limit:
            continue
        street = _nearest_street(data, int(i))
        if street is None:
            continue
        address = HouseAddress(street, community_at(int(i)), f"{int(rng.integers(1, 300))}号", "", "",
                               float(data.lat[i]), float(data.lon[i]))  # fmt: skip
        house_id = put_house(conn, services.records.keys, address, station, change)
        boss = synthetic_person(rng, today=today, min_age=28, max_age=65)
        licence = synthetic_licence_number(rng, region="230103", sole_trader=rng.random() < 0.4)
        if licence in licences:
            continue
        licences.add(licence)
        fields = BusinessFields(
            name=name,
            licence_number=licence,
            kind=_business_kind(name),
            people_in_charge=(
                PersonInCharge(
                    boss.name, f"+86{boss.phone}" if boss.phone else None, boss.id_number, "负责人"
                ),
            ),
        )
        put_business(conn, services.records.keys, fields, house_id, change, target_id=None)
        per_station[station] += 1
        made += 1
    return made


def _nearest_street(data, i: int) -> str | None:
    """The name of the named street nearest a point (from the index's points along streets)."""
    if not data.sample_lat.size:
        return None
    d = (data.sample_lat - data.lat[i]) ** 2 + (data.sample_lon - data.lon[i]) ** 2
    k = int(np.argmin(d))
    if d[k] > 0.004**2:
        return None
    name = str(data.name[int(data.sample_entry[k])])
    return name if any("\u4e00" <= c <= "\u9fff" for c in name) else None


def _seed_collections(services, rng, today, homes, entries, data, community_at) -> None:
    """The community officer's work list: new residents waiting for review, a returned collection
    with its reason, and one person collected at a second address (a conflict)."""
    if not entries or not homes:
        return
    records = services.records

    def anywhere(station_id: str | None) -> None:
        return None

    def house(room: str) -> dict[str, object]:
        i = entries[int(rng.integers(0, len(entries)))]
        return {
            "street_address": str(data.name[i]),
            "community": community_at(i),
            "building": str(int(rng.integers(1, 7))),
            "unit": str(int(rng.integers(1, 4))),
            "room": room,
            "lat": float(data.lat[i]),
            "lon": float(data.lon[i]),
        }

    def resident(person: SyntheticPerson, relation: str) -> dict[str, object]:
        out: dict[str, object] = {
            "name": person.name,
            "id_number": person.id_number,
            "relation": relation,
            "registered_address": "黑龙江省哈尔滨市南岗区",
            "moved_in": today.replace(day=1).isoformat(),
            "plates": list(person.plates),
        }
        if person.phone:
            out["phone"] = person.phone
        return out

    for n in range(4):
        newcomer = synthetic_person(rng, today=today, min_age=20, max_age=60)
        new = NewCollection(
            id=f"demo-collection-{n + 1:04d}",
            kind="resident",
            record=resident(newcomer, "tenant" if n % 2 else "head"),
            house=house(f"{int(rng.integers(1, 7))}0{n + 1}"),
            note="新入住租户，已核对身份证" if n % 2 else "新购房入住",
        )
        records.submit(new, actor=COLLECTOR, source=None, check_station=anywhere)
    returned = NewCollection(
        id="demo-collection-0005", kind="house", record=house("302"), note="门牌照片待补"
    )
    records.submit(returned, actor=COLLECTOR, source=None, check_station=anywhere)
    records.return_collection(
        returned.id, "门牌号照片不清晰，请补拍后重新提交", actor=SEEDER, source=None, check_station=anywhere
    )
    # Someone on record at one house, collected at another: the review turns it into a conflict.
    _, person = homes[int(rng.integers(0, len(homes)))]
    conflict = NewCollection(
        id="demo-collection-0006",
        kind="resident",
        record=resident(person, "tenant"),
        house=house("601"),
        note="自述已搬来此处居住",
    )
    records.submit(conflict, actor=COLLECTOR, source=None, check_station=anywhere)
    records.approve(conflict.id, actor=SEEDER, source=None, check_station=anywhere)


__all__ = ["seed_records"]
