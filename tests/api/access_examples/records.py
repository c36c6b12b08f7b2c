"""Examples for tests/api/test_access.py's walk over every route, for this capability's routes:
a valid body per operation with one (``BODIES``), a value for each path parameter (``PATH_IDS``)
and required query parameter (``QUERY``), and the routes open to anonymous callers (``OPEN``)."""

from __future__ import annotations

from typing import Any

# Only the leading bytes are checked (see tests/api/test_attachments.py).
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x01" * 200


def _collection(c: Any) -> dict[str, Any]:
    point = c.location("nangang-west", 3)
    return {
        "id": "access-walk-collection-1",
        "kind": "house",
        "record": {
            "street_address": "红军街85号",
            "community": "保健路",
            "building": "3",
            "unit": "2",
            "room": "501",
        }
        | point,
    }


BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/records/collections"): _collection,
    ("POST", "/api/records/collections/{collection_id}/return"): lambda c: {
        "reason": "地址信息不完整，请补充"
    },
    ("POST", "/api/records/collections/{collection_id}/photos"): lambda c: PNG,
    ("POST", "/api/records/conflicts/{conflict_id}/settle"): lambda c: {
        "resolution": "keep_existing",
        "note": "经核实仍住原址",
    },
    ("POST", "/api/records/search"): lambda c: {"by": "address", "value": "红军街", "reason": "入户走访核查"},
}
PATH_IDS: dict[str, str] = {
    "collection_id": "col_none",
    "conflict_id": "rcf_none",
    "photo_id": "rph_none",
    "house_id": "hse_none",
    "resident_id": "res_none",
    "business_id": "biz_none",
}
QUERY: dict[str, Any] = {}
OPEN: set[tuple[str, str]] = set()
