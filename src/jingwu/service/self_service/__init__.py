"""Residents' self-service: sign-in by phone and one-time code, applications for residence permits
and certificates, on-site verification, approval, and certificates anyone can verify.

In parts, each its module: ``sign_in`` (codes and resident accounts), ``senders`` (how a code
reaches the phone), ``applications`` (the application's life), ``certificates`` (the PDF and its
verification), ``reports`` (non-urgent incidents from the resident app).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from jingwu.bus import Bus
from jingwu.domain.self_service import DEFAULT_KINDS, ApplicationKind, parse_kinds
from jingwu.service.auth.sessions import SessionService
from jingwu.service.self_service.applications import Application, Applications, DocumentInfo, NewApplication
from jingwu.service.self_service.certificates import Certificates, Standing
from jingwu.service.self_service.reports import Reports
from jingwu.service.self_service.senders import CodeSender, DemoSender, sender_named
from jingwu.service.self_service.sign_in import CodeSent, SignedIn, SignIn
from jingwu.settings import Settings
from jingwu.store.fieldcrypt import KeyRing

if TYPE_CHECKING:
    from jingwu.service.audit import AuditService
    from jingwu.service.dispatching import DispatchService
    from jingwu.service.geocoding import GeocodingService

# The public verification page: 30 look-ups a minute per address after a burst of 60, so that
# walking the code space (2^100) is hopeless and a scan of many codes is slow and visible.
VERIFY_PER_MINUTE = 30
VERIFY_BURST = 60
TRACKED_ADDRESSES = 10_000


class AddressLimit:
    """A token bucket per client address, in this process's memory (several processes each keep
    their own: the limit is their sum, still far too slow for an enumeration)."""

    def __init__(self, *, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when ``key`` may go ahead (one token spent), else the seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens - 1.0 if wait == 0.0 else tokens, now)
            while len(self._buckets) > TRACKED_ADDRESSES:
                self._buckets.popitem(last=False)
            return wait


def load_kinds(path: str | Path | None) -> tuple[ApplicationKind, ...]:
    """The bureau's kinds from a JSON file (``JINGWU_SERVICE_KINDS_FILE``), else the defaults."""
    if not path:
        return DEFAULT_KINDS
    return parse_kinds(json.loads(Path(path).read_text(encoding="utf-8")))


class SelfService:
    def __init__(
        self,
        engine: Engine,
        *,
        bus: Bus,
        keys: KeyRing,
        audit: AuditService,
        dispatch: DispatchService,
        geocoding: GeocodingService,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.bus = bus
        self.keys = keys
        self.audit = audit
        self.dispatch = dispatch
        self.geocoding = geocoding
        self.settings = settings
        self.clock = clock
        self.kinds: tuple[ApplicationKind, ...] = load_kinds(settings.service_kinds_file)
        self.sender: CodeSender = sender_named(settings.sms_sender, settings)
        self.verify_limit = AddressLimit(per_minute=VERIFY_PER_MINUTE, burst=VERIFY_BURST)
        sessions = SessionService(
            engine,
            token_ttl=timedelta(seconds=settings.token_ttl_s),
            idle_timeout=timedelta(seconds=settings.idle_timeout_s),
            clock=clock,
        )
        self.sign_in = SignIn(engine, keys=keys, sessions=sessions, sender=lambda: self.sender, clock=clock)
        self.certificates = Certificates(
            engine,
            kinds=lambda: self.kinds,
            zone=settings.zone,
            clock=clock,
            bureau=settings.bureau_name,
            public_url=settings.public_url or "",
        )
        self.applications = Applications(
            engine,
            keys=keys,
            kinds=lambda: self.kinds,
            today=self.today,
            clock=clock,
            issue_certificate=self.certificates.issue,
        )
        self.reports = Reports(dispatch)

    def today(self) -> date:
        return self.clock().astimezone(self.settings.zone).date()

    def kind_list(self) -> Sequence[ApplicationKind]:
        return self.kinds


__all__ = [
    "AddressLimit",
    "Application",
    "CodeSender",
    "CodeSent",
    "DemoSender",
    "DocumentInfo",
    "NewApplication",
    "SelfService",
    "SignedIn",
    "Standing",
    "load_kinds",
]
