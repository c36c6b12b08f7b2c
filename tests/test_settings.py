from pathlib import Path

import pytest

from jingwu.errors import ValidationFailed
from jingwu.settings import Settings


def test_misspelt_setting_is_refused_naming_it() -> None:
    with pytest.raises(ValidationFailed) as err:
        Settings.from_environment({"JINGWU_ACK_TIMEOUT": "5"})
    assert err.value.code == "unknown_setting"
    assert "JINGWU_ACK_TIMEOUT" in err.value.message and "JINGWU_ACK_TIMEOUT_S" in err.value.message


def test_bad_setting_value_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINGWU_ACK_TIMEOUT_S", "abc")
    with pytest.raises(ValidationFailed) as err:
        Settings.from_environment()
    assert err.value.code == "invalid_setting" and "JINGWU_ACK_TIMEOUT_S" in err.value.message


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JINGWU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGWU_ACK_TIMEOUT_S", "12.5")
    monkeypatch.setenv("JINGWU_DEMO_PASSWORD", "not-a-platform-setting")
    settings = Settings.from_environment()
    assert settings.ack_timeout_s == 12.5
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'jingwu.db'}"


def test_speed_profile_read_as_json_and_bad_shape_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    rush = [1.0] * 7 + [0.6, 0.6] + [1.0] * 15
    monkeypatch.setenv("JINGWU_SPEED_PROFILE", '{"primary": ' + str(rush) + "}")
    assert Settings.from_environment().speed_profile == {"primary": rush}
    monkeypatch.setenv("JINGWU_SPEED_PROFILE", '{"primary": [0.6, 0.6]}')
    with pytest.raises(ValidationFailed) as err:
        Settings.from_environment()
    assert err.value.code == "invalid_setting" and "JINGWU_SPEED_PROFILE" in err.value.message
    monkeypatch.delenv("JINGWU_SPEED_PROFILE")
    assert Settings.from_environment().speed_profile == {}
