"""A model's back-test: its rule run over a past period at daily steps, and its precision.

**Precision** is the share of the back-test's warnings that were *followed*, within the rule's
follow-up window after the warning, by what the warning foretells:

* ``repeat_address``: another incident of the watched types at that place (one of its addresses,
  or within the radius of its point) within ``window_days`` after the warning;
* ``plate_far_apart``: within 7 days, a patrol check of that plate that hit a watch list, or a
  second far-apart sighting of it (another impossible pair whose later sighting comes after the
  warning), among the sources the model may read;
* ``type_spike``: the cell still above its history in the next window: the count of that type in
  the cell over the ``window_days`` after the warning passes the same test against the same
  history.

A warning whose follow-up window had not ended by the end of the data (``data_end``, at most
now) is *pending*: it is counted among the warnings but not judged. Precision = followed ÷
judged, ``None`` when nothing could be judged. De-duplication runs across the steps as it does
across scheduled runs, so a place raises one warning per window in a back-test too.

Pure: the records and the times are passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from jingwu.domain.warning_models import PlateFarApart, RepeatAddress, Rule, TypeSpike
from jingwu.domain.warning_records import Prepared, Raised, Records, Warning, fresh, prepare
from jingwu.domain.warning_rules import at_place, evaluate_prepared, impossible_pairs
from jingwu.domain.warning_spikes import grid_cell, spike_test

DAY = timedelta(days=1)
#: The longest period one back-test covers.
MAX_PERIOD = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class Outcome:
    warning: Warning
    raised_at: datetime
    followed: bool | None  # None: pending (its follow-up window ran past the data)


@dataclass(frozen=True, slots=True)
class Backtest:
    steps: int
    outcomes: tuple[Outcome, ...]

    @property
    def warnings(self) -> int:
        return len(self.outcomes)

    @property
    def judged(self) -> int:
        return sum(1 for o in self.outcomes if o.followed is not None)

    @property
    def followed(self) -> int:
        return sum(1 for o in self.outcomes if o.followed)

    @property
    def pending(self) -> int:
        return self.warnings - self.judged

    @property
    def precision(self) -> float | None:
        return self.followed / self.judged if self.judged else None


def daily_steps(start: datetime, end: datetime) -> list[datetime]:
    """The evaluation times: one day after ``start``, then every day up to ``end``."""
    steps = []
    step = start + DAY
    while step <= end:
        steps.append(step)
        step += DAY
    return steps


def followed(prepared: Prepared, warning: Warning, raised_at: datetime, data_end: datetime) -> bool | None:
    """Whether what ``warning`` foretold happened within the follow-up window after
    ``raised_at`` (see the module's definition); None while that window runs past ``data_end``."""
    rule = prepared.rule
    until = raised_at + rule.follow_up
    if until > data_end:
        return None
    p = rule.params
    if isinstance(p, RepeatAddress):
        return any(
            at_place(warning.address_keys, warning.lat, warning.lon, p.radius_m, r.address_key, r.lat, r.lon)
            for r in prepared.incidents.between(raised_at, until)
        )
    if isinstance(p, PlateFarApart):
        seen = [
            s
            for s in prepared.sightings.between(raised_at - timedelta(minutes=p.max_minutes), until)
            if s.plate == warning.plate
        ]
        if any(s.hit and s.at > raised_at for s in seen):
            return True
        return any(pair.second.at > raised_at for pair in impossible_pairs(seen, p.max_minutes, p.min_km))
    return _still_above(p, prepared, warning, raised_at, until)


def _still_above(
    p: TypeSpike, prepared: Prepared, warning: Warning, raised_at: datetime, until: datetime
) -> bool:
    cell = (warning.evidence["cell"]["row"], warning.evidence["cell"]["col"])
    count = sum(
        1
        for r in prepared.incidents.between(raised_at, until)
        if r.type_code == warning.type_code and grid_cell(r.lat, r.lon, p.cell_m) == cell
    )
    return spike_test(p, count, warning.history).passed


def backtest(rule: Rule, records: Records, *, start: datetime, end: datetime, data_end: datetime) -> Backtest:
    """Run ``rule`` at each daily step of ``(start, end]`` over ``records`` (which must reach back
    ``rule.lookback`` before ``start`` and forward to ``data_end``), each step seeing only what
    had happened by then, and judge each new warning's follow-up."""
    prepared = prepare(rule, records)
    steps = daily_steps(start, end)
    raised: list[Raised] = []
    outcomes: list[Outcome] = []
    for step in steps:
        found = evaluate_prepared(prepared, step, since=step - DAY)
        for warning in fresh(rule, found, raised):
            raised.append(Raised.of(warning))
            outcomes.append(Outcome(warning, step, followed(prepared, warning, step, data_end)))
    return Backtest(len(steps), tuple(outcomes))


def summary(result: Backtest, limit: int = 200) -> dict[str, object]:
    """The back-test's details as stored and shown: each warning (up to ``limit``, earliest
    first) with when it would have been raised, its title, stations and outcome."""
    return {
        "outcomes": [
            {
                "raised_at": o.raised_at.isoformat(),
                "title": {"zh": o.warning.title_zh, "en": o.warning.title_en},
                "station_ids": [s.station_id for s in o.warning.sites],
                "place": {"lat": round(o.warning.lat, 6), "lon": round(o.warning.lon, 6)},
                "followed": o.followed,
            }
            for o in result.outcomes[:limit]
        ],
        "truncated": max(0, len(result.outcomes) - limit),
    }


__all__ = [
    "DAY",
    "MAX_PERIOD",
    "Backtest",
    "Outcome",
    "backtest",
    "daily_steps",
    "followed",
    "summary",
]
