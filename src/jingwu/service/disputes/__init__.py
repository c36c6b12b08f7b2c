"""Disputes (矛盾纠纷排查): cases with parties, risk, visits, agreements and follow-ups; a dispute
whose address or parties come up in a new call is escalated.

One façade over the parts: ``cases`` (open, edit, close, read, the parties' data on purpose),
``work`` (visits and their photos, agreements, follow-ups), ``lists`` (the officer's and the
station's work lists) and ``escalation`` (new calls against open disputes, see its module)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from jingwu.bus import Bus
from jingwu.service.disputes.cases import Cases, DisputeEdit, NewDispute, Reach, everywhere
from jingwu.service.disputes.escalation import Escalation
from jingwu.service.disputes.lists import Lists
from jingwu.service.disputes.records import NewParty
from jingwu.service.disputes.work import Work
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
        zone = settings.zone
        self.cases = Cases(engine, keys, station_for=dispatch.station_for, clock=clock, zone=zone)
        self.work = Work(engine, clock=clock, zone=zone)
        self.lists = Lists(engine, keys, clock=clock, zone=zone)
        self.escalation = Escalation(engine, keys, dispatch, clock=clock, zone=zone)
        # Every new call, this process's or another's, is matched against the open disputes; the
        # subscription lasts as long as the bus (closed with the services).
        self._stop_hearing = bus.subscribe(self.escalation.hear)


__all__ = ["DisputeEdit", "Disputes", "NewDispute", "NewParty", "Reach", "everywhere"]
