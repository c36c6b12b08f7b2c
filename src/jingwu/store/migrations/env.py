"""Alembic environment: always run with the engine that Jingwu hands in (no ini file, no URL here)."""

from __future__ import annotations

from alembic import context

from jingwu.store.tables import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
