"""Examples for tests/api/test_access.py's walk over every route, for this capability's routes:
a valid body per operation with one (``BODIES``), a value for each path parameter (``PATH_IDS``)
and required query parameter (``QUERY``), and the routes open to anonymous callers (``OPEN``)."""

from __future__ import annotations

from typing import Any

# Only the leading bytes are checked (see tests/api/test_attachments.py).
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x01" * 200

BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/disputes"): lambda c: {
        "kind": "neighbour",
        "summary": "楼上漏水引发争执",
        "address": "保健路 8 号",
        "location": c.location("nangang-west", 1),
        "parties": [{"name": "赵四"}, {"name": "钱五", "phone": "13900001111"}],
        "risk_factors": ["repeated_conflict"],
    },
    ("PATCH", "/api/disputes/{dispute_id}"): lambda c: {"version": 1, "summary": "已约谈双方"},
    ("POST", "/api/disputes/{dispute_id}/visits"): lambda c: {"note": "上门走访"},
    ("POST", "/api/disputes/{dispute_id}/visits/{visit_id}/photos"): lambda c: PNG,
    ("POST", "/api/disputes/{dispute_id}/agreements"): lambda c: {"text": "双方同意各退一步"},
    ("POST", "/api/disputes/{dispute_id}/follow-ups"): lambda c: {"due_on": "2030-01-01"},
    ("POST", "/api/disputes/{dispute_id}/follow-ups/{follow_up_id}/done"): lambda c: {"note": "已回访"},
    ("POST", "/api/disputes/{dispute_id}/close"): lambda c: {"outcome": "resolved", "note": "调解成功"},
}
PATH_IDS: dict[str, str] = {
    "dispute_id": "dsp_none",
    "visit_id": "dvs_none",
    "follow_up_id": "dfu_none",
    "photo_id": "dph_none",
}
QUERY: dict[str, Any] = {}
OPEN: set[tuple[str, str]] = set()
