"""Analysts' early-warning models (大数据建模预警): saved rules over incidents, disputes, checks and
the gates' access events that raise warnings for the stations concerned.

One façade over the parts: ``catalogue`` (save, edit, read, switch on and off), ``backtests``
(precision on history before a model is switched on), ``runs`` (by hand, and on each model's
schedule from the cluster leader's timer) and ``alerts`` (the warnings, acknowledged or dismissed
by the stations). The rules themselves are pure (domain.warning_models, domain.warning_rules,
domain.warning_backtest); docs/warning-models.md describes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from jingwu.bus import Bus
from jingwu.service.warning_models.alerts import Alerts
from jingwu.service.warning_models.backtests import Backtests
from jingwu.service.warning_models.catalogue import Catalogue, ModelDefinition
from jingwu.service.warning_models.records import Reach, everywhere
from jingwu.service.warning_models.runs import Runs
from jingwu.settings import Settings
from jingwu.store.fieldcrypt import KeyRing

if TYPE_CHECKING:
    from jingwu.service.audit import AuditService
    from jingwu.service.dispatching import DispatchService
    from jingwu.service.geocoding import GeocodingService


class WarningModels:
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
        # Built like the community's services (composition.CommunityParts). The plates are matched
        # by their keyed indexes as stored: nothing here opens a sealed field, so ``keys`` is unused.
        self.engine = engine
        self.settings = settings
        self.catalogue = Catalogue(engine, clock=clock)
        self.backtests = Backtests(engine, clock=clock, zone=settings.zone)
        # New warnings go down the dispatch service's one write path, so that they are in the event
        # log (the live stream's replay) and on the bus once committed.
        self.runs = Runs(engine, dispatch, clock=clock)
        self.alerts = Alerts(engine, clock=clock)

    def run_due(self) -> int:
        """The scheduler's job: run the models switched on whose time has come."""
        return self.runs.run_due()


__all__ = ["ModelDefinition", "Reach", "WarningModels", "everywhere"]
