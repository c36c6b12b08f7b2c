"""Dispute cases (矛盾纠纷): parties, risk, visits, agreements, follow-ups."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/disputes", tags=["disputes"])
