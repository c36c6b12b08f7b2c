"""Examples for tests/api/test_access.py's walk over every route, for the cameras', clips' and
thrown objects' routes (see the other modules here for the shape)."""

from __future__ import annotations

from typing import Any

BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/cameras"): lambda c: {
        "name": "保健路口",
        "kind": "fixed",
        "stream_url": "rtsp://127.0.0.1:9/ch1",
        "lat": 45.7560,
        "lon": 126.6420,
        "heading_deg": 0,
    },
    ("PATCH", "/api/cameras/{camera_id}"): lambda c: {"name": "保健路口 北"},
    ("PUT", "/api/cameras/{camera_id}/calibration"): lambda c: {
        "facade": {
            "corners_px": [[180, 340], [460, 340], [420, 30], [220, 30]],
            "floors": 18,
            "columns": 4,
            "floor_height_m": 2.9,
        }
    },
    ("POST", "/api/incidents/{incident_id}/clips"): lambda c: {
        "camera_id": "cam_none",
        "from": "2026-11-25T07:59:00+00:00",
        "to": "2026-11-25T08:00:00+00:00",
    },
}
PATH_IDS: dict[str, str] = {"camera_id": "cam_none", "clip_id": "clip_none", "throw_id": "thr_none"}
QUERY: dict[str, Any] = {}
OPEN: set[tuple[str, str]] = set()
