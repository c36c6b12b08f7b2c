"""Door and gate passages: kept indexed and masked (the plate sealed), read back newest first with
the look audited."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import select

from jingwu.composition import Services
from jingwu.domain.devices import DeviceKind, MessageKind
from jingwu.store import tables as t
from jingwu.store.db import read_transaction
from tests.service.community_devices.conftest import Device

# ------------------------------------------------------------------------------ access events


def test_door_and_gate_passages_are_kept_indexed_and_masked(
    services: Services, register: Callable[..., Device]
) -> None:
    door = register("door-baojian-east", DeviceKind.DOOR_READER)
    gate = register("gate-baojian-north", DeviceKind.VEHICLE_GATE)
    assert (
        door.send(
            MessageKind.ACCESS, direction="in", credential="card", ref="04A1B2C3D4E5F6", result="granted"
        )
        is None
    )
    assert (
        door.send(MessageKind.ACCESS, direction="out", credential="face", ref="enrol-88812", result="denied")
        is None
    )
    assert (
        gate.send(MessageKind.ACCESS, direction="in", credential="plate", plate="黑A·12345", result="granted")
        is None
    )
    door_events = services.community_devices.access_events(
        door.id, actor="community", reason="核查门禁记录", source="test"
    )
    assert [(e.direction, e.credential_type, e.credential_masked, e.result) for e in door_events] == [
        ("out", "face", "*******8812", "denied"),
        ("in", "card", "**********E5F6", "granted"),
    ]
    [passage] = services.community_devices.access_events(
        gate.id, actor="community", reason="核查车辆出入", source="test"
    )
    assert (passage.kind, passage.plate_masked, passage.credential_masked) == ("gate", "黑A***45", None)
    with read_transaction(services.engine) as conn:
        rows = conn.execute(select(t.access_events)).all()
        reads = (
            conn.execute(select(t.audit_log.c.reason).where(t.audit_log.c.action == "access_events.read"))
            .scalars()
            .all()
        )
    # Neither the card nor the plate is stored in the clear; the same card or car is found again
    # by its keyed index.
    stored = json.dumps([list(map(str, r)) for r in rows], ensure_ascii=False)
    assert "04A1B2C3D4E5F6" not in stored and "12345" not in stored.replace("***45", "")
    plate_row = next(r for r in rows if r.kind == "gate")
    assert plate_row.plate_index == services.community_devices.keys.blind_index("黑A12345", kind="plate")
    assert reads == ["核查门禁记录", "核查车辆出入"]
