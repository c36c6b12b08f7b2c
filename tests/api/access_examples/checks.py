"""Examples for tests/api/test_access.py's walk over every route, for this capability's routes:
a valid body per operation with one (``BODIES``), a value for each path parameter (``PATH_IDS``)
and required query parameter (``QUERY``), and the routes open to anonymous callers (``OPEN``)."""

from __future__ import annotations

from typing import Any

# A valid identity number (Harbin, born 1985-06-12, check character computed) and plate.
ID_NUMBER = "230103198506123010"

BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/checks/person"): lambda c: {
        "id_number": ID_NUMBER,
        "reason": "形迹可疑",
        "location": c.location("nangang-west", 3),
    },
    ("POST", "/api/checks/vehicle"): lambda c: {
        "plate": "黑A12345",
        "reason": "例行检查",
        "location": c.location("nangang-west", 3),
    },
    ("POST", "/api/watchlists/{list_name}/entries"): lambda c: {
        "subject": ID_NUMBER,
        "reason": "网上追逃",
        "label": "张三",
    },
}
PATH_IDS: dict[str, str] = {"list_name": "wanted", "entry_id": "wl_none"}
QUERY: dict[str, Any] = {}
OPEN: set[tuple[str, str]] = set()
