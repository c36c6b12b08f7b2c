"""The real MQTT broker (Mosquitto on this machine; ``make test`` starts it when it is down)."""

from __future__ import annotations

import os
import socket

import pytest

from jingwu.devices.broker import BrokerConfig

DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"


@pytest.fixture(scope="session")
def mqtt_url() -> str:
    """The URL of a reachable MQTT broker (JINGWU_TEST_MQTT_URL), or a skip (a failure under CI)."""
    url = os.environ.get("JINGWU_TEST_MQTT_URL", DEFAULT_MQTT_URL)
    config = BrokerConfig.parse(url)
    try:
        socket.create_connection((config.host, config.port), timeout=2).close()
    except OSError as exc:
        message = (
            f"no MQTT broker at {config.redacted()} ({exc}). Start one (`mosquitto -d`, or `make test`, "
            "which starts Mosquitto when it is down) or point JINGWU_TEST_MQTT_URL at one."
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " Under CI a missing broker is a failure.")
        pytest.skip(message)
    return url
