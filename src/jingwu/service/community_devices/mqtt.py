"""The MQTT subscriber: a background task of the API process that hands every device message to
:meth:`CommunityDeviceService.handle`. Imported only where it runs (the API's start-up): it
brings in the MQTT client.

* **Once per cluster.** It subscribes with an MQTT v5 shared subscription
  (``$share/GROUP/jingwu/v1/devices/+/+``): the broker gives each message to one member of the
  group, so with several server processes every press opens one incident, not one per process.
  Always with a clean session (also with a fixed client id): a session kept for a member that is
  gone would have the broker hold that member's share of the messages.
* **Never crashes on what it receives.** ``handle`` counts and drops whatever is wrong with a
  message; a lost connection is logged and retried with back-off (1 s doubling to 30 s, with
  jitter), for as long as the process runs. So is a subscription the broker refuses (not
  authorised, no shared subscriptions): connected but deaf is a failure, not a state.
* **Bounded.** The broker is told not to send packets over 256 KiB at all (MQTT v5 Maximum Packet
  Size); anything over the protocol's 4 KiB that gets through is counted as oversized.
* Messages are handled one at a time, in the order the broker delivers them, on a worker thread
  (the store is synchronous), so a device's counter only ever grows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import ssl
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from jingwu.devices.broker import BrokerConfig
from jingwu.devices.protocol import TOPIC_FILTER
from jingwu.service.community_devices import CommunityDeviceService

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
KEEPALIVE_S = 30
CONNECT_TIMEOUT_S = 10.0
MAX_PACKET_BYTES = 256 * 1024
# SUBACK reason codes from here up are refusals (MQTT v5 §3.9.3; v3.1.1 has only 0x80).
SUBACK_FAILURE = 0x80


class SubscriptionRefused(aiomqtt.MqttError):
    """The broker answered the SUBSCRIBE with a refusal: connected, it would send us nothing."""

    def __init__(self, subscription: str, code: int, name: str) -> None:
        super().__init__(
            f"the broker refused the subscription to {subscription}: reason code 0x{code:02X} ({name})"
        )
        self.subscription = subscription
        self.code = code


def shared_subscription(group: str) -> str:
    return f"$share/{group}/{TOPIC_FILTER}"


def check_granted(subscription: str, granted: Sequence[int | ReasonCode]) -> None:
    """Raise :class:`SubscriptionRefused` unless the SUBACK granted the one subscription asked
    for: MQTT v5 reason codes (or v3.1.1 granted QoS) below 0x80."""
    if len(granted) != 1:
        raise SubscriptionRefused(subscription, SUBACK_FAILURE, f"{len(granted)} reason codes for 1 filter")
    [code] = granted
    value = code.value if isinstance(code, ReasonCode) else int(code)
    if value >= SUBACK_FAILURE:
        raise SubscriptionRefused(
            subscription, value, str(code) if isinstance(code, ReasonCode) else "failure"
        )


def default_client_id() -> str:
    """Unique to this subscriber: two clients with one id throw each other off the broker."""
    return f"jingwu-{socket.gethostname()[:32]}-{os.getpid()}-{secrets.token_hex(3)}"


def _client(config: BrokerConfig, client_id: str | None) -> aiomqtt.Client:
    properties = Properties(PacketTypes.CONNECT)
    properties.MaximumPacketSize = MAX_PACKET_BYTES
    # Always a clean start, and no Session Expiry Interval (0: the session ends with the
    # connection), even with a fixed client id, which is then only a name for the broker's ACLs
    # and logs. A session kept for a member of the shared subscription that is gone keeps it in
    # the group: the broker goes on handing it its share of the messages and holds them until it
    # comes back (alarms late by up to the session's life, a column's heartbeats split so that it
    # looks silent). Without it, the members still connected get every message.
    return aiomqtt.Client(
        config.host,
        config.port,
        username=config.username,
        password=config.password,
        identifier=client_id or default_client_id(),
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=True,
        keepalive=KEEPALIVE_S,
        timeout=CONNECT_TIMEOUT_S,
        properties=properties,
        tls_context=ssl.create_default_context() if config.tls else None,
    )


async def run_subscriber(
    devices: CommunityDeviceService,
    url: str,
    *,
    client_id: str | None = None,
    group: str = "jingwu",
) -> None:
    """Subscribe and handle device messages until cancelled, reconnecting whenever the
    connection is lost."""
    config = BrokerConfig.parse(url)
    subscription = shared_subscription(group)
    link = devices.link
    link.enabled, link.broker, link.subscription = True, config.redacted(), subscription
    backoff = BACKOFF_FIRST_S
    while True:
        try:
            async with _connected(devices, config, client_id, subscription) as client:
                backoff = BACKOFF_FIRST_S
                async for message in client.messages:
                    payload = message.payload
                    data = payload if isinstance(payload, bytes | bytearray) else str(payload or "").encode()
                    # handle() counts and drops whatever a device gets wrong; it does not raise.
                    await asyncio.to_thread(devices.handle, message.topic.value, bytes(data))
        except SubscriptionRefused as exc:
            # Not the network: the broker's configuration (ACLs, shared subscriptions off). Said
            # as an error, and tried again, in case the broker is being set up meanwhile.
            link.last_error = str(exc)[:200]
            log.error("MQTT broker %s: %s; retrying in %.0f s", config.redacted(), exc, backoff)
        except aiomqtt.MqttError as exc:
            link.last_error = str(exc)[:200]
            log.warning(
                "MQTT broker %s: %s; reconnecting in %.0f s",
                config.redacted(),
                exc or "connection lost",
                backoff,
            )
        except Exception as exc:  # a bug of ours must not end device intake for good
            link.last_error = f"{type(exc).__name__}: {exc}"[:200]
            log.exception("device subscriber failed; restarting in %.0f s", backoff)
        finally:
            link.connected = False
        link.reconnects += 1
        await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
        backoff = min(backoff * 2, BACKOFF_MAX_S)


@contextlib.asynccontextmanager
async def _connected(
    devices: CommunityDeviceService, config: BrokerConfig, client_id: str | None, subscription: str
) -> AsyncIterator[aiomqtt.Client]:
    async with _client(config, client_id) as client:
        check_granted(subscription, await client.subscribe(subscription, qos=1))
        link = devices.link
        link.connected, link.connected_since, link.last_error = True, datetime.now(UTC), None
        log.info("subscribed to %s at %s", subscription, config.redacted())
        yield client


__all__ = ["SubscriptionRefused", "check_granted", "run_subscriber", "shared_subscription"]
