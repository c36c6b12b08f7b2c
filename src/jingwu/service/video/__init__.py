"""Video resource sharing (视频资源共享) for the edges: the camera registry, the cameras that see
an incident, live pictures, snapshots and evidence clips, and this process's video workers.

The API process never opens a camera: the workers (:mod:`jingwu.video.worker`, supervised by
:class:`VideoSupervisor`) read them and answer through their relays; this service finds the
relay of a camera from its lease, and keeps what comes back (clips, snapshots) as evidence."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, insert, select

from jingwu.bus import Bus, BusMessage
from jingwu.domain.camera_sight import rank_cameras
from jingwu.domain.cameras import FAULT_STATES, Camera, CameraKind, CameraSpec, CameraState
from jingwu.domain.events import DomainEvent, EventType
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Incident
from jingwu.domain.rules import Decision
from jingwu.errors import JingwuError, NotFound, SystemFault
from jingwu.geocode.buildings import Buildings, load_buildings
from jingwu.service import audit
from jingwu.service.dispatching import DispatchService
from jingwu.service.ids import new_id
from jingwu.service.video import leases
from jingwu.service.video.coverage import CoverageService
from jingwu.service.video.evidence import (
    CameraUnavailable,
    ClipInfo,
    check_span,
    clip_view,
    fetch_clip,
    keep,
    ms_to_datetime,
)
from jingwu.service.video.registry import CameraRegistry, Prober, camera_view, spec_from_fields
from jingwu.service.video.supervisor import VideoSupervisor
from jingwu.service.video.throws import ThrowService
from jingwu.settings import Settings
from jingwu.store import repository as repo
from jingwu.store import video_tables as v
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.fieldcrypt import KeyRing
from jingwu.video.relay import PING
from jingwu.video.relay import read_frames_async as relay_frames

log = logging.getLogger(__name__)

SNAPSHOT_TIMEOUT_S = 5.0
P1_SNAPSHOTS = 6  # the cameras that see a new P1 incident best, each giving a snapshot


class VideoService:
    """Cameras, their pictures and clips. Thread-safe."""

    def __init__(
        self,
        engine: Engine,
        dispatch: DispatchService,
        keys: KeyRing,
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        prober: Prober | None = None,
    ) -> None:
        if prober is None:
            from jingwu.video.probe import probe_in_subprocess

            prober = probe_in_subprocess
        self.engine = engine
        self.dispatch = dispatch
        self.settings = settings
        self.clock = clock
        self.registry = CameraRegistry(
            engine,
            dispatch,
            keys,
            prober=prober,
            file_dir=settings.resolved_video_file_dir,
            clock=clock,
            on_change=self._cameras_changed,
        )
        self.supervisor: VideoSupervisor | None = None
        self._buildings: Buildings | None = None
        self.coverage = CoverageService(engine, dispatch.network, self.buildings, clock)
        self.throws = ThrowService(self)  # 高空抛物: calibrations, and the workers' detections
        self._unsubscribe: Callable[[], None] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------ workers

    def start_workers(self) -> None:
        """Start this process's supervisor (its workers start when there are cameras to read)."""
        settings = self.settings
        with self._lock:
            if self.supervisor is not None or settings.video_workers == 0:
                return
            self.supervisor = VideoSupervisor(
                self.engine,
                self.registry.readable,
                self.record_state,
                workers=settings.video_workers,
                cameras_per_worker=settings.cameras_per_worker,
                buffer_dir=settings.resolved_video_buffer_dir,
                keep_s=settings.video_buffer_s,
                keep_bytes=settings.video_buffer_mb * 1024 * 1024,
                relay_host=settings.video_relay_host,
                clock=self.clock,
                calibrations=self.registry.throw_calibrations,
                on_throw=self.throws.record,
            )
            self.supervisor.start()

    def _cameras_changed(self) -> None:
        """A camera was added, changed, calibrated or retired here: this process's workers take
        it up now rather than at the supervisor's next tick (up to TICK_S later)."""
        supervisor = self.supervisor
        if supervisor is not None:
            supervisor.wake()

    def stop_workers(self) -> None:
        with self._lock:
            supervisor, self.supervisor = self.supervisor, None
            unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        if supervisor is not None:
            supervisor.stop()

    def watch_new_p1(self, bus: Bus, is_leader: Callable[[], bool]) -> None:
        """Attach a snapshot from every camera that sees a new P1 incident, whichever process of
        the cluster took the call: the leader attaches them, once (an event heard twice, from the
        bus and from the log's gap filling, is taken once)."""
        seen: OrderedDict[str, None] = OrderedDict()

        def on_message(message: BusMessage) -> None:
            if message.type != EventType.INCIDENT_CREATED:
                return
            incident = (message.payload.get("data") or {}).get("incident") or {}
            incident_id = str(incident.get("id") or "")
            if incident.get("priority") == 1 and incident_id and incident_id not in seen:
                seen[incident_id] = None
                while len(seen) > 1000:
                    seen.popitem(last=False)
                threading.Thread(
                    target=self._snapshots_for, args=(incident_id, is_leader), daemon=True
                ).start()

        with self._lock:
            if self._unsubscribe is None:
                self._unsubscribe = bus.subscribe(on_message)

    def _snapshots_for(self, incident_id: str, is_leader: Callable[[], bool]) -> int:
        """The snapshots of the cameras that see the incident, attached as photos; how many."""
        try:
            if not is_leader():
                return 0
            with read_transaction(self.engine) as conn:
                incident = repo.get_incident(conn, incident_id)
            attached = 0
            for entry in self.incident_cameras(incident, station_ids=None)[:P1_SNAPSHOTS]:
                if not entry["sees"] or entry["camera"]["state"] != CameraState.ONLINE:
                    continue
                try:
                    data, _taken = self.snapshot(entry["camera"]["id"])
                except JingwuError:
                    continue
                self.dispatch.add_attachment(incident_id, "image/jpeg", data, actor="video")
                attached += 1
            return attached
        except Exception:
            log.exception("the snapshots of P1 incident %s could not be attached", incident_id)
            return 0

    def record_state(self, camera_id: str, state: CameraState, detail: str | None, at: datetime) -> None:
        """A worker's report: stored, and published to the consoles as ``camera.state``."""
        camera = self.registry.set_state(camera_id, state, detail, at)
        if camera is None:
            return
        event = DomainEvent(
            EventType.CAMERA_STATE,
            at,
            actor="video",
            data={"camera": camera_view(camera), "alert": state in FAULT_STATES},
        )
        self.dispatch.commit(lambda _conn, _now: Decision(events=(event,)))

    # ------------------------------------------------------------ registry

    def add(
        self, fields: dict[str, Any], *, actor: str | None, source: str | None, probe: bool = True
    ) -> Camera:
        return self.registry.add_many([spec_from_fields(fields)], actor=actor, source=source, probe=probe)[0]

    def add_many(
        self, specs: Sequence[CameraSpec], *, actor: str | None, source: str | None, probe: bool
    ) -> list[Camera]:
        return self.registry.add_many(specs, actor=actor, source=source, probe=probe)

    def cameras(
        self,
        *,
        station_ids: Collection[str] | None = None,
        kind: CameraKind | None = None,
        states: Collection[CameraState] | None = None,
    ) -> list[Camera]:
        return self.registry.list(station_ids=station_ids, kind=kind, states=states)

    # ------------------------------------------------------------ sight

    def buildings(self) -> Buildings:
        """The city's building footprints (loaded once, from the road graph's cache after the
        first time): what hides a scene from a camera."""
        with self._lock:
            if self._buildings is None:
                self._buildings = load_buildings(self.settings.osm_file, self.settings.graph_cache_dir)
            return self._buildings

    def incident_cameras(
        self, incident: Incident, *, station_ids: Collection[str] | None = None
    ) -> list[dict[str, Any]]:
        """The cameras worth opening for an incident, ranked (domain.camera_sight), as the API
        shows them."""
        cameras = self.registry.list(station_ids=station_ids)
        board = self.dispatch.board
        units_near: dict[str, GeoPoint] = {}
        for camera in cameras:
            if camera.unit_id is not None:
                position = board.position_of(camera.unit_id)
                if position is not None:
                    units_near[camera.unit_id] = GeoPoint(position.lat, position.lon)
        # The buildings are loaded only when a fixed camera is in range (the first time: ~0.5 s).
        ranked = rank_cameras(
            cameras, incident.location, lambda lat, lon, r: self.buildings().near(lat, lon, r), units_near
        )
        return [
            {
                "camera": camera_view(r.camera),
                "rank": r.rank,
                "sees": r.sees,
                "distance_m": round(r.distance_m, 1),
                "bearing_deg": round(r.bearing_deg, 1),
                "why": r.why,
                "why_zh": r.why_zh,
                "reasons": list(r.reasons),
            }
            for r in ranked
        ]

    # ------------------------------------------------------------ relays

    def relay_of(self, camera_id: str) -> tuple[str, str]:
        """The address and token of the worker reading the camera, or 409 ``camera_unavailable``."""
        camera = self.registry.get(camera_id)
        lease = leases.lease_of(self.engine, camera_id, self.clock())
        if lease is None or lease.relay_url is None or lease.relay_token is None:
            raise CameraUnavailable(
                f"no video worker reads camera {camera.name} now ({camera.state})",
                camera_id=camera_id,
                state=str(camera.state),
            )
        return lease.relay_url, lease.relay_token

    def snapshot(self, camera_id: str) -> tuple[bytes, datetime]:
        """The camera's latest keyframe as a JPEG, and when it was taken."""
        relay_url, token = self.relay_of(camera_id)
        try:
            answer = httpx.get(
                f"{relay_url}/cameras/{camera_id}/snapshot",
                headers={"Authorization": f"Bearer {token}"},
                timeout=SNAPSHOT_TIMEOUT_S,
            )
        except httpx.HTTPError as exc:
            raise CameraUnavailable(f"the camera's video worker did not answer: {exc}") from exc
        if answer.status_code != 200:
            raise CameraUnavailable("the camera has no picture yet", camera_id=camera_id)
        return answer.content, ms_to_datetime(answer.headers.get("x-taken-ms", "0"))

    # ------------------------------------------------------------ clips

    def cut_clip(
        self, incident_id: str, camera_id: str, start: datetime, end: datetime, *, actor: str | None
    ) -> ClipInfo:
        """Cut ``start``–``end`` of the camera's buffer for the incident (see service.video.evidence)."""
        now = self.clock()
        check_span(start, end, now, float(self.settings.video_buffer_s))
        end = min(end, now)
        with read_transaction(self.engine) as conn:
            repo.get_incident(conn, incident_id)
        relay_url, token = self.relay_of(camera_id)
        folder = self.settings.resolved_evidence_dir
        part, headers = fetch_clip(relay_url, token, camera_id, start, end, folder)
        sha256 = headers["x-clip-sha256"]
        path, added = keep(part, folder, sha256)
        clip_id = new_id("clip")
        kept: list[ClipInfo] = []

        def decide(conn: Connection, now: datetime) -> Decision:
            repo.get_incident(conn, incident_id)
            clip = ClipInfo(
                id=clip_id,
                incident_id=incident_id,
                camera_id=camera_id,
                from_at=ms_to_datetime(headers["x-clip-from-ms"]),
                to_at=ms_to_datetime(headers["x-clip-to-ms"]),
                duration_s=(int(headers["x-clip-to-ms"]) - int(headers["x-clip-from-ms"])) / 1000,
                frames=int(headers["x-clip-frames"]),
                sha256=sha256,
                size=path.stat().st_size,
                path=path.name,
                created_at=now,
                created_by=actor,
                requested_from=start,
                requested_to=end,
            )
            conn.execute(
                insert(v.video_clips).values(
                    id=clip.id,
                    incident_id=clip.incident_id,
                    camera_id=clip.camera_id,
                    from_at=clip.from_at,
                    to_at=clip.to_at,
                    duration_s=clip.duration_s,
                    frames=clip.frames,
                    sha256=clip.sha256,
                    size=clip.size,
                    path=clip.path,
                    created_at=now,
                    created_by=actor,
                )
            )
            kept[:] = [clip]
            event = DomainEvent(
                EventType.CLIP_ATTACHED,
                now,
                incident_id=incident_id,
                actor=actor,
                data={"clip": clip_view(clip)},
            )
            return Decision(events=(event,))

        try:
            self.dispatch.commit(decide)
        except BaseException:
            if added and not self._clip_file_kept(sha256):
                path.unlink(missing_ok=True)
            raise
        return kept[0]

    def _clip_file_kept(self, sha256: str) -> bool:
        """Whether a committed clip points at this file (the same clip cut twice at once)."""
        with read_transaction(self.engine) as conn:
            row = conn.execute(select(v.video_clips.c.id).where(v.video_clips.c.sha256 == sha256).limit(1))
            return row.first() is not None

    def clips(self, incident_id: str) -> list[ClipInfo]:
        with read_transaction(self.engine) as conn:
            repo.get_incident(conn, incident_id)
            rows = conn.execute(
                select(v.video_clips)
                .where(v.video_clips.c.incident_id == incident_id)
                .order_by(v.video_clips.c.created_at)
            ).all()
        return [_clip_from_row(row) for row in rows]

    def export_clips(self, incident_id: str, *, actor: str | None, source: str | None) -> bytes:
        """The incident's clips as a ZIP with ``manifest.json``: each file's SHA-256 and size, its
        camera and span, and who exported it when, so that a recipient can check every file
        against it (audited). A clip whose file no longer matches its hash stops the export."""
        clips = self.clips(incident_id)
        cameras = {c.id: c for c in self.registry.list()}
        now = self.clock()
        entries = []
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as bundle:
            for clip in clips:
                name = f"clips/{clip.id}.mp4"
                data = self.clip_file(clip).read_bytes()
                if hashlib.sha256(data).hexdigest() != clip.sha256:
                    raise SystemFault(f"clip {clip.id} no longer matches its hash", code="clip_damaged")
                bundle.writestr(name, data)
                camera = cameras.get(clip.camera_id)
                entries.append(
                    {
                        "file": name,
                        **clip_view(clip),
                        "camera_name": camera.name if camera else None,
                        "camera_position": [camera.position.lat, camera.position.lon]
                        if camera and camera.position
                        else None,
                    }
                )
            manifest = {
                "incident_id": incident_id,
                "exported_at": now.isoformat(),
                "exported_by": actor,
                "hash": "sha256",
                "clips": entries,
            }
            bundle.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        with write_transaction(self.engine) as conn:
            audit.append(
                conn,
                ts=now,
                action="clips.exported",
                actor=actor,
                target=f"incident:{incident_id}",
                source=source,
                details={"clips": [c.id for c in clips]},
            )
        return out.getvalue()

    def clip(self, clip_id: str) -> ClipInfo:
        with read_transaction(self.engine) as conn:
            row = conn.execute(select(v.video_clips).where(v.video_clips.c.id == clip_id)).first()
        if row is None:
            raise NotFound(f"no clip {clip_id!r}", code="clip_not_found", clip_id=clip_id)
        return _clip_from_row(row)

    def clip_file(self, clip: ClipInfo) -> Path:
        return self.settings.resolved_evidence_dir / clip.path


def _clip_from_row(row: Any) -> ClipInfo:
    return ClipInfo(
        id=row.id,
        incident_id=row.incident_id,
        camera_id=row.camera_id,
        from_at=row.from_at,
        to_at=row.to_at,
        duration_s=row.duration_s,
        frames=row.frames,
        sha256=row.sha256,
        size=row.size,
        path=row.path,
        created_at=row.created_at,
        created_by=row.created_by,
    )


__all__ = [
    "PING",
    "CameraUnavailable",
    "ClipInfo",
    "VideoService",
    "camera_view",
    "clip_view",
    "relay_frames",
]
