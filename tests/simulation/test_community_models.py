"""The demo's example early-warning model: seeded once, owned by the demo analyst, switched off
until the analyst back-tests it."""

from __future__ import annotations

import pytest

from jingwu.service.auth import Role
from jingwu.simulation.community_models import ANALYST, seed_models
from tests.conftest import PASSWORD, ServicesFactory

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def test_the_example_model_is_seeded_once_switched_off_for_the_analyst(
    make_services: ServicesFactory,
) -> None:
    services = make_services()
    services.auth.accounts.create_user(ANALYST, PASSWORD, Role.ANALYST)
    seed_models(services)
    seed_models(services)  # a second start: left alone
    (model,) = services.warning_models.catalogue.list()
    assert (model["owner"], model["kind"], model["enabled"], model["backtest"]) == (
        ANALYST,
        "repeat_address",
        False,
        None,
    )
    tested = services.warning_models.backtests.run(model["id"], days=30, actor=ANALYST)
    assert tested["steps"] == 30
    assert services.warning_models.catalogue.switch(model["id"], on=True, actor=ANALYST)["enabled"] is True
