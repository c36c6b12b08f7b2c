"""The demo city's past: two years of closed incidents, so that the analytics page has a year to
set against the one before, hotspots to forecast and response times to trend.

Synthetic, and said so: a Harbin-like mix of 110 types (help and disputes most, criminal cases a
tenth), an hourly and weekly rhythm, summer busier than winter, criminal cases falling by about a
third from one year to the next (the seed bureau's −38.59 %), others moving less; places on the
city's real roads, most around a few dozen lasting hotspots and two that emerge in the last
months; stage times longer for lower priorities and for outlying stations. Written once: a store
that already has a past keeps it."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import shapely
from sqlalchemy import func, select

from jingwu.composition import Services
from jingwu.domain.cases import Case, CaseKind
from jingwu.domain.geo import GeoPoint
from jingwu.domain.incident_types import INCIDENT_TYPES
from jingwu.domain.model import Incident, Station
from jingwu.domain.status import IncidentStatus, SourceChannel
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.history import insert_past_cases, insert_past_incidents

log = logging.getLogger(__name__)

PREFIX = "hist-"
DAYS = 730
PER_DAY = 45.0
#: Type → share of calls: a Harbin-like mix (synthetic; no public figures by type were at hand).
MIX: dict[str, float] = {
    "help.medical": 0.06,
    "help.drunk": 0.04,
    "help.lost_property": 0.04,
    "help.missing_person": 0.03,
    "help.welfare_check": 0.04,
    "help.non_police": 0.07,
    "dispute.neighbour": 0.06,
    "dispute.family": 0.06,
    "dispute.economic": 0.05,
    "dispute.other": 0.04,
    "traffic.accident.property": 0.10,
    "traffic.accident.injury": 0.04,
    "traffic.congestion": 0.03,
    "traffic.drunk_driving": 0.02,
    "order.noise": 0.04,
    "order.fight": 0.03,
    "order.suspicious_person": 0.03,
    "order.domestic_violence": 0.02,
    "crim.theft": 0.04,
    "crim.theft.burglary": 0.02,
    "crim.theft.vehicle": 0.02,
    "crim.fraud.telecom": 0.03,
    "crim.assault": 0.01,
    "crim.robbery": 0.005,
    "fire.other": 0.01,
    "other.misc": 0.035,
}
#: How each class's rate moves over the two years: its second year over its first.
YEAR_ON_YEAR = {"crim": 0.62, "order": 0.88, "traffic": 1.06, "help": 1.08, "dispute": 0.93}
#: Calls per clock hour, relative (quiet before dawn, busiest in the evening).
HOURLY = (
    0.5, 0.4, 0.3, 0.25, 0.25, 0.3, 0.5, 0.8, 1.0, 1.1, 1.1, 1.15,
    1.2, 1.15, 1.1, 1.1, 1.15, 1.3, 1.5, 1.6, 1.55, 1.4, 1.1, 0.8,
)  # fmt: skip
HOTSPOTS = 30
POOL = 4000


def seed_history(
    services: Services, *, rng: np.random.Generator, now: datetime, days: int = DAYS, per_day: float = PER_DAY
) -> int:
    """Two years (``days``) of past incidents before ``now``, unless the store has some; how many
    were written."""
    with read_transaction(services.engine) as conn:
        had = conn.execute(
            select(func.count()).select_from(t.incidents).where(t.incidents.c.id.like(f"{PREFIX}%"))
        ).scalar_one()
        stations = [s for s in repo.list_stations(conn) if s.retired_at is None]
    if had or not stations:
        return 0
    started = time.perf_counter()
    incidents = past_incidents(services, stations, rng=rng, now=now, days=days, per_day=per_day)
    cases = past_cases(incidents, rng=rng, now=now)
    with write_transaction(services.engine) as conn:
        written = insert_past_incidents(conn, incidents)
        insert_past_cases(conn, cases)
    log.info(
        "the demo's past: %d incidents over %d days in %.1f s", written, days, time.perf_counter() - started
    )
    return written


def past_incidents(
    services: Services,
    stations: Sequence[Station],
    *,
    rng: np.random.Generator,
    now: datetime,
    days: int = DAYS,
    per_day: float = PER_DAY,
) -> list[Incident]:
    network = services.network
    pool = [network.random_road_point(rng) for _ in range(POOL)]
    lat = np.array([p.lat for p in pool])
    lon = np.array([p.lon for p in pool])
    # The first station whose jurisdiction holds each point (as station_containing), vectorised.
    taken = np.full(lat.size, -1)
    for index, station in enumerate(stations):
        free = taken < 0
        taken[free & shapely.contains_xy(station.jurisdiction.shape(), lon, lat)] = index
    inside = taken >= 0
    lat, lon = lat[inside], lon[inside]
    owner = [stations[i] for i in taken[inside]]
    weights_steady = _hotspot_weights(lat, lon, rng, HOTSPOTS)
    weights_new = _hotspot_weights(lat, lon, rng, 2, strength=25.0)
    centre = (float(np.median(lat)), float(np.median(lon)))
    codes = list(MIX)
    shares = np.array([MIX[c] for c in codes])
    shares /= shares.sum()
    start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    # The expected calls of each day and type, drawn all at once (a loop per call took seconds).
    day_numbers = np.arange(days)
    progress = day_numbers / days  # 0 … 1 across the span
    dates = [start + timedelta(days=int(d)) for d in day_numbers]
    season = 1 + 0.15 * np.cos(2 * np.pi * (np.array([d.timetuple().tm_yday for d in dates]) - 200) / 365)
    weekend = np.where(np.array([d.weekday() for d in dates]) >= 5, 1.1, 1.0)
    trend = np.array([YEAR_ON_YEAR.get(c.split(".", 1)[0], 1.0) for c in codes])[None, :] ** (
        2 * progress[:, None] - 1
    )  # ×1 at the middle
    counts = rng.poisson(per_day * shares[None, :] * (season * weekend)[:, None] * trend)
    day_of, type_of = np.nonzero(counts)
    repeat = counts[day_of, type_of]
    day_of, type_of = np.repeat(day_of, repeat), np.repeat(type_of, repeat)
    hourly = np.array(HOURLY) / sum(HOURLY)
    seconds = rng.choice(24, size=day_of.size, p=hourly) * 3600 + rng.integers(0, 3600, size=day_of.size)
    # The last months: two hotspots emerge beside the lasting ones.
    recent = progress[day_of] > 0.8
    steady_p = weights_steady / weights_steady.sum()
    recent_p = (weights_steady + weights_new) / (weights_steady + weights_new).sum()
    where = np.where(
        recent,
        rng.choice(lat.size, size=day_of.size, p=recent_p),
        rng.choice(lat.size, size=day_of.size, p=steady_p),
    )
    found: list[Incident] = []
    for day, kind, second, place in zip(day_of, type_of, seconds, where, strict=True):
        at = dates[int(day)] + timedelta(seconds=int(second))
        if at >= now:
            continue
        found.append(
            _incident(
                len(found), codes[kind], at, float(lat[place]), float(lon[place]), owner[place], centre, rng
            )
        )
    found.sort(key=lambda i: i.created_at)
    return found


#: Class → (share of its incidents for which a case is filed, share of those cases solved).
CASES = {"crim": (0.85, 0.45), "order": (0.4, 0.85)}


def past_cases(incidents: Sequence[Incident], *, rng: np.random.Generator, now: datetime) -> list[Case]:
    """Cases filed for the past's criminal and public-order incidents (立案, within days), some of
    them solved (破案) weeks later; a solving still ahead of ``now`` is left open."""
    found: list[Case] = []
    for incident in incidents:
        kind = incident.type_code.split(".", 1)[0]
        if kind not in CASES:
            continue
        file_share, solve_share = CASES[kind]
        if rng.random() >= file_share:
            continue
        filed = incident.created_at + timedelta(hours=float(rng.uniform(0.5, 72)))
        if filed >= now:
            continue
        solved: datetime | None = filed + timedelta(days=float(rng.lognormal(math.log(12), 0.9)))
        if rng.random() >= solve_share or (solved is not None and solved >= now):
            solved = None
        number = f"{'X' if kind == 'crim' else 'Z'}{filed:%Y%m%d}{len(found):06d}"
        kind_of = CaseKind.CRIMINAL if kind == "crim" else CaseKind.ADMINISTRATIVE
        found.append(
            Case(incident.id, number, kind_of, filed, "commander", solved, "commander" if solved else None)
        )
    return found


def _hotspot_weights(
    lat: np.ndarray, lon: np.ndarray, rng: np.random.Generator, count: int, *, strength: float = 12.0
) -> np.ndarray:
    """A weight per road point: 1 everywhere, plus a bump around each of ``count`` centres."""
    weights = np.ones(lat.size) if strength == 12.0 else np.zeros(lat.size)
    for index in rng.choice(lat.size, size=count, replace=False):
        spread_m = float(rng.uniform(150, 450))
        dy = (lat - lat[index]) * 111_000
        dx = (lon - lon[index]) * 111_000 * math.cos(math.radians(lat[index]))
        weights += strength * float(rng.uniform(0.5, 1.5)) * np.exp(-(dx * dx + dy * dy) / (2 * spread_m**2))
    return weights


def _incident(
    number: int,
    code: str,
    at: datetime,
    lat: float,
    lon: float,
    station: Station,
    centre: tuple[float, float],
    rng: np.random.Generator,
) -> Incident:
    kind = INCIDENT_TYPES[code]
    priority = kind.default_priority
    # Farther from the centre, longer drives; a lower priority waits longer for a free unit.
    km = math.hypot((lat - centre[0]) * 111, (lon - centre[1]) * 78)
    dispatch_s = float(rng.lognormal(math.log(45 + 25 * (priority - 1)), 0.5))
    drive_s = float(rng.lognormal(math.log(180 + 25 * km), 0.4))
    dispatched = at + timedelta(seconds=round(dispatch_s))
    arrived = dispatched + timedelta(seconds=round(drive_s))
    closed = arrived + timedelta(minutes=float(rng.uniform(10, 70)))
    officer = code.startswith("traffic.") and rng.random() < 0.15  # stops a patrol made itself
    return Incident(
        id=f"{PREFIX}{number:06d}",
        type_code=code,
        priority=priority,
        location=GeoPoint(lat, lon),
        source=SourceChannel.OFFICER if officer else SourceChannel.CALL_110,
        status=IncidentStatus.CLOSED,
        created_at=at,
        station_id=station.id,
        stage_times={
            IncidentStatus.DISPATCHED: dispatched,
            IncidentStatus.ON_SCENE: arrived,
            IncidentStatus.CLEARED: closed,
            IncidentStatus.CLOSED: closed,
        },
        disposition="已处置",
    )


__all__ = ["DAYS", "PREFIX", "past_incidents", "seed_history"]
