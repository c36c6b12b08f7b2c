"""The device protocol on captured frames: the bytes as devices sent them (key order, spaces and
escapes as they came), signed with a test secret. The signatures were also checked with openssl
(docs/devices.md shows how), so these tests pin the canonical form, not just our own round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from jingwu.devices.protocol import (
    MAX_PAYLOAD_BYTES,
    Drop,
    Frame,
    Rejected,
    canonical,
    check_fresh,
    check_kind,
    decode_access,
    decode_alarm,
    decode_heartbeat,
    read_frame,
    sign,
    signed_payload,
    verify,
)
from jingwu.domain.devices import (
    AccessKind,
    AccessResult,
    CredentialType,
    DeviceKind,
    Direction,
    MessageKind,
)

SECRET = "dsk_TESTONLY-not-a-real-secret-0123456789abcd"
ALARM_TOPIC = "jingwu/v1/devices/col-baojian-001/alarm"
HEARTBEAT_TOPIC = "jingwu/v1/devices/col-baojian-001/heartbeat"
DOOR_TOPIC = "jingwu/v1/devices/door-baojian-east/access"
GATE_TOPIC = "jingwu/v1/devices/gate-baojian-north/access"

# An alarm column's press, 2025-11-25 08:00:00 UTC, as its firmware writes it (sig first).
ALARM_FRAME = (
    b'{"sig": "e9689d5a649052a11851c309af5997c75d39606219d5cef65d301ce5b9d8fbcb", "seq": 41, '
    b'"ts": 1764057600000}'
)
# A heartbeat with fields this server does not use (signed all the same).
HEARTBEAT_FRAME = (
    b'{"ts":1764057660000,"seq":42,"battery":87,"fw":"2.1.4",'
    b'"sig":"a9962d571640ff08c8eb80978204190cd100f0d12bfe0eb8d23ed1040b0e32c7"}'
)
DOOR_FRAME = (
    b'{\n  "ts": 1764057601500,\n  "seq": 7,\n  "direction": "in",\n  "credential": "card",\n'
    b'  "ref": "04A1B2C3D4E5F6",\n  "result": "granted",\n'
    b'  "sig": "baf2e38a8decbd59232512c7fc8f2bfe7fd0ef08dfc453da540819fef5c585d8"\n}'
)
# The gate escapes the plate's Chinese character and writes the middle dot: the signature is
# over the canonical text (raw UTF-8), so the escapes do not matter.
GATE_FRAME = (
    b'{"ts":1764057602000,"seq":1003,"direction":"out","credential":"plate",'
    b'"plate":"\\u9ed1A\\u00b712345","result":"granted",'
    b'"sig":"37bc6dfd700f6d9af6e4f6788b2c6beea1d17ef56602f3aabb0fdcef12754381"}'
)
TEST_PRESS_FRAME = (
    b'{"ts":1764057600000,"seq":43,"test":true,'
    b'"sig":"8d47831f3860d6cedb0f4824174f5fc97c34a3371bd67fa3ff3460945a141202"}'
)
AT = datetime(2025, 11, 25, 8, 0, tzinfo=UTC)


def rejected(topic: str, payload: bytes) -> Rejected:
    with pytest.raises(Rejected) as caught:
        read_frame(topic, payload)
    return caught.value


def payload(fields: dict[str, object], topic: str = ALARM_TOPIC) -> bytes:
    return signed_payload(SECRET, topic, fields)


# ----------------------------------------------------------------------- captured frames


def test_alarm_frame_reads_verifies_and_decodes() -> None:
    frame = read_frame(ALARM_TOPIC, ALARM_FRAME)
    assert (frame.device_id, frame.kind, frame.seq, frame.ts) == (
        "col-baojian-001",
        MessageKind.ALARM,
        41,
        AT,
    )
    verify(frame, SECRET)
    check_kind(frame, DeviceKind.ALARM_COLUMN)
    press = decode_alarm(frame)
    assert (press.ts, press.seq, press.test) == (AT, 41, False)


def test_heartbeat_frame_with_extra_fields_verifies_and_decodes() -> None:
    frame = read_frame(HEARTBEAT_TOPIC, HEARTBEAT_FRAME)
    verify(frame, SECRET)
    beat = decode_heartbeat(frame)
    assert (beat.seq, beat.ts) == (42, AT + timedelta(minutes=1))


def test_door_frame_decodes_a_card_passage() -> None:
    frame = read_frame(DOOR_TOPIC, DOOR_FRAME)
    verify(frame, SECRET)
    report = decode_access(frame, DeviceKind.DOOR_READER)
    assert report.access is AccessKind.DOOR
    assert report.direction is Direction.IN
    assert report.credential is CredentialType.CARD
    assert report.ref == "04A1B2C3D4E5F6"
    assert report.plate is None
    assert report.result is AccessResult.GRANTED
    assert report.ts == AT + timedelta(milliseconds=1500)


def test_gate_frame_with_escaped_plate_verifies_and_normalises_the_plate() -> None:
    frame = read_frame(GATE_TOPIC, GATE_FRAME)
    verify(frame, SECRET)
    report = decode_access(frame, DeviceKind.VEHICLE_GATE)
    assert (report.access, report.direction, report.credential) == (
        AccessKind.GATE,
        Direction.OUT,
        CredentialType.PLATE,
    )
    assert report.plate == "黑A12345"
    assert report.ref is None


def test_test_press_frame_is_marked_as_a_test() -> None:
    frame = read_frame(ALARM_TOPIC, TEST_PRESS_FRAME)
    verify(frame, SECRET)
    assert decode_alarm(frame).test is True


def test_canonical_form_sorts_keys_without_whitespace_in_utf8() -> None:
    assert canonical({"b": 1, "a": "黑", "c": [True, None]}) == '{"a":"黑","b":1,"c":[true,null]}'.encode()


def test_upper_case_signature_is_accepted() -> None:
    frame = read_frame(ALARM_TOPIC, ALARM_FRAME.replace(b"e9689d5a6490", b"E9689D5A6490"))
    verify(frame, SECRET)


# ----------------------------------------------------------------------- forged frames


def test_a_changed_field_fails_verification() -> None:
    frame = read_frame(ALARM_TOPIC, ALARM_FRAME.replace(b'"seq": 41', b'"seq": 44'))
    with pytest.raises(Rejected) as caught:
        verify(frame, SECRET)
    assert caught.value.reason is Drop.UNAUTHENTICATED


def test_a_signature_moved_to_another_topic_fails_verification() -> None:
    # The same fields and signature as a heartbeat of the same device, or another device's alarm.
    for topic in (HEARTBEAT_TOPIC, "jingwu/v1/devices/col-baojian-002/alarm"):
        frame = read_frame(topic, ALARM_FRAME)
        with pytest.raises(Rejected) as caught:
            verify(frame, SECRET)
        assert caught.value.reason is Drop.UNAUTHENTICATED


def test_another_secret_fails_verification() -> None:
    frame = read_frame(ALARM_TOPIC, ALARM_FRAME)
    with pytest.raises(Rejected):
        verify(frame, SECRET + "x")


@pytest.mark.parametrize(
    ("frame", "detail"),
    [
        (b'{"ts":1764057600000,"seq":41}', "no sig"),
        (b'{"ts":1764057600000,"seq":41,"sig":null}', "no sig"),
        (b'{"ts":1764057600000,"seq":41,"sig":"abc"}', "64 hex"),
        (b'{"ts":1764057600000,"seq":41,"sig":' + b'"' + b"z" * 64 + b'"}', "64 hex"),
    ],
)
def test_unsigned_frames_are_unauthenticated(frame: bytes, detail: str) -> None:
    refusal = rejected(ALARM_TOPIC, frame)
    assert refusal.reason is Drop.UNAUTHENTICATED and detail in refusal.detail


# ----------------------------------------------------------------------- malformed frames


def test_oversized_frame_is_refused_before_it_is_parsed() -> None:
    big = b'{"pad":"' + b"x" * MAX_PAYLOAD_BYTES + b'"}'
    assert rejected(ALARM_TOPIC, big).reason is Drop.OVERSIZED
    # Just at the limit is read (and then judged on its content).
    at_limit = payload({"ts": 1764057600000, "seq": 1, "pad": ""})
    at_limit = payload({"ts": 1764057600000, "seq": 1, "pad": "x" * (MAX_PAYLOAD_BYTES - len(at_limit))})
    assert len(at_limit) == MAX_PAYLOAD_BYTES
    read_frame(ALARM_TOPIC, at_limit)


SIG = b'"sig":"' + b"0" * 64 + b'"'


@pytest.mark.parametrize(
    ("frame", "detail"),
    [
        (b"", "not JSON"),
        (b"press", "not JSON"),
        (b'{"ts":1764057600000,"seq":41,' + SIG, "not JSON"),  # truncated
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1,2]", "must be a JSON object"),
        (b'"alarm"', "must be a JSON object"),
        (b'{"ts":1764057600000.0,"seq":41,' + SIG + b"}", "integers"),
        (b'{"ts":1764057600000,"seq":41,"x":NaN,' + SIG + b"}", "NaN is not JSON"),
        (b'{"ts":1764057600000,"seq":41,"seq":42,' + SIG + b"}", "appears twice"),
        ('{"ts":1764057600000,"seq":41,"键":1,'.encode() + SIG + b"}", "not ASCII"),
        (b'{"ts":1764057600000,"seq":41,"x":99999999999999999999,' + SIG + b"}", "beyond 2^53"),
        (b'{"seq":41,' + SIG + b"}", "ts must be an integer"),
        (b'{"ts":"2025-11-25T08:00:00Z","seq":41,' + SIG + b"}", "ts must be an integer"),
        (b'{"ts":1764057600,"seq":41,' + SIG + b"}", "looks like seconds"),
        (b'{"ts":1764057600000,"seq":0,' + SIG + b"}", "seq must be"),
        (b'{"ts":1764057600000,"seq":true,' + SIG + b"}", "seq must be an integer"),
        (b'{"ts":1764057600000,"seq":41,"x":"\\ud800",' + SIG + b"}", "lone surrogate"),
        (b'{"ts":1764057600000,"seq":41,"x":' + b"[" * 5000 + b"]" * 5000 + b"," + SIG + b"}", ""),
    ],
)
def test_malformed_frames_are_refused_with_a_reason(frame: bytes, detail: str) -> None:
    refusal = rejected(ALARM_TOPIC, frame)
    # The deeply nested one is over the size limit as well: refused either way, never a crash.
    assert refusal.reason in (Drop.MALFORMED, Drop.OVERSIZED)
    if detail:
        assert refusal.reason is Drop.MALFORMED and detail in refusal.detail, refusal.detail


def test_deep_nesting_within_the_size_limit_is_malformed_not_a_crash() -> None:
    frame = b'{"ts":1764057600000,"seq":41,"x":' + b"[" * 1900 + b"]" * 1900 + b"," + SIG + b"}"
    assert len(frame) <= MAX_PAYLOAD_BYTES
    try:
        read_frame(ALARM_TOPIC, frame)
    except Rejected as refusal:
        assert refusal.reason is Drop.MALFORMED
    # (Python's parser may also accept this depth; it must only never raise anything else.)


@pytest.mark.parametrize(
    "topic",
    [
        "jingwu/v1/devices/col-baojian-001",
        "jingwu/v1/devices/col-baojian-001/alarm/extra",
        "jingwu/v1/devices/col-baojian-001/press",
        "jingwu/v1/devices/COL-1/alarm",
        "jingwu/v1/devices/x/alarm",
        "jingwu/v2/devices/col-baojian-001/alarm",
        "elsewhere/col-baojian-001/alarm",
    ],
)
def test_frames_on_topics_outside_the_scheme_are_malformed(topic: str) -> None:
    assert rejected(topic, ALARM_FRAME).reason is Drop.MALFORMED


# ------------------------------------------------------------------------ kind and time


def test_a_message_its_kind_of_device_does_not_send_is_the_wrong_kind() -> None:
    alarm = read_frame(ALARM_TOPIC, ALARM_FRAME)
    for kind in (DeviceKind.DOOR_READER, DeviceKind.VEHICLE_GATE):
        with pytest.raises(Rejected) as caught:
            check_kind(alarm, kind)
        assert caught.value.reason is Drop.WRONG_KIND
    door = read_frame(DOOR_TOPIC, DOOR_FRAME)
    with pytest.raises(Rejected) as caught:
        check_kind(door, DeviceKind.ALARM_COLUMN)
    assert caught.value.reason is Drop.WRONG_KIND


def test_frames_outside_the_time_window_are_stale() -> None:
    frame = read_frame(ALARM_TOPIC, ALARM_FRAME)
    check_fresh(frame, AT + timedelta(minutes=10))  # held through a short outage
    check_fresh(frame, AT - timedelta(minutes=2))  # a device clock a little ahead
    for now in (AT + timedelta(minutes=10, seconds=1), AT - timedelta(minutes=2, seconds=1)):
        with pytest.raises(Rejected) as caught:
            check_fresh(frame, now)
        assert caught.value.reason is Drop.STALE


# ------------------------------------------------------------------------ access fields


def _access(fields: dict[str, object], topic: str = DOOR_TOPIC) -> Frame:
    base: dict[str, object] = {"ts": 1764057600000, "seq": 9, "direction": "in", "result": "denied"}
    return read_frame(topic, payload(base | fields, topic))


@pytest.mark.parametrize(
    ("fields", "kind", "detail"),
    [
        ({"credential": "face"}, DeviceKind.DOOR_READER, "needs its ref"),
        ({"credential": "card", "ref": ""}, DeviceKind.DOOR_READER, "ref must be"),
        ({"credential": "card", "ref": "1" * 65}, DeviceKind.DOOR_READER, "ref must be"),
        ({"credential": "plate", "plate": "黑A12345"}, DeviceKind.DOOR_READER, "does not take plate"),
        ({"credential": "face", "ref": "e-1"}, DeviceKind.VEHICLE_GATE, "does not take face"),
        ({"credential": "card", "ref": "c-1", "plate": "黑A12345"}, DeviceKind.DOOR_READER, "only a gate"),
        ({"credential": "plate", "plate": "ABC-123"}, DeviceKind.VEHICLE_GATE, "not a plate"),
        ({"credential": "plate", "plate": 12345}, DeviceKind.VEHICLE_GATE, "plate must be"),
        ({"credential": "card", "ref": "c-1", "direction": "up"}, DeviceKind.DOOR_READER, "direction"),
        ({"credential": "card", "ref": "c-1", "result": None}, DeviceKind.DOOR_READER, "result"),
        ({"credential": "bribe"}, DeviceKind.DOOR_READER, "credential must be"),
    ],
)
def test_access_frames_with_bad_fields_are_malformed(
    fields: dict[str, object], kind: DeviceKind, detail: str
) -> None:
    with pytest.raises(Rejected) as caught:
        decode_access(_access(fields), kind)
    assert caught.value.reason is Drop.MALFORMED and detail in caught.value.detail, caught.value.detail


def test_an_unread_plate_is_kept_as_none() -> None:
    report = decode_access(_access({"credential": "plate", "plate": None}), DeviceKind.VEHICLE_GATE)
    assert report.plate is None and report.credential is CredentialType.PLATE


def test_a_remote_opening_needs_no_ref() -> None:
    report = decode_access(_access({"credential": "remote", "result": "granted"}), DeviceKind.DOOR_READER)
    assert report.ref is None and report.result is AccessResult.GRANTED


def test_alarm_test_flag_must_be_a_boolean() -> None:
    frame = read_frame(ALARM_TOPIC, payload({"ts": 1764057600000, "seq": 1, "test": "yes"}))
    with pytest.raises(Rejected) as caught:
        decode_alarm(frame)
    assert caught.value.reason is Drop.MALFORMED


def test_signed_payload_is_what_a_device_sends() -> None:
    fields: dict[str, object] = {"ts": 1764057600000, "seq": 41}
    sent = json.loads(signed_payload(SECRET, ALARM_TOPIC, fields))
    assert sent == {**fields, "sig": sign(SECRET, ALARM_TOPIC, fields)}
    assert sent["sig"] == "e9689d5a649052a11851c309af5997c75d39606219d5cef65d301ce5b9d8fbcb"
