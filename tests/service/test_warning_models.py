"""Early-warning models on a real store (SQLite, and PostgreSQL where reachable): saved only when
every part checks out, switched on only after a back-test of the current version, switched off by
an edit; a run reads only the sources listed, raises each warning once, is audited and puts its
warnings in the event log; the stations see and act on their own warnings only."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from jingwu.composition import Services
from jingwu.domain.devices import DeviceKind
from jingwu.domain.events import EventType
from jingwu.domain.geo import GeoPoint
from jingwu.domain.status import SourceChannel
from jingwu.domain.watchlists import SubjectKind
from jingwu.errors import Conflict, Forbidden, ValidationFailed
from jingwu.service.community_devices import NewDevice
from jingwu.service.community_devices.sealing import sealed_credentials
from jingwu.service.dispatching import NewIncident
from jingwu.service.warning_models import ModelDefinition, everywhere, loading
from jingwu.store import tables as t
from jingwu.store import warning_models_tables as w
from jingwu.store.db import read_transaction, write_transaction
from tests.conftest import FakeClock, ServicesFactory

CENTRE = GeoPoint(45.7560, 126.6420)  # in the station "south"
NORTH_BANK = GeoPoint(45.8200, 126.6300)  # about 7 km north, in "north"
PLATE = "黑A9X527"
DOMESTIC = ModelDefinition(
    name="家暴反复报警",
    purpose="同一地址 30 天内三次家庭纠纷或家暴警情，提醒社区民警上门走访",
    kind="repeat_address",
    params={"incident_types": ["dispute.family", "order.domestic_violence"]},
    sources=["incidents"],
    every_minutes=60,
)
CLONED = ModelDefinition(
    name="套牌车",
    purpose="同一车牌短时间内出现在相距很远的两地，疑似套牌，提醒卡口和巡逻警力",
    kind="plate_far_apart",
    params={"min_km": 5, "max_minutes": 30},
    sources=["access_events", "checks"],
    every_minutes=10,
)


@pytest.fixture
def services(make_services: ServicesFactory) -> Services:
    built = make_services()
    built.auth.accounts.create_user("analyst", "correct-horse-battery", _role("analyst"))
    return built


def _role(name: str) -> Any:
    from jingwu.domain.access import Role

    return Role(name)


def _calls(
    services: Services, clock: FakeClock, days_ago: list[float], *, address: str = "保健路 12 号"
) -> None:
    now = clock.now
    for days in days_ago:
        clock.now = now - timedelta(days=days)
        services.dispatch.create_incident(
            NewIncident("dispute.family", CENTRE, SourceChannel.CALL_110, address=address), actor="calltaker"
        )
    clock.now = now


def _audit(services: Services, action: str) -> list[Any]:
    with read_transaction(services.engine) as conn:
        return conn.execute(select(t.audit_log).where(t.audit_log.c.action == action)).all()


def _ready(services: Services, definition: ModelDefinition = DOMESTIC) -> dict[str, Any]:
    """Saved, back-tested and switched on."""
    models = services.warning_models
    model = models.catalogue.create(definition, actor="analyst")
    models.backtests.run(model["id"], days=30, actor="analyst")
    return models.catalogue.switch(model["id"], on=True, actor="analyst")


def test_a_model_with_a_bad_parameter_or_source_is_refused_and_nothing_is_stored(services: Services) -> None:
    models = services.warning_models.catalogue
    bad_count = replace(DOMESTIC, params={"incident_types": ["dispute"], "min_count": 0})
    with pytest.raises(ValidationFailed) as caught:
        models.create(bad_count, actor="analyst")
    assert caught.value.code == "bad_model_parameter" and caught.value.params["parameter"] == "min_count"
    needs_disputes = replace(DOMESTIC, params={"incident_types": ["dispute"], "require_open_dispute": True})
    with pytest.raises(ValidationFailed) as caught:
        models.create(needs_disputes, actor="analyst")
    assert caught.value.code == "source_not_listed"
    with pytest.raises(ValidationFailed) as caught:
        models.create(replace(DOMESTIC, purpose="看看"), actor="analyst")
    assert caught.value.code == "purpose_required"
    with pytest.raises(ValidationFailed) as caught:
        models.create(DOMESTIC, actor="nobody-here")
    assert caught.value.code == "bad_owner"
    assert models.list() == []
    assert _audit(services, "model.created") == []


def test_a_model_is_switched_on_only_with_a_backtest_of_its_current_version(services: Services) -> None:
    models = services.warning_models
    model = models.catalogue.create(DOMESTIC, actor="analyst")
    assert (model["enabled"], model["version"], model["owner"], model["backtest"]) == (
        False,
        1,
        "analyst",
        None,
    )
    with pytest.raises(Conflict) as caught:
        models.catalogue.switch(model["id"], on=True, actor="analyst")
    assert caught.value.code == "not_backtested"
    with pytest.raises(Conflict) as caught:
        models.runs.run(model["id"], actor="analyst")
    assert caught.value.code == "model_not_enabled"
    tested = models.backtests.run(model["id"], days=30, actor="analyst")
    assert (
        tested["model_version"] == 1 and tested["steps"] == 30 and tested["records_read"] == {"incidents": 0}
    )
    assert models.catalogue.switch(model["id"], on=True, actor="analyst")["enabled"] is True

    # An edit is a new version, switched off: its back-test measured the old one.
    edited = models.catalogue.edit(
        model["id"],
        replace(DOMESTIC, params={**DOMESTIC.params, "min_count": 4}),
        version=1,
        actor="analyst",
    )
    assert (edited["version"], edited["enabled"], edited["backtest"]) == (2, False, None)
    assert edited["params"]["min_count"] == 4
    with pytest.raises(Conflict) as caught:
        models.catalogue.switch(model["id"], on=True, actor="analyst")
    assert caught.value.code == "not_backtested"
    with pytest.raises(Conflict) as caught:  # an editor who saw version 1
        models.catalogue.edit(model["id"], DOMESTIC, version=1, actor="analyst")
    assert caught.value.code == "stale_model"
    # Saving the same definition again changes nothing.
    assert (
        models.catalogue.edit(model["id"], edited_definition(edited), version=2, actor="analyst")["version"]
        == 2
    )
    models.backtests.run(model["id"], days=10, actor="analyst")
    assert models.catalogue.switch(model["id"], on=True, actor="analyst")["enabled"] is True
    actions = [r.action for r in _audit(services, "model.enabled")] + [
        r.action for r in _audit(services, "model.changed")
    ]
    assert actions == ["model.enabled", "model.enabled", "model.changed"]
    assert [b["model_version"] for b in models.backtests.list(model["id"])] == [2, 1]


def edited_definition(view: dict[str, Any]) -> ModelDefinition:
    return ModelDefinition(
        name=view["name"],
        purpose=view["purpose"],
        kind=view["kind"],
        params=view["params"],
        sources=view["sources"],
        every_minutes=view["every_minutes"],
    )


def test_a_run_raises_each_warning_once_is_audited_and_logs_its_event(
    services: Services, clock: FakeClock
) -> None:
    _calls(services, clock, [20, 9, 1], address="保健路12号")
    _calls(services, clock, [2], address="保健路 １２ 号")  # the same address, typed otherwise
    model = _ready(services)
    run = services.warning_models.runs.run(model["id"], actor="analyst", source="10.0.0.9")
    assert run["trigger"] == "manual" and run["actor"] == "analyst"
    assert run["records_read"] == {"incidents": 4}
    assert (run["warnings_found"], run["warnings_raised"]) == (1, 1)
    (warning,) = services.warning_models.alerts.list(station_ids=None)
    assert warning["id"] == run["warning_ids"][0]
    assert warning["station_id"] == "south" and warning["status"] == "new"
    assert warning["evidence"]["incidents"] == 4 and len(warning["evidence"]["incident_ids"]) == 4
    assert warning["title"]["zh"].startswith("保健路12号：30 天内 4 起家庭纠纷警情")
    (audited,) = _audit(services, "model.run")
    assert (
        audited.actor == "analyst"
        and audited.target == f"model:{model['id']}"
        and audited.source == "10.0.0.9"
    )
    assert audited.details["records_read"] == {"incidents": 4} and audited.details["warnings_raised"] == 1
    logged = [m for m in services.event_log.events_after(0, 1000) if m.type == EventType.MODEL_WARNING]
    assert len(logged) == 1
    assert logged[0].payload["data"]["warning"]["station_id"] == "south"
    assert logged[0].payload["data"]["warning"]["id"] == warning["id"]

    # The next run, ten minutes on: the same place and window, nothing new.
    clock.advance(600)
    again = services.warning_models.runs.run(model["id"], actor="analyst")
    assert (again["warnings_found"], again["warnings_raised"], again["warning_ids"]) == (1, 0, [])
    assert len(services.warning_models.alerts.list(station_ids=None)) == 1
    assert [r["id"] for r in services.warning_models.runs.runs(model["id"])] == [again["id"], run["id"]]
    assert len(_audit(services, "model.run")) == 2


def test_a_run_reads_only_the_sources_its_model_lists(
    services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _calls(services, clock, [3, 2, 1])

    def must_not_read(*_args: object) -> list[Any]:
        raise AssertionError("read a source the model does not list")

    monkeypatch.setattr(loading, "disputes", must_not_read)
    monkeypatch.setattr(loading, "gate_sightings", must_not_read)
    model = _ready(services)  # repeat_address without an open dispute: the incidents only
    assert services.warning_models.runs.run(model["id"], actor="analyst")["records_read"] == {"incidents": 3}
    checks_only = _ready(services, replace(CLONED, sources=["checks"]))
    run = services.warning_models.runs.run(checks_only["id"], actor="analyst")
    assert run["records_read"] == {"checks": 0}


def _gate_passage(services: Services, minutes_ago: float, clock: FakeClock) -> None:
    gate = NewDevice("gate-1", DeviceKind.VEHICLE_GATE, "保健路社区", CENTRE)
    services.community_devices.register(gate, actor="admin", source="test")
    with write_transaction(services.engine) as conn:
        conn.execute(
            insert(t.access_events).values(
                device_id="gate-1",
                ts=clock.now - timedelta(minutes=minutes_ago),
                received_at=clock.now,
                seq=1,
                kind="gate",
                direction="in",
                credential_type="plate",
                result="granted",
                **sealed_credentials(services.checks.keys, None, PLATE),
            )
        )


def test_a_plate_at_a_gate_and_a_far_check_within_minutes_warns_both_stations(
    services: Services, clock: FakeClock
) -> None:
    _gate_passage(services, 12, clock)
    services.checks.check(
        SubjectKind.VEHICLE, PLATE, reason="设卡检查", location=NORTH_BANK, officer="n-officer", unit_id=None
    )
    model = _ready(services, CLONED)
    run = services.warning_models.runs.run(model["id"], actor="analyst")
    assert run["records_read"] == {"access_events": 1, "checks": 1}
    assert run["warnings_found"] == 1 and run["warnings_raised"] == 2  # one per station concerned
    warnings = services.warning_models.alerts.list(station_ids=None)
    assert sorted(w["station_id"] for w in warnings) == ["north", "south"]
    for warning in warnings:
        assert warning["evidence"]["plate"] == "黑A***27"
        assert PLATE not in str(warning) and "黑A9X527" not in warning["title"]["zh"]
    # Each station acts on its own: the north's acknowledgment leaves the south's new.
    north = next(w for w in warnings if w["station_id"] == "north")
    south = next(w for w in warnings if w["station_id"] == "south")

    def only_north(station_id: str | None) -> None:
        if station_id != "north":
            raise Forbidden("out", code="out_of_jurisdiction")

    with pytest.raises(Forbidden):
        services.warning_models.alerts.act(
            south["id"], to="acknowledged", actor="n", note=None, reach=only_north
        )
    acted = services.warning_models.alerts.act(
        north["id"], to="acknowledged", actor="n", note="已通知卡口", reach=only_north
    )
    assert (acted["status"], acted["acted_by"], acted["note"]) == ("acknowledged", "n", "已通知卡口")
    assert [w["id"] for w in services.warning_models.alerts.list(station_ids={"north"})] == [north["id"]]
    assert [w["status"] for w in services.warning_models.alerts.list(station_ids={"south"})] == ["new"]
    assert services.warning_models.alerts.list(station_ids={"south"}, status="acknowledged") == []
    dismissed = services.warning_models.alerts.act(
        north["id"], to="dismissed", actor="n", note=None, reach=everywhere
    )
    assert dismissed["status"] == "dismissed"
    with pytest.raises(Conflict) as caught:
        services.warning_models.alerts.act(
            north["id"], to="acknowledged", actor="n", note=None, reach=everywhere
        )
    assert caught.value.code == "warning_closed"
    assert [r.details["from"] for r in _audit(services, "warning.acknowledged")] == ["new"]
    assert len(_audit(services, "warning.dismissed")) == 1


def test_the_scheduler_runs_a_model_when_its_time_has_come(services: Services, clock: FakeClock) -> None:
    _calls(services, clock, [3, 2, 1])
    model = _ready(services)  # every 60 minutes
    off = services.warning_models.catalogue.create(replace(DOMESTIC, name="未启用"), actor="analyst")
    assert services.warning_models.run_due() == 1
    assert services.warning_models.run_due() == 0
    clock.advance(59 * 60)
    assert services.warning_models.run_due() == 0
    clock.advance(60)
    assert services.warning_models.run_due() == 1
    runs = services.warning_models.runs.runs(model["id"])
    assert [(r["trigger"], r["actor"], r["warnings_raised"]) for r in runs] == [
        ("schedule", None, 0),
        ("schedule", None, 1),
    ]
    assert services.warning_models.runs.runs(off["id"]) == []
    with read_transaction(services.engine) as conn:
        assert conn.execute(select(w.model_warnings.c.run_id)).scalars().all() == [runs[1]["id"]]
    assert {r.source for r in _audit(services, "model.run")} == {"scheduler"}
