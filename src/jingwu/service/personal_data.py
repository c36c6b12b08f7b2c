"""Personal data: sealed on the way into the store, and every look at it accounted for.

Reporters' names and phone numbers (and, with the same keys, users' TOTP secrets) are stored
encrypted field by field (:mod:`jingwu.store.fieldcrypt`), each bound to its column. A phone
number also gets a keyed blind index, so "which incidents did this number call about?" is one
indexed lookup without decrypting every row.

Nothing here hands out a reporter without writing an audit record first, in the same
transaction as the read: who looked, at which incident, whether masked or in full, from where and
why (CJIS 5.4.1.1). A read that cannot be recorded does not happen.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, or_, select, update

from jingwu.domain.identity import mask_id_number, mask_name, mask_phone
from jingwu.domain.model import Incident, Reporter
from jingwu.errors import NotFound, SystemFault
from jingwu.service import audit
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.fieldcrypt import FieldCryptError, KeyRing

REPORTER_NAME = "incidents.reporter_name"
REPORTER_PHONE = "incidents.reporter_phone"
REPORTER_ID_NUMBER = "incidents.reporter_id_number"
TOTP_SECRET = "users.totp_secret"
PHONE_INDEX_KIND = "phone"
ID_INDEX_KIND = "id_number"
# The sealed reporter columns: (column, encryption context, its blind-index column and kind).
SEALED_COLUMNS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("reporter_name", REPORTER_NAME, None, None),
    ("reporter_phone", REPORTER_PHONE, "reporter_phone_index", PHONE_INDEX_KIND),
    ("reporter_id_number", REPORTER_ID_NUMBER, "reporter_id_index", ID_INDEX_KIND),
)
# Every sealed value starts so; anything else is a value stored before encryption existed.
SEALED_PREFIX = "v1:"
ROTATE_BATCH = 500


def open_field(keys: KeyRing, value: str | None, *, context: str) -> str | None:
    """The plaintext of a stored field. A value from before encryption (no ``v1:`` prefix) is
    returned as it is, until ``jingwu keys rotate`` seals it. A value that does not decrypt is
    our fault (a lost key, a tampered row): a SystemFault, with no detail for the client."""
    if value is None or not value.startswith(SEALED_PREFIX):
        return value
    try:
        return keys.decrypt(value, context=context)
    except FieldCryptError as exc:
        raise SystemFault(
            "a protected field could not be decrypted; check JINGWU_FIELD_KEYS / JINGWU_FIELD_KEY_FILE",
            code="field_key_error",
        ) from exc


def _newest_sealed(conn: Connection, column: Any) -> Any:
    return conn.execute(
        select(t.incidents)
        .where(column.like(f"{SEALED_PREFIX}%"))
        .order_by(t.incidents.c.created_at.desc())
        .limit(1)
    ).first()


def holds_sealed_data(engine: Engine) -> bool:
    """Whether anything in the database was sealed with field keys."""
    with read_transaction(engine) as conn:
        if any(_newest_sealed(conn, getattr(t.incidents.c, c)) for c, _, _, _ in SEALED_COLUMNS):
            return True
        if conn.execute(select(t.community_devices.c.id).limit(1)).first() is not None:
            return True  # community devices' secrets are sealed too (service.community_devices)
        from jingwu.service.community_keys import holds_community_data

        if holds_community_data(conn):
            return True  # the registry, watch lists, disputes, residents' applications
        from jingwu.store.video_tables import cameras

        if conn.execute(select(cameras.c.id).where(cameras.c.credentials.is_not(None)).limit(1)).first():
            return True  # cameras' user names and passwords (service.video)
        return (
            conn.execute(
                select(t.users.c.id).where(t.users.c.totp_secret.like(f"{SEALED_PREFIX}%")).limit(1)
            ).first()
            is not None
        )


def check_field_keys(engine: Engine, keys: KeyRing, *, indexes: bool = True) -> None:
    """Refuse keys that cannot open this database: the newest sealed value of each protected
    column must decrypt, and (with ``indexes``) its blind index must be the one these keys give.
    Run at start-up, so that a missing, wrong or reordered key file stops the server instead of
    sealing new records under a key the old ones cannot be read with."""
    with read_transaction(engine) as conn:
        for column, context, index_column, kind in SEALED_COLUMNS:
            row = _newest_sealed(conn, getattr(t.incidents.c, column))
            if row is None:
                continue
            try:
                plain = keys.decrypt(getattr(row, column), context=context)
            except FieldCryptError as exc:
                raise FieldCryptError(
                    f"the field keys cannot open this database ({column} of incident {row.id}: {exc}); "
                    "set JINGWU_FIELD_KEY_FILE / JINGWU_FIELD_KEYS to the keys it was sealed with"
                ) from None
            if (
                indexes
                and index_column
                and kind
                and getattr(row, index_column)
                not in (
                    None,
                    keys.blind_index(plain, kind=kind),
                )
            ):
                raise FieldCryptError(
                    "the blind-index key (the first key of the key file) is not the one this "
                    "database was indexed with: restore it, or run `jingwu keys rotate` to rebuild "
                    "the indexes under the present one"
                )
        secret = conn.execute(
            select(t.users.c.username, t.users.c.totp_secret)
            .where(t.users.c.totp_secret.like(f"{SEALED_PREFIX}%"))
            .limit(1)
        ).first()
    if secret is not None:
        try:
            keys.decrypt(secret.totp_secret, context=TOTP_SECRET)
        except FieldCryptError as exc:
            raise FieldCryptError(
                f"the field keys cannot open the second factor of {secret.username} ({exc}); set "
                "JINGWU_FIELD_KEY_FILE / JINGWU_FIELD_KEYS to the keys it was sealed with"
            ) from None
    from jingwu.service.community_devices import check_device_keys  # (it imports the dispatch service)
    from jingwu.service.community_keys import check_community_keys
    from jingwu.service.video.registry import check_camera_keys

    check_device_keys(engine, keys)
    with read_transaction(engine) as conn:
        check_community_keys(conn, keys)
        check_camera_keys(conn, keys)


def phone_index(keys: KeyRing, phone_e164: str) -> str:
    """The blind index of a phone number in E.164 (the form intake normalises every number to)."""
    return keys.blind_index(phone_e164, kind=PHONE_INDEX_KIND)


def id_number_index(keys: KeyRing, id_number: str) -> str:
    """The blind index of a resident identity number (checked, 18 characters, upper-case X)."""
    return keys.blind_index(id_number, kind=ID_INDEX_KIND)


def seal_reporter(keys: KeyRing, reporter: Reporter | None) -> dict[str, Any]:
    """The incident columns that hold a reporter, sealed, with their blind indexes."""
    plain = {
        "reporter_name": reporter.name if reporter else None,
        "reporter_phone": reporter.phone if reporter else None,
        "reporter_id_number": reporter.id_number if reporter else None,
    }
    sealed: dict[str, Any] = {}
    for column, context, index_column, kind in SEALED_COLUMNS:
        value = plain[column]
        sealed[column] = keys.encrypt(value, context=context) if value else None
        if index_column is not None and kind is not None:
            sealed[index_column] = keys.blind_index(value, kind=kind) if value else None
    return sealed


@dataclass(frozen=True, slots=True)
class ReporterView:
    incident_id: str
    name: str | None
    phone: str | None
    id_number: str | None
    masked: bool


@dataclass(frozen=True, slots=True)
class RotationReport:
    fields_resealed: int
    indexes_filled: int  # missing or outdated indexes written


class PersonalDataService:
    def __init__(
        self, engine: Engine, keys: KeyRing, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.engine = engine
        self.keys = keys
        self.clock = clock

    def read_reporter(
        self,
        incident_id: str,
        *,
        actor: str,
        reason: str,
        full: bool,
        source: str | None,
        fields: Collection[str] = ("name", "phone", "id_number"),
    ) -> ReporterView:
        """An incident's reporter, masked (``138****5678``, ``张*``) unless ``full``; only the
        ``fields`` asked for (the rest None). The caller has checked the role and jurisdiction;
        this records the look (with the fields) and then shows it."""
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                select(
                    t.incidents.c.reporter_name,
                    t.incidents.c.reporter_phone,
                    t.incidents.c.reporter_id_number,
                ).where(t.incidents.c.id == incident_id)
            ).first()
            if row is None:
                raise NotFound(f"no incident {incident_id}", code="incident_not_found", id=incident_id)
            audit.append(
                conn,
                ts=self.clock(),
                action="personal_data.read",
                actor=actor,
                target=f"incident:{incident_id}",
                source=source,
                reason=reason,
                details={"what": "reporter", "full": full, "fields": sorted(fields)},
            )
        # What was not asked for is not even decrypted.
        name = open_field(self.keys, row.reporter_name, context=REPORTER_NAME) if "name" in fields else None
        phone = (
            open_field(self.keys, row.reporter_phone, context=REPORTER_PHONE) if "phone" in fields else None
        )
        id_number = (
            open_field(self.keys, row.reporter_id_number, context=REPORTER_ID_NUMBER)
            if "id_number" in fields
            else None
        )
        if not full:
            name = mask_name(name) if name else name
            phone = mask_phone(phone) if phone else phone
            id_number = mask_id_number(id_number) if id_number else id_number
        return ReporterView(incident_id, name, phone, id_number, masked=not full)

    def incidents_by_phone(
        self,
        phone_e164: str,
        *,
        actor: str,
        reason: str,
        source: str | None,
        station_ids: Collection[str] | None,
        limit: int = 100,
    ) -> list[Incident]:
        """The incidents a phone number reported, newest first, within ``station_ids`` (None:
        all). A look-up of a person: recorded with its reason and how many it found, the number
        itself only masked (the audit log must not become an index of who called)."""
        return self._search(
            "reporter_phone_index",
            phone_index(self.keys, phone_e164),
            f"phone:{mask_phone(phone_e164)}",
            actor=actor,
            reason=reason,
            source=source,
            station_ids=station_ids,
            limit=limit,
        )

    def incidents_by_id_number(
        self,
        id_number: str,
        *,
        actor: str,
        reason: str,
        source: str | None,
        station_ids: Collection[str] | None,
        limit: int = 100,
    ) -> list[Incident]:
        """As :meth:`incidents_by_phone`, by the reporter's resident identity number."""
        return self._search(
            "reporter_id_index",
            id_number_index(self.keys, id_number),
            f"id_number:{mask_id_number(id_number)}",
            actor=actor,
            reason=reason,
            source=source,
            station_ids=station_ids,
            limit=limit,
        )

    def _search(
        self,
        index_column: str,
        index: str,
        target: str,
        *,
        actor: str,
        reason: str,
        source: str | None,
        station_ids: Collection[str] | None,
        limit: int,
    ) -> list[Incident]:
        with write_transaction(self.engine) as conn:
            found = repo.incidents_by_index(conn, index_column, index, station_ids=station_ids, limit=limit)
            audit.append(
                conn,
                ts=self.clock(),
                action="person.search",
                actor=actor,
                target=target,
                source=source,
                reason=reason,
                details={"matches": len(found), "incident_ids": [i.id for i in found[:20]]},
            )
        return found

    def rotate(self, *, actor: str | None = None, source: str | None = None) -> RotationReport:
        """Re-seal every protected field under the current key (and seal values stored before
        encryption), and bring every phone index up to date. In batches, each its own
        transaction, so a large table does not hold one long lock; safe to run again after an
        interruption, and while the platform runs."""
        resealed = filled = 0
        after = ""
        columns = [getattr(t.incidents.c, column) for column, _, _, _ in SEALED_COLUMNS]
        indexes = [getattr(t.incidents.c, i) for _, _, i, _ in SEALED_COLUMNS if i is not None]
        while True:
            with write_transaction(self.engine) as conn:
                rows = conn.execute(
                    select(t.incidents.c.id, *columns, *indexes)
                    .where(and_(t.incidents.c.id > after, or_(*(c.is_not(None) for c in columns))))
                    .order_by(t.incidents.c.id)
                    .limit(ROTATE_BATCH)
                ).all()
                for row in rows:
                    values: dict[str, Any] = {}
                    for column, context, index_column, kind in SEALED_COLUMNS:
                        stored = getattr(row, column)
                        if stored is None:
                            continue
                        plain = open_field(self.keys, stored, context=context) or ""
                        if self._stale(stored):
                            values[column] = self.keys.encrypt(plain, context=context)
                            resealed += 1
                        if index_column is not None and kind is not None:
                            # Recomputed for every row: it also repairs the indexes after the
                            # index key (the oldest in the ring) was removed from the key file.
                            expected = self.keys.blind_index(plain, kind=kind)
                            if getattr(row, index_column) != expected:
                                values[index_column] = expected
                                filled += 1
                    if values:
                        conn.execute(update(t.incidents).where(t.incidents.c.id == row.id).values(**values))
            if len(rows) < ROTATE_BATCH:
                break
            after = rows[-1].id
        with write_transaction(self.engine) as conn:
            users = conn.execute(
                select(t.users.c.id, t.users.c.totp_secret).where(t.users.c.totp_secret.is_not(None))
            ).all()
            for user in users:
                if self._stale(user.totp_secret):
                    plain = open_field(self.keys, user.totp_secret, context=TOTP_SECRET) or ""
                    conn.execute(
                        update(t.users)
                        .where(t.users.c.id == user.id)
                        .values(totp_secret=self.keys.encrypt(plain, context=TOTP_SECRET))
                    )
                    resealed += 1
            audit.append(
                conn,
                ts=self.clock(),
                action="keys.rotated",
                actor=actor,
                source=source,
                details={"current_key": self.keys.current, "resealed": resealed, "indexes_filled": filled},
            )
        return RotationReport(resealed, filled)

    def _stale(self, stored: str) -> bool:
        return not stored.startswith(SEALED_PREFIX) or self.keys.needs_rotation(stored)


__all__ = [
    "PersonalDataService",
    "ReporterView",
    "RotationReport",
    "check_field_keys",
    "holds_sealed_data",
    "id_number_index",
    "open_field",
    "phone_index",
    "seal_reporter",
]
