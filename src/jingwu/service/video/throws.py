"""Thrown objects (高空抛物) from the video workers to the command room: each camera's facade
calibration kept, and each throw a worker reports turned into a priority-2 ``sensor`` incident at
the camera (or a note on the camera's open one), with the snapshot of its track attached, its
detection row kept, a ``throw.detected`` event for those who watch the camera, and an evidence
clip cut in the background once the camera's buffer holds the landing and two seconds after."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from PIL import Image, UnidentifiedImageError
from sqlalchemy import Connection, insert, select, update

from jingwu.domain import rules
from jingwu.domain.attachments import check_image
from jingwu.domain.cameras import Camera, CameraKind
from jingwu.domain.events import DomainEvent, EventType
from jingwu.domain.rules import Decision
from jingwu.domain.status import SourceChannel
from jingwu.domain.throws import (
    REPEAT_WINDOW,
    THROW_PRIORITY,
    THROW_TYPE_CODE,
    ThrowDetection,
    is_repeat_throw,
    throw_description,
    throw_note,
)
from jingwu.errors import JingwuError, NotFound, ValidationFailed
from jingwu.service.ids import IncidentIdTaken, new_id
from jingwu.service.incident_photos import store_photo
from jingwu.service.video.evidence import ms_to_datetime
from jingwu.store import incident_search
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store import video_tables as v
from jingwu.store.db import read_transaction, write_transaction
from jingwu.vision.throws.calibration import FacadeGeometry, parse_calibration

if TYPE_CHECKING:
    from jingwu.service.video import VideoService

log = logging.getLogger(__name__)

ACTOR = "video"
#: The evidence clip: from this long before the object was first seen to this long after it landed.
CLIP_BEFORE = timedelta(seconds=5)
CLIP_AFTER = timedelta(seconds=2)
#: The clip is cut once the buffer should hold its end (plus this margin), retried for a while.
CLIP_MARGIN_S = 0.8
CLIP_TRIES = 5
CLIP_RETRY_S = 2.0
MAX_TRACK_POINTS = 2_000


class ThrowService:
    """Calibrations and detections. Thread-safe; :meth:`record` runs on the video supervisor's
    thread (one report after another, so a repeat throw sees the row of the one before)."""

    def __init__(self, video: VideoService, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.video = video
        self.engine = video.engine
        self.dispatch = video.dispatch
        self.registry = video.registry
        self.clock = video.clock
        self.sleep = sleep
        self._clips: list[threading.Thread] = []

    # ------------------------------------------------------------ calibration

    def calibrate(
        self,
        camera_id: str,
        data: Any,
        *,
        actor: str | None,
        source: str | None,
        allowed: Callable[[Camera], None] | None = None,
    ) -> Camera:
        """Keep the facade a fixed camera watches: checked (422 ``calibration_invalid`` or
        ``camera_wrong_way`` naming the field), and, when the camera's picture size is known
        from its worker, checked to lie in that picture. Audited; the worker starts analysing at
        its next assignment (within a couple of seconds)."""
        camera = self.registry.get(camera_id)
        if allowed is not None:
            allowed(camera)
        if camera.kind is not CameraKind.FIXED:
            raise ValidationFailed(
                f"a {camera.kind.value} camera moves: thrown objects are watched by fixed cameras only",
                code="camera_not_fixed",
                camera_id=camera_id,
            )
        calibration = parse_calibration(data)
        size = self.picture_size(camera_id)
        if size is not None:
            FacadeGeometry.build(calibration, *size)
        return self.registry.set_calibration(camera_id, calibration.to_json(), actor=actor, source=source)

    def uncalibrate(
        self,
        camera_id: str,
        *,
        actor: str | None,
        source: str | None,
        allowed: Callable[[Camera], None] | None = None,
    ) -> Camera:
        """Stop analysing a camera for thrown objects (its worker stops at its next assignment)."""
        camera = self.registry.get(camera_id)
        if allowed is not None:
            allowed(camera)
        return self.registry.set_calibration(camera_id, None, actor=actor, source=source)

    def picture_size(self, camera_id: str) -> tuple[int, int] | None:
        """The camera's picture size as its worker decodes it now (from its latest keyframe), or
        None when no worker reads it or it has no picture yet."""
        try:
            data, _taken = self.video.snapshot(camera_id)
        except JingwuError:
            return None
        try:
            with Image.open(io.BytesIO(data)) as image:
                return image.size
        except (UnidentifiedImageError, OSError):
            return None

    # ------------------------------------------------------------ detections

    def record(self, report: dict[str, Any]) -> ThrowDetection | None:
        """A worker's ``throw`` report: an incident opened (or a note on the camera's open one),
        the snapshot attached, the detection kept and published; the clip cut in the background.
        None when the report cannot be taken (a camera retired meanwhile, a report garbled)."""
        try:
            camera = self.registry.get(str(report["camera_id"]))
            found = _parse_report(report)
        except NotFound:
            log.info("a throw was reported by camera %s, retired meanwhile", report.get("camera_id"))
            return None
        except (KeyError, TypeError, ValueError) as exc:
            log.error("a garbled throw report from a video worker (%s): %r", exc, sorted(report))
            return None
        if camera.position is None:
            log.warning("camera %s reported a throw but has no place of its own", camera.id)
            return None
        incident_id, repeat = self._open_or_note(camera, found)
        detection = self._keep(camera, incident_id, repeat, found, report.get("snapshot"))
        if detection is not None:
            worker = threading.Thread(
                target=self._cut_clip, args=(detection,), name=f"throw-clip-{detection.id}", daemon=True
            )
            self._clips = [c for c in self._clips if c.is_alive()] + [worker]
            worker.start()
        return detection

    def _open_or_note(self, camera: Camera, found: _Reported) -> tuple[str, bool]:
        """The incident the throw belongs to: a new one at the camera, or the open one of a throw
        from the same window within the last minute (a note on it then)."""
        location = camera.position
        assert location is not None
        station_id = camera.station_id or self.dispatch.station_for(location)
        road_point = None
        try:
            road_point = self.dispatch.network.snap(
                location.lat, location.lon, self.dispatch.max_snap_distance_m
            )
        except JingwuError as exc:
            # Checked nowhere at registration: the call is opened all the same, recommendation
            # snaps it with its own, wider bound.
            log.warning("camera %s stands off the roads (%s); opening the throw anyway", camera.id, exc)
        address = camera.name if not camera.community else f"{camera.community} {camera.name}"
        outcome: list[tuple[str, bool]] = []

        def decide(conn: Connection, now: datetime, incident_id: str) -> Decision:
            recent = conn.execute(
                select(
                    v.throw_detections.c.incident_id,
                    v.throw_detections.c.landed_at,
                    v.throw_detections.c.floor,
                    v.throw_detections.c.column,
                )
                .where(
                    v.throw_detections.c.camera_id == camera.id,
                    v.throw_detections.c.landed_at >= found.detected_at - REPEAT_WINDOW,
                )
                .order_by(v.throw_detections.c.landed_at.desc())
                .limit(20)
            ).all()
            for previous in recent:
                if not is_repeat_throw(
                    previous.landed_at,
                    found.detected_at,
                    incident_open=True,
                    previous_window=(previous.floor, previous.column),
                    window=(found.floor, found.column),
                ):
                    continue
                try:
                    if not repo.get_incident(conn, previous.incident_id, for_update=True).is_open:
                        continue
                except NotFound:
                    continue
                text = throw_note(found.floor, found.column, found.confidence)
                conn.execute(
                    insert(t.notes).values(incident_id=previous.incident_id, author=ACTOR, ts=now, text=text)
                )
                note = DomainEvent(
                    EventType.INCIDENT_NOTE_ADDED,
                    now,
                    incident_id=previous.incident_id,
                    actor=ACTOR,
                    data={"text": text},
                )
                outcome[:] = [(previous.incident_id, True)]
                return Decision(events=(note,))
            if incident_search.incident_exists(conn, incident_id):
                raise IncidentIdTaken(incident_id)
            outcome[:] = [(incident_id, False)]
            return rules.open_incident(
                incident_id=incident_id,
                now=now,
                type_code=THROW_TYPE_CODE,
                priority=THROW_PRIORITY,
                location=location,
                source=SourceChannel.SENSOR,
                address=address,
                description=throw_description(camera.name, found.floor, found.column, found.confidence),
                station_id=station_id,
                actor=ACTOR,
            )

        self.dispatch.commit_with_incident_id(decide, what="the throw")
        chosen, repeat = outcome[0]
        if not repeat:
            if road_point is not None:
                self.dispatch.board.remember_incident(chosen, location, road_point)
            log.info("camera %s saw a thrown object: incident %s opened", camera.id, chosen)
        else:
            log.info("camera %s saw another thrown object: noted on %s", camera.id, chosen)
        return chosen, repeat

    def _keep(
        self, camera: Camera, incident_id: str, repeat: bool, found: _Reported, snapshot: Any
    ) -> ThrowDetection | None:
        """The snapshot attached and the detection kept, in one transaction, with their events."""
        picture: bytes | None = None
        if isinstance(snapshot, bytes | bytearray) and snapshot:
            try:
                check_image("image/jpeg", bytes(snapshot))
                picture = bytes(snapshot)
            except ValidationFailed as exc:
                log.error("camera %s sent a throw snapshot that is not a JPEG (%s)", camera.id, exc)
        detection_id = new_id("throw")
        attachment_id = new_id("att") if picture is not None else None
        kept: list[ThrowDetection] = []

        def decide(conn: Connection, now: datetime) -> Decision:
            events: list[DomainEvent] = []
            if picture is not None and attachment_id is not None:
                _info, added = store_photo(
                    conn,
                    now,
                    attachment_id=attachment_id,
                    incident_id=incident_id,
                    content_type="image/jpeg",
                    data=picture,
                    actor=ACTOR,
                )
                events.append(added)
            detection = ThrowDetection(
                id=detection_id,
                incident_id=incident_id,
                camera_id=camera.id,
                detected_at=found.detected_at,
                landed_at=found.landed_at,
                floor=found.floor,
                column=found.column,
                floor_uncertainty=found.floor_uncertainty,
                confidence=found.confidence,
                track=found.track,
                snapshot_attachment_id=attachment_id,
                clip_id=None,
                created_at=now,
            )
            row = asdict(detection)  # the table's columns are the detection's fields
            row["track"] = json.dumps(row["track"])
            conn.execute(insert(v.throw_detections).values(**row))
            kept[:] = [detection]
            events.append(
                DomainEvent(
                    EventType.THROW_DETECTED,
                    now,
                    incident_id=incident_id,
                    actor=ACTOR,
                    data={
                        # Who may hear it: those who may watch cameras where the call is (its
                        # station, not the camera's record: that stays out of the timeline).
                        "camera": {
                            "id": camera.id,
                            "name": camera.name,
                            "community": camera.community,
                            "station_id": repo.get_incident(conn, incident_id).station_id,
                        },
                        "throw": throw_view(detection, camera.name, camera.community),
                        "repeat": repeat,
                    },
                )
            )
            return Decision(events=tuple(events))

        try:
            self.dispatch.commit(decide)
        except JingwuError:
            log.exception("the throw detection of camera %s could not be kept", camera.id)
            return None
        return kept[0]

    def _cut_clip(self, detection: ThrowDetection) -> None:
        """The evidence clip: 5 s before the first sight to 2 s after the landing, cut once the
        buffer holds the end; a camera briefly unread or a buffer behind is tried again."""
        start, end = detection.detected_at - CLIP_BEFORE, detection.landed_at + CLIP_AFTER
        wait = (end - self.clock()).total_seconds() + CLIP_MARGIN_S
        if wait > 0:
            self.sleep(min(wait, 30.0))
        for attempt in range(1, CLIP_TRIES + 1):
            try:
                clip = self.video.cut_clip(
                    detection.incident_id, detection.camera_id, start, end, actor=ACTOR
                )
            except (JingwuError, httpx.HTTPError, OSError) as exc:
                # Unread for a moment (a worker restarting), the buffer not there yet, the relay
                # gone: tried again.
                if attempt == CLIP_TRIES:
                    log.warning("no clip of throw %s could be cut: %s", detection.id, exc)
                    return
                self.sleep(CLIP_RETRY_S)
                continue
            except Exception:
                log.exception("the clip of throw %s failed", detection.id)
                return
            with write_transaction(self.engine) as conn:
                conn.execute(
                    update(v.throw_detections)
                    .where(v.throw_detections.c.id == detection.id)
                    .values(clip_id=clip.id)
                )
            return

    def wait_for_clips(self, timeout_s: float) -> None:
        """Wait for the clips being cut (tests; a stopping server lets them go)."""
        deadline = time.monotonic() + timeout_s
        for worker in list(self._clips):
            worker.join(max(0.0, deadline - time.monotonic()))

    # ------------------------------------------------------------ reads

    def for_incident(self, incident_id: str) -> list[dict[str, Any]]:
        """The throws kept for an incident, first first."""
        with read_transaction(self.engine) as conn:
            repo.get_incident(conn, incident_id)
            rows = conn.execute(
                _joined()
                .where(v.throw_detections.c.incident_id == incident_id)
                .order_by(v.throw_detections.c.detected_at)
            ).all()
        return [_view_of(row) for row in rows]

    def get(self, throw_id: str) -> tuple[dict[str, Any], str | None]:
        """One kept throw and the station of the call it belongs to (404 ``not_found``)."""
        with read_transaction(self.engine) as conn:
            row = conn.execute(_joined().where(v.throw_detections.c.id == throw_id)).first()
            if row is None:
                raise NotFound(f"no thrown object {throw_id}", code="throw_not_found", throw_id=throw_id)
            station_id = repo.get_incident(conn, row.incident_id).station_id
        return _view_of(row), station_id

    def recent(
        self, *, station_ids: Collection[str] | None, since: datetime | None, limit: int
    ) -> list[dict[str, Any]]:
        """The latest throws of the cameras at ``station_ids`` (None: all), newest first."""
        query = _joined().order_by(v.throw_detections.c.detected_at.desc()).limit(limit)
        if station_ids is not None:
            # By the call's station: a camera with none (or moved since) still reaches the
            # station whose call it opened, and no other.
            query = query.join(t.incidents, t.incidents.c.id == v.throw_detections.c.incident_id).where(
                t.incidents.c.station_id.in_(sorted(station_ids))
            )
        if since is not None:
            query = query.where(v.throw_detections.c.detected_at >= since)
        with read_transaction(self.engine) as conn:
            rows = conn.execute(query).all()
        return [_view_of(row) for row in rows]


class _Reported:
    """A throw report's figures, checked."""

    __slots__ = ("column", "confidence", "detected_at", "floor", "floor_uncertainty", "landed_at", "track")

    def __init__(self, event: dict[str, Any], first_ms: int, landed_ms: int) -> None:
        self.floor = _whole_or_none(event.get("floor"))
        self.column = _whole_or_none(event.get("column"))
        self.floor_uncertainty = float(event.get("floor_uncertainty") or 0.0)
        self.confidence = float(event["confidence"])
        self.detected_at = ms_to_datetime(first_ms)
        self.landed_at = ms_to_datetime(max(landed_ms, first_ms))
        points: Sequence[Any] = event.get("track") or []
        self.track = tuple((int(f), float(u), float(w)) for f, u, w in points[:MAX_TRACK_POINTS])


def _parse_report(report: dict[str, Any]) -> _Reported:
    return _Reported(dict(report["event"]), int(report["first_wall_ms"]), int(report["landed_wall_ms"]))


def _whole_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def throw_view(detection: ThrowDetection, camera_name: str, community: str | None) -> dict[str, Any]:
    """A detection as the API, the live stream and the console show it."""
    return {
        "id": detection.id,
        "incident_id": detection.incident_id,
        "camera_id": detection.camera_id,
        "camera_name": camera_name,
        "community": community,
        "detected_at": detection.detected_at.isoformat(),
        "landed_at": detection.landed_at.isoformat(),
        "floor": detection.floor,
        "column": detection.column,
        "floor_uncertainty": detection.floor_uncertainty,
        "confidence": detection.confidence,
        "track": [[f, u, w] for f, u, w in detection.track],
        "snapshot_attachment_id": detection.snapshot_attachment_id,
        "clip_id": detection.clip_id,
    }


def _joined() -> Any:
    d = v.throw_detections
    return select(d, v.cameras.c.name.label("camera_name"), v.cameras.c.community.label("community")).join(
        v.cameras, v.cameras.c.id == d.c.camera_id
    )


def _view_of(row: Any) -> dict[str, Any]:
    detection = ThrowDetection(
        id=row.id,
        incident_id=row.incident_id,
        camera_id=row.camera_id,
        detected_at=row.detected_at,
        landed_at=row.landed_at,
        floor=row.floor,
        column=row.column,
        floor_uncertainty=row.floor_uncertainty,
        confidence=row.confidence,
        track=tuple((int(f), float(u), float(w)) for f, u, w in json.loads(row.track)),
        snapshot_attachment_id=row.snapshot_attachment_id,
        clip_id=row.clip_id,
        created_at=row.created_at,
    )
    return throw_view(detection, row.camera_name, row.community)


__all__ = ["ThrowService", "throw_view"]
