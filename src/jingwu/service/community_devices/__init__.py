"""Community devices: the registry, what their messages do, and who went silent.

* **Registry** (:mod:`.registry`). A device is registered with its kind, community and place
  (checked against the roads: a car must be able to get there) and gets a secret, shown once,
  that signs its messages. The secret is stored sealed with the field keys, bound to the
  device's row (:mod:`.sealing`).
* **Messages** (:mod:`.messages`, :meth:`CommunityDeviceService.handle`, called by the MQTT loop
  of :mod:`.mqtt` for each one): the frame is checked (:mod:`jingwu.devices.protocol`), its
  signature verified with the device's secret, its counter claimed against replays in the same
  transaction as its effect (:mod:`.claim`):

  - an alarm-column press opens a priority-1 incident at the column's registered place (source
    ``alarm_device``, the device as its actor); a press within two minutes of the previous one,
    while that incident is open, is a note on it instead (:mod:`.alarms`);
  - a door or gate passage is kept as an access event (credential and plate indexed and masked;
    :mod:`.access`);
  - any message marks the device online (``device.online`` when it was not).

  Whatever is wrong with a message, it is counted by reason, logged (at most a few lines a
  minute per reason) and dropped (:mod:`.counters`); nothing a device sends raises out of
  ``handle``.
* **Silence** (:mod:`.sweep`, :meth:`CommunityDeviceService.sweep_offline`, from the API's timer):
  a device that missed three heartbeat intervals goes offline with a ``device.offline`` event, an
  alert for an alarm column.

Events go through :meth:`DispatchService.commit`, so they are logged and published in order with
every other event; a message that changes no state (a heartbeat of a device already online, an
access event) takes a shorter transaction of its own and publishes nothing.

:mod:`.mqtt` (the MQTT client loop) is not imported here: only the API's start-up needs it, and it
brings in the MQTT client library.
"""

from jingwu.service.community_devices.access import AccessEvent
from jingwu.service.community_devices.counters import Counters, LinkState
from jingwu.service.community_devices.registry import (
    ADDRESS_MAX_CHARS,
    DeviceRegistry,
    NewDevice,
    device_from_row,
    device_view,
)
from jingwu.service.community_devices.sealing import (
    check_device_keys,
    device_secret_context,
    new_device_secret,
    reseal_device_fields,
)
from jingwu.service.community_devices.service import CommunityDeviceService

__all__ = [
    "ADDRESS_MAX_CHARS",
    "AccessEvent",
    "CommunityDeviceService",
    "Counters",
    "DeviceRegistry",
    "LinkState",
    "NewDevice",
    "check_device_keys",
    "device_from_row",
    "device_secret_context",
    "device_view",
    "new_device_secret",
    "reseal_device_fields",
]
