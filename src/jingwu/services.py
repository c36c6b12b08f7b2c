"""The bundle of long-lived services the composition root builds and every edge receives."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from jingwu.bus import Bus
from jingwu.routing import RoadNetwork
from jingwu.service.audit import AuditService
from jingwu.service.auth import AuthService
from jingwu.service.basemap import MapService
from jingwu.service.devices import DeviceService
from jingwu.service.dispatching import DispatchService
from jingwu.service.exports import ExportService
from jingwu.service.idempotency import IdempotencyService
from jingwu.service.personal_data import PersonalDataService
from jingwu.service.positions import PositionService
from jingwu.service.stats import StatsService
from jingwu.settings import Settings
from jingwu.store.locks import Leadership


@dataclass(slots=True)
class Services:
    settings: Settings
    engine: Engine
    bus: Bus
    network: RoadNetwork
    dispatch: DispatchService
    auth: AuthService
    audit: AuditService
    stats: StatsService
    maps: MapService
    idempotency: IdempotencyService
    personal: PersonalDataService
    exports: ExportService
    leader: Leadership  # whether this process runs the cluster's once-only jobs
    devices: DeviceService  # community devices over MQTT: registry, messages, silence
    positions: PositionService  # unit positions: GPS filter, last known, history, tracks
    demo: bool = False

    def close(self) -> None:
        self.leader.close()
        self.bus.close()
        self.engine.dispose()


__all__ = ["Services"]
