"""Examples for tests/api/test_access.py's walk over every route, for this capability's routes:
a valid body per operation with one (``BODIES``), a value for each path parameter (``PATH_IDS``)
and required query parameter (``QUERY``), and the routes open to anonymous callers (``OPEN``)."""

from __future__ import annotations

from typing import Any

# Only the leading bytes are checked (see tests/api/test_attachments.py).
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x01" * 200

BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/service/reports"): lambda c: {
        "type_code": "order.noise",
        "location": c.location("nangang-west", 3),
        "description": "楼上装修噪音",
    },
    ("POST", "/api/service/reports/{report_id}/photos"): lambda c: PNG,
    ("POST", "/api/service/applications"): lambda c: {
        "kind": "no_criminal_record",
        "applicant_name": "王 小红",
        "id_number": "230103199003071233",
        "address": "南岗区保健路 12 号",
        "station_id": "nangang-west",
        "purpose": "出国留学",
    },
    ("POST", "/api/service/applications/{application_id}/documents"): lambda c: PNG,
    ("POST", "/api/service/station/applications/{application_id}/verify"): lambda c: {
        "checks": [{"document": "id_card", "ok": True}, {"document": "purpose_letter", "ok": True}]
    },
    ("POST", "/api/service/station/applications/{application_id}/approve"): lambda c: {},
    ("POST", "/api/service/station/applications/{application_id}/refuse"): lambda c: {"reason": "材料不全"},
    ("POST", "/api/service/certificates/{code}/revoke"): lambda c: {"reason": "issued in error"},
}
PATH_IDS: dict[str, str] = {
    "application_id": "app_none",
    "report_id": "inc_none",
    "document_id": "doc_none",
    "code": "JW-00000-00000-00000-00000-0",
}
QUERY: dict[str, Any] = {"document": "id_card"}
# Signing in needs no token (it makes one); a certificate's standing is public.
OPEN: set[tuple[str, str]] = {
    ("POST", "/api/service/sign-in/code"),
    ("POST", "/api/service/sign-in"),
    ("GET", "/api/service/verify/{code}"),
}
