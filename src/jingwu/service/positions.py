"""Unit positions (AVL): ingest fixes through the GPS filter, keep the last-known position and
the history, read a unit's track back, and keep the history within its retention.

One ingest is one write transaction: the units' rows are locked (their last accepted fix is the
filter's anchor), every fix is judged (domain.gps), the fixes worth keeping go into the history
in one batched insert, and each unit's newest accepted fix becomes its last-known position — so a
2xx means all of it is stored. Only after the commit is the unit moved on this process's board
and published on the bus (``unit.positions``, the same message the live map and the other server
processes already follow). A rejected fix never gets that far: it is not drawn, not recommended
from, not the last-known position.

Rejected fixes that have a real place and time (invalid by the device's own say, vague, or an
impossible jump) are kept in the history, flagged with their reason, for diagnosing a device
(the track leaves them out unless asked) and because re-anchoring a track needs the recent
jump suspects. Those with no trustworthy place or time (NaN, null island, far future, beyond the
retention, duplicates) are only counted here and logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from jingwu.bus import Bus, BusMessage
from jingwu.domain.events import EventType
from jingwu.domain.gps import Fix, GpsRules, Judgement, Reason, TrackState, Verdict, judge, plainly_current
from jingwu.errors import SystemFault, ValidationFailed
from jingwu.service.idempotency import record_claim
from jingwu.service.unit_board import UnitBoard
from jingwu.store import positions as store
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.faults import is_missing_partition, rolled_back_by_conflict

log = logging.getLogger(__name__)

COMMIT_ATTEMPTS = 3
#: Days of partitions made ahead of today (UTC), so that midnight never finds its day missing.
PARTITIONS_AHEAD = 2
#: SQLite retention deletes this many rows per transaction (the write lock is held that long).
DELETE_BATCH = 5_000
#: The longest time range one track read may cover, and the most points it returns.
MAX_TRACK_SPAN = timedelta(hours=24)
MAX_TRACK_POINTS = 20_000


class Source(StrEnum):
    OSMAND = "osmand"  # a phone running Traccar Client (or any OsmAnd-protocol tracker)
    TERMINAL = "terminal"  # the officer's terminal (the browser's geolocation)
    # A device account posting JSON batches: an AVL box, a fleet gateway (and the demo's simulated
    # fleet, simulation.simulator, which plays the part of the cars' AVL boxes).
    GATEWAY = "gateway"
    MANUAL = "manual"  # a dispatcher placing a unit by hand from a radio report


class Outcome(NamedTuple):
    """What became of one reported fix, by its place in the request (a named tuple: one is made
    per fix)."""

    place: int  # from 0 (``index`` would hide the tuple's own method)
    unit_id: str
    verdict: Verdict
    reason: Reason | None


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcomes: tuple[Outcome, ...]
    #: The outcomes with a reason: every rejection and every accepted fix with a remark. Few in
    #: a batch of hundreds, so that what is asked of a result below need not walk all of them.
    remarked: tuple[Outcome, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "remarked", tuple(o for o in self.outcomes if o.reason is not None))

    @property
    def accepted(self) -> int:
        return len(self.outcomes) - len(self.rejected)  # a rejection always has its reason

    @property
    def rejected(self) -> list[Outcome]:
        return [o for o in self.remarked if o.verdict is Verdict.REJECTED]

    @property
    def flagged(self) -> list[Outcome]:
        """Accepted with a remark: into the track only (late, stale), or re-anchored."""
        return [o for o in self.remarked if o.verdict is not Verdict.REJECTED]


@dataclass(frozen=True, slots=True)
class Track:
    unit_id: str
    start: datetime
    end: datetime
    points: tuple[store.TrackPoint, ...]
    truncated: bool  # more points lie in the range: read on from the last one's time


def positions_message(moves: Sequence[tuple[str, Fix]]) -> BusMessage:
    """The live ``unit.positions`` batch (not logged: superseded within seconds)."""
    # Coordinates to 7 decimals (about 1 cm: a shorter stream), rounded for the batch at once.
    lats = np.round(np.array([f.lat for _, f in moves], dtype=float), 7).tolist()
    lons = np.round(np.array([f.lon for _, f in moves], dtype=float), 7).tolist()
    payload: dict[str, Any] = {
        "id": None,
        "type": str(EventType.UNIT_POSITIONS),
        "positions": [
            {
                "unit_id": unit_id,
                "lat": lat,
                "lon": lon,
                "heading": None if (heading := f.heading) is None else round(heading, 1),
                "speed": None if (speed := f.speed) is None else round(speed, 2),
                "ts": store.utc_text(f.ts),
                "accuracy": None if (accuracy := f.accuracy) is None else round(accuracy, 1),
            }
            for (unit_id, f), lat, lon in zip(moves, lats, lons, strict=True)
        ],
    }
    return BusMessage(id=None, type=str(EventType.UNIT_POSITIONS), payload=payload)


class PositionService:
    def __init__(
        self,
        engine: Engine,
        bus: Bus,
        board: UnitBoard,
        *,
        retention_days: int = 30,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rules: GpsRules | None = None,
    ) -> None:
        self.engine = engine
        self.bus = bus
        self.board = board
        self.clock = clock
        self.retention = timedelta(days=retention_days)
        # The filter forgets what the history would delete at once.
        self.rules = replace(rules or GpsRules(), max_age=self.retention)
        self.postgres = engine.dialect.name == "postgresql"
        self._partitions: set[date] | None = None  # known partition days (PostgreSQL), lazily read
        self._partitions_lock = threading.Lock()
        self._sweep_from: str | None = None  # SQLite retention: the unit to resume from
        #: Rejections since start, by reason: what a device-health page or a metric would show.
        self.rejections: Counter[Reason] = Counter()

    # ------------------------------------------------------------ ingest

    def ingest(
        self,
        reports: Sequence[tuple[str, Fix]],
        *,
        source: Source,
        on_judged: Callable[[IngestResult], None] | None = None,
    ) -> IngestResult:
        """Judge and store a batch of fixes (any units, any order); returns each one's outcome
        in the order given. ``on_judged`` sees the result inside the transaction, before the
        commit (the API renders an idempotent answer from it). Unknown units: 404, nothing
        stored."""
        if not reports:
            return IngestResult(())
        now = self.clock()
        stamps = {f.ts for _, f in reports}  # distinct: a gateway's fixes mostly share their time
        if any(ts.tzinfo is None for ts in stamps):
            raise ValidationFailed("a fix time needs a time zone", code="naive_time")
        # The days the history needs partitions for.
        times = [ts for ts in stamps if self._storable_time(ts, now)]
        self._ensure_partitions(times)
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                with write_transaction(self.engine) as conn:
                    result, moves = self._judge_and_store(conn, reports, source=source, now=now)
                    if on_judged is not None:
                        on_judged(result)
                    claim = record_claim(conn, now)
                if claim is not None:
                    claim.recorded = True
                break
            except DBAPIError as exc:
                if attempt < COMMIT_ATTEMPTS and is_missing_partition(exc):
                    # Another process dropped or never made a day we thought was there.
                    log.info("a position partition was missing; making it and retrying")
                    with self._partitions_lock:
                        self._partitions = None
                    self._ensure_partitions(times)
                    continue
                if attempt < COMMIT_ATTEMPTS and rolled_back_by_conflict(exc):
                    log.info("position ingest retried after a transient database conflict")
                    continue
                raise SystemFault(
                    "the database could not store the positions; try again", code="store_unavailable"
                ) from exc
        self._count(result)
        if moves:
            self.board.move(moves)
            self.bus.publish(positions_message(moves))
        return result

    def _storable_time(self, ts: datetime, now: datetime) -> bool:
        return now - self.retention <= ts <= now + self.rules.max_future

    def _judge_and_store(
        self, conn: Connection, reports: Sequence[tuple[str, Fix]], *, source: Source, now: datetime
    ) -> tuple[IngestResult, list[tuple[str, Fix]]]:
        anchors = store.lock_anchors(conn, {unit_id for unit_id, _ in reports})
        states: dict[str, TrackState] = {}
        # Per unit, the anchor time the stored jump suspects were read for (read at most once
        # per anchor: in between, the filter's state carries them).
        suspects_read: dict[str, datetime] = {}
        judged: list[Judgement | None] = [None] * len(reports)
        # Each unit's fixes oldest first (a batch's order is the sender's, not time's).
        unit_ids = [unit_id for unit_id, _ in reports]
        repeats = len(set(unit_ids)) < len(unit_ids)
        if repeats:
            order = sorted(range(len(reports)), key=lambda i: (reports[i][0], reports[i][1].ts))
        else:  # one fix per unit, the usual batch: by unit alone
            order = sorted(range(len(reports)), key=unit_ids.__getitem__)
        manual = source is Source.MANUAL
        rules = self.rules
        # The bulk of a batch, judged at once: fixes that are plainly their unit's current
        # position. A unit's second fix in the batch is judged after its first, one by one.
        plain = plainly_current(
            [anchors[unit_id] for unit_id in unit_ids],
            [fix for _, fix in reports],
            now=now,
            rules=rules,
            manual=manual,
        ).tolist()
        if repeats:
            repeated = {unit_id for unit_id, n in Counter(unit_ids).items() if n > 1}
            plain = [
                passed and unit_id not in repeated for passed, unit_id in zip(plain, unit_ids, strict=True)
            ]
        for i in order:
            unit_id, fix = reports[i]
            if plain[i]:
                judged[i] = Judgement(fix, Verdict.CURRENT)
                continue
            state = states.get(unit_id) or TrackState(anchors[unit_id])
            judgement, after = judge(state, fix, now=now, rules=rules, manual=manual)
            anchor = state.anchor
            if (
                judgement.reason is Reason.IMPOSSIBLE_JUMP
                and anchor is not None
                and suspects_read.get(unit_id) != anchor.ts
            ):
                # Rare, so read only now: the jumps stored since the anchor, which together
                # with this one may show that the anchor, not the device, is wrong.
                suspects_read[unit_id] = anchor.ts
                earlier = store.jump_suspects(conn, unit_id, anchor.ts, rules.reanchor_after - 1)
                state = state._replace(suspects=earlier + state.suspects)
                judgement, after = judge(state, fix, now=now, rules=rules, manual=manual)
            states[unit_id] = after
            judged[i] = judgement
        kept = [(reports[i][0], j) for i in order if (j := judged[i]) is not None and j.kept]
        skipped = store.insert_history(
            conn,
            [store.HistoryRow(unit_id, j.fix, str(source), j.verdict, j.reason, now) for unit_id, j in kept],
        )
        latest: dict[str, Fix] = {}
        outcomes = []
        for i, (unit_id, _) in enumerate(reports):
            final = judged[i]
            assert final is not None  # every fix was judged above
            if skipped and final.kept and (unit_id, final.fix.ts) in skipped:
                # That unit and time are in the history already: a retried upload.
                final = Judgement(final.fix, Verdict.REJECTED, Reason.DUPLICATE)
            if final.verdict is Verdict.CURRENT:
                newest = latest.get(unit_id)
                if newest is None or final.fix.ts > newest.ts:
                    latest[unit_id] = final.fix
            outcomes.append(Outcome(i, unit_id, final.verdict, final.reason))
        store.update_last_known(conn, latest)
        return IngestResult(tuple(outcomes)), sorted(latest.items())

    def _count(self, result: IngestResult) -> None:
        rejected = Counter(o.reason for o in result.rejected if o.reason is not None)
        if rejected:
            self.rejections.update(rejected)
            if log.isEnabledFor(logging.INFO):
                units = sorted({o.unit_id for o in result.rejected})
                log.info(
                    "GPS filter rejected %d of %d fixes (%s) from units %s",
                    sum(rejected.values()),
                    len(result.outcomes),
                    ", ".join(f"{reason}: {n}" for reason, n in sorted(rejected.items())),
                    ", ".join(units[:10]) + (" …" if len(units) > 10 else ""),
                )

    # ------------------------------------------------------------ reading

    def track(
        self,
        unit_id: str,
        start: datetime,
        end: datetime,
        *,
        include_rejected: bool = False,
        limit: int = MAX_TRACK_POINTS,
    ) -> Track:
        """The unit's fixes in [start, end), oldest first: the accepted ones (current and
        history-only), and the rejected kept ones too when asked. At most ``MAX_TRACK_SPAN``
        at once and ``limit`` points; ``truncated`` says there are more."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValidationFailed(
                "from and to need a time zone (e.g. 2026-11-25T08:00:00+08:00)", code="bad_track_range"
            )
        if end <= start:
            raise ValidationFailed("to must be after from", code="bad_track_range")
        if end - start > MAX_TRACK_SPAN:
            raise ValidationFailed(
                f"a track covers at most {int(MAX_TRACK_SPAN.total_seconds() // 3600)} hours; ask "
                "for the rest in further requests",
                code="bad_track_range",
                max_hours=int(MAX_TRACK_SPAN.total_seconds() // 3600),
            )
        limit = max(1, min(limit, MAX_TRACK_POINTS))
        with read_transaction(self.engine) as conn:
            points = store.track(
                conn, unit_id, start, end, include_rejected=include_rejected, limit=limit + 1
            )
        return Track(unit_id, start, end, tuple(points[:limit]), truncated=len(points) > limit)

    # ------------------------------------------------------------ retention and partitions

    def maintain(self, *, budget_s: float = 0.5) -> int:
        """The periodic upkeep (the app's timer loop): on PostgreSQL, make the coming days'
        partitions and drop the days wholly past the retention; on SQLite, delete fixes past the
        retention in small batches for at most ``budget_s`` (the rest next time). Returns the
        partitions dropped or rows deleted."""
        now = self.clock()
        cutoff = now - self.retention
        if self.postgres:
            today = now.astimezone(UTC).date()
            self._ensure_days({today + timedelta(days=n) for n in range(PARTITIONS_AHEAD + 1)})
            return self._drop_partitions_before(cutoff)
        return self._delete_before(cutoff, budget_s=budget_s)

    def _known_partitions(self) -> set[date]:
        if self._partitions is None:
            with read_transaction(self.engine) as conn:
                self._partitions = store.partition_days(conn)
        return self._partitions

    def _ensure_partitions(self, instants: Iterable[datetime]) -> None:
        if self.postgres:
            self._ensure_days(store.utc_days(instants))

    def _ensure_days(self, days: set[date]) -> None:
        with self._partitions_lock:
            missing = sorted(days - self._known_partitions())
            for day in missing:
                try:
                    with write_transaction(self.engine) as conn:
                        store.create_partition(conn, day)
                except DBAPIError as exc:
                    # Another process made it at the same moment: fine. Anything else is not.
                    with read_transaction(self.engine) as conn:
                        if day not in store.partition_days(conn):
                            raise SystemFault(
                                "the position history could not be extended; try again",
                                code="store_unavailable",
                            ) from exc
                self._known_partitions().add(day)
                log.info("made the position partition for %s", day)

    def _drop_partitions_before(self, cutoff: datetime) -> int:
        """Drop the days that end at or before the cutoff: a fix is kept at least the retention
        and at most a day longer."""
        with self._partitions_lock:
            with read_transaction(self.engine) as conn:
                days = store.partition_days(conn)
            dropped = 0
            for day in sorted(days):
                if datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC) > cutoff:
                    break
                with write_transaction(self.engine) as conn:
                    store.drop_partition(conn, day)
                days.discard(day)
                dropped += 1
                log.info("dropped the position partition for %s (retention %s)", day, self.retention)
            self._partitions = days
            return dropped

    def _delete_before(self, cutoff: datetime, *, budget_s: float) -> int:
        started = time.monotonic()
        with read_transaction(self.engine) as conn:
            units = store.units_with_history_before(conn, cutoff)
        # Resume after the unit the last sweep stopped at, so that every unit gets its turn.
        if self._sweep_from is not None:
            units = [u for u in units if u >= self._sweep_from] + [u for u in units if u < self._sweep_from]
        deleted = 0
        for unit_id in units:
            while True:
                if time.monotonic() - started > budget_s:
                    self._sweep_from = unit_id
                    return deleted
                with write_transaction(self.engine) as conn:
                    n = store.delete_history_before(conn, unit_id, cutoff, DELETE_BATCH)
                deleted += n
                if n < DELETE_BATCH:
                    break
        self._sweep_from = None
        return deleted


__all__ = [
    "MAX_TRACK_POINTS",
    "MAX_TRACK_SPAN",
    "IngestResult",
    "Outcome",
    "PositionService",
    "Source",
    "Track",
    "positions_message",
]
