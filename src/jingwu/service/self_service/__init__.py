"""Residents' self-service: sign-in by phone and one-time code, applications for residence permits
and certificates, on-site verification, approval, and certificates anyone can verify."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from jingwu.bus import Bus
from jingwu.settings import Settings
from jingwu.store.fieldcrypt import KeyRing

if TYPE_CHECKING:
    from jingwu.service.audit import AuditService
    from jingwu.service.dispatching import DispatchService
    from jingwu.service.geocoding import GeocodingService


class SelfService:
    def __init__(
        self,
        engine: Engine,
        *,
        bus: Bus,
        keys: KeyRing,
        audit: AuditService,
        dispatch: DispatchService,
        geocoding: GeocodingService,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.bus = bus
        self.keys = keys
        self.audit = audit
        self.dispatch = dispatch
        self.geocoding = geocoding
        self.settings = settings
        self.clock = clock


__all__ = ["SelfService"]
