"""The camera registry's sealed credentials: opened for the workers, re-sealed by a key rotation,
and a wrong key refused at start-up rather than leaving every camera unreadable."""

from __future__ import annotations

import pytest

from jingwu.service.personal_data import check_field_keys, holds_sealed_data
from jingwu.service.video.registry import reseal_camera_credentials
from jingwu.store.fieldcrypt import FieldCryptError, KeyRing
from tests.conftest import ServicesFactory

URL = "rtsp://admin:p%40ss:word@10.1.2.3:554/ch1"


def test_credentials_survive_a_key_rotation_and_a_wrong_key_is_refused(
    make_services: ServicesFactory,
) -> None:
    services = make_services(use_clock=False)
    assert not holds_sealed_data(services.engine)
    fields = {
        "name": "北门",
        "kind": "fixed",
        "stream_url": URL,
        "lat": 45.756,
        "lon": 126.642,
        "heading_deg": 0,
    }
    camera = services.video.add(fields, actor="t", source=None, probe=False)
    assert holds_sealed_data(services.engine)
    assert services.video.registry.readable()[camera.id] == "rtsp://admin:p%40ss%3Aword@10.1.2.3:554/ch1"
    credentials = services.video.registry.credentials_of(camera.id)
    assert credentials is not None and credentials.password == "p@ss:word"

    old = services.video.registry.keys
    new, _line = old.with_new_key("k-next")
    assert reseal_camera_credentials(services.engine, new) == 1
    assert reseal_camera_credentials(services.engine, new) == 0  # already under the new key
    services.video.registry.keys = new
    reopened = services.video.registry.credentials_of(camera.id)
    assert reopened == credentials
    check_field_keys(services.engine, new)
    with pytest.raises(FieldCryptError, match=f"camera {camera.id}"):
        check_field_keys(services.engine, KeyRing(keys={"stranger": bytes(range(32))}, current="stranger"))
