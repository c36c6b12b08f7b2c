"""Video (capability 6): the camera registry, which worker reads each camera (its lease), the
evidence clips cut for incidents, and the thrown objects the workers detected (高空抛物).

On the one metadata of :mod:`jingwu.store.tables`, so the migrations test compares them too."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from jingwu.store.tables import UtcDateTime, metadata

cameras = Table(
    "cameras",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("owner", String(16), nullable=False),
    Column("stream_url", Text, nullable=False),  # without credentials
    Column("credentials", Text, nullable=True),  # user and password, sealed with the field keys
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("heading_deg", Float, nullable=True),
    Column("fov_deg", Float, nullable=True),
    Column("range_m", Float, nullable=True),
    Column("height_m", Float, nullable=True),
    Column("tilt_deg", Float, nullable=True),
    Column("unit_id", String(64), ForeignKey("units.id"), nullable=True),
    Column("community", String(120), nullable=True),
    Column("station_id", String(64), nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=True),
    Column("retired_at", UtcDateTime, nullable=True),
    Column("state", String(16), nullable=False),
    Column("state_since", UtcDateTime, nullable=True),
    Column("state_detail", String(300), nullable=True),
    # The facade a camera at the foot of a tower watches for thrown objects (vision.throws), as
    # checked JSON; None: not analysed.
    Column("throw_calibration", Text, nullable=True),
    Index(None, "station_id"),
    Index(None, "unit_id"),
)

# One row per camera being read: the worker that holds it until ``expires_at`` (renewed every few
# seconds), and where that worker answers for live pictures, snapshots and clips.
camera_leases = Table(
    "camera_leases",
    metadata,
    Column("camera_id", String(64), ForeignKey("cameras.id"), primary_key=True),
    Column("holder", String(120), nullable=False),
    Column("relay_url", String(200), nullable=True),
    Column("relay_token", String(100), nullable=True),
    Column("expires_at", UtcDateTime, nullable=False),
)

video_clips = Table(
    "video_clips",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("incident_id", String(64), ForeignKey("incidents.id"), nullable=False),
    Column("camera_id", String(64), ForeignKey("cameras.id"), nullable=False),
    Column("from_at", UtcDateTime, nullable=False),
    Column("to_at", UtcDateTime, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("frames", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("path", String(200), nullable=False),  # in the evidence folder, named by the hash
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=True),
    Index(None, "incident_id"),
)

# One row per thrown object a worker detected: the incident it opened (or was noted on), when the
# object was first seen and when it landed (the wall times of those frames), where it came from,
# its track in the picture (JSON [[frame, u, v], ...]), the snapshot attached and the clip cut.
throw_detections = Table(
    "throw_detections",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("incident_id", String(64), ForeignKey("incidents.id"), nullable=False),
    Column("camera_id", String(64), ForeignKey("cameras.id"), nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("landed_at", UtcDateTime, nullable=False),
    Column("floor", Integer, nullable=True),
    Column("column", Integer, nullable=True),
    Column("floor_uncertainty", Float, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("track", Text, nullable=False),
    Column("snapshot_attachment_id", String(64), nullable=True),
    Column("clip_id", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "incident_id"),
    Index(None, "camera_id", "detected_at"),
    Index(None, "detected_at"),
)

__all__ = ["camera_leases", "cameras", "throw_detections", "video_clips"]
