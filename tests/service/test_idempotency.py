"""The idempotency key commits with the command it guards, or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from jingwu.composition import Services
from jingwu.domain.rules import Decision
from jingwu.errors import Conflict, NotFound
from jingwu.service.idempotency import CURRENT_CLAIM, IdempotencyClaim
from jingwu.store import tables as t
from tests.conftest import ServicesFactory
from tests.service.test_dispatching import CENTRE, robbery_at


@contextmanager
def claimed(claim: IdempotencyClaim) -> Iterator[IdempotencyClaim]:
    token = CURRENT_CLAIM.set(claim)
    try:
        yield claim
    finally:
        CURRENT_CLAIM.reset(token)


def count(services: Services, table: t.Table) -> int:
    with services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_key_is_stored_with_the_answer_rendered_in_the_commands_transaction(
    make_services: ServicesFactory,
) -> None:
    services = make_services()
    rendered: list[Decision] = []

    def render(decision: Decision) -> tuple[int, bytes]:
        rendered.append(decision)
        return 201, b'{"id":"%s"}' % decision.incidents[0].id.encode()

    with claimed(IdempotencyClaim("dispatcher", "k1", "f" * 64, render=render)) as claim:
        incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="dispatcher")
    assert claim.recorded
    assert rendered[0].incidents[0].version == 1  # the stored version, as the answer shows it
    row = services.idempotency.lookup("dispatcher", "k1")
    assert (row.fingerprint, row.response_status) == ("f" * 64, 201)
    assert bytes(row.response_body) == f'{{"id":"{incident.id}"}}'.encode()


def test_a_refused_command_stores_no_key(make_services: ServicesFactory) -> None:
    services = make_services()
    with claimed(IdempotencyClaim("dispatcher", "k1", "f" * 64)) as claim, pytest.raises(NotFound):
        services.dispatch.add_note("J-none", "没有这个警情", actor="dispatcher")
    assert not claim.recorded
    assert services.idempotency.lookup("dispatcher", "k1") is None


def test_a_key_committed_elsewhere_meanwhile_rolls_the_command_back(make_services: ServicesFactory) -> None:
    services = make_services()
    with claimed(IdempotencyClaim("dispatcher", "k1", "f" * 64)):
        services.dispatch.create_incident(robbery_at(*CENTRE), actor="dispatcher")
    # A second server process got the same key before this one's commit.
    with claimed(IdempotencyClaim("dispatcher", "k1", "f" * 64)) as late, pytest.raises(Conflict) as err:
        services.dispatch.create_incident(robbery_at(*CENTRE), actor="dispatcher")
    assert err.value.code == "idempotency_in_progress"
    assert not late.recorded
    assert count(services, t.incidents) == 1
    assert count(services, t.events) == 1


def test_one_request_that_commits_twice_records_its_key_once(make_services: ServicesFactory) -> None:
    services = make_services()
    with claimed(IdempotencyClaim("dispatcher", "k1", "f" * 64)):
        incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="dispatcher")
        services.dispatch.add_note(incident.id, "第二次提交", actor="dispatcher")
    assert count(services, t.idempotency_keys) == 1
    assert count(services, t.notes) == 1
