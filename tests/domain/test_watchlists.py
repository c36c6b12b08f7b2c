"""Watch lists: which entries hit, in what order, and what the officer is told."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from jingwu.domain.identity import id_check_char
from jingwu.domain.watchlists import (
    INSTRUCTIONS,
    Danger,
    Entry,
    SubjectKind,
    WatchList,
    check_expiry,
    hits,
    instruction_for,
    mask_subject,
    optional_label,
    stated_reason,
    subject_of,
    watch_list,
)
from jingwu.errors import NotFound, ValidationFailed

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
ID17 = "23010319850612301"
ID = ID17 + id_check_char(ID17)


def _entry(list_: WatchList, *, minutes_ago: int = 10, **kw: object) -> Entry:
    fields: dict[str, object] = {
        "id": f"wl-{list_}-{minutes_ago}",
        "list": list_,
        "subject": ID if list_.subject is SubjectKind.PERSON else "黑A12345",
        "label": None,
        "reason": "test",
        "added_by": "cmd",
        "added_at": NOW - timedelta(minutes=minutes_ago),
    }
    fields.update(kw)
    return Entry(**fields)  # type: ignore[arg-type]


def test_each_list_holds_people_or_vehicles() -> None:
    assert {w for w in WatchList if w.subject is SubjectKind.PERSON} == {WatchList.WANTED, WatchList.MISSING}


def test_an_unknown_list_is_not_found_with_its_own_code() -> None:
    with pytest.raises(NotFound) as exc:
        watch_list("terrorists")
    assert exc.value.code == "unknown_watchlist"
    assert watch_list("stolen_vehicle") is WatchList.STOLEN_VEHICLE


@pytest.mark.parametrize("reason", ["", "   ", "\t\n", None])
def test_a_blank_reason_is_refused(reason: object) -> None:
    with pytest.raises(ValidationFailed) as exc:
        stated_reason(reason)
    assert exc.value.code == "reason_required"


def test_a_reason_keeps_its_words_and_collapses_space() -> None:
    assert stated_reason("  形迹可疑   深夜徘徊 ") == "形迹可疑 深夜徘徊"
    with pytest.raises(ValidationFailed) as exc:
        stated_reason("x" * 201)
    assert exc.value.code == "reason_too_long"


def test_subjects_are_checked_and_normalised() -> None:
    assert subject_of(SubjectKind.PERSON, ID.lower(), today=date(2026, 12, 7)) == ID
    assert subject_of(SubjectKind.VEHICLE, "黑a·12345", today=date(2026, 12, 7)) == "黑A12345"
    bad = ID17 + ("0" if id_check_char(ID17) != "0" else "1")
    with pytest.raises(ValidationFailed) as exc:
        subject_of(SubjectKind.PERSON, bad, today=date(2026, 12, 7))
    assert exc.value.code == "bad_id_checksum"
    with pytest.raises(ValidationFailed) as exc:
        subject_of(SubjectKind.VEHICLE, "黑A1234", today=date(2026, 12, 7))
    assert exc.value.code == "bad_plate"


def test_expired_and_removed_entries_never_hit() -> None:
    live = _entry(WatchList.WANTED)
    expired = _entry(WatchList.MISSING, expires_at=NOW - timedelta(seconds=1))
    removed = _entry(WatchList.MISSING, minutes_ago=5, removed_at=NOW - timedelta(minutes=1))
    later = _entry(WatchList.MISSING, minutes_ago=3, expires_at=NOW + timedelta(days=1))
    assert hits([live, expired, removed, later], kind=SubjectKind.PERSON, now=NOW) == [live, later]


def test_a_vehicle_check_does_not_hit_a_person_list() -> None:
    person = _entry(WatchList.WANTED)
    assert hits([person], kind=SubjectKind.VEHICLE, now=NOW) == []


def test_the_most_dangerous_list_decides_what_the_officer_is_told() -> None:
    interest = _entry(WatchList.VEHICLE_OF_INTEREST, minutes_ago=1)
    stolen = _entry(WatchList.STOLEN_VEHICLE, minutes_ago=50)
    found = hits([interest, stolen], kind=SubjectKind.VEHICLE, now=NOW)
    assert found == [stolen, interest]
    instruction = instruction_for(found)
    assert instruction is INSTRUCTIONS[WatchList.STOLEN_VEHICLE]
    assert instruction.danger is Danger.DANGER
    assert instruction_for([]) is None


def test_every_list_tells_the_officer_something_in_both_languages() -> None:
    for w in WatchList:
        words = INSTRUCTIONS[w].as_dict()
        assert words["zh-CN"] and words["en"] and words["danger"] in {d.value for d in Danger}
    assert "增援" in INSTRUCTIONS[WatchList.WANTED].zh_cn


def test_expiry_must_be_in_the_future_and_zoned() -> None:
    check_expiry(None, now=NOW)
    check_expiry(NOW + timedelta(hours=1), now=NOW)
    for bad, code in ((NOW, "expiry_in_past"), (datetime(2027, 1, 1), "naive_datetime")):
        with pytest.raises(ValidationFailed) as exc:
            check_expiry(bad, now=NOW)
        assert exc.value.code == code


def test_masked_subjects_hide_the_middle() -> None:
    assert mask_subject(SubjectKind.PERSON, ID) == ID[:4] + "*" * 10 + ID[-4:]
    assert mask_subject(SubjectKind.VEHICLE, "黑A12345") == "黑A***45"


def test_control_characters_are_dropped_from_reasons_and_labels() -> None:
    assert stated_reason("形迹\x00可疑\x07") == "形迹可疑"
    with pytest.raises(ValidationFailed) as exc:
        stated_reason("\x00\x01")
    assert exc.value.code == "reason_required"
    assert optional_label("王\x00五 ") == "王五"
    assert optional_label("  ") is None
