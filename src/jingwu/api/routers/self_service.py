"""Residents' self-service: sign-in by code, applications, certificates and their public verification."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="", tags=["self-service"])
