"""What the cluster bus puts on NATS, and how it reads the broker: the JetStream stream of events
and its subjects, a message's bytes on the wire, and which of the broker's refusals are for good.
The bus itself (connection, outbox, delivery) is :mod:`jingwu.bus.nats`."""

from __future__ import annotations

import logging
import re

import pydantic_core
from nats.errors import MaxPayloadError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import APIError, BadRequestError, NotFoundError

from jingwu.bus.base import BusMessage

log = logging.getLogger(__name__)

#: Who published a message: a process drops the copies of its own that come back.
ORIGIN_HEADER = "Jingwu-Origin"
# The stream bridges a process's short absences; the database keeps the events for good.
STREAM_MAX_AGE_S = 3600.0
DUPLICATE_WINDOW_S = 120.0
STREAM_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


async def ensure_stream(
    js: JetStreamContext, stream: str, events_subject: str, positions_subject: str
) -> bool:
    """Create the stream if it is missing; an existing one is used as the operator left it
    (replicas, limits), as long as it holds our event subjects. Returns whether it also stores the
    positions subject, which it should not (the caller warns)."""
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        await _add_stream(js, stream, events_subject)
        return False
    subjects = info.config.subjects or []
    if not any(covers(held, f"{events_subject}.>") for held in subjects):
        raise RuntimeError(
            f"the stream {stream} exists but does not hold {events_subject}.> "
            f"(its subjects: {', '.join(subjects)})"
        )
    return any(covers(held, positions_subject) for held in subjects)


async def _add_stream(js: JetStreamContext, stream: str, events_subject: str) -> None:
    try:
        await js.add_stream(
            StreamConfig(
                name=stream,
                description="Jingwu: committed events of every server process (the database keeps them)",
                subjects=[f"{events_subject}.>"],
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE,
                discard=DiscardPolicy.OLD,
                max_age=STREAM_MAX_AGE_S,
                duplicate_window=DUPLICATE_WINDOW_S,
            )
        )
    except BadRequestError as exc:
        # Another process made it first, with a different configuration (an older release
        # during an upgrade): use theirs. Any other refusal (subjects taken by another
        # stream) stands.
        try:
            await js.stream_info(stream)
        except NotFoundError:
            raise exc from None
        return
    log.info("bus: created the JetStream stream %s", stream)


def encode(message: BusMessage) -> bytes:
    return pydantic_core.to_json(message.payload)  # compact UTF-8, as json.dumps but compiled


def parse(data: bytes, *, durable: bool, origin: str) -> BusMessage:
    """A message from the broker, checked for what the ordering and the subscribers rely on: a
    JSON object with a string ``type``, and an integer log ``id`` on the events subjects (an
    event without one, or with a string one, would break the log order) and none on the
    positions subject. Raises ValueError on anything else."""
    payload = pydantic_core.from_json(data)  # compiled: the positions subject carries the city's fleet
    if not isinstance(payload, dict):
        raise ValueError(f"not a JSON object but {type(payload).__name__}")
    event_type = payload.get("type")
    if not isinstance(event_type, str):
        raise ValueError(f"type {event_type!r} is not a string")
    event_id = payload.get("id")
    if durable:
        # bool is an int to Python, not to the log.
        if not isinstance(event_id, int) or isinstance(event_id, bool):
            raise ValueError(f"id {event_id!r} is not a log id")
    elif event_id is not None:
        raise ValueError(f"id {event_id!r} on the positions subject")
    return BusMessage(event_id, event_type, payload, origin=origin)


# JetStream's error for a message its stream's limits refuse (maximum messages or bytes with
# discard-new: NATS_JS_STREAM_STORE_FAILED). It stays so until old messages age out (an hour).
_JS_STREAM_STORE_FAILED = 10077


def refused_for_good(exc: Exception) -> bool:
    """Whether publishing the same event again cannot succeed: larger than the server takes, a
    request the stream rejects (400: larger than its largest message, ...), or the stream full
    and refusing new messages. Timeouts, no responders and JetStream being briefly unavailable
    (a leader election) are worth retrying."""
    if isinstance(exc, MaxPayloadError | TypeError | ValueError):  # the last two: not encodable
        return True
    if isinstance(exc, APIError):
        return exc.code == 400 or exc.err_code == _JS_STREAM_STORE_FAILED
    return False


def described(exc: Exception) -> str:
    """nats-py's API errors print as nothing much; their description says what happened."""
    if isinstance(exc, APIError):
        return f"{type(exc).__name__} {exc.code}/{exc.err_code}: {exc.description}"
    return str(exc) or type(exc).__name__


def covers(held: str, wanted: str) -> bool:
    """Whether the subject filter ``held`` matches every subject that ``wanted`` matches (an
    operator's stream on ``<stream>.>`` holds our ``<stream>.events.>``)."""
    held_tokens, wanted_tokens = held.split("."), wanted.split(".")
    for i, token in enumerate(held_tokens):
        if token == ">":
            return len(wanted_tokens) > i  # ">" needs at least one token
        if i >= len(wanted_tokens) or wanted_tokens[i] == ">":
            return False  # wanted goes deeper than held matches
        if token != "*" and token != wanted_tokens[i]:
            return False  # a literal covers only itself ("*" in wanted included)
    return len(held_tokens) == len(wanted_tokens)


def shown(url: str) -> str:
    """A NATS URL without its credentials, for logs and errors."""
    return re.sub(r"//[^@/]*@", "//***@", url)


__all__ = [
    "DUPLICATE_WINDOW_S",
    "ORIGIN_HEADER",
    "STREAM_MAX_AGE_S",
    "STREAM_NAME",
    "covers",
    "described",
    "encode",
    "ensure_stream",
    "parse",
    "refused_for_good",
    "shown",
]
