"""The demo's residents' self-service: the demo ``resident`` gets a phone (so the phone sign-in works
end to end, the code shown on screen), and the 南岗分局保健路派出所 gets applications in each stage:
new ones on the community officer's work list, one waiting for the station's approval, one sent
back for a missing document, one approved with its certificate.

Idempotent: a store that already holds applications is left alone (the phone is linked once).
Everyone is made up (simulation.people); the documents are blank images.
"""

from __future__ import annotations

import logging
import struct
import zlib
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select

from jingwu.composition import Services
from jingwu.domain.access import Role
from jingwu.domain.self_service import DocumentCheck
from jingwu.service.auth.accounts import NewAccount, insert_account
from jingwu.service.ids import new_id
from jingwu.service.self_service import DemoSender, NewApplication
from jingwu.service.self_service.sign_in import NO_PASSWORD
from jingwu.simulation.people import synthetic_person
from jingwu.store import self_service_tables as st
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction

log = logging.getLogger(__name__)

#: The demo ``resident``'s phone: sign in at /service/ with it, the code is shown on the page.
DEMO_PHONE = "13800138000"
STATION = "nangang-baojianlu"
OFFICER = "community-baojianlu"
CHIEF = "commander"
DEMO_URL = "http://localhost:8000"
ADDRESSES = (
    "南岗区保健路 12 号 3 单元 501",
    "南岗区学府路 74 号 2 单元 302",
    "南岗区和兴路 26 号 1 单元 601",
)


def blank_png(width: int = 8, height: int = 8) -> bytes:
    """A small white PNG: a stand-in for a scanned document."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def seed_service(services: Services, *, rng: np.random.Generator, now: datetime) -> None:
    if services.demo:
        services.self_service.sender = DemoSender()  # the demo has no SMS gateway: the page shows the code
    service = services.self_service
    with read_transaction(services.engine) as conn:
        resident = conn.execute(select(t.users.c.id).where(t.users.c.username == "resident")).scalar()
        stations = set(conn.execute(select(t.stations.c.id)).scalars())
        seeded = conn.execute(select(st.service_applications.c.id).limit(1)).first() is not None
    if resident is not None:
        with write_transaction(services.engine) as conn:
            if service.sign_in.link_phone(conn, resident, DEMO_PHONE, now):
                log.info("the demo resident signs in at /service/ with the phone %s", DEMO_PHONE)
    if seeded or STATION not in stations:
        return
    apps = service.applications
    today = service.today()
    png = blank_png()

    def applicant(kind: str, purpose: str | None, user_id: str, username: str) -> str:
        person = synthetic_person(rng, today=today, min_age=20, max_age=60)
        made = apps.create(
            NewApplication(
                kind=kind,
                applicant_name=person.name,
                applicant_id_number=person.id_number,
                address=ADDRESSES[int(rng.integers(0, len(ADDRESSES)))],
                station_id=STATION,
                purpose=purpose,
            ),
            user_id=user_id,
            actor=username,
        )
        return made.id

    def upload(app_id: str, documents: list[str], actor: str) -> None:
        for document in documents:
            apps.add_document(app_id, document, "image/png", png, actor=actor)

    def all_ok(app_id: str) -> list[DocumentCheck]:
        kind = next(k for k in service.kinds if k.code == apps.get(app_id).kind)
        return [DocumentCheck(d.code, True) for d in kind.documents]

    # Other residents, each with their own phone-made account: the officer's work list.
    others = []
    with write_transaction(services.engine) as conn:
        for _ in range(3):
            person = synthetic_person(rng, today=today, min_age=20, max_age=60)
            principal = insert_account(
                conn,
                NewAccount(username=new_id("res"), password_hash=NO_PASSWORD, role=Role.RESIDENT),
                now=now - timedelta(days=3),
                actor="demo",
            )
            service.sign_in.link_phone(conn, principal.user_id, person.phone or "13800000000", now)
            others.append((principal.user_id, principal.username))

    for (user_id, username), (kind, purpose) in zip(
        others,
        (("residence_permit", None), ("no_criminal_record", "入职"), ("residence_certificate", "子女入学")),
        strict=True,
    ):
        app_id = applicant(kind, purpose, user_id, username)
        asked = next(k for k in service.kinds if k.code == kind).documents
        upload(app_id, [d.code for d in asked], username)
        if kind == "residence_certificate":  # verified: waits for the station's approval
            apps.verify(app_id, all_ok(app_id), actor=OFFICER)

    if resident is not None:
        # The demo resident: one certificate issued, one permit sent back for a document.
        done = applicant("no_criminal_record", "出国留学", resident, "resident")
        upload(done, ["id_card", "purpose_letter"], "resident")
        apps.verify(done, all_ok(done), actor=OFFICER)
        apps.approve(done, actor=CHIEF, base_url=DEMO_URL)
        back = applicant("residence_permit", None, resident, "resident")
        upload(back, ["id_card", "photo", "tenancy"], "resident")
        apps.verify(
            back,
            [
                DocumentCheck("id_card", True),
                DocumentCheck("photo", True),
                DocumentCheck("tenancy", True),
                DocumentCheck("employment", False, "请上传劳动合同或在校证明"),
            ],
            actor=OFFICER,
        )
    log.info("the demo's self-service: applications at %s seeded", STATION)


__all__ = ["DEMO_PHONE", "blank_png", "seed_service"]
