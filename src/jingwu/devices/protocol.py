"""The community-device wire protocol (pure: bytes in, records or a refusal out). See docs/devices.md.

Topics: ``jingwu/v1/devices/{device_id}/{alarm|access|heartbeat}``. Payload: one JSON object of
at most :data:`MAX_PAYLOAD_BYTES`, UTF-8, with

* ``ts``: when it happened, Unix time in milliseconds (an integer);
* ``seq``: the device's message counter, an integer that grows with every message (1 … 2^53-1);
* ``sig``: HMAC-SHA256, in lower-case hex, keyed with the device's secret, over the topic, a
  newline and the canonical form of the object without ``sig``;
* the fields of its kind (see the decoders below). Unknown fields are ignored (a newer
  firmware may send more), but they are signed like the rest.

Why a signature in the message and not only broker log-ins: in many communities one gateway (or
one property company's account) talks to the broker for every device, so a broker user says
little about which device spoke; and a bridged or shared broker is not ours. The signature says
which device sent a message and that nobody changed it on the way, whatever carried it.

The canonical form is RFC 8785 (JCS) for the values allowed here: object keys sorted, no
whitespace, strings in UTF-8 with only the escapes JSON requires. Numbers must be integers:
there is no portable canonical text for a fraction, so a payload with one is refused.

Every refusal is a :class:`Rejected` with a :class:`Drop` reason; the subscriber counts them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import NoReturn, TypeVar

from jingwu.domain.devices import (
    ACCESS_KIND_OF,
    CREDENTIALS_OF,
    DEVICE_ID_PATTERN,
    MESSAGES_OF,
    AccessKind,
    AccessResult,
    CredentialType,
    DeviceKind,
    Direction,
    MessageKind,
)
from jingwu.domain.identity import parse_plate
from jingwu.errors import ValidationFailed

TOPIC_ROOT = "jingwu/v1/devices"
TOPIC_FILTER = f"{TOPIC_ROOT}/+/+"
MAX_PAYLOAD_BYTES = 4096
# How far a message's own time may lie from ours. Late: a device that queued its messages
# through a short outage (or a broker that held them for us while we restarted); a clock a
# little ahead. Older or further ahead is refused, which also bounds what a replay could do
# to a device whose counter was reset.
MAX_AGE = timedelta(minutes=10)
MAX_AHEAD = timedelta(minutes=2)
SEQ_MAX = 2**53 - 1  # the largest integer every JSON parser keeps exact
# ts bounds: 2020-01-01 … 2100-01-01 in milliseconds. A ts in seconds (a common firmware
# mistake) falls below and is refused with a message that says so.
TS_MIN_MS = 1_577_836_800_000
TS_MAX_MS = 4_102_444_800_000
REF_MAX_CHARS = 64
_SIG = re.compile(r"[0-9a-f]{64}")
_E = TypeVar("_E", bound=StrEnum)


class Drop(StrEnum):
    """Why a message was dropped (the subscriber's counters)."""

    OVERSIZED = "oversized"  # more than MAX_PAYLOAD_BYTES
    MALFORMED = "malformed"  # bad topic, not UTF-8 JSON, a field missing or of the wrong type
    UNKNOWN_DEVICE = "unknown_device"  # no device registered under the topic's id
    UNAUTHENTICATED = "unauthenticated"  # no signature, or one that does not match
    WRONG_KIND = "wrong_kind"  # e.g. an alarm from a door reader
    STALE = "stale"  # ts too old or too far ahead
    REPLAYED = "replayed"  # seq not above the last one accepted from the device
    FAILED = "failed"  # ours: the store failed while handling it (a traceback a minute at most)


class Rejected(Exception):
    """A message refused; ``detail`` says why in words for the log (never a secret)."""

    def __init__(self, reason: Drop, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _malformed(detail: str) -> NoReturn:
    raise Rejected(Drop.MALFORMED, detail)


@dataclass(frozen=True, slots=True)
class Frame:
    """A message that is well-formed JSON with its envelope; not yet authenticated."""

    topic: str
    device_id: str
    kind: MessageKind
    ts: datetime
    seq: int
    sig: str
    fields: Mapping[str, object]  # the object without ``sig``: what was signed


def device_topic(device_id: str, kind: MessageKind) -> str:
    return f"{TOPIC_ROOT}/{device_id}/{kind}"


def parse_topic(topic: str) -> tuple[str, MessageKind]:
    prefix = TOPIC_ROOT + "/"
    if not topic.startswith(prefix):
        _malformed(f"topic {topic[:120]!r} is not under {TOPIC_ROOT}/")
    device_id, _, kind_text = topic[len(prefix) :].partition("/")
    if not DEVICE_ID_PATTERN.fullmatch(device_id):
        _malformed(f"topic {topic[:120]!r}: not a device id")
    try:
        kind = MessageKind(kind_text)
    except ValueError:
        _malformed(f"topic {topic[:120]!r}: the last level must be alarm, access or heartbeat")
    return device_id, kind


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # A repeated key would be signed as the device wrote it and read as the parser chose.
    result: dict[str, object] = {}
    for key, value in pairs:
        if not key.isascii():
            # Keys sort by UTF-16 unit in RFC 8785 and by code point here: the same for ASCII.
            _malformed(f"key {key[:40]!r} is not ASCII")
        if key in result:
            _malformed(f"key {key[:40]!r} appears twice")
        result[key] = value
    return result


def _no_fraction(text: str) -> NoReturn:
    _malformed(f"numbers must be integers (got {text[:40]})")


def _bounded_int(text: str) -> int:
    # RFC 8785 writes numbers as a JavaScript double would; integers within 2^53 stay digits.
    value = int(text)
    if abs(value) > SEQ_MAX:
        _malformed(f"integer {text[:24]} is beyond 2^53")
    return value


def _no_constant(text: str) -> NoReturn:
    _malformed(f"{text} is not JSON")


def canonical(fields: Mapping[str, object]) -> bytes:
    """The RFC 8785 form of an object of strings, integers, booleans, null, arrays and objects."""
    return json.dumps(
        fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def signing_input(topic: str, fields: Mapping[str, object]) -> bytes:
    """What the signature covers: the topic (so that a heartbeat cannot be replayed as an alarm,
    nor one device's message as another's), a newline, the canonical object without ``sig``."""
    return topic.encode("utf-8") + b"\n" + canonical(fields)


def sign(secret: str, topic: str, fields: Mapping[str, object]) -> str:
    """The ``sig`` of a message: HMAC-SHA256 keyed with the secret's UTF-8 bytes, hex."""
    return hmac.new(secret.encode("utf-8"), signing_input(topic, fields), hashlib.sha256).hexdigest()


def signed_payload(secret: str, topic: str, fields: Mapping[str, object]) -> bytes:
    """A complete payload, as a device sends it (for the simulator, tests and tools)."""
    return json.dumps({**fields, "sig": sign(secret, topic, fields)}, ensure_ascii=False).encode("utf-8")


def _integer(obj: Mapping[str, object], key: str) -> int:
    value = obj.get(key)
    if type(value) is not int:  # bool is an int to Python, not to the protocol
        _malformed(f"{key} must be an integer")
    return value


def read_frame(topic: str, payload: bytes) -> Frame:
    """Check a message's size, topic, JSON and envelope (``ts``, ``seq``, ``sig``)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Rejected(Drop.OVERSIZED, f"{len(payload)} bytes (at most {MAX_PAYLOAD_BYTES})")
    device_id, kind = parse_topic(topic)
    try:
        text = payload.decode("utf-8")
        obj = json.loads(
            text,
            object_pairs_hook=_no_duplicate_keys,
            parse_float=_no_fraction,
            parse_int=_bounded_int,
            parse_constant=_no_constant,
        )
    except UnicodeDecodeError:
        _malformed("not UTF-8")
    except RecursionError:
        _malformed("nested too deeply")
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        _malformed(f"not JSON ({exc})")
    if not isinstance(obj, dict):
        _malformed("the payload must be a JSON object")
    sig = obj.pop("sig", None)
    if sig is None:
        raise Rejected(Drop.UNAUTHENTICATED, "no sig")
    if not isinstance(sig, str) or not _SIG.fullmatch(sig.lower()):
        raise Rejected(Drop.UNAUTHENTICATED, "sig is not 64 hex digits")
    ts_ms = _integer(obj, "ts")
    if not TS_MIN_MS <= ts_ms < TS_MAX_MS:
        _malformed(
            "ts must be Unix time in milliseconds"
            + (" (this looks like seconds)" if 1_500_000_000 <= ts_ms < 4_200_000_000 else "")
        )
    seq = _integer(obj, "seq")
    if not 1 <= seq <= SEQ_MAX:
        _malformed(f"seq must be 1 … {SEQ_MAX}")
    try:
        canonical(obj)
    except UnicodeEncodeError:
        _malformed("a string holds a lone surrogate")
    return Frame(
        topic=topic,
        device_id=device_id,
        kind=kind,
        ts=datetime.fromtimestamp(ts_ms / 1000, UTC),
        seq=seq,
        sig=sig.lower(),
        fields=obj,
    )


def verify(frame: Frame, secret: str) -> None:
    """The signature was made with ``secret`` over this very topic and object."""
    expected = sign(secret, frame.topic, frame.fields)
    if not hmac.compare_digest(expected, frame.sig):
        raise Rejected(Drop.UNAUTHENTICATED, "the signature does not match")


def check_kind(frame: Frame, device_kind: DeviceKind) -> None:
    if frame.kind not in MESSAGES_OF[device_kind]:
        raise Rejected(Drop.WRONG_KIND, f"a {device_kind} does not send {frame.kind} messages")


def check_fresh(frame: Frame, now: datetime) -> None:
    if frame.ts < now - MAX_AGE:
        raise Rejected(Drop.STALE, f"ts {frame.ts.isoformat()} is more than {MAX_AGE} old")
    if frame.ts > now + MAX_AHEAD:
        raise Rejected(Drop.STALE, f"ts {frame.ts.isoformat()} is more than {MAX_AHEAD} ahead")


def _optional_text(obj: Mapping[str, object], key: str, max_chars: int) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_chars:
        _malformed(f"{key} must be a text of 1-{max_chars} characters")
    return value.strip()


def _choice(obj: Mapping[str, object], key: str, enum: type[_E]) -> _E:
    value = obj.get(key)
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return enum(value)
    except ValueError:
        _malformed(f"{key} must be one of {', '.join(str(m) for m in enum)}")


# ------------------------------------------------------------------------ one decoder a kind


@dataclass(frozen=True, slots=True)
class AlarmPress:
    """``…/alarm``: the button was pressed. ``"test": true`` marks a maintenance test press,
    which keeps the device's record but opens no incident."""

    ts: datetime
    seq: int
    test: bool = False


def decode_alarm(frame: Frame) -> AlarmPress:
    test = frame.fields.get("test", False)
    if not isinstance(test, bool):
        _malformed("test must be true or false")
    return AlarmPress(ts=frame.ts, seq=frame.seq, test=test)


@dataclass(frozen=True, slots=True)
class AccessReport:
    """``…/access``: someone or some vehicle passed (or was refused) at a door or gate."""

    ts: datetime
    seq: int
    access: AccessKind
    direction: Direction
    credential: CredentialType
    ref: str | None  # the credential's id as the reader knows it; kept only masked and indexed
    plate: str | None  # a gate's plate, checked and normalised (黑A12345); None: not read
    result: AccessResult


def decode_access(frame: Frame, device_kind: DeviceKind) -> AccessReport:
    """Fields: ``direction`` (in/out), ``credential`` (card, face, qr, pin, plate, remote; those
    the kind of reader takes), ``ref`` (required for card, face, qr and pin: a serial, an
    enrolment or pass id, a PIN's slot — never the PIN), ``plate`` (gates; null when the camera
    could not read it; a text that is not a plate is refused) and ``result`` (granted/denied)."""
    access = ACCESS_KIND_OF.get(device_kind)
    if access is None:
        raise Rejected(Drop.WRONG_KIND, f"a {device_kind} does not send access messages")
    fields = frame.fields
    direction = _choice(fields, "direction", Direction)
    credential = _choice(fields, "credential", CredentialType)
    if credential not in CREDENTIALS_OF[device_kind]:
        _malformed(f"a {device_kind} does not take {credential} credentials")
    ref = _optional_text(fields, "ref", REF_MAX_CHARS)
    if ref is None and credential in (
        CredentialType.CARD,
        CredentialType.FACE,
        CredentialType.QR,
        CredentialType.PIN,
    ):
        _malformed(f"a {credential} credential needs its ref")
    plate: str | None = None
    raw_plate = fields.get("plate")
    if raw_plate is not None:
        if access is not AccessKind.GATE:
            _malformed("only a gate reports a plate")
        if not isinstance(raw_plate, str) or len(raw_plate) > 16:
            _malformed("plate must be a plate number")
        try:
            plate = parse_plate(raw_plate).number
        except ValidationFailed:
            _malformed("plate is not a plate number")
    result = _choice(fields, "result", AccessResult)
    return AccessReport(
        ts=frame.ts,
        seq=frame.seq,
        access=access,
        direction=direction,
        credential=credential,
        ref=ref,
        plate=plate,
        result=result,
    )


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """``…/heartbeat``: the device is alive. The envelope is all it needs; fields a device adds
    (battery, firmware) are signed and ignored."""

    ts: datetime
    seq: int


def decode_heartbeat(frame: Frame) -> Heartbeat:
    return Heartbeat(ts=frame.ts, seq=frame.seq)


__all__ = [
    "MAX_AGE",
    "MAX_AHEAD",
    "MAX_PAYLOAD_BYTES",
    "SEQ_MAX",
    "TOPIC_FILTER",
    "TOPIC_ROOT",
    "AccessReport",
    "AlarmPress",
    "Drop",
    "Frame",
    "Heartbeat",
    "Rejected",
    "canonical",
    "check_fresh",
    "check_kind",
    "decode_access",
    "decode_alarm",
    "decode_heartbeat",
    "device_topic",
    "parse_topic",
    "read_frame",
    "sign",
    "signed_payload",
    "signing_input",
    "verify",
]
