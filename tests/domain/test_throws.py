"""How a throw is worded on its incident, and when a second one is a note rather than a call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jingwu.domain.throws import REPEAT_WINDOW, is_repeat_throw, throw_description, throw_note

LANDED = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def test_a_throw_within_a_minute_of_the_last_landing_is_a_repeat_only_while_its_incident_is_open() -> None:
    assert is_repeat_throw(LANDED, LANDED + timedelta(seconds=59), incident_open=True)
    assert is_repeat_throw(LANDED, LANDED + REPEAT_WINDOW, incident_open=True)
    assert not is_repeat_throw(LANDED, LANDED + REPEAT_WINDOW + timedelta(seconds=1), incident_open=True)
    assert not is_repeat_throw(LANDED, LANDED + timedelta(seconds=5), incident_open=False)
    assert not is_repeat_throw(None, LANDED, incident_open=True)


def test_the_description_names_floor_column_and_confidence_in_both_languages() -> None:
    text = throw_description("7号楼 南侧", 12, 3, 0.834)
    assert text.startswith(
        "高空抛物：12层 第3列窗（置信度 0.83）/ thrown object from floor 12, window column 3"
    )
    assert "camera 7号楼 南侧" in text
    unknown = throw_description("7号楼", None, None, 0.4)
    assert "楼层不明" in unknown and "floor unknown" in unknown and "column" not in unknown
    assert (
        throw_note(5, None, 0.9)
        == "再次高空抛物：5层（置信度 0.90）/ another thrown object from floor 5 (confidence 0.90)"
    )


def test_a_throw_from_another_window_is_no_repeat_unless_a_window_is_unknown() -> None:
    soon = LANDED + timedelta(seconds=10)
    assert is_repeat_throw(LANDED, soon, incident_open=True, previous_window=(12, 3), window=(13, 3))
    assert not is_repeat_throw(LANDED, soon, incident_open=True, previous_window=(12, 3), window=(14, 3))
    assert not is_repeat_throw(LANDED, soon, incident_open=True, previous_window=(12, 3), window=(12, 4))
    assert is_repeat_throw(LANDED, soon, incident_open=True, previous_window=(12, 3), window=(None, None))
    assert is_repeat_throw(LANDED, soon, incident_open=True, previous_window=(None, 3), window=(4, 3))
