"""The one Settings object, read from ``JINGWU_*`` environment variables once, in the composition root."""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jingwu.errors import ValidationFailed

# JINGWU_* variables that are read elsewhere and are not settings of the running platform.
_NOT_SETTINGS = frozenset({"JINGWU_DEMO_PASSWORD", "JINGWU_NEW_PASSWORD"})


def bundled_osm_file() -> Path:
    """The Harbin extract shipped inside the package (© OpenStreetMap contributors, ODbL 1.0)."""
    return Path(str(resources.files("jingwu") / "data" / "harbin.osm.pbf"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JINGWU_", extra="forbid", frozen=True)

    data_dir: Path = Field(
        default=Path.home() / ".local" / "share" / "jingwu",
        description="Where the embedded database, the compiled road graph and other state live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; unset means SQLite (WAL) at DATA_DIR/jingwu.db. "
        "Use postgresql+psycopg://user@host/db for deployments.",
    )
    osm_file: Path = Field(default_factory=bundled_osm_file, description="OSM PBF of the city's roads.")
    bus_url: str | None = Field(
        default=None,
        description="NATS server(s) with JetStream, e.g. nats://127.0.0.1:4222 (several: comma-separated); "
        "unset: an in-process bus, for a single server process. Every process of a cluster names the "
        "same server and stream (docs/deploy.md).",
    )
    bus_stream: str = Field(
        default="jingwu",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="JetStream stream of the cluster's events; also the prefix of its subjects "
        "(<stream>.events.<type>, <stream>.positions). Two clusters on one NATS need two names.",
    )
    ack_timeout_s: float = Field(
        default=30.0, gt=0, description="Seconds a crew has to acknowledge a dispatch before escalation."
    )
    token_ttl_s: int = Field(default=12 * 3600, gt=0, description="Lifetime of a bearer token in seconds.")
    max_snap_distance_m: float = Field(
        default=250.0, gt=0, description="An incident farther than this from any road is refused."
    )
    arrival_radius_m: float = Field(
        default=200.0,
        gt=0,
        description="A unit reported on scene farther than this from it (by its last position) must "
        "confirm the arrival, and the arrival is kept flagged and out of the response-time figures.",
    )
    recommendation_limit: int = Field(default=5, ge=1, le=50, description="Default k of recommendations.")
    event_replay_limit: int = Field(
        default=10_000, ge=100, description="Most events replayed to a reconnecting live client in one go."
    )
    tile_url: str | None = Field(
        default=None,
        max_length=2000,
        description="Raster tile URL template for the console map ({z}/{x}/{y}); unset: roads only, "
        "drawn from the city's road graph, which needs no internet.",
    )
    tile_attribution: str | None = Field(
        default=None, max_length=500, description="Attribution the tile provider requires, shown on the map."
    )
    timezone: str = Field(
        default="Asia/Shanghai", description="IANA time zone of the bureau: where 'today' starts and ends."
    )
    speed_profile: dict[str, list[float]] = Field(
        default_factory=dict,
        description="Rush hours: per road class (an OSM highway=* value, or '*' for every class), 24 "
        "factors on its usual speed, one per local hour from 00:00 (0.6: 60 % of the usual speed, "
        "so 1/0.6 of the time), as JSON. Unset: the same speeds all day (docs/configuration.md).",
    )
    sms_sender: str = Field(
        default="none",
        max_length=300,
        description="How residents get their one-time sign-in code (/service/): 'none' (sign-in by "
        "code is refused, 503 sms_unavailable), 'log' (written to the server log, for a trial), 'demo' "
        "(shown on the resident's screen: for the demo only) or 'package.module:factory', a gateway of "
        "yours (docs/self-service.md). `jingwu demo` uses 'demo' unless this is set.",
    )
    service_kinds_file: Path | None = Field(
        default=None,
        description="JSON file of the applications residents may make and the documents each asks for "
        "(docs/self-service.md); unset: 居住证, 无犯罪记录证明 and 居住证明.",
    )
    bureau_name: str = Field(
        default="哈尔滨市公安局",
        min_length=1,
        max_length=100,
        description="The bureau's name as printed on certificates.",
    )
    public_url: str | None = Field(
        default=None,
        max_length=500,
        pattern=r"^https?://[^\s]+$",
        description="Where the public reaches this server (e.g. https://jingwu.example.gov.cn): a "
        "certificate's QR code links to PUBLIC_URL/service/verify/CODE; unset: the code alone.",
    )
    analytics_dir: Path | None = Field(
        default=None,
        description="Where the analytical store keeps its Parquet files: the bureau's incidents by month "
        "and imported datasets (docs/analytics.md); unset: DATA_DIR/analytics. Processes of a cluster "
        "share imports only if they share this folder.",
    )
    urban_districts: str | None = Field(
        default=None,
        max_length=2000,
        description="The districts whose incidents count as urban, comma-separated (南岗区,道里区): the "
        "share of urban arrivals within 5 minutes is measured over them; unset: over all arrivals, "
        "and the answer says so. `jingwu demo` names Harbin's central four unless this is set.",
    )
    video_workers: int = Field(
        default=2,
        ge=0,
        le=64,
        description="Video worker processes this server runs (docs/video.md): each reads up to "
        "CAMERAS_PER_WORKER cameras; 0: this process reads none (another host's do). Workers start only "
        "when there are cameras to read.",
    )
    cameras_per_worker: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Cameras one video worker reads (a camera costs about 2-5 % of a core: "
        "`jingwu bench video`).",
    )
    video_buffer_dir: Path | None = Field(
        default=None,
        description="Where the workers keep each camera's rolling buffer (the last VIDEO_BUFFER_S "
        "seconds of its packets as they came, in segments of about 2 seconds); unset: "
        "DATA_DIR/video-buffer.",
    )
    video_buffer_s: int = Field(
        default=600, ge=30, le=86_400, description="How far back a clip can be cut: each camera's buffer."
    )
    video_buffer_mb: int = Field(
        default=1_000, ge=10, description="Most disk one camera's buffer may take, in MiB (oldest cut first)."
    )
    video_file_dir: Path | None = Field(
        default=None,
        description="The only folder a file:// camera stream may be read from (recorded footage replayed "
        "as a camera, the demo's cameras); unset: DATA_DIR/video-files.",
    )
    evidence_dir: Path | None = Field(
        default=None,
        description="Where evidence clips are kept, named by their SHA-256; unset: DATA_DIR/evidence. "
        "Processes of a cluster must share it (network storage).",
    )
    video_relay_host: str = Field(
        default="127.0.0.1",
        max_length=150,
        description="The address this host's video workers answer the API on (live pictures, snapshots, "
        "clips); in a cluster, one the other hosts reach.",
    )
    max_import_bytes: int = Field(
        default=200 * 1024 * 1024, gt=0, description="Largest CSV file an analyst may import through the API."
    )
    max_upload_bytes: int = Field(
        default=10 * 1024 * 1024, gt=0, description="Largest photo (request body) an upload may carry."
    )
    audit_retention_days: int = Field(
        default=400,
        ge=365,
        description="Days the audit log is kept (at least one year). `jingwu audit prune` removes "
        "older records (run it from cron or a systemd timer); pruning is never automatic. See "
        "docs/security.md for how pruning keeps the chain verifiable.",
    )
    position_retention_days: int = Field(
        default=30,
        ge=1,
        description="Days the position history (every unit's track) is kept. Older fixes are dropped "
        "by the server itself, every minute: whole days on PostgreSQL (a fix is kept at least this "
        "long and at most a day longer), in small batches on SQLite.",
    )
    lockout_s: int = Field(
        default=900,
        ge=600,
        description="Seconds an address stays locked out of an account after 5 consecutive failed "
        "log-ins from it (at least 600); each further failure doubles it, up to a day.",
    )
    idle_timeout_s: int = Field(
        default=1800,
        gt=0,
        le=1800,
        description="A session unused for this many seconds ends (at most 1800, CJIS's 30 minutes).",
    )
    require_totp: bool = Field(
        default=False,
        description="Admins and dispatchers must log in with a TOTP code as well as their password. "
        "Off here (tests, embedding); `jingwu serve` turns it on unless JINGWU_REQUIRE_TOTP is set, "
        "`jingwu demo` turns it off.",
    )

    field_keys: SecretStr | None = Field(
        default=None,
        description="Field-encryption keys for personal data, 'kid:BASE64KEY' entries separated by "
        "commas, the last one current (append a key, then `jingwu keys rotate`). Overrides FIELD_KEY_FILE.",
    )
    field_key_file: Path | None = Field(
        default=None,
        description="File of field-encryption keys, one 'kid:BASE64KEY' a line, mode 600; unset: "
        "DATA_DIR/field-keys, made on first start. Keep it out of database backups.",
    )
    mqtt_url: str | None = Field(
        default=None,
        max_length=500,
        description="MQTT broker of the community devices (docs/devices.md), e.g. mqtt://127.0.0.1:1883 "
        "or mqtts://user:password@broker:8883; unset: no device subscriber.",
    )
    mqtt_client_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="This process's MQTT client id, one per server process: a fixed name for the "
        "broker's ACLs and logs. The session is always clean (a member of the shared subscription "
        "that is down must not hold its share of the messages). Unset: a fresh jingwu-HOST-PID-RANDOM.",
    )
    mqtt_share_group: str = Field(
        default="jingwu",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="MQTT v5 shared-subscription group ($share/GROUP/...): the processes of one cluster "
        "use the same group, so that each device message is handled once.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        # Refused at start-up, not at the first statistics request hours later.
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)"
            ) from None
        return value

    @field_validator("speed_profile")
    @classmethod
    def _speed_profile_shape(cls, value: dict[str, list[float]]) -> dict[str, list[float]]:
        # The road classes themselves are checked by jingwu.routing.profiles when the server starts.
        for key, factors in value.items():
            if len(factors) != 24 or not all(0.05 <= f <= 2.0 for f in factors):
                raise ValueError(f"{key!r} needs 24 factors (one per hour from 00:00), each 0.05..2")
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: str | None) -> str | None:
        if value:
            from jingwu.devices.broker import BrokerConfig  # checks scheme, host and port

            BrokerConfig.parse(value)
        return value or None

    @field_validator("tile_url")
    @classmethod
    def _tile_template(cls, value: str | None) -> str | None:
        if value and not all(part in value for part in ("{z}", "{x}", "{y}")):
            raise ValueError("a tile URL template needs {z}, {x} and {y}")
        return value or None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``JINGWU_*`` variables; a misspelt variable is an error, not silently ignored
        (pydantic-settings skips unknown environment keys even with ``extra="forbid"``)."""
        environ = os.environ if environ is None else environ
        known = {f"JINGWU_{name.upper()}" for name in cls.model_fields} | _NOT_SETTINGS
        unknown = sorted(
            k
            for k in environ
            if k.startswith("JINGWU_") and k not in known and not k.startswith("JINGWU_TEST_")
        )
        if unknown:
            raise ValidationFailed(
                f"unknown setting {unknown[0]}; known settings: {', '.join(sorted(known - _NOT_SETTINGS))}",
                code="unknown_setting",
                name=unknown[0],
            )
        try:
            return cls(**overrides)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = "JINGWU_" + str(first["loc"][0]).upper() if first["loc"] else "JINGWU_*"
            raise ValidationFailed(f"{name}: {first['msg']}", code="invalid_setting", name=name) from None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'jingwu.db'}"

    @property
    def resolved_field_key_file(self) -> Path:
        return self.field_key_file or self.data_dir / "field-keys"

    @property
    def urban_district_set(self) -> frozenset[str] | None:
        if not self.urban_districts:
            return None
        return frozenset(d.strip() for d in self.urban_districts.split(",") if d.strip()) or None

    @property
    def resolved_analytics_dir(self) -> Path:
        return self.analytics_dir or self.data_dir / "analytics"

    @property
    def resolved_video_buffer_dir(self) -> Path:
        return self.video_buffer_dir or self.data_dir / "video-buffer"

    @property
    def resolved_video_file_dir(self) -> Path:
        return self.video_file_dir or self.data_dir / "video-files"

    @property
    def resolved_evidence_dir(self) -> Path:
        return self.evidence_dir or self.data_dir / "evidence"

    @property
    def graph_cache_dir(self) -> Path:
        return self.data_dir / "graph-cache"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


__all__ = ["Settings", "bundled_osm_file"]
