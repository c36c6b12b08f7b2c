"""JINGWU_MQTT_URL: read into its parts, checked at start-up, never shown with its password."""

from __future__ import annotations

import pytest

from jingwu.devices.broker import BrokerConfig
from jingwu.errors import ValidationFailed
from jingwu.settings import Settings


def test_plain_and_tls_urls_get_their_default_ports() -> None:
    assert BrokerConfig.parse("mqtt://127.0.0.1") == BrokerConfig("127.0.0.1", 1883, tls=False)
    assert BrokerConfig.parse("mqtts://broker.example") == BrokerConfig("broker.example", 8883, tls=True)
    assert BrokerConfig.parse("mqtt://broker:11883/").port == 11883


def test_credentials_are_read_and_the_password_never_shown() -> None:
    config = BrokerConfig.parse("mqtts://jingwu%40bureau:s%3Acret@broker:8883")
    assert (config.username, config.password) == ("jingwu@bureau", "s:cret")
    assert config.redacted() == "mqtts://jingwu@bureau@broker:8883"
    assert "s:cret" not in config.redacted()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://broker:1883", "mqtt:// or mqtts://"),
        ("mqtt://", "no host"),
        ("mqtt://broker:99999", "port"),
        ("mqtt://broker/jingwu/v1", "no path"),
        ("mqtt://broker?x=1", "no path"),
    ],
)
def test_bad_urls_are_refused_naming_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BrokerConfig.parse(url)


def test_a_bad_mqtt_url_is_refused_at_start_up_without_its_password() -> None:
    with pytest.raises(ValidationFailed) as refused:
        Settings.from_environment(
            {"JINGWU_MQTT_URL": "amqp://user:hunter2@broker"}, mqtt_url="amqp://user:hunter2@broker"
        )
    assert refused.value.code == "invalid_setting" and "JINGWU_MQTT_URL" in refused.value.message
    assert "hunter2" not in refused.value.message


def test_mqtt_settings_default_to_no_subscriber_and_the_jingwu_group() -> None:
    settings = Settings.from_environment({})
    assert settings.mqtt_url is None and settings.mqtt_client_id is None
    assert settings.mqtt_share_group == "jingwu"
