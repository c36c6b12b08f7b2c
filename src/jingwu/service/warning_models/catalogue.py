"""The models themselves: saved, edited (each edit a new version, switched off until it is
back-tested again), listed, read, switched on (only with a back-test of the current version) and
off. Every change is audited in its transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from jingwu.domain.access import Permission, Role, may
from jingwu.domain.warning_models import (
    check_name,
    check_purpose,
    check_schedule,
    params_dict,
    parse_rule,
)
from jingwu.errors import Conflict, ValidationFailed
from jingwu.service import audit
from jingwu.service.idempotency import record_claim
from jingwu.service.ids import new_id
from jingwu.service.warning_models.records import latest_backtest, model_row, model_view
from jingwu.store import tables as t
from jingwu.store import warning_models_tables as w
from jingwu.store.db import read_transaction, write_transaction


@dataclass(frozen=True, slots=True)
class ModelDefinition:
    """A model as an analyst writes it (checked by :meth:`Catalogue.create` / :meth:`edit`)."""

    name: str
    purpose: str
    kind: str
    params: Mapping[str, Any]
    sources: Sequence[str]
    every_minutes: int = 60
    owner: str | None = None  # default: whoever saves it


def checked(definition: ModelDefinition) -> dict[str, Any]:
    """The definition's columns, every part checked (422 with a stable code otherwise)."""
    rule = parse_rule(definition.kind, definition.params, definition.sources)
    return {
        "name": check_name(definition.name),
        "purpose": check_purpose(definition.purpose),
        "kind": rule.kind.value,
        "params": params_dict(rule.params),
        "sources": sorted(s.value for s in rule.sources),
        "every_minutes": check_schedule(definition.every_minutes),
    }


def _check_owner(conn: Connection, owner: str) -> str:
    """An owner is an account in service that may write models; its name as stored."""
    row = conn.execute(
        select(t.users.c.username, t.users.c.role, t.users.c.disabled).where(
            func.lower(t.users.c.username) == owner.lower()
        )
    ).first()
    if row is None or row.disabled or not may(Role(row.role), Permission.MODEL_ADMIN):
        raise ValidationFailed(
            f"{owner!r} cannot own a model: an account in service that may write models",
            code="bad_owner",
            owner=owner,
        )
    return str(row.username)


class Catalogue:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def _view(self, conn: Connection, model_id: str) -> dict[str, Any]:
        row = model_row(conn, model_id)
        return model_view(row, latest_backtest(conn, model_id, row.version))

    def get(self, model_id: str) -> dict[str, Any]:
        with read_transaction(self.engine) as conn:
            return self._view(conn, model_id)

    def list(self) -> list[dict[str, Any]]:
        """Every model, newest change first."""
        with read_transaction(self.engine) as conn:
            rows = conn.execute(
                select(w.warning_models).order_by(w.warning_models.c.updated_at.desc(), w.warning_models.c.id)
            ).all()
            return [model_view(r, latest_backtest(conn, r.id, r.version)) for r in rows]

    def create(self, definition: ModelDefinition, *, actor: str, source: str | None = None) -> dict[str, Any]:
        """Save a new model, switched off (it must be back-tested first)."""
        values = checked(definition)
        model_id = new_id("mdl")
        now = self.clock()
        with write_transaction(self.engine) as conn:
            owner = _check_owner(conn, definition.owner or actor)
            conn.execute(
                insert(w.warning_models).values(
                    id=model_id,
                    owner=owner,
                    enabled=False,
                    version=1,
                    created_at=now,
                    created_by=actor,
                    updated_at=now,
                    updated_by=actor,
                    last_run_at=None,
                    **values,
                )
            )
            audit.append(
                conn,
                ts=now,
                action="model.created",
                actor=actor,
                target=f"model:{model_id}",
                source=source,
                reason=values["purpose"],
                details={
                    "name": values["name"],
                    "owner": owner,
                    "kind": values["kind"],
                    "sources": values["sources"],
                    "every_minutes": values["every_minutes"],
                },
            )
            claim = record_claim(conn, now)
            view = self._view(conn, model_id)
        if claim is not None:
            claim.recorded = True
        return view

    def edit(
        self,
        model_id: str,
        definition: ModelDefinition,
        *,
        version: int,
        actor: str,
        source: str | None = None,
    ) -> dict[str, Any]:
        """Replace the definition. ``version`` is the one the editor saw (409 ``stale_model``). A
        change makes a new version and switches the model off: its back-test measured the old one."""
        values = checked(definition)
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = model_row(conn, model_id, lock=True)
            if row.version != version:
                raise Conflict(
                    "this model was changed by someone else; reload it",
                    code="stale_model",
                    model_id=model_id,
                    version=row.version,
                )
            values["owner"] = _check_owner(conn, definition.owner) if definition.owner else row.owner
            changes = {
                field: [getattr(row, field), new]
                for field, new in values.items()
                if (sorted(getattr(row, field)) if field == "sources" else getattr(row, field)) != new
            }
            if not changes:
                return self._view(conn, model_id)
            conn.execute(
                update(w.warning_models)
                .where(w.warning_models.c.id == model_id)
                .values(**values, version=row.version + 1, enabled=False, updated_at=now, updated_by=actor)
            )
            audit.append(
                conn,
                ts=now,
                action="model.changed",
                actor=actor,
                target=f"model:{model_id}",
                source=source,
                details={
                    "version": row.version + 1,
                    "changed": sorted(changes),
                    "was_enabled": bool(row.enabled),
                    "kind": values["kind"],
                    "sources": values["sources"],
                },
            )
            claim = record_claim(conn, now)
            view = self._view(conn, model_id)
        if claim is not None:
            claim.recorded = True
        return view

    def switch(self, model_id: str, *, on: bool, actor: str, source: str | None = None) -> dict[str, Any]:
        """Switch a model on (409 ``not_backtested`` unless its current version has a back-test) or off."""
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = model_row(conn, model_id, lock=True)
            backtest = latest_backtest(conn, model_id, row.version)
            if on and backtest is None:
                raise Conflict(
                    f"model {model_id} version {row.version} has no back-test: run one before switching on",
                    code="not_backtested",
                    model_id=model_id,
                    version=row.version,
                )
            if bool(row.enabled) != on:
                conn.execute(
                    update(w.warning_models)
                    .where(w.warning_models.c.id == model_id)
                    .values(enabled=on, updated_at=now, updated_by=actor)
                )
                audit.append(
                    conn,
                    ts=now,
                    action="model.enabled" if on else "model.disabled",
                    actor=actor,
                    target=f"model:{model_id}",
                    source=source,
                    details={
                        "version": row.version,
                        "backtest_id": backtest.id if backtest is not None else None,
                        "precision": backtest.precision if backtest is not None else None,
                    },
                )
            claim = record_claim(conn, now)
            view = self._view(conn, model_id)
        if claim is not None:
            claim.recorded = True
        return view


__all__ = ["Catalogue", "ModelDefinition", "checked"]
