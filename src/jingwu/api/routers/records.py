"""The community registry: houses, households, residents, businesses; field collections and review."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/records", tags=["records"])
