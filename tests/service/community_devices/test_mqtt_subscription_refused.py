"""A subscription the broker refuses (SUBACK reason code 0x80 and above) is an error that is logged
and retried like a lost connection, not a connection that looks fine and hears nothing.

The refusal comes from a real Mosquitto of this test's own, on a free port, whose dynamic-security
plugin lets nobody subscribe (0x87, not authorised): the shared broker on 1883 grants everything."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import glob
import json
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from jingwu.composition import Services
from jingwu.service.community_devices.mqtt import (
    SubscriptionRefused,
    check_granted,
    run_subscriber,
    shared_subscription,
)
from tests.conftest import ServicesFactory
from tests.service.community_devices.test_mqtt import until

SUBSCRIPTION = shared_subscription("jingwu")
DYNSEC_PLUGIN_GLOBS = (
    "/usr/lib/*/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto/mosquitto_dynamic_security.so",
)


# ----------------------------------------------------------------------------- the check itself


def test_granted_qos_passes_and_every_refusal_code_raises_naming_the_topic_and_code() -> None:
    check_granted(SUBSCRIPTION, [ReasonCode(PacketTypes.SUBACK, identifier=1)])
    check_granted(SUBSCRIPTION, (0,))  # MQTT 3.1.1: the granted QoS
    for code in (0x80, 0x87, 0x8F, 0x9E, 0xA2):
        with pytest.raises(SubscriptionRefused) as refused:
            check_granted(SUBSCRIPTION, [ReasonCode(PacketTypes.SUBACK, identifier=code)])
        assert refused.value.code == code
        assert SUBSCRIPTION in str(refused.value) and f"0x{code:02X}" in str(refused.value)
    with pytest.raises(SubscriptionRefused, match="0x9E \\(Shared subscription not supported\\)"):
        check_granted(SUBSCRIPTION, [ReasonCode(PacketTypes.SUBACK, identifier=0x9E)])
    with pytest.raises(SubscriptionRefused, match="0x80"):
        check_granted(SUBSCRIPTION, (0x80,))  # MQTT 3.1.1's failure
    with pytest.raises(SubscriptionRefused):
        check_granted(SUBSCRIPTION, [])  # a SUBACK without a code for our filter


# ----------------------------------------------------------------------------- a refusing broker


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def refusing_broker(tmp_path: Path) -> Iterator[str]:
    """The URL of a Mosquitto of our own that refuses every subscription, or a skip."""
    binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    plugins = [p for pattern in DYNSEC_PLUGIN_GLOBS for p in glob.glob(pattern)]
    if binary is None or not plugins:
        pytest.skip("needs the mosquitto binary and its dynamic-security plugin")
    (tmp_path / "dynsec.json").write_text(
        json.dumps(
            {
                "defaultACLAccess": {
                    "publishClientSend": True,
                    "publishClientReceive": True,
                    "subscribe": False,
                    "unsubscribe": True,
                },
                "clients": [],
                "groups": [],
                "roles": [],
            }
        )
    )
    port = _free_port()
    (tmp_path / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        f"plugin {plugins[0]}\n"
        f"plugin_opt_config_file {tmp_path / 'dynsec.json'}\n"
        "persistence false\n"
        # Run as whoever runs the tests (as root, Mosquitto would switch to a user that cannot
        # read this directory).
        f"user {getpass.getuser()}\n"
    )
    log_file = (tmp_path / "mosquitto.log").open("w")
    broker = subprocess.Popen(
        [binary, "-c", str(tmp_path / "mosquitto.conf")], stdout=log_file, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if broker.poll() is not None or time.monotonic() > deadline:
                    pytest.skip(
                        f"our Mosquitto did not start: {(tmp_path / 'mosquitto.log').read_text()[-500:]}"
                    )
                time.sleep(0.05)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        broker.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            broker.wait(timeout=5)
        if broker.poll() is None:
            broker.kill()
            broker.wait()
        log_file.close()


@pytest.mark.parametrize("migrated_database_url", ["sqlite"], indirect=True)
def test_a_refused_subscription_is_logged_as_an_error_and_retried_never_connected(
    make_services: ServicesFactory, refusing_broker: str, caplog: pytest.LogCaptureFixture
) -> None:
    services: Services = make_services(use_clock=False)
    link = services.community_devices.link

    async def scenario() -> None:
        task = asyncio.create_task(
            run_subscriber(services.community_devices, refusing_broker, group="jingwu")
        )
        try:
            await until(lambda: link.reconnects >= 2, "two refused attempts")
            assert not link.connected and not task.done()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    with caplog.at_level(logging.INFO, logger="jingwu.service.community_devices.mqtt"):
        asyncio.run(scenario())
    assert link.last_error is not None and "0x87" in link.last_error and SUBSCRIPTION in link.last_error
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) >= 2
    assert all(SUBSCRIPTION in e and "0x87 (Not authorized)" in e for e in errors)
    assert not any("subscribed to" in r.getMessage() for r in caplog.records)
