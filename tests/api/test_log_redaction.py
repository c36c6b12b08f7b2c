"""Secrets that clients must put in URLs never reach the server's logs."""

from __future__ import annotations

import logging

from jingwu.api.log_redaction import RedactTokens


def test_server_logs_never_show_a_live_stream_token() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:50000", "/api/events?access_token=s3cret-T0ken_x&after=5"),
        None,
    )
    RedactTokens().filter(record)
    assert "s3cret" not in record.getMessage()
    assert "access_token=***&after=5" in record.getMessage()
