"""What of the community devices is sealed with the field keys (:class:`KeyRing`): each device's
secret (bound to its row) and each gate's plate, with the keyed indexes that find a card or a car
again; re-sealing them under a new key (``jingwu keys rotate``) and checking at start-up that the
keys open them."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Engine, and_, select, update

from jingwu.domain.devices import mask_plate, mask_reference
from jingwu.errors import SystemFault
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.fieldcrypt import FieldCryptError, KeyRing

SECRET_CONTEXT = "community_devices.secret"
SECRET_PREFIX = "dsk_"
PLATE_CONTEXT = "access_events.plate"
CREDENTIAL_INDEX_KIND = "access_credential"
PLATE_INDEX_KIND = "plate"


def new_device_secret() -> str:
    """256 random bits, URL-safe: ``dsk_`` and 43 characters. The HMAC key is this text's bytes."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def device_secret_context(device_id: str) -> str:
    """The encryption context of a device's sealed secret: bound to its row, so that a sealed
    secret copied onto another device's row does not open there."""
    return f"{SECRET_CONTEXT}:{device_id}"


def seal_secret(keys: KeyRing, device_id: str, secret: str) -> str:
    return keys.encrypt(secret, context=device_secret_context(device_id))


def open_secret(keys: KeyRing, device_id: str, sealed: str) -> str:
    try:
        return keys.decrypt(sealed, context=device_secret_context(device_id))
    except FieldCryptError as exc:
        raise SystemFault(
            f"the secret of device {device_id} could not be decrypted; check the field keys",
            code="field_key_error",
        ) from exc


def sealed_credentials(keys: KeyRing, ref: str | None, plate: str | None) -> dict[str, Any]:
    """A passage's card or face reference and plate as they are stored: the reference indexed and
    masked (never kept), the plate sealed, indexed and masked."""
    return {
        "credential_index": keys.blind_index(ref, kind=CREDENTIAL_INDEX_KIND) if ref else None,
        "credential_masked": mask_reference(ref) if ref else None,
        "plate": keys.encrypt(plate, context=PLATE_CONTEXT) if plate else None,
        "plate_index": keys.blind_index(plate, kind=PLATE_INDEX_KIND) if plate else None,
        "plate_masked": mask_plate(plate) if plate else None,
    }


def reseal_device_fields(engine: Engine, keys: KeyRing) -> int:
    """Re-seal device secrets and gate plates under the current field key, and bring the plates'
    blind indexes up to date (``jingwu keys rotate``). Returns how many values changed. (The
    credential indexes cannot be rebuilt: the credentials themselves are not kept. They stay
    valid as long as the blind-index key, the first of the key file, does.)"""
    changed = 0
    c, a = t.community_devices.c, t.access_events.c
    with write_transaction(engine) as conn:
        for device in conn.execute(select(c.id, c.secret)).all():
            if keys.needs_rotation(device.secret):
                sealed = keys.rotate(device.secret, context=device_secret_context(device.id))
                conn.execute(update(t.community_devices).where(c.id == device.id).values(secret=sealed))
                changed += 1
    after = 0
    while True:
        with write_transaction(engine) as conn:
            rows = conn.execute(
                select(a.id, a.plate, a.plate_index)
                .where(and_(a.id > after, a.plate.is_not(None)))
                .order_by(a.id)
                .limit(500)
            ).all()
            for row in rows:
                plate = keys.decrypt(row.plate, context=PLATE_CONTEXT)
                values: dict[str, Any] = {}
                if keys.needs_rotation(row.plate):
                    values["plate"] = keys.encrypt(plate, context=PLATE_CONTEXT)
                index = keys.blind_index(plate, kind=PLATE_INDEX_KIND)
                if row.plate_index != index:
                    values["plate_index"] = index
                if values:
                    conn.execute(update(t.access_events).where(a.id == row.id).values(**values))
                    changed += 1
        if len(rows) < 500:
            return changed
        after = rows[-1].id


def check_device_keys(engine: Engine, keys: KeyRing) -> None:
    """Refuse keys that cannot open the newest device secret (start-up, with the other sealed
    columns: see service.personal_data.check_field_keys)."""
    c = t.community_devices.c
    with read_transaction(engine) as conn:
        row = conn.execute(select(c.id, c.secret).order_by(c.registered_at.desc()).limit(1)).first()
    if row is None:
        return
    try:
        keys.decrypt(row.secret, context=device_secret_context(row.id))
    except FieldCryptError as exc:
        raise FieldCryptError(
            f"the field keys cannot open the secret of community device {row.id} ({exc}); set "
            "JINGWU_FIELD_KEY_FILE / JINGWU_FIELD_KEYS to the keys it was sealed with"
        ) from None


__all__ = [
    "CREDENTIAL_INDEX_KIND",
    "PLATE_CONTEXT",
    "PLATE_INDEX_KIND",
    "SECRET_CONTEXT",
    "SECRET_PREFIX",
    "check_device_keys",
    "device_secret_context",
    "new_device_secret",
    "open_secret",
    "reseal_device_fields",
    "seal_secret",
    "sealed_credentials",
]
