"""What every look-up of a person asks for: a stated reason (kept in the audit log), and a pace
no one needs for their work — a rate limit per user, so that a stolen session or a curious
insider cannot page through the city's callers."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Query, Request

from jingwu.api.ratelimit import TokenBuckets
from jingwu.domain.access import Principal
from jingwu.errors import TooManyAttempts, ValidationFailed

# A dispatcher calling back a dozen callers in a busy hour is far inside this; a script is not.
LOOKUPS_PER_MINUTE = 30
LOOKUP_BURST = 30
MIN_REASON_CHARS = 4
MAX_REASON_CHARS = 200

LookupReason = Annotated[
    str,
    # The minimum is checked by reason_text (422 reason_required, which clients can explain),
    # not by the schema's generic refusal.
    Query(
        max_length=MAX_REASON_CHARS,
        description="why you look (e.g. 回拨报警人 / calling the reporter back), kept in the audit log",
    ),
]


def reason_text(reason: str) -> str:
    text = " ".join(reason.split())
    if len(text.replace(" ", "")) < MIN_REASON_CHARS:
        raise ValidationFailed(
            f"state why you look this person up (at least {MIN_REASON_CHARS} characters besides spaces)",
            code="reason_required",
        )
    return text


def lookup_buckets(request: Request) -> TokenBuckets:
    buckets: TokenBuckets | None = getattr(request.app.state, "lookup_buckets", None)
    if buckets is None:
        buckets = TokenBuckets(per_minute=LOOKUPS_PER_MINUTE, burst=LOOKUP_BURST)
        request.app.state.lookup_buckets = buckets
    return buckets


def limit_lookups(request: Request, principal: Principal) -> None:
    wait = lookup_buckets(request).take(principal.username)
    if wait > 0:
        seconds = math.ceil(wait)
        raise TooManyAttempts(f"too many look-ups of people; try again in {seconds} s", retry_after_s=seconds)


__all__ = [
    "MAX_REASON_CHARS",
    "MIN_REASON_CHARS",
    "LookupReason",
    "limit_lookups",
    "lookup_buckets",
    "reason_text",
]
