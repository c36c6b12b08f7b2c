"""Secrets that clients must put in URLs, kept out of the server's logs."""

from __future__ import annotations

import logging
import re


class RedactTokens(logging.Filter):
    """Live-stream URLs carry the bearer token (browsers cannot set WebSocket headers), and OsmAnd
    reports the device key as their ``id`` (phone apps cannot set headers either): keep both out
    of the server's logs."""

    _pattern = re.compile(r"(access_token=)[^&\s\"']+")
    _osmand_key = re.compile(r"([?&](?:id|deviceid)=)[^&\s\"']+")

    def _redact(self, text: str) -> str:
        text = self._pattern.sub(r"\1***", text)
        return self._osmand_key.sub(r"\1***", text) if "/api/osmand" in text else text

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(self._redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = self._redact(record.msg)
        return True


def redact_server_logs() -> None:
    """Filter uvicorn's request and error logs, where the URLs are written."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).addFilter(RedactTokens())


__all__ = ["RedactTokens", "redact_server_logs"]
