"""An early-warning model's rule as an analyst writes it: each kind's parameters checked (every bad
value refused with a stable code), the defaults filled in, and the sources it may read (purpose
limitation: a kind that needs a source the model does not list is refused)."""

from __future__ import annotations

from typing import Any

import pytest

from jingwu.domain.warning_models import (
    ModelKind,
    PlateFarApart,
    RepeatAddress,
    Source,
    SpikeMethod,
    TypeSpike,
    check_name,
    check_purpose,
    check_schedule,
    matching_codes,
    params_dict,
    parse_rule,
    sources_read,
)
from jingwu.errors import ValidationFailed

DOMESTIC = ["order.domestic_violence", "dispute.family"]


def refused(kind: str, params: dict[str, Any], sources: list[str]) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        parse_rule(kind, params, sources)
    return caught.value


def test_a_repeat_address_rule_takes_its_defaults_and_sorts_its_types() -> None:
    rule = parse_rule(
        "repeat_address", {"incident_types": ["dispute.family", "order.domestic_violence"]}, ["incidents"]
    )
    assert rule.kind is ModelKind.REPEAT_ADDRESS
    assert rule.params == RepeatAddress(("dispute.family", "order.domestic_violence"), 3, 30, 50.0, False)
    assert rule.type_codes == {"dispute.family", "order.domestic_violence"}
    assert params_dict(rule.params) == {
        "incident_types": ["dispute.family", "order.domestic_violence"],
        "min_count": 3,
        "window_days": 30,
        "radius_m": 50.0,
        "require_open_dispute": False,
    }
    # What is stored reads back as the same rule.
    assert parse_rule(rule.kind, params_dict(rule.params), ["incidents"]) == rule


def test_a_category_selects_every_type_under_it() -> None:
    codes = matching_codes(["dispute"])
    assert {"dispute.family", "dispute.neighbour", "dispute.labour"} <= codes
    assert all(c.startswith("dispute.") for c in codes)
    rule = parse_rule("type_spike", {"incident_types": ["crim"], "method": "zscore"}, ["incidents"])
    assert isinstance(rule.params, TypeSpike) and rule.params.method is SpikeMethod.ZSCORE
    assert "crim.robbery" in rule.type_codes


@pytest.mark.parametrize(
    ("kind", "params", "code", "parameter"),
    [
        ("repeat_address", {}, "missing_model_parameter", "incident_types"),
        ("repeat_address", {"incident_types": []}, "bad_model_parameter", "incident_types"),
        ("repeat_address", {"incident_types": "dispute.family"}, "bad_model_parameter", "incident_types"),
        ("repeat_address", {"incident_types": ["crim.nonsense"]}, "bad_model_parameter", "incident_types"),
        ("repeat_address", {"incident_types": ["disp"]}, "bad_model_parameter", "incident_types"),
        ("repeat_address", {"incident_types": DOMESTIC, "min_count": 1}, "bad_model_parameter", "min_count"),
        (
            "repeat_address",
            {"incident_types": DOMESTIC, "min_count": 3.5},
            "bad_model_parameter",
            "min_count",
        ),
        (
            "repeat_address",
            {"incident_types": DOMESTIC, "min_count": True},
            "bad_model_parameter",
            "min_count",
        ),
        (
            "repeat_address",
            {"incident_types": DOMESTIC, "min_count": "3"},
            "bad_model_parameter",
            "min_count",
        ),
        (
            "repeat_address",
            {"incident_types": DOMESTIC, "window_days": 0},
            "bad_model_parameter",
            "window_days",
        ),
        ("repeat_address", {"incident_types": DOMESTIC, "radius_m": 501}, "bad_model_parameter", "radius_m"),
        (
            "repeat_address",
            {"incident_types": DOMESTIC, "radius_m": float("nan")},
            "bad_model_parameter",
            "radius_m",
        ),
        (
            "repeat_address",
            {"incident_types": DOMESTIC, "require_open_dispute": "yes"},
            "bad_model_parameter",
            "require_open_dispute",
        ),
        (
            "repeat_address",
            {"incident_types": DOMESTIC, "colour": "red"},
            "unknown_model_parameter",
            "colour",
        ),
        ("plate_far_apart", {"min_km": 0.1}, "bad_model_parameter", "min_km"),
        ("plate_far_apart", {"max_minutes": 241}, "bad_model_parameter", "max_minutes"),
        ("plate_far_apart", {"incident_types": DOMESTIC}, "unknown_model_parameter", "incident_types"),
        ("type_spike", {"incident_types": ["crim"], "method": "mean"}, "bad_model_parameter", "method"),
        ("type_spike", {"incident_types": ["crim"], "max_p": 0.5}, "bad_model_parameter", "max_p"),
        ("type_spike", {"incident_types": ["crim"], "cell_m": 50}, "bad_model_parameter", "cell_m"),
        (
            "type_spike",
            {"incident_types": ["crim"], "history_windows": 1},
            "bad_model_parameter",
            "history_windows",
        ),
        # 90-day windows and 52 of them reach back 13 years: the history is bounded.
        (
            "type_spike",
            {"incident_types": ["crim"], "window_days": 90, "history_windows": 52},
            "bad_model_parameter",
            "history_windows",
        ),
    ],
)
def test_a_bad_parameter_is_refused_with_its_code_and_name(
    kind: str, params: dict[str, Any], code: str, parameter: str
) -> None:
    error = refused(kind, params, ["incidents", "checks", "access_events", "disputes"])
    assert error.code == code
    assert error.params["parameter"] == parameter


def test_an_unknown_kind_or_source_is_refused() -> None:
    assert refused("crystal_ball", {}, ["incidents"]).code == "bad_model_kind"
    bad_source = refused("repeat_address", {"incident_types": DOMESTIC}, ["incidents", "phone_book"])
    assert bad_source.code == "bad_model_source" and bad_source.params["source"] == "phone_book"


def test_a_kind_that_needs_a_source_not_listed_is_refused() -> None:
    # Requiring an open dispute reads the disputes: they must be listed.
    error = refused(
        "repeat_address", {"incident_types": DOMESTIC, "require_open_dispute": True}, ["incidents"]
    )
    assert error.code == "source_not_listed" and error.params["source"] == "disputes"
    assert refused("repeat_address", {"incident_types": DOMESTIC}, ["disputes"]).code == "source_not_listed"
    # A plate is seen at the gates or in the checks: at least one of them.
    plate = refused("plate_far_apart", {}, ["incidents"])
    assert plate.code == "source_not_listed" and plate.params["one_of"] == ["access_events", "checks"]
    assert refused("type_spike", {"incident_types": ["crim"]}, []).code == "source_not_listed"


def test_a_run_reads_only_what_its_kind_needs_and_the_model_lists() -> None:
    plate = parse_rule("plate_far_apart", {}, ["access_events", "incidents"])
    assert plate.params == PlateFarApart()
    # The gates only: not the checks (not listed), not the incidents (not needed).
    assert sources_read(plate) == {Source.ACCESS_EVENTS}
    both = parse_rule("plate_far_apart", {"min_km": 3}, ["access_events", "checks"])
    assert sources_read(both) == {Source.ACCESS_EVENTS, Source.CHECKS}
    plain = parse_rule("repeat_address", {"incident_types": DOMESTIC}, ["incidents", "disputes"])
    assert sources_read(plain) == {Source.INCIDENTS}  # no open dispute asked for: disputes not read
    with_dispute = parse_rule(
        "repeat_address",
        {"incident_types": DOMESTIC, "require_open_dispute": True},
        ["incidents", "disputes"],
    )
    assert sources_read(with_dispute) == {Source.INCIDENTS, Source.DISPUTES}


def test_name_purpose_and_schedule_are_checked() -> None:
    assert check_name("  家暴  反复报警 ") == "家暴 反复报警"
    assert check_purpose("  发现反复家暴警情，提前安排社区民警上门  ").startswith("发现")
    assert check_schedule(60) == 60
    for bad, code in [
        (lambda: check_name("   "), "bad_model_name"),
        (lambda: check_name("名" * 101), "bad_model_name"),
        (lambda: check_purpose("看看"), "purpose_required"),
        (lambda: check_schedule(4), "bad_schedule"),
        (lambda: check_schedule(7 * 24 * 60 + 1), "bad_schedule"),
        (lambda: check_schedule(True), "bad_schedule"),
    ]:
        with pytest.raises(ValidationFailed) as caught:
            bad()
        assert caught.value.code == code
