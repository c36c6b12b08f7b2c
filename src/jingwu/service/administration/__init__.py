"""A bureau administers its own city: stations, units, personnel and the roster. Each part is a
class of its own; ``Administration`` builds them over one store and dispatch service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from sqlalchemy import Engine

from jingwu.service.administration.personnel import PersonnelAdmin
from jingwu.service.administration.roster import RosterAdmin
from jingwu.service.administration.stations import StationAdmin
from jingwu.service.administration.units import UnitAdmin
from jingwu.service.dispatching import DispatchService


class Administration:
    def __init__(
        self, engine: Engine, dispatch: DispatchService, *, zone: tzinfo, clock: Callable[[], datetime]
    ) -> None:
        self.stations = StationAdmin(engine, dispatch, clock=clock)
        self.units = UnitAdmin(engine, dispatch, clock=clock)
        self.personnel = PersonnelAdmin(engine, clock=clock)
        self.roster = RosterAdmin(engine, dispatch, zone=zone, clock=clock)


__all__ = ["Administration", "PersonnelAdmin", "RosterAdmin", "StationAdmin", "UnitAdmin"]
