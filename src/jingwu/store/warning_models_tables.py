"""Tables of the analysts' early-warning models (大数据建模预警): the models, each run, the warnings
the runs raised and the back-tests that measured each version's precision.

On the one metadata of :mod:`jingwu.store.tables`, so the migrations test compares them too. No
personal data: a warning's evidence holds counts and record ids, a plate only masked."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from jingwu.store.tables import UtcDateTime, metadata

warning_models = Table(
    "warning_models",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("kind", String(32), nullable=False),  # domain.warning_models.ModelKind
    Column("params", JSON, nullable=False),  # every parameter, defaults included
    Column("sources", JSON, nullable=False),  # what it may read (purpose limitation)
    Column("every_minutes", Integer, nullable=False),
    # Off until a back-test exists for the current version; an edit bumps the version and turns it off.
    Column("enabled", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("last_run_at", UtcDateTime, nullable=True),
    Index(None, "enabled"),
)

warning_model_runs = Table(
    "warning_model_runs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("model_id", String(40), ForeignKey("warning_models.id"), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("trigger", String(16), nullable=False),  # schedule | manual
    Column("actor", String(64), nullable=True),  # who ran it by hand (null: the scheduler)
    Column("started_at", UtcDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("records_read", JSON, nullable=False),  # {source: records read}
    Column("warnings_found", Integer, nullable=False),  # before de-duplication
    Column("warnings_raised", Integer, nullable=False),  # new warnings (one per station concerned)
    Index(None, "model_id", "started_at"),
)

model_warnings = Table(
    "model_warnings",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("model_id", String(40), ForeignKey("warning_models.id"), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("run_id", String(40), ForeignKey("warning_model_runs.id"), nullable=False),
    # The station concerned (null: outside every station, the city's): one row per station, so
    # each acknowledges its own.
    Column("station_id", String(64), nullable=True),
    # What de-duplication compares: the place (an address, a plate's keyed index, a grid cell and
    # type) and the window, ``(window_start, window_end]``.
    Column("place_key", String(200), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("address", Text, nullable=True),
    Column("window_start", UtcDateTime, nullable=False),
    Column("window_end", UtcDateTime, nullable=False),
    Column("title_zh", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("evidence", JSON, nullable=False),  # counts and record ids only
    Column("status", String(16), nullable=False),  # new | acknowledged | dismissed
    Column("raised_at", UtcDateTime, nullable=False),
    Column("acted_by", String(64), nullable=True),
    Column("acted_at", UtcDateTime, nullable=True),
    Column("note", Text, nullable=True),
    Index(None, "station_id", "status", "raised_at"),
    Index(None, "model_id", "window_end"),
)

warning_model_backtests = Table(
    "warning_model_backtests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("model_id", String(40), ForeignKey("warning_models.id"), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("period_start", UtcDateTime, nullable=False),
    Column("period_end", UtcDateTime, nullable=False),
    Column("follow_up_days", Float, nullable=False),
    Column("steps", Integer, nullable=False),
    Column("warnings", Integer, nullable=False),
    Column("judged", Integer, nullable=False),  # warnings whose follow-up window had ended
    Column("followed", Integer, nullable=False),
    Column("precision", Float, nullable=True),  # followed / judged (null: nothing judged)
    Column("details", JSON, nullable=False),
    Column("records_read", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Index(None, "model_id", "model_version"),
)

__all__ = ["metadata", "model_warnings", "warning_model_backtests", "warning_model_runs", "warning_models"]
