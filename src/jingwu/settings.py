"""The one Settings object, read from ``JINGWU_*`` environment variables once, in the composition root."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    ack_timeout_s: float = Field(
        default=30.0, gt=0, description="Seconds a crew has to acknowledge a dispatch before escalation."
    )
    token_ttl_s: int = Field(default=12 * 3600, gt=0, description="Lifetime of a bearer token in seconds.")
    max_snap_distance_m: float = Field(
        default=250.0, gt=0, description="An incident farther than this from any road is refused."
    )
    recommendation_limit: int = Field(default=5, ge=1, le=50, description="Default k of recommendations.")
    event_replay_limit: int = Field(
        default=10_000, ge=100, description="Most events replayed to a reconnecting live client in one go."
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'jingwu.db'}"

    @property
    def graph_cache_dir(self) -> Path:
        return self.data_dir / "graph-cache"


__all__ = ["Settings", "bundled_osm_file"]
