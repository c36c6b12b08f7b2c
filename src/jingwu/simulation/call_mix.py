"""The call mix of real police calls, and a seeded generator of simulated 110 calls that follows it.

Harbin publishes no calls-for-service data, so the demo drives Harbin's road graph with the mix of a real
city's calls: New Orleans Police Department calls for service (City of New Orleans open data), from which
we take what kinds of call arrive, how urgent they are, when in the day they come and how long units
stay on scene. Two halves:

* :func:`derive_call_mix` — a one-off derivation from the NOPD CSV to ``jingwu/data/nopd_call_mix.json``
  (regenerate with ``python -m jingwu.simulation.call_mix CSV OUT.json``);
* :func:`load_call_mix` / :func:`generate_calls` — pure, seeded simulation from that packaged file.

Decisions taken in the derivation
---------------------------------
Officer-initiated activity is left out of the mix: rows with ``SelfInitiated=Y`` and the patrol and
administrative types in :data:`OFFICER_ACTIVITY_TYPES` (area / business / residence checks, return for
more information, traffic stops, warrant "attachments", private-tow notifications …). The simulator
generates what citizens report to 110; patrol activity is simulated separately. Rows disposed as VOID or
DUPLICATE are also left out: they are not separate incidents (Jingwu merges duplicate reports itself).
Each excluded row is still counted, per NOPD type, in the JSON.

NOPD priorities run the other way from Jingwu's: the data shows ``3`` only on OFFICER NEEDS ASSISTANCE,
LIFE IN DANGER, ``2`` on shootings, homicides and injury collisions, ``1`` on ordinary disturbances and
complaints, ``0`` on report-only matters (lost property, private tows, old thefts). The letter after the
digit is an NOPD sub-code with no published order, so only the digit is used (:func:`jingwu_priority`):

    NOPD 3 → 1;  NOPD 2 → 1 if the mapped Jingwu type's default priority is 1 (life at risk) else 2;
    NOPD 1 → 3;  NOPD 0 → 4.

The sample is a single day, 2025-01-01, New Year's Day: the small hours carry New Year's Eve (fireworks,
celebratory gunfire), so the early-morning peak and those types are higher than on an ordinary day.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.resources import files
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from jingwu.domain.incident_types import INCIDENT_TYPES

SCHEMA_VERSION = 1
QUANTILES: tuple[tuple[str, float], ...] = (("p10", 10), ("p25", 25), ("p50", 50), ("p75", 75), ("p90", 90))
ON_SCENE_MIN_S = 2 * 60.0  # a unit that is dispatched spends at least a couple of minutes on scene
ON_SCENE_MAX_S = 90 * 60.0  # longer jobs are rare and would starve a small demo fleet
STAGES = ("create_to_dispatch", "dispatch_to_arrive", "arrive_to_close")

SOURCE: Mapping[str, str] = MappingProxyType(
    {
        "title": "Calls for Service 2025, New Orleans Police Department",
        "publisher": "City of New Orleans open data",
        "portal": "https://data.nola.gov",
        "sample": "nopd_calls_2025-01-01.csv: the 857 calls created on 2025-01-01, as redistributed in the "
        "public repository CBurruss/python-for-r-users",
        "licence": "City of New Orleans open data terms; cite the source",
        "caveat": "a single day, New Year's Day: New Year's Eve inflates the small hours, fireworks and "
        "firearm discharges",
    }
)

# Patrol and administrative activity: not a citizen's call for help (see the module docstring).
OFFICER_ACTIVITY_TYPES = frozenset(
    {
        "AREA CHECK",
        "BUSINESS CHECK",
        "RESIDENCE CHECK",
        "DIRECTED PATROL",
        "DIRECTED TRAFFIC ENFORCEMENT",
        "DISPERSE SUBJECTS",
        "RETURN FOR ADDITIONAL INFO",
        "TRAFFIC STOP",
        "MUNICIPAL ATTACHMENT",
        "TRAFFIC ATTACHMENT",
        "FUGITIVE ATTACHMENT",
        "TOW IMPOUNDED VEHICLE (PRIVATE)",  # a tow company's notice, no one to send
    }
)
EXCLUDED_DISPOSITIONS = frozenset({"VOID", "DUPLICATE"})

# NOPD TypeText → Jingwu incident type. Louisiana "simple battery" (minor, no weapon) is 殴打他人, a
# public-order matter; "aggravated battery" is 故意伤害. "Disturbance (other)" is mostly quarrels, which a
# Chinese 110 centre logs as 纠纷.
NOPD_TYPE_MAP: Mapping[str, str] = MappingProxyType(
    {
        "ABANDONED VEHICLE": "other.misc",
        "AGGRAVATED ASSAULT": "crim.assault",
        "AGGRAVATED ASSAULT DOMESTIC": "order.domestic_violence",
        "AGGRAVATED BATTERY": "crim.assault",
        "AGGRAVATED BATTERY BY SHOOTING": "crim.firearm.shots",
        "AGGRAVATED CRIMINAL DAMAGE": "order.vandalism",
        "AGGRAVATED RAPE": "crim.sexual_assault",
        "ALARM: COMMERCIAL - BURGLARY": "other.burglar_alarm",
        "ATTEMPTED AUTO THEFT": "crim.theft.vehicle",
        "AUTO ACCIDENT": "traffic.accident.property",
        "AUTO ACCIDENT WITH INJURY": "traffic.accident.injury",
        "AUTO THEFT": "crim.theft.vehicle",
        "BURGLAR ALARM, SILENT": "other.burglar_alarm",
        "BURGLAR ALARM, SILENT, FAR NO RESPONSE": "other.burglar_alarm",
        "BURGLARY ALRAM - RESIDENTIAL": "other.burglar_alarm",  # sic in the source
        "CARJACKING": "crim.robbery",
        "COMPLAINT OTHER": "other.misc",
        "CRIMINAL DAMAGE DOMESTIC": "dispute.family",
        "DEATH": "other.unexplained_death",
        "DISABLED/STRANDED MOTORIST": "traffic.disabled_vehicle",
        "DISCHARGING FIREARM": "crim.firearm.shots",
        "DISTURBANCE (OTHER)": "dispute.other",
        "DOMESTIC DISTURBANCE": "order.domestic_violence",
        "DRIVING WHILE UNDER INFLUENCE": "traffic.drunk_driving",
        "EXTORTION (THREATS)": "crim.extortion",
        "FIGHT": "order.fight",
        "FIRE": "fire.other",
        "FIREWORKS": "order.fireworks",
        "HIT & RUN": "traffic.accident.hit_and_run",
        "HIT & RUN WITH INJURIES": "traffic.accident.hit_and_run",
        "HOLD UP ALARM": "other.holdup_alarm",
        "HOMICIDE BY SHOOTING": "crim.homicide",
        "ILLEGAL CARRYING OF WEAPON- GUN": "crim.firearm",
        "INCIDENT REQUESTED BY ANOTHER AGENCY": "other.agency_assist",
        "LOST PROPERTY": "help.lost_property",
        "MEDICAL": "help.medical",
        "MENTAL PATIENT": "help.mental_health",
        "MISCELLANEOUS COMPLAINT": "other.misc",
        "MISDEMEANOR SEXUAL BATTERY": "crim.sexual_assault",
        "MISSING ADULT": "help.missing_person",
        "MISSING JUVENILE": "help.missing_person.child",
        "NOISE COMPLAINT": "order.noise",
        "OFFICER NEEDS ASSISTANCE, LIFE IN DANGER": "other.officer_assist",
        "PROWLER": "order.suspicious_person",
        "QUALITY OF LIFE ISSUE": "other.misc",
        "RECKLESS DRIVING": "traffic.reckless",
        "RECOVERY OF REPORTED STOLEN VEHICLE": "crim.theft.vehicle",
        "RESIDENCE BURGLARY": "crim.theft.burglary",
        "SEXUAL BATTERY": "crim.sexual_assault",
        "SHOPLIFTING": "crim.theft",
        "SIMPLE ASSAULT": "order.fight",
        "SIMPLE ASSAULT DOMESTIC": "order.domestic_violence",
        "SIMPLE BATTERY": "order.fight",
        "SIMPLE BATTERY DOMESTIC": "order.domestic_violence",
        "SIMPLE BURGLARY VEHICLE": "crim.theft",  # theft from a vehicle, 盗窃车内财物
        "SIMPLE CRIMINAL DAMAGE": "order.vandalism",
        "SIMPLE RAPE": "crim.sexual_assault",
        "SUICIDE THREAT": "help.suicide",
        "SUSPICIOUS PACKAGE": "order.suspicious_object",
        "SUSPICIOUS PERSON": "order.suspicious_person",
        "THEFT": "crim.theft",
        "THEFT BY FRAUD": "crim.fraud",
        "TRAFFIC INCIDENT": "traffic.congestion",
        "UNAUTHORIZED USE OF VEHICLE": "crim.theft.vehicle",
        "UNCLASSIFIED DEATH": "other.unexplained_death",
    }
)


def jingwu_priority(nopd_priority: str, type_code: str) -> int:
    """Jingwu priority 1 (most urgent) … 4 for an NOPD priority such as ``"2C"`` (see module docstring)."""
    digit = nopd_priority.strip()[:1]
    if digit == "3":
        return 1
    if digit == "2":
        return 1 if INCIDENT_TYPES[type_code].default_priority == 1 else 2
    if digit == "1":
        return 3
    if digit == "0":
        return 4
    raise ValueError(f"unrecognised NOPD priority {nopd_priority!r}")


def _quantiles(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    arr = np.asarray(values, dtype=float)
    out = {"n": len(values), "min": round(float(arr.min()), 1)}
    out.update({name: round(float(np.percentile(arr, q)), 1) for name, q in QUANTILES})
    out["max"] = round(float(arr.max()), 1)
    out["mean"] = round(float(arr.mean()), 1)
    return out


def _time(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value.strip() else None


def _span_s(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    seconds = (end - start).total_seconds()
    return seconds if seconds >= 0 else None  # a clock error, not a duration


def derive_call_mix(csv_path: str | Path) -> dict[str, Any]:
    """Derive the citizen-call mix from an NOPD calls-for-service CSV; the result is JSON-ready."""
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    unmapped = sorted({r["TypeText"] for r in rows} - set(NOPD_TYPE_MAP) - OFFICER_ACTIVITY_TYPES)
    if unmapped:
        raise ValueError(f"NOPD types with no Jingwu mapping, add them to NOPD_TYPE_MAP: {unmapped}")

    per_type: dict[str, Counter[str]] = defaultdict(Counter)
    calls: list[tuple[datetime, dict[str, Any]]] = []
    stages: dict[str, list[tuple[int, float]]] = {s: [] for s in STAGES}
    for r in rows:
        nopd_type = r["TypeText"]
        tally = per_type[nopd_type]
        tally["count"] += 1
        if r["SelfInitiated"].strip().upper() == "Y" or nopd_type in OFFICER_ACTIVITY_TYPES:
            tally["officer_initiated"] += 1
            continue
        if r["DispositionText"].strip().upper() in EXCLUDED_DISPOSITIONS:
            tally["void_or_duplicate"] += 1
            continue
        tally["citizen_calls"] += 1
        code = NOPD_TYPE_MAP[nopd_type]
        priority = jingwu_priority(r["Priority"], code)
        created, dispatched = _time(r["TimeCreate"]), _time(r["TimeDispatch"])
        arrived, closed = _time(r["TimeArrive"]), _time(r["TimeClosed"])
        if created is None:
            raise ValueError(f"{csv_path}: call {r.get('NOPD_Item', '?')} has no TimeCreate")
        spans = {
            "create_to_dispatch": _span_s(created, dispatched),
            "dispatch_to_arrive": _span_s(dispatched, arrived),
            "arrive_to_close": _span_s(arrived, closed),
        }
        for stage, span in spans.items():
            if span is not None:
                stages[stage].append((priority, span))
        on_scene = spans["arrive_to_close"]
        calls.append(
            (
                created,
                {
                    "type": code,
                    "priority": priority,
                    "hour": created.hour,
                    "on_scene_s": None if on_scene is None else round(on_scene, 1),
                },
            )
        )
    if not calls:
        raise ValueError(f"{csv_path}: no citizen calls left after exclusions")

    calls.sort(key=lambda c: c[0])
    created_times = [c[0] for c in calls]
    days = len({t.date() for t in created_times})
    hourly = Counter(t.hour for t in created_times)
    gaps = [(b - a).total_seconds() for a, b in pairwise(created_times)]
    type_counts = Counter(c[1]["type"] for c in calls)
    priority_counts = Counter(c[1]["priority"] for c in calls)

    return {
        "schema_version": SCHEMA_VERSION,
        "source": dict(SOURCE),
        "derivation": {
            "rows": len(rows),
            "citizen_calls": len(calls),
            "officer_initiated": sum(t["officer_initiated"] for t in per_type.values()),
            "void_or_duplicate": sum(t["void_or_duplicate"] for t in per_type.values()),
            "days": days,
            "priority_rule": "first digit of NOPD Priority: 3→1; 2→1 if the Jingwu type's default priority "
            "is 1, else 2; 1→3; 0→4",
            "officer_initiated_rule": "SelfInitiated=Y or an officer-activity type: left out of the mix",
        },
        "nopd_types": [
            {
                "nopd_type": nopd_type,
                "jingwu_type": NOPD_TYPE_MAP.get(nopd_type),
                "count": tally["count"],
                "citizen_calls": tally["citizen_calls"],
                "officer_initiated": tally["officer_initiated"],
                "void_or_duplicate": tally["void_or_duplicate"],
            }
            for nopd_type, tally in sorted(per_type.items(), key=lambda kv: (-kv[1]["count"], kv[0]))
        ],
        "type_counts": dict(sorted(type_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        "priority_counts": {str(p): priority_counts[p] for p in sorted(priority_counts)},
        "calls_per_hour": [round(hourly[h] / days, 3) for h in range(24)],
        "interarrival_s": _quantiles(gaps),
        "stage_durations_s": {
            stage: {
                "overall": _quantiles([s for _, s in spans]),
                "by_priority": {
                    str(p): _quantiles([s for q, s in spans if q == p]) for p in sorted({q for q, _ in spans})
                },
            }
            for stage, spans in stages.items()
        },
        "calls": [c[1] for c in calls],
    }


# ---------------------------------------------------------------------------------------------- simulation


@dataclass(frozen=True, slots=True)
class MixCall:
    """One real citizen call, as sampled whole by the generator."""

    type_code: str
    priority: int
    hour: int
    on_scene_s: float | None  # arrive→close of this call; None when the call has no arrival or close


@dataclass(frozen=True, slots=True)
class CallMix:
    source: Mapping[str, Any]
    calls_per_hour: tuple[float, ...]  # expected citizen calls in clock hour 0 … 23
    calls: tuple[MixCall, ...]
    on_scene_quantiles: Mapping[int, Mapping[str, float]]  # arrive→close by Jingwu priority
    on_scene_overall: Mapping[str, float]
    interarrival_s: Mapping[str, float]
    stage_durations_s: Mapping[str, Any]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CallMix:
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"call mix schema_version {data.get('schema_version')!r}, need {SCHEMA_VERSION}")
        hourly = tuple(float(x) for x in data["calls_per_hour"])
        if len(hourly) != 24 or any(x < 0 or not math.isfinite(x) for x in hourly) or sum(hourly) <= 0:
            raise ValueError("calls_per_hour must be 24 non-negative rates, not all zero")
        calls = tuple(
            MixCall(
                type_code=c["type"],
                priority=int(c["priority"]),
                hour=int(c["hour"]),
                on_scene_s=None if c["on_scene_s"] is None else float(c["on_scene_s"]),
            )
            for c in data["calls"]
        )
        if not calls:
            raise ValueError("a call mix needs at least one call")
        for c in calls:
            if c.type_code not in INCIDENT_TYPES:
                raise ValueError(f"call mix uses unknown incident type {c.type_code!r}")
            if c.priority not in (1, 2, 3, 4):
                raise ValueError(f"call mix priority {c.priority!r} is outside 1 … 4")
        arrive_to_close = data["stage_durations_s"]["arrive_to_close"]
        return cls(
            source=MappingProxyType(dict(data["source"])),
            calls_per_hour=hourly,
            calls=calls,
            on_scene_quantiles=MappingProxyType(
                {int(p): MappingProxyType(q) for p, q in arrive_to_close["by_priority"].items() if q}
            ),
            on_scene_overall=MappingProxyType(arrive_to_close["overall"]),
            interarrival_s=MappingProxyType(data["interarrival_s"]),
            stage_durations_s=MappingProxyType(data["stage_durations_s"]),
        )

    def type_shares(self) -> dict[str, float]:
        """Share of each Jingwu type among the real calls, the proportions the generator reproduces."""
        counts = Counter(c.type_code for c in self.calls)
        return {code: n / len(self.calls) for code, n in counts.most_common()}


@dataclass(frozen=True, slots=True)
class SimulatedCall:
    at_s: float  # seconds after the start of the simulation
    type_code: str
    priority: int
    on_scene_s: float  # how long the unit stays on scene


@cache
def load_call_mix() -> CallMix:
    """The packaged NOPD call mix (read once, on first use)."""
    text = files("jingwu").joinpath("data").joinpath("nopd_call_mix.json").read_text(encoding="utf-8")
    return CallMix.from_dict(json.loads(text))


def _sample_quantiles(q: Mapping[str, float], u: float) -> float:
    """Inverse empirical CDF through (min, p10 … p90, max), linear in between."""
    xs = [0.0, 0.10, 0.25, 0.50, 0.75, 0.90, 1.0]
    ys = [q["min"], q["p10"], q["p25"], q["p50"], q["p75"], q["p90"], q["max"]]
    return float(np.interp(u, xs, ys))


def generate_calls(
    mix: CallMix,
    rng: np.random.Generator,
    start_hour: float,
    duration_s: float,
    rate_scale: float = 1.0,
) -> list[SimulatedCall]:
    """Citizen calls over ``duration_s`` seconds starting at clock hour ``start_hour`` (0 ≤ h < 24, fractional
    allowed), in time order.

    Arrivals are a non-homogeneous Poisson process whose rate is constant within each clock hour and
    equal to that hour's real rate times ``rate_scale`` (a demo may run faster). Each arrival copies one
    real call drawn at random, so type, priority and on-scene time keep their joint distribution; a call
    with no recorded arrive→close draws its on-scene time from its priority's quantiles. On-scene times
    are clipped to 2 … 90 minutes. All randomness comes from ``rng``.
    """
    if not math.isfinite(duration_s) or duration_s < 0:
        raise ValueError(f"duration_s must be a finite number ≥ 0, not {duration_s!r}")
    if not math.isfinite(rate_scale) or rate_scale <= 0:
        raise ValueError(f"rate_scale must be a finite number > 0, not {rate_scale!r}")
    if not math.isfinite(start_hour):
        raise ValueError(f"start_hour must be finite, not {start_hour!r}")

    # Walk the clock hour by hour on an absolute seconds axis, so hour boundaries are exact.
    origin = (start_hour % 24.0) * 3600.0
    end = origin + duration_s
    times: list[np.ndarray] = []
    hour_index = math.floor(origin / 3600.0)
    while hour_index * 3600.0 < end:
        lo = max(origin, hour_index * 3600.0)
        hi = min(end, (hour_index + 1) * 3600.0)
        rate_per_s = mix.calls_per_hour[hour_index % 24] * rate_scale / 3600.0
        if hi > lo and rate_per_s > 0:
            n = int(rng.poisson(rate_per_s * (hi - lo)))
            times.append(rng.uniform(lo, hi, size=n) - origin)
        hour_index += 1
    at = np.sort(np.concatenate(times)) if times else np.empty(0)

    picks = rng.integers(len(mix.calls), size=at.size)
    draws = rng.random(size=at.size)  # drawn for every call so the stream does not depend on the data
    out: list[SimulatedCall] = []
    for t, i, u in zip(at, picks, draws, strict=True):
        call = mix.calls[int(i)]
        if call.on_scene_s is not None:
            on_scene = call.on_scene_s
        else:
            q = mix.on_scene_quantiles.get(call.priority, mix.on_scene_overall)
            on_scene = _sample_quantiles(q, float(u))
        out.append(
            SimulatedCall(
                at_s=float(t),
                type_code=call.type_code,
                priority=call.priority,
                on_scene_s=min(max(on_scene, ON_SCENE_MIN_S), ON_SCENE_MAX_S),
            )
        )
    return out


def render_call_mix(mix: Mapping[str, Any]) -> str:
    """JSON text of a derived mix, one record per line in its lists so a regeneration diffs readably."""
    parts = []
    for key, value in mix.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            rendered = "[\n" + ",\n".join("  " + json.dumps(v, ensure_ascii=False) for v in value) + "\n ]"
        else:
            rendered = json.dumps(value, ensure_ascii=False, indent=1).replace("\n", "\n ")
        parts.append(f" {json.dumps(key)}: {rendered}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m jingwu.simulation.call_mix NOPD_CALLS.csv OUT.json", file=sys.stderr)
        return 2
    mix = derive_call_mix(args[0])
    Path(args[1]).write_text(render_call_mix(mix), encoding="utf-8")
    d = mix["derivation"]
    print(
        f"{args[1]}: {d['citizen_calls']} citizen calls of {d['rows']} rows "
        f"({d['officer_initiated']} officer-initiated, {d['void_or_duplicate']} void/duplicate left out)"
    )
    return 0


__all__ = [
    "NOPD_TYPE_MAP",
    "OFFICER_ACTIVITY_TYPES",
    "CallMix",
    "MixCall",
    "SimulatedCall",
    "derive_call_mix",
    "generate_calls",
    "jingwu_priority",
    "load_call_mix",
    "render_call_mix",
]

if __name__ == "__main__":
    sys.exit(main())
