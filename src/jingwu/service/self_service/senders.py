"""How a sign-in code reaches the resident's phone: a pluggable sender.

``demo`` hands the code back so that the page shows it (the demo, the tests, embedding: there is
no SMS gateway there); ``log`` writes it to the server's log (a developer's machine); ``none``
refuses to send (503 ``sms_unavailable``: a production server without a gateway signs no resident
in, rather than leaking codes); ``package.module:factory`` names a real gateway, called with the
Settings and returning a :class:`CodeSender`.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any, Protocol

from jingwu.domain.identity import mask_phone
from jingwu.errors import UserError, ValidationFailed

log = logging.getLogger(__name__)


class SenderUnavailable(UserError):
    http_status = 503
    code = "sms_unavailable"


class CodeSender(Protocol):
    """Sends ``code`` to ``phone`` (E.164). ``shows_code``: whether the code may be handed back to
    the client (only the demo sender's is)."""

    shows_code: bool

    def send(self, phone: str, code: str, *, ttl_s: int) -> None: ...


class DemoSender:
    """No message at all: the answer carries the code and the page shows it."""

    shows_code = True

    def send(self, phone: str, code: str, *, ttl_s: int) -> None:
        return None


class LogSender:
    """The code in the server's log (masked phone): a developer's stand-in for a gateway."""

    shows_code = False

    def send(self, phone: str, code: str, *, ttl_s: int) -> None:
        log.warning("sign-in code for %s: %s (valid %d s)", mask_phone(phone), code, ttl_s)


class NoSender:
    shows_code = False

    def send(self, phone: str, code: str, *, ttl_s: int) -> None:
        raise SenderUnavailable(
            "no SMS gateway is configured (JINGWU_SMS_SENDER): phone sign-in is unavailable",
        )


def sender_named(name: str, settings: Any) -> CodeSender:
    """The sender a setting names (see the module's docstring)."""
    if name == "demo":
        return DemoSender()
    if name == "log":
        return LogSender()
    if name in ("", "none"):
        return NoSender()
    module, _, attribute = name.partition(":")
    if not attribute:
        raise ValidationFailed(
            f"JINGWU_SMS_SENDER {name!r}: demo, log, none or package.module:factory", code="bad_sms_sender"
        )
    factory = getattr(importlib.import_module(module), attribute)
    sender: CodeSender = factory(settings)
    return sender


__all__ = ["CodeSender", "DemoSender", "LogSender", "NoSender", "SenderUnavailable", "sender_named"]
