"""Examples for tests/api/test_access.py's walk over every route, for this capability's routes:
a valid body per operation with one (``BODIES``), a value for each path parameter (``PATH_IDS``)
and required query parameter (``QUERY``), and the routes open to anonymous callers (``OPEN``)."""

from __future__ import annotations

from typing import Any

BODIES: dict[tuple[str, str], Any] = {}
PATH_IDS: dict[str, str] = {}
QUERY: dict[str, Any] = {}
OPEN: set[tuple[str, str]] = set()
