"""Community devices over MQTT, on the wire: the protocol (:mod:`.protocol`: topics, frames,
signatures, decoding) and where the broker is (:mod:`.broker`: ``JINGWU_MQTT_URL`` read into its
parts). Pure: imports nothing from jingwu but :mod:`jingwu.domain` and :mod:`jingwu.errors`.

What the messages do, and the MQTT client loop that receives them, are in
:mod:`jingwu.service.community_devices`."""

from jingwu.devices.protocol import (
    MAX_PAYLOAD_BYTES,
    TOPIC_FILTER,
    TOPIC_ROOT,
    AccessReport,
    AlarmPress,
    Drop,
    Frame,
    Heartbeat,
    Rejected,
    check_fresh,
    check_kind,
    decode_access,
    decode_alarm,
    decode_heartbeat,
    device_topic,
    read_frame,
    sign,
    signed_payload,
    verify,
)

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "TOPIC_FILTER",
    "TOPIC_ROOT",
    "AccessReport",
    "AlarmPress",
    "Drop",
    "Frame",
    "Heartbeat",
    "Rejected",
    "check_fresh",
    "check_kind",
    "decode_access",
    "decode_alarm",
    "decode_heartbeat",
    "device_topic",
    "read_frame",
    "sign",
    "signed_payload",
    "verify",
]
