"""Rate limits on log-in, per client address: password guessing across many accounts (which the
per-account lock-out cannot see) is slowed to a crawl, and a flood is answered with 429.

A token bucket per address: ``burst`` attempts at once (20: a shift change at one desk), refilled
at ``per_minute`` (10). Kept in this
process's memory — several processes each keep their own, so the effective limit is the sum;
what matters is that no one address can try thousands of passwords a minute.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from jingwu.api.refusals import error_response
from jingwu.errors import TooManyAttempts

LOGIN_PATH = "/api/auth/login"
TRACKED_ADDRESSES = 10_000  # the least recently seen are forgotten beyond this


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    def __init__(self, *, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when ``key`` may go ahead now (one token is spent), else the seconds to wait."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.pop(key, None) or _Bucket(float(self.burst), now)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            self._buckets[key] = bucket
            while len(self._buckets) > TRACKED_ADDRESSES:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate


class LoginRateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, per_minute: float = 10, burst: int = 20) -> None:
        self.app = app
        self.buckets = TokenBuckets(per_minute=per_minute, burst=burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope.get("path") == LOGIN_PATH:
            client = scope.get("client")
            wait = self.buckets.take(client[0] if client else "unknown")
            if wait > 0:
                seconds = math.ceil(wait)
                refusal = error_response(
                    TooManyAttempts(
                        f"too many log-ins from this address; try again in {seconds} s",
                        retry_after_s=seconds,
                    ),
                    headers={"Retry-After": str(seconds)},
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


__all__ = ["LoginRateLimitMiddleware", "TokenBuckets"]
