"""`jingwu device-register` and `jingwu device-secret`: the secret printed once, and working."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jingwu.cli import main
from jingwu.devices.protocol import device_topic, signed_payload
from jingwu.domain.devices import MessageKind


def _printed_secret(out: str) -> str:
    secrets = [line.strip() for line in out.splitlines() if line.strip().startswith("dsk_")]
    assert len(secrets) == 1, out
    return secrets[0]


@pytest.fixture
def data_dir(migrated_data_dir: Path) -> Path:
    return migrated_data_dir


def test_device_register_prints_a_working_secret_once_and_device_secret_replaces_it(
    data_dir: Path, network: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from jingwu.composition import build_services
    from jingwu.settings import Settings

    base = ["--data-dir", str(data_dir)]
    args = ["device-register", "col-cli-1", "alarm_column", "--community", "保健路社区"]
    assert main([*base, *args, "--lat", "45.7560", "--lon", "126.6420", "--address", "保健路12号"]) == 0
    out = capsys.readouterr().out
    first = _printed_secret(out)
    assert "shown only this once" in out and "jingwu/v1/devices/col-cli-1/" in out
    assert main([*base, "device-secret", "col-cli-1"]) == 0
    out = capsys.readouterr().out
    second = _printed_secret(out)
    assert second != first and "old secret no longer works" in out

    services = build_services(Settings.from_environment(), migrate=False)
    try:
        topic = device_topic("col-cli-1", MessageKind.HEARTBEAT)
        fields = {"ts": int(time.time() * 1000), "seq": 1}
        assert (
            services.community_devices.handle(topic, signed_payload(first, topic, fields)) is not None
        )  # refused
        assert services.community_devices.handle(topic, signed_payload(second, topic, fields)) is None
        device = services.community_devices.get("col-cli-1")
        assert device.address == "保健路12号" and device.state == "online"
    finally:
        services.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "device-register",
                "col-river",
                "alarm_column",
                "--community",
                "c",
                "--lat",
                "45.786",
                "--lon",
                "126.534",
            ],
            "from the nearest road",
        ),
        (
            [
                "device-register",
                "Col/1",
                "alarm_column",
                "--community",
                "c",
                "--lat",
                "45.756",
                "--lon",
                "126.642",
            ],
            "a device id is",
        ),
        (
            [
                "device-register",
                "col-2",
                "alarm_column",
                "--community",
                "c",
                "--lat",
                "95",
                "--lon",
                "126.642",
            ],
            "latitude",
        ),
        (["device-secret", "col-nobody"], "no device 'col-nobody'"),
    ],
)
def test_device_commands_refuse_in_one_line(
    data_dir: Path, network: object, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["--data-dir", str(data_dir), *args]) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], captured.err
    assert "dsk_" not in captured.out
