"""Examples for tests/api/test_access.py's walk over every route, for the early-warning models'
routes: a valid body per operation with one (``BODIES``), a value for each path parameter
(``PATH_IDS``) and required query parameter (``QUERY``), and the routes open to anonymous callers
(``OPEN``)."""

from __future__ import annotations

from typing import Any

MODEL = {
    "name": "家暴反复报警",
    "purpose": "同一地址 30 天内三次家庭纠纷或家暴警情，提醒社区民警上门走访",
    "kind": "repeat_address",
    "params": {"incident_types": ["dispute.family", "order.domestic_violence"]},
    "sources": ["incidents"],
}

BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/models"): lambda c: MODEL,
    ("PUT", "/api/models/{model_id}"): lambda c: MODEL | {"version": 1},
    ("POST", "/api/models/{model_id}/backtest"): lambda c: {"days": 30},
    ("POST", "/api/warnings/{warning_id}/acknowledge"): lambda c: {"note": "已安排走访"},
    ("POST", "/api/warnings/{warning_id}/dismiss"): lambda c: {},
}
PATH_IDS: dict[str, str] = {"model_id": "mdl_none", "warning_id": "mwn_none"}
QUERY: dict[str, Any] = {}
OPEN: set[tuple[str, str]] = set()
