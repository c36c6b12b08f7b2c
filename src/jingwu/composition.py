"""Composition root: settings → store → bus → road network → the ``Services`` bundle that every edge
(the API, the command line, the demo simulator) receives. Importing starts nothing."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import Engine

from jingwu.bus import Bus, InProcessBus
from jingwu.routing import RoadNetwork, load_network
from jingwu.routing.profiles import SpeedProfile
from jingwu.service.administration import Administration
from jingwu.service.analytics import AnalyticsService
from jingwu.service.audit import AuditService
from jingwu.service.auth import AuthService
from jingwu.service.basemap import MapService
from jingwu.service.cases import IncidentCases
from jingwu.service.checks import PatrolChecks
from jingwu.service.community_devices import CommunityDeviceService
from jingwu.service.dispatching import DispatchService
from jingwu.service.disputes import Disputes
from jingwu.service.event_log import StoredEventLog
from jingwu.service.exports import ExportService
from jingwu.service.geocoding import GeocodingService
from jingwu.service.idempotency import IdempotencyService
from jingwu.service.personal_data import (
    PersonalDataService,
    check_field_keys,
    holds_sealed_data,
    seal_reporter,
)
from jingwu.service.positions import PositionService
from jingwu.service.records import CommunityRecords
from jingwu.service.self_service import SelfService
from jingwu.service.stats import StatsService
from jingwu.service.video import VideoService
from jingwu.service.warning_models import WarningModels
from jingwu.settings import Settings
from jingwu.store.db import make_engine, require_current_schema, upgrade_schema
from jingwu.store.fieldcrypt import FieldCryptError, KeyRing, generate_key_file
from jingwu.store.locks import Leadership

log = logging.getLogger(__name__)

#: The youngest generation's collection threshold while serving (CPython's default is 700). A
#: batch of positions makes thousands of objects that live a few milliseconds; at 700 the
#: collector ran dozens of times a second, promoted each batch in flight towards the oldest
#: generation, and so set off full collections of the whole heap: together about a seventh of
#: the server's time under ``jingwu bench ingest``.
SERVING_GC_THRESHOLD = 20_000


@dataclass(slots=True)
class Services:
    """The long-lived services of one process, built once here and handed to every edge."""

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
    community_devices: CommunityDeviceService  # over MQTT: registry, messages, silence
    positions: PositionService  # unit positions: GPS filter, last known, history, tracks
    event_log: StoredEventLog  # the committed events, read back: the live stream's replay
    geocoding: GeocodingService  # the city's addresses: search as typed, the address at a point
    admin: Administration  # stations, units, personnel and the roster
    records: CommunityRecords  # 实有人口 / 房屋 / 单位: the community registry
    checks: PatrolChecks  # 巡逻盘查: persons and vehicles against the watch lists
    disputes: Disputes  # 矛盾纠纷排查
    self_service: SelfService  # residents' applications and certificates
    warning_models: WarningModels  # analysts' early-warning models and the warnings they raise
    cases: IncidentCases  # 立案 / 破案: the cases filed for incidents, for CompStat
    analytics: AnalyticsService  # 大数据研判: CompStat, response times, hotspots (DuckDB over Parquet)
    video: VideoService  # 视频资源共享: cameras, live pictures, clips; this process's video workers
    demo: bool = False

    def close(self) -> None:
        self.video.stop_workers()
        self.leader.close()
        self.analytics.close()
        self.bus.close()
        self.engine.dispose()


class CommunityParts(NamedTuple):
    """What each community-policing service is built from (one constructor for the four)."""

    bus: Bus
    keys: KeyRing
    audit: AuditService
    dispatch: DispatchService
    geocoding: GeocodingService
    settings: Settings
    clock: Callable[[], datetime]


def field_keys(settings: Settings, engine: Engine, *, check_indexes: bool = True) -> KeyRing:
    """The field-encryption keys: JINGWU_FIELD_KEYS, else the key file, checked against what the
    database holds (refused, with the reason, if they cannot open it: a wrong or lost key would
    otherwise seal new data under a key the rest cannot be read with). The default file
    (DATA_DIR/field-keys) is made, mode 600, only for a database that holds nothing sealed yet; a
    configured file that is missing is an error, never silently replaced."""
    if settings.field_keys is not None:
        keys = KeyRing.parse(settings.field_keys.get_secret_value())
    else:
        path = settings.resolved_field_key_file
        if settings.field_key_file is None and not path.exists():
            if holds_sealed_data(engine):
                raise FieldCryptError(
                    f"this database holds encrypted personal data, but there is no key file at {path}: "
                    "set JINGWU_FIELD_KEY_FILE (or JINGWU_FIELD_KEYS) to the keys it was sealed with"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            log.warning(
                "made a new field-encryption key in %s: back it up apart from the database (without "
                "it, stored phone numbers and names cannot be read)",
                path,
            )
            keys = generate_key_file(path)
        elif not path.exists():
            raise FieldCryptError(f"the field key file {path} does not exist (JINGWU_FIELD_KEY_FILE)")
        else:
            keys = KeyRing.from_file(path)
    check_field_keys(engine, keys, indexes=check_indexes)
    return keys


def make_bus(settings: Settings, event_log: StoredEventLog) -> Bus:
    """The cluster's NATS JetStream bus when JINGWU_BUS_URL is set, else the in-process bus of a
    single server process. The NATS bus fills gaps from the shared event log (bus.ordering)."""
    if settings.bus_url is None:
        return InProcessBus()
    from jingwu.bus.nats import NatsBus  # the NATS client is loaded only where it is used

    return NatsBus(settings.bus_url, stream=settings.bus_stream, event_log=event_log)


def build_services(
    settings: Settings,
    *,
    migrate: bool,
    demo: bool = False,
    progress: Callable[[str, float], None] | None = None,
) -> Services:
    """Everything one process needs. ``migrate``: bring the schema to this version's first (the
    server commands); otherwise a schema that is not current is refused (SchemaNotCurrent)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    if migrate:
        upgrade_schema(engine)
    else:
        require_current_schema(engine)
    started = time.perf_counter()
    network = load_network(settings.osm_file, settings.graph_cache_dir, progress)
    log.info(
        "road network ready: %d nodes, %d edges in %.1f s",
        network.node_count,
        network.edge_count,
        time.perf_counter() - started,
    )
    return assemble(settings, engine, network, demo=demo)


def assemble(
    settings: Settings,
    engine: Engine,
    network: RoadNetwork,
    *,
    demo: bool = False,
    clock: Callable[[], datetime] | None = None,
    keys: KeyRing | None = None,
) -> Services:
    """Wire the services over a migrated store and a loaded road network (tests reuse one network)."""
    clock = clock or (lambda: datetime.now(UTC))
    if settings.speed_profile:  # rush hours: the router drives at the bureau's local hour
        zone, now = settings.zone, clock
        network = network.with_speed_profile(
            SpeedProfile.parse(settings.speed_profile), lambda: now().astimezone(zone).hour
        )
    keys = keys or field_keys(settings, engine)
    event_log = StoredEventLog(engine)
    bus = make_bus(settings, event_log)
    dispatch = DispatchService(
        engine,
        bus,
        network,
        ack_timeout_s=settings.ack_timeout_s,
        max_snap_distance_m=settings.max_snap_distance_m,
        clock=clock,
        seal_reporter=lambda reporter: seal_reporter(keys, reporter),
        zone=settings.zone,
        arrival_radius_m=settings.arrival_radius_m,
    )
    audit = AuditService(engine, clock=clock)
    auth = AuthService(
        engine,
        token_ttl_s=settings.token_ttl_s,
        lockout_s=settings.lockout_s,
        idle_timeout_s=settings.idle_timeout_s,
        require_totp=settings.require_totp,
        clock=clock,
        keys=keys,
    )
    geocoding = GeocodingService(settings.osm_file, settings.graph_cache_dir)
    community = CommunityParts(bus, keys, audit, dispatch, geocoding, settings, clock)
    return Services(
        settings=settings,
        engine=engine,
        bus=bus,
        network=network,
        dispatch=dispatch,
        auth=auth,
        audit=audit,
        stats=StatsService(engine, settings.zone, clock=clock),
        maps=MapService(network, settings),
        idempotency=IdempotencyService(engine, clock=clock),
        personal=PersonalDataService(engine, keys, clock=clock),
        exports=ExportService(engine, settings.zone, clock=clock),
        community_devices=CommunityDeviceService(
            engine, dispatch, keys, max_snap_distance_m=settings.max_snap_distance_m, clock=clock
        ),
        positions=PositionService(
            engine, bus, dispatch.board, retention_days=settings.position_retention_days, clock=clock
        ),
        leader=Leadership(engine),
        event_log=event_log,
        geocoding=geocoding,
        admin=Administration(engine, dispatch, zone=settings.zone, clock=clock),
        records=CommunityRecords(engine, **community._asdict()),
        checks=PatrolChecks(engine, **community._asdict()),
        disputes=Disputes(engine, **community._asdict()),
        self_service=SelfService(engine, **community._asdict()),
        warning_models=WarningModels(engine, **community._asdict()),
        cases=IncidentCases(engine, dispatch),
        analytics=AnalyticsService(
            engine,
            settings.resolved_analytics_dir,
            settings.zone,
            clock=clock,
            urban_districts=settings.urban_district_set,
        ),
        video=VideoService(engine, dispatch, keys, settings, clock=clock),
        demo=demo,
    )


def settle_heap() -> None:
    """Before a server process starts serving: collect once, freeze what start-up built (the
    road network, the app, the services, alive for the whole process) so that no collection walks
    it again, and collect the youngest generation less often (``SERVING_GC_THRESHOLD``)."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(SERVING_GC_THRESHOLD, middle, oldest)


__all__ = [
    "SERVING_GC_THRESHOLD",
    "Services",
    "assemble",
    "build_services",
    "field_keys",
    "make_bus",
    "settle_heap",
]
