"""The camera registry's rows: register (the stream looked at first, its credentials sealed),
change, retire, read back; the cameras the video workers should read, with their credentials
open; and each camera's state as the workers report it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from jingwu.domain.cameras import (
    STATE_LABELS,
    Camera,
    CameraKind,
    CameraOwner,
    CameraSpec,
    CameraState,
    CameraView,
    StreamCredentials,
    check_spec,
    split_stream_url,
    stream_url_with,
)
from jingwu.domain.geo import GeoPoint
from jingwu.errors import NotFound, SystemFault, ValidationFailed
from jingwu.service import audit
from jingwu.service.dispatching import DispatchService
from jingwu.service.ids import new_id
from jingwu.store import video_tables as v
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.fieldcrypt import FieldCryptError, KeyRing
from jingwu.video.source import ProbeResult

log = logging.getLogger(__name__)

CREDENTIALS_CONTEXT = "cameras.credentials"

#: Looks at a stream before it is registered (a child process in production; see video.probe).
Prober = Callable[[str], ProbeResult]


def camera_not_found(camera_id: str) -> NotFound:
    return NotFound(f"no camera {camera_id!r}", code="camera_not_found", camera_id=camera_id)


def camera_from_row(row: Any) -> Camera:
    view = None
    if row.heading_deg is not None:
        view = CameraView(row.heading_deg, row.fov_deg, row.range_m, row.height_m, row.tilt_deg)
    return Camera(
        id=row.id,
        name=row.name,
        kind=CameraKind(row.kind),
        stream_url=row.stream_url,
        station_id=row.station_id,
        owner=CameraOwner(row.owner),
        position=GeoPoint(row.lat, row.lon) if row.lat is not None else None,
        view=view,
        unit_id=row.unit_id,
        community=row.community,
        has_credentials=row.credentials is not None,
        enabled=bool(row.enabled),
        created_at=row.created_at,
        state=CameraState(row.state),
        state_since=row.state_since,
        state_detail=row.state_detail,
        throw_calibration=json.loads(row.throw_calibration) if row.throw_calibration else None,
    )


def camera_view(camera: Camera) -> dict[str, Any]:
    """A camera as the API and the live stream show it (never its credentials)."""
    view = camera.view
    return {
        "id": camera.id,
        "name": camera.name,
        "kind": str(camera.kind),
        "owner": str(camera.owner),
        "stream_url": camera.stream_url,
        "has_credentials": camera.has_credentials,
        "lat": camera.position.lat if camera.position else None,
        "lon": camera.position.lon if camera.position else None,
        "view": None
        if view is None
        else {
            "heading_deg": view.heading_deg,
            "fov_deg": view.fov_deg,
            "range_m": view.range_m,
            "height_m": view.height_m,
            "tilt_deg": view.tilt_deg,
        },
        "unit_id": camera.unit_id,
        "community": camera.community,
        "station_id": camera.station_id,
        "enabled": camera.enabled,
        "state": str(camera.state),
        "state_label": STATE_LABELS[camera.state],
        "state_since": camera.state_since.isoformat() if camera.state_since else None,
        "state_detail": camera.state_detail,
        "throw_calibration": dict(camera.throw_calibration) if camera.throw_calibration else None,
    }


def _row_values(spec: CameraSpec) -> dict[str, Any]:
    view = spec.view
    return {
        "name": spec.name.strip(),
        "kind": str(spec.kind),
        "owner": str(spec.owner),
        "lat": spec.position.lat if spec.position else None,
        "lon": spec.position.lon if spec.position else None,
        "heading_deg": view.heading_deg if view else None,
        "fov_deg": view.fov_deg if view else None,
        "range_m": view.range_m if view else None,
        "height_m": view.height_m if view else None,
        "tilt_deg": view.tilt_deg if view else None,
        "unit_id": spec.unit_id,
        "community": (spec.community or "").strip() or None,
    }


class CameraRegistry:
    """Cameras in the store. Thread-safe (each call its own transaction)."""

    def __init__(
        self,
        engine: Engine,
        dispatch: DispatchService,
        keys: KeyRing,
        *,
        prober: Prober,
        file_dir: Path,
        clock: Callable[[], datetime],
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.engine = engine
        self.dispatch = dispatch
        self.keys = keys
        self.prober = prober
        self.file_dir = file_dir
        self.clock = clock
        #: Called after each write that changes what is read or analysed (added, changed,
        #: calibrated, retired), once it is committed.
        self.on_change = on_change

    # ------------------------------------------------------------ checks

    def checked(self, spec: CameraSpec) -> tuple[CameraSpec, str, StreamCredentials | None]:
        """The spec with its station worked out, the bare URL and the credentials; refused (422)
        with every problem named."""
        check_spec(spec)
        bare, credentials = split_stream_url(spec.stream_url)
        if bare.startswith("file://"):
            root = self.file_dir.resolve()
            target = Path(bare[len("file://") :]).resolve()
            if not target.is_relative_to(root):
                raise ValidationFailed(
                    f"a file stream is read only from the video file folder {root} (JINGWU_VIDEO_FILE_DIR)",
                    code="file_outside_video_dir",
                    fields=["stream_url"],
                )
        station_id = spec.station_id
        if spec.kind is CameraKind.FIXED:
            assert spec.position is not None
            station_id = station_id or self.dispatch.station_for(spec.position)
        else:
            assert spec.unit_id is not None
            unit = self.dispatch.get_unit(spec.unit_id)
            if spec.kind is CameraKind.DRONE and str(unit.kind) != "drone":
                raise ValidationFailed(
                    f"unit {unit.callsign} is a {unit.kind}, not a drone",
                    code="not_a_drone",
                    fields=["unit_id"],
                )
            station_id = station_id or unit.station_id
        if station_id is not None and station_id not in self.dispatch.district_of:
            raise ValidationFailed(
                f"no station {station_id!r}", code="station_not_found", fields=["station_id"]
            )
        return replace(spec, station_id=station_id), bare, credentials

    def probe(self, bare: str, credentials: StreamCredentials | None) -> ProbeResult:
        """Look at the stream as a worker will: reachable, the password right, H.264 (422 if not)."""
        return self.prober(stream_url_with(bare, credentials))

    # ------------------------------------------------------------ writes

    def add_many(
        self,
        specs: Sequence[CameraSpec],
        *,
        actor: str | None,
        source: str | None,
        probe: bool,
    ) -> list[Camera]:
        """Register cameras, all or none. With ``probe`` each stream is looked at first."""
        prepared = [self.checked(spec) for spec in specs]
        if probe:
            for _spec, bare, credentials in prepared:
                self.probe(bare, credentials)
        now = self.clock()
        cameras = []
        with write_transaction(self.engine) as conn:
            for spec, bare, credentials in prepared:
                camera_id = new_id("cam")
                conn.execute(
                    insert(v.cameras).values(
                        id=camera_id,
                        stream_url=bare,
                        credentials=self._seal(camera_id, credentials),
                        station_id=spec.station_id,
                        enabled=True,
                        created_at=now,
                        created_by=actor,
                        state=str(CameraState.UNKNOWN),
                        **_row_values(spec),
                    )
                )
                audit.append(
                    conn,
                    ts=now,
                    action="camera.registered",
                    actor=actor,
                    target=f"camera:{camera_id}",
                    source=source,
                    details={"kind": str(spec.kind), "station_id": spec.station_id, "probed": probe},
                )
                cameras.append(self._get(conn, camera_id))
        self.on_change()
        return cameras

    def change(
        self,
        camera_id: str,
        changes: dict[str, Any],
        *,
        actor: str | None,
        source: str | None,
        probe: bool,
        allowed: Callable[[CameraSpec], None] | None = None,
    ) -> Camera:
        """Change a camera's fields (as a whole spec again, checked like a new one); ``allowed``
        may refuse the changed camera (the caller's jurisdiction) before anything is written."""
        current = self.get(camera_id)
        spec = self.spec_of(current)
        credentials = self.credentials_of(camera_id) if "stream_url" not in changes else None
        merged = {**self._spec_fields(spec, credentials), **changes}
        new_spec, bare, new_credentials = self.checked(spec_from_fields(merged))
        if allowed is not None:
            allowed(new_spec)
        if probe and "stream_url" in changes:
            self.probe(bare, new_credentials)
        now = self.clock()
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(v.cameras)
                .where(v.cameras.c.id == camera_id, v.cameras.c.retired_at.is_(None))
                .values(
                    stream_url=bare,
                    credentials=self._seal(camera_id, new_credentials),
                    station_id=new_spec.station_id,
                    enabled=bool(changes.get("enabled", current.enabled)),
                    **_row_values(new_spec),
                )
            )
            if done.rowcount == 0:
                raise camera_not_found(camera_id)
            audit.append(
                conn,
                ts=now,
                action="camera.changed",
                actor=actor,
                target=f"camera:{camera_id}",
                source=source,
                details={
                    "fields": sorted(k for k in changes if k != "stream_url")
                    + (["stream_url"] if "stream_url" in changes else [])
                },
            )
            camera = self._get(conn, camera_id)
        self.on_change()
        return camera

    def retire(self, camera_id: str, *, actor: str | None, source: str | None) -> None:
        now = self.clock()
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(v.cameras)
                .where(v.cameras.c.id == camera_id, v.cameras.c.retired_at.is_(None))
                .values(retired_at=now, enabled=False, credentials=None)
            )
            if done.rowcount == 0:
                raise camera_not_found(camera_id)
            audit.append(
                conn,
                ts=now,
                action="camera.retired",
                actor=actor,
                target=f"camera:{camera_id}",
                source=source,
            )
        self.on_change()

    def set_calibration(
        self,
        camera_id: str,
        calibration: dict[str, Any] | None,
        *,
        actor: str | None,
        source: str | None,
    ) -> Camera:
        """Keep (or, with None, remove) the facade a camera watches for thrown objects, checked by
        the caller (service.video.throws); the workers pick it up at their next assignment."""
        now = self.clock()
        text = None if calibration is None else json.dumps(calibration, ensure_ascii=False)
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(v.cameras)
                .where(v.cameras.c.id == camera_id, v.cameras.c.retired_at.is_(None))
                .values(throw_calibration=text)
            )
            if done.rowcount == 0:
                raise camera_not_found(camera_id)
            audit.append(
                conn,
                ts=now,
                action="camera.calibrated" if calibration is not None else "camera.calibration_removed",
                actor=actor,
                target=f"camera:{camera_id}",
                source=source,
            )
            camera = self._get(conn, camera_id)
        self.on_change()
        return camera

    def set_state(
        self, camera_id: str, state: CameraState, detail: str | None, at: datetime
    ) -> Camera | None:
        """Record a worker's report; the camera as it is now, or None if nothing changed (the
        same state again, or a camera retired meanwhile)."""
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(v.cameras)
                .where(
                    v.cameras.c.id == camera_id,
                    v.cameras.c.retired_at.is_(None),
                    (v.cameras.c.state != str(state)) | (v.cameras.c.state_detail != detail),
                )
                .values(state=str(state), state_since=at, state_detail=(detail or None) and detail[:300])
            )
            if done.rowcount == 0:
                return None
            return self._get(conn, camera_id)

    # ------------------------------------------------------------ reads

    def get(self, camera_id: str) -> Camera:
        with read_transaction(self.engine) as conn:
            return self._get(conn, camera_id)

    def _get(self, conn: Connection, camera_id: str) -> Camera:
        row = conn.execute(
            select(v.cameras).where(v.cameras.c.id == camera_id, v.cameras.c.retired_at.is_(None))
        ).first()
        if row is None:
            raise camera_not_found(camera_id)
        return camera_from_row(row)

    def list(
        self,
        *,
        station_ids: Collection[str] | None = None,
        kind: CameraKind | None = None,
        states: Collection[CameraState] | None = None,
    ) -> list[Camera]:
        c = v.cameras.c
        query = select(v.cameras).where(c.retired_at.is_(None)).order_by(c.name, c.id)
        if station_ids is not None:
            query = query.where(c.station_id.in_(sorted(station_ids)))
        if kind is not None:
            query = query.where(c.kind == str(kind))
        if states is not None:
            query = query.where(c.state.in_(sorted(str(s) for s in states)))
        with read_transaction(self.engine) as conn:
            return [camera_from_row(row) for row in conn.execute(query)]

    def readable(self) -> dict[str, str]:
        """Camera id → the URL a worker opens (credentials in): every enabled camera."""
        c = v.cameras.c
        with read_transaction(self.engine) as conn:
            rows = conn.execute(
                select(c.id, c.stream_url, c.credentials).where(c.retired_at.is_(None), c.enabled.is_(True))
            ).all()
        readable: dict[str, str] = {}
        for row in rows:
            try:
                readable[row.id] = stream_url_with(row.stream_url, self._open(row.id, row.credentials))
            except SystemFault:
                # One camera whose credentials the keys cannot open is left unread (and logged);
                # the others are read as ever.
                log.error("camera %s: its credentials cannot be decrypted with the field keys", row.id)
        return readable

    def throw_calibrations(self) -> dict[str, dict[str, Any]]:
        """Camera id → its facade calibration, for every enabled camera that has one: what the
        workers analyse for thrown objects."""
        c = v.cameras.c
        with read_transaction(self.engine) as conn:
            rows = conn.execute(
                select(c.id, c.throw_calibration).where(
                    c.retired_at.is_(None), c.enabled.is_(True), c.throw_calibration.is_not(None)
                )
            ).all()
        return {row.id: json.loads(row.throw_calibration) for row in rows}

    def credentials_of(self, camera_id: str) -> StreamCredentials | None:
        with read_transaction(self.engine) as conn:
            sealed = conn.execute(select(v.cameras.c.credentials).where(v.cameras.c.id == camera_id)).scalar()
        return self._open(camera_id, sealed)

    # ------------------------------------------------------------ sealing

    def _seal(self, camera_id: str, credentials: StreamCredentials | None) -> str | None:
        if credentials is None:
            return None
        text = f"{credentials.username}\n{credentials.password}"
        return self.keys.encrypt(text, context=f"{CREDENTIALS_CONTEXT}:{camera_id}")

    def _open(self, camera_id: str, sealed: str | None) -> StreamCredentials | None:
        if sealed is None:
            return None
        try:
            text = self.keys.decrypt(sealed, context=f"{CREDENTIALS_CONTEXT}:{camera_id}")
        except FieldCryptError as exc:
            raise SystemFault(
                f"the credentials of camera {camera_id} could not be decrypted; check the field keys",
                code="field_key_error",
            ) from exc
        username, _, password = text.partition("\n")
        return StreamCredentials(username, password)

    @staticmethod
    def spec_of(camera: Camera) -> CameraSpec:
        return CameraSpec(
            name=camera.name,
            kind=camera.kind,
            stream_url=camera.stream_url,
            owner=camera.owner,
            position=camera.position,
            view=camera.view,
            unit_id=camera.unit_id,
            community=camera.community,
            station_id=camera.station_id,
        )

    @staticmethod
    def _spec_fields(spec: CameraSpec, credentials: StreamCredentials | None) -> dict[str, Any]:
        """The spec as flat fields again (those a change is merged into)."""
        return {
            **_row_values(spec),
            "stream_url": stream_url_with(spec.stream_url, credentials),
            "station_id": spec.station_id,
        }


def reseal_camera_credentials(engine: Engine, keys: KeyRing) -> int:
    """Re-seal the cameras' credentials under the current field key (``jingwu keys rotate``);
    how many changed."""
    changed = 0
    c = v.cameras.c
    with write_transaction(engine) as conn:
        for row in conn.execute(select(c.id, c.credentials).where(c.credentials.is_not(None))).all():
            if keys.needs_rotation(row.credentials):
                sealed = keys.rotate(row.credentials, context=f"{CREDENTIALS_CONTEXT}:{row.id}")
                conn.execute(update(v.cameras).where(c.id == row.id).values(credentials=sealed))
                changed += 1
    return changed


def check_camera_keys(conn: Connection, keys: KeyRing) -> None:
    """Refuse keys that cannot open the newest camera's credentials (start-up: a wrong key would
    leave every camera with a password unreadable)."""
    c = v.cameras.c
    row = conn.execute(
        select(c.id, c.credentials).where(c.credentials.is_not(None)).order_by(c.created_at.desc()).limit(1)
    ).first()
    if row is None:
        return
    try:
        keys.decrypt(row.credentials, context=f"{CREDENTIALS_CONTEXT}:{row.id}")
    except FieldCryptError as exc:
        raise FieldCryptError(
            f"the field keys cannot open the credentials of camera {row.id} ({exc}); set "
            "JINGWU_FIELD_KEY_FILE / JINGWU_FIELD_KEYS to the keys they were sealed with"
        ) from None


def spec_from_fields(fields: dict[str, Any]) -> CameraSpec:
    """A spec from flat fields (the API's body, a CSV row, a GeoJSON feature's properties):
    every problem refused with its field named. A fixed camera's view defaults to a 90° field of
    view over 60 m, 6 m up, tilted 15° down: a typical street bullet camera."""
    from jingwu.domain.cameras import parse_enum

    kind = parse_enum(CameraKind, fields.get("kind") or "fixed", "kind")
    owner = parse_enum(CameraOwner, fields.get("owner") or "police", "owner")
    lat, lon = fields.get("lat"), fields.get("lon")
    position = None
    if lat is not None or lon is not None:
        try:
            position = GeoPoint(float(lat), float(lon))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValidationFailed(
                f"lat and lon must both be numbers in degrees, not {lat!r}, {lon!r}", fields=["lat", "lon"]
            ) from None
    view = None
    if kind is CameraKind.FIXED and fields.get("heading_deg") is not None:
        try:
            view = CameraView(
                heading_deg=float(fields["heading_deg"]),
                fov_deg=float(fields.get("fov_deg") or 90.0),
                range_m=float(fields.get("range_m") or 60.0),
                height_m=float(fields["height_m"]) if fields.get("height_m") is not None else 6.0,
                tilt_deg=float(fields["tilt_deg"]) if fields.get("tilt_deg") is not None else -15.0,
            )
        except (TypeError, ValueError):
            raise ValidationFailed(
                "heading_deg, fov_deg, range_m, height_m and tilt_deg must be numbers",
                fields=["heading_deg", "fov_deg", "range_m", "height_m", "tilt_deg"],
            ) from None
    return CameraSpec(
        name=str(fields.get("name") or ""),
        kind=kind,
        stream_url=str(fields.get("stream_url") or ""),
        owner=owner,
        position=position,
        view=view,
        unit_id=fields.get("unit_id") or None,
        community=fields.get("community") or None,
        station_id=fields.get("station_id") or None,
    )


__all__ = [
    "CameraRegistry",
    "camera_from_row",
    "camera_view",
    "check_camera_keys",
    "reseal_camera_credentials",
    "spec_from_fields",
]
