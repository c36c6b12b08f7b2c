"""Patrol checks (巡逻盘查): a person or a vehicle against the watch lists, every check audited, a hit
announced to the command room with backup suggested by road travel time."""

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


class PatrolChecks:
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


__all__ = ["PatrolChecks"]
