"""Disputes (矛盾纠纷排查): cases with parties, risk, visits, agreements and follow-ups; a dispute
whose address or parties come up in a new call is escalated."""

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


class Disputes:
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


__all__ = ["Disputes"]
