"""Examples for tests/api/test_access.py's walk over every route, for this capability's routes:
a valid body per operation with one (``BODIES``), a value for each path parameter (``PATH_IDS``)
and required query parameter (``QUERY``), and the routes open to anonymous callers (``OPEN``)."""

from __future__ import annotations

from typing import Any

STREET_CSV = (
    b"Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    b"Crime type,Last outcome category,Context\n"
    b"c1,2019-07,Test Police,Test Police,-1.9,52.48,On or near X,E01,Test 001A,Burglary,"
    b"Under investigation,\n"
)

BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/analytics/datasets/{dataset}/files"): lambda c: STREET_CSV,
    ("POST", "/api/incidents/{incident_id}/case"): lambda c: {
        "case_number": "X2026010100001",
        "kind": "criminal",
    },
}
PATH_IDS: dict[str, str] = {"dataset": "access-walk"}
QUERY: dict[str, Any] = {"period": "2026", "month": "2026-06", "months": ["2026-05"], "format": "police-uk"}
OPEN: set[tuple[str, str]] = set()
