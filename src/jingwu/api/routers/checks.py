"""Patrol checks of persons and vehicles, and the watch lists they are checked against."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["checks"])
