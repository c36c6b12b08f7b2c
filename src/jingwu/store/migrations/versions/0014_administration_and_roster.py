"""A bureau administers its own city: stations and units edited and retired, personnel, the roster

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 22:00:00

Stations get an address, a retirement time and a version (edits are checked against it), and
their jurisdiction becomes a GeoJSON MultiPolygon: real boundaries (OSM's districts and 街道) have
islands and enclaves that one ring cannot hold. Jurisdictions stored as a bare ring of
[lon, lat] pairs are rewritten here as a one-polygon MultiPolygon, closed if they were not.

Units get their radio and terminal ids and a retirement time. New tables: ``personnel`` (who is
who in the force, each with a log-in account), ``shifts`` and ``crews`` (the roster: which
officers ride which unit on which shift).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from jingwu.store.tables import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_stations = sa.table("stations", sa.column("id", sa.String), sa.column("jurisdiction", sa.JSON))


def _as_multipolygon(ring: Any) -> dict[str, Any]:
    points = [[float(x), float(y)] for x, y, *_ in ring]
    if points and points[0] != points[-1]:
        points.append(points[0])
    return {"type": "MultiPolygon", "coordinates": [[points]]}


def _as_ring(geometry: Any) -> list[list[float]]:
    return [list(p) for p in geometry["coordinates"][0][0]]


def _rewrite(convert: Any, *, from_ring: bool) -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(_stations.c.id, _stations.c.jurisdiction)).all():
        value = row.jurisdiction
        if isinstance(value, list) == from_ring:
            bind.execute(
                sa.update(_stations).where(_stations.c.id == row.id).values(jurisdiction=convert(value))
            )


def upgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.add_column(sa.Column("address", sa.Text(), nullable=True))
        batch.add_column(sa.Column("retired_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    _rewrite(_as_multipolygon, from_ring=True)
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("radio_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("terminal_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("retired_at", UtcDateTime(), nullable=True))
    op.create_table(
        "personnel",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("police_number", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("rank", sa.String(32), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("retired_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personnel")),
        sa.UniqueConstraint("police_number", name=op.f("uq_personnel_police_number")),
        sa.UniqueConstraint("user_id", name=op.f("uq_personnel_user_id")),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_personnel_station_id_stations")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_personnel_user_id_users")),
    )
    op.create_table(
        "shifts",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"], name=op.f("fk_shifts_station_id_stations")),
    )
    op.create_index("ix_shifts_ends_at", "shifts", ["ends_at"])
    op.create_index("ix_shifts_station_id_starts_at", "shifts", ["station_id", "starts_at"])
    op.create_table(
        "crews",
        sa.Column("shift_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("shift_id", "person_id", name=op.f("pk_crews")),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["shifts.id"], name=op.f("fk_crews_shift_id_shifts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["person_id"], ["personnel.id"], name=op.f("fk_crews_person_id_personnel")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_crews_unit_id_units")),
    )
    op.create_index("ix_crews_unit_id", "crews", ["unit_id"])


def downgrade() -> None:
    op.drop_table("crews")
    op.drop_table("shifts")
    op.drop_table("personnel")
    with op.batch_alter_table("units") as batch:
        batch.drop_column("retired_at")
        batch.drop_column("terminal_id")
        batch.drop_column("radio_id")
    _rewrite(_as_ring, from_ring=False)
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("version")
        batch.drop_column("retired_at")
        batch.drop_column("address")
