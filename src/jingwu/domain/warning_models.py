"""Analysts' early-warning models (大数据建模预警): the three rule kinds, their parameters, the data
each may read (purpose limitation) and the schedule, all checked before anything is stored.

A model is a saved rule over the bureau's own records: incidents, disputes, patrol checks and the
community gates' access events. Its definition says which of these it may read (``sources``); a
kind that needs a source the model does not list is refused at save, and a run reads only the
sources listed (:func:`sources_read`). The evaluation itself is in :mod:`.warning_rules`.

Pure: nothing here reads a clock or a store. Every refusal is a :class:`ValidationFailed` with a
stable code (``bad_model_kind``, ``unknown_model_parameter``, ``missing_model_parameter``,
``bad_model_parameter``, ``bad_model_source``, ``source_not_listed``, ``bad_schedule``,
``purpose_required``, ``bad_model_name``)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from jingwu.domain.incident_types import CATEGORIES, INCIDENT_TYPES
from jingwu.errors import ValidationFailed


class ModelKind(StrEnum):
    REPEAT_ADDRESS = "repeat_address"  # 同一地址反复报警
    PLATE_FAR_APART = "plate_far_apart"  # 同一车牌短时异地出现（疑似套牌）
    TYPE_SPIKE = "type_spike"  # 某类警情在网格内异常增多


class Source(StrEnum):
    """What a model may read. Names, phone and ID numbers are in none of what is read."""

    INCIDENTS = "incidents"  # type, time, place, address, station
    DISPUTES = "disputes"  # open or not, place, address, station
    CHECKS = "checks"  # vehicle checks: the plate's keyed index, masked plate, time, place, hit or not
    ACCESS_EVENTS = "access_events"  # gate passages: the plate's keyed index, masked plate, time, gate


class SpikeMethod(StrEnum):
    POISSON = "poisson"  # the tail probability of the count under the cell's own mean
    ZSCORE = "zscore"  # standard deviations above the cell's own mean


#: Bounds of a model's text and schedule.
NAME_MAX = 100
PURPOSE_MIN = 10
PURPOSE_MAX = 1000
EVERY_MINUTES_MIN = 5
EVERY_MINUTES_MAX = 7 * 24 * 60
MAX_TYPE_SELECTORS = 50
#: How far back a spike's history may reach (the cell's own past, in days).
MAX_HISTORY_DAYS = 730
#: The follow-up window of a plate warning in a back-test (repeat_address and type_spike use their
#: own window: what they foretell is "the same again within the next window").
PLATE_FOLLOW_UP = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class RepeatAddress:
    """≥ ``min_count`` incidents of ``incident_types`` within ``window_days`` at one place: the same
    normalised address, or within ``radius_m``; with ``require_open_dispute``, only where an open
    dispute lies at that place too."""

    incident_types: tuple[str, ...]
    min_count: int = 3
    window_days: int = 30
    radius_m: float = 50.0
    require_open_dispute: bool = False


@dataclass(frozen=True, slots=True)
class PlateFarApart:
    """The same plate seen at two places more than ``min_km`` apart within ``max_minutes``."""

    min_km: float = 5.0
    max_minutes: int = 30


@dataclass(frozen=True, slots=True)
class TypeSpike:
    """The count of one type in one grid cell over the last ``window_days`` against the cell's own
    ``history_windows`` windows before it: a spike when the Poisson tail probability is at most
    ``max_p`` (or the z-score at least ``min_z``), with at least ``min_count`` incidents."""

    incident_types: tuple[str, ...]
    window_days: int = 7
    history_windows: int = 8
    cell_m: int = 500
    method: SpikeMethod = SpikeMethod.POISSON
    max_p: float = 0.01
    min_z: float = 3.0
    min_count: int = 3


Params = RepeatAddress | PlateFarApart | TypeSpike


@dataclass(frozen=True, slots=True)
class Rule:
    """A model's rule: its kind, its checked parameters and the sources it may read."""

    kind: ModelKind
    params: Params
    sources: frozenset[Source]

    @property
    def window(self) -> timedelta:
        """The look-back of one evaluation (a plate's pairs: ``max_minutes``)."""
        p = self.params
        if isinstance(p, PlateFarApart):
            return timedelta(minutes=p.max_minutes)
        return timedelta(days=p.window_days)

    @property
    def lookback(self) -> timedelta:
        """How far before an evaluation's ``now`` its records reach (a spike's history included)."""
        p = self.params
        if isinstance(p, TypeSpike):
            return timedelta(days=p.window_days * (p.history_windows + 1))
        return self.window

    @property
    def follow_up(self) -> timedelta:
        """The back-test's follow-up window: how long after a warning its outcome is looked for."""
        if isinstance(self.params, PlateFarApart):
            return PLATE_FOLLOW_UP
        return self.window

    @property
    def type_codes(self) -> frozenset[str]:
        """The incident type codes the selectors name (empty for a plate rule)."""
        p = self.params
        if isinstance(p, PlateFarApart):
            return frozenset()
        return matching_codes(p.incident_types)


# --------------------------------------------------------------------------- parameters

_KIND_PARAMS: dict[ModelKind, type[RepeatAddress] | type[PlateFarApart] | type[TypeSpike]] = {
    ModelKind.REPEAT_ADDRESS: RepeatAddress,
    ModelKind.PLATE_FAR_APART: PlateFarApart,
    ModelKind.TYPE_SPIKE: TypeSpike,
}


@dataclass(frozen=True, slots=True)
class _Bound:
    kind: str  # int | float | bool | types | method
    low: float = 0.0
    high: float = 0.0
    required: bool = False


_BOUNDS: dict[ModelKind, dict[str, _Bound]] = {
    ModelKind.REPEAT_ADDRESS: {
        "incident_types": _Bound("types", required=True),
        "min_count": _Bound("int", 2, 100),
        "window_days": _Bound("int", 1, 365),
        "radius_m": _Bound("float", 0, 500),
        "require_open_dispute": _Bound("bool"),
    },
    ModelKind.PLATE_FAR_APART: {
        "min_km": _Bound("float", 0.5, 500),
        "max_minutes": _Bound("int", 1, 240),
    },
    ModelKind.TYPE_SPIKE: {
        "incident_types": _Bound("types", required=True),
        "window_days": _Bound("int", 1, 90),
        "history_windows": _Bound("int", 2, 52),
        "cell_m": _Bound("int", 100, 5000),
        "method": _Bound("method"),
        "max_p": _Bound("float", 1e-9, 0.2),
        "min_z": _Bound("float", 0.5, 20),
        "min_count": _Bound("int", 1, 1000),
    },
}


def parse_kind(text: object) -> ModelKind:
    try:
        return ModelKind(str(text))
    except ValueError:
        raise ValidationFailed(
            f"unknown model kind {text!r}: one of {', '.join(k.value for k in ModelKind)}",
            code="bad_model_kind",
            kind=str(text),
            allowed=[k.value for k in ModelKind],
        ) from None


def matching_codes(selectors: Iterable[str]) -> frozenset[str]:
    """The incident type codes that the selectors name: a code itself, or every code under a
    category or prefix (``dispute`` → ``dispute.family``, ``dispute.neighbour``, …)."""
    found: set[str] = set()
    for selector in selectors:
        found.update(c for c in INCIDENT_TYPES if c == selector or c.startswith(selector + "."))
    return frozenset(found)


def _bad(parameter: str, message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(
        f"{parameter}: {message}", code="bad_model_parameter", parameter=parameter, **params
    )


def _selectors(name: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise _bad(name, "a non-empty list of incident type codes or categories")
    if len(value) > MAX_TYPE_SELECTORS:
        raise _bad(name, f"at most {MAX_TYPE_SELECTORS} entries", limit=MAX_TYPE_SELECTORS)
    found: list[str] = []
    for item in value:
        text = item.strip() if isinstance(item, str) else None
        if not text or not (text in CATEGORIES or matching_codes([text])):
            raise _bad(name, f"{item!r} is no incident type code or category", value=str(item)[:64])
        if text not in found:
            found.append(text)
    return tuple(sorted(found))


def _number(name: str, bound: _Bound, value: object) -> int | float:
    # JSON true/false are ints to Python: a switch is not a count.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(name, f"a number from {bound.low:g} to {bound.high:g}", min=bound.low, max=bound.high)
    if bound.kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise _bad(name, "a whole number", min=bound.low, max=bound.high)
        value = int(value)
    elif not math.isfinite(value):
        raise _bad(name, "a finite number", min=bound.low, max=bound.high)
    if not bound.low <= value <= bound.high:
        raise _bad(name, f"from {bound.low:g} to {bound.high:g}", min=bound.low, max=bound.high)
    return value if bound.kind == "int" else float(value)


def _value(name: str, bound: _Bound, value: object) -> object:
    if bound.kind == "types":
        return _selectors(name, value)
    if bound.kind == "bool":
        if not isinstance(value, bool):
            raise _bad(name, "true or false")
        return value
    if bound.kind == "method":
        try:
            return SpikeMethod(str(value))
        except ValueError:
            raise _bad(name, "poisson or zscore", allowed=[m.value for m in SpikeMethod]) from None
    return _number(name, bound, value)


def parse_params(kind: ModelKind, given: Mapping[str, object]) -> Params:
    """The kind's parameters, checked, with the defaults for what is left out."""
    bounds = _BOUNDS[kind]
    unknown = sorted(set(given) - set(bounds))
    if unknown:
        raise ValidationFailed(
            f"{kind} takes no parameter {unknown[0]!r}",
            code="unknown_model_parameter",
            kind=str(kind),
            parameter=unknown[0],
            allowed=sorted(bounds),
        )
    values: dict[str, object] = {}
    for name, bound in bounds.items():
        if name not in given:
            if bound.required:
                raise ValidationFailed(
                    f"{kind} needs {name}", code="missing_model_parameter", kind=str(kind), parameter=name
                )
            continue
        values[name] = _value(name, bound, given[name])
    params: Params = _KIND_PARAMS[kind](**values)  # type: ignore[arg-type]
    if isinstance(params, TypeSpike) and params.window_days * (params.history_windows + 1) > MAX_HISTORY_DAYS:
        raise _bad(
            "history_windows",
            f"the history reaches back at most {MAX_HISTORY_DAYS} days (window_days × (history_windows + 1))",
            max_days=MAX_HISTORY_DAYS,
        )
    return params


def params_dict(params: Params) -> dict[str, Any]:
    """The parameters as stored and shown: every one, defaults included, JSON-ready."""
    out = asdict(params)
    for name, value in out.items():
        if isinstance(value, tuple):
            out[name] = list(value)
        elif isinstance(value, StrEnum):
            out[name] = value.value
    return out


# --------------------------------------------------------------------------- sources


def needed_sources(kind: ModelKind, params: Params) -> tuple[frozenset[Source], frozenset[Source]]:
    """What a rule needs: (every one of these, and at least one of those)."""
    if isinstance(params, PlateFarApart):
        return frozenset(), frozenset({Source.ACCESS_EVENTS, Source.CHECKS})
    if isinstance(params, RepeatAddress) and params.require_open_dispute:
        return frozenset({Source.INCIDENTS, Source.DISPUTES}), frozenset()
    return frozenset({Source.INCIDENTS}), frozenset()


def parse_sources(texts: Iterable[object]) -> frozenset[Source]:
    found: set[Source] = set()
    for text in texts:
        try:
            found.add(Source(str(text)))
        except ValueError:
            raise ValidationFailed(
                f"unknown source {text!r}",
                code="bad_model_source",
                source=str(text)[:64],
                allowed=[s.value for s in Source],
            ) from None
    return frozenset(found)


def parse_rule(kind_text: object, params: Mapping[str, object], sources: Iterable[object]) -> Rule:
    """A rule as an analyst writes it, checked: the kind, its parameters, and that the sources it
    lists hold what the kind needs (purpose limitation: ``source_not_listed`` otherwise)."""
    kind = parse_kind(kind_text)
    checked = parse_params(kind, params)
    listed = parse_sources(sources)
    every, some = needed_sources(kind, checked)
    missing = sorted(every - listed)
    if missing:
        raise ValidationFailed(
            f"a {kind} model with these parameters reads {missing[0]}: list it in sources",
            code="source_not_listed",
            kind=str(kind),
            source=missing[0],
            listed=sorted(listed),
        )
    if some and not some & listed:
        raise ValidationFailed(
            f"a {kind} model reads at least one of {', '.join(sorted(some))}: list it in sources",
            code="source_not_listed",
            kind=str(kind),
            source=sorted(some)[0],
            one_of=sorted(some),
            listed=sorted(listed),
        )
    return Rule(kind, checked, listed)


def sources_read(rule: Rule) -> frozenset[Source]:
    """What a run of the rule reads: what its kind needs, and only what the model lists."""
    every, some = needed_sources(rule.kind, rule.params)
    return (every | some) & rule.sources


# --------------------------------------------------------------------------- the rest of a model


def check_name(text: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > NAME_MAX:
        raise ValidationFailed(
            f"a model's name has 1 to {NAME_MAX} characters", code="bad_model_name", max_length=NAME_MAX
        )
    return name


def check_purpose(text: str) -> str:
    """What the model is for, stated (purpose limitation): at least ``PURPOSE_MIN`` characters."""
    purpose = text.strip()
    if len(purpose) < PURPOSE_MIN or len(purpose) > PURPOSE_MAX:
        raise ValidationFailed(
            f"state the model's purpose in {PURPOSE_MIN} to {PURPOSE_MAX} characters",
            code="purpose_required",
            min_length=PURPOSE_MIN,
            max_length=PURPOSE_MAX,
        )
    return purpose


def check_schedule(every_minutes: object) -> int:
    if (
        isinstance(every_minutes, bool)
        or not isinstance(every_minutes, int)
        or not EVERY_MINUTES_MIN <= every_minutes <= EVERY_MINUTES_MAX
    ):
        raise ValidationFailed(
            f"a model runs every {EVERY_MINUTES_MIN} to {EVERY_MINUTES_MAX} minutes",
            code="bad_schedule",
            min=EVERY_MINUTES_MIN,
            max=EVERY_MINUTES_MAX,
        )
    return every_minutes


__all__ = [
    "EVERY_MINUTES_MAX",
    "EVERY_MINUTES_MIN",
    "MAX_HISTORY_DAYS",
    "NAME_MAX",
    "PLATE_FOLLOW_UP",
    "PURPOSE_MAX",
    "PURPOSE_MIN",
    "ModelKind",
    "Params",
    "PlateFarApart",
    "RepeatAddress",
    "Rule",
    "Source",
    "SpikeMethod",
    "TypeSpike",
    "check_name",
    "check_purpose",
    "check_schedule",
    "matching_codes",
    "needed_sources",
    "params_dict",
    "parse_kind",
    "parse_params",
    "parse_rule",
    "parse_sources",
    "sources_read",
]
