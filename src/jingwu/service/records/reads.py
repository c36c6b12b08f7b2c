"""Reads of the registry that show people: each needs a reason and is audited in the transaction
that reads it, before anything is answered (CommunityRecords' read half)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine

from jingwu.errors import ValidationFailed
from jingwu.service.audit import append as append_audit
from jingwu.service.records import lookups
from jingwu.store.db import write_transaction
from jingwu.store.fieldcrypt import KeyRing

MIN_REASON = 4


def reason_text(text: str, what: str) -> str:
    value = " ".join((text or "").split())
    if len(value.replace(" ", "")) < MIN_REASON:
        raise ValidationFailed(f"state {what} (at least {MIN_REASON} characters)", code="reason_required")
    return value[:500]


class RegistryReads:
    engine: Engine
    keys: KeyRing
    clock: Callable[[], datetime]

    def today(self) -> date:
        raise NotImplementedError

    # ----------------------------------------------------------------------------------------
    # reads of people (audited before they answer)
    # ----------------------------------------------------------------------------------------

    def search(
        self,
        by: str,
        value: str,
        reason: str,
        *,
        actor: str,
        source: str | None,
        station_ids: Collection[str] | None,
        full: bool,
    ) -> dict[str, Any]:
        text = reason_text(reason, "why you look")
        needle, shown = lookups.normalise_search(by, value, today=self.today())
        with write_transaction(self.engine) as conn:
            found = lookups.search(conn, self.keys, by, needle, station_ids=station_ids, full=full)
            append_audit(
                conn,
                ts=self.clock(),
                action="records.search",
                actor=actor,
                target=f"{by}:{shown}",
                source=source,
                reason=text,
                details={
                    "residents": len(found["residents"]),
                    "houses": len(found["houses"]),
                    "businesses": len(found["businesses"]),
                    "full": full,
                },
            )
        return found

    def _read(
        self,
        action: str,
        target: str,
        reason: str,
        actor: str,
        source: str | None,
        full: bool,
        read: Callable[[Any], dict[str, Any]],
    ) -> dict[str, Any]:
        text = reason_text(reason, "why you look")
        with write_transaction(self.engine) as conn:
            found = read(conn)
            append_audit(
                conn, ts=self.clock(), action=action, actor=actor, target=target, source=source, reason=text,
                details={"full": full},
            )  # fmt: skip
        return found

    def house(
        self,
        house_id: str,
        reason: str,
        *,
        actor: str,
        source: str | None,
        station_ids: Collection[str] | None,
        full: bool,
    ) -> dict[str, Any]:
        """A house with who lives there, its businesses, photos and history."""

        def read(conn: Any) -> dict[str, Any]:
            return lookups.house_detail(
                conn, self.keys, lookups.house_row(conn, house_id, station_ids), full=full
            )

        return self._read("records.house.read", f"house:{house_id}", reason, actor, source, full, read)

    def resident(
        self,
        resident_id: str,
        reason: str,
        *,
        actor: str,
        source: str | None,
        station_ids: Collection[str] | None,
        full: bool,
    ) -> dict[str, Any]:
        def read(conn: Any) -> dict[str, Any]:
            return lookups.resident_detail(conn, self.keys, resident_id, station_ids=station_ids, full=full)

        return self._read(
            "records.resident.read", f"resident:{resident_id}", reason, actor, source, full, read
        )

    def business(
        self,
        business_id: str,
        reason: str,
        *,
        actor: str,
        source: str | None,
        station_ids: Collection[str] | None,
        full: bool,
    ) -> dict[str, Any]:
        def read(conn: Any) -> dict[str, Any]:
            return lookups.business_detail(conn, self.keys, business_id, station_ids=station_ids, full=full)

        return self._read(
            "records.business.read", f"business:{business_id}", reason, actor, source, full, read
        )


__all__ = ["MIN_REASON", "RegistryReads", "reason_text"]
