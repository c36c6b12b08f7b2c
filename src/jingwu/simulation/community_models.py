"""The demo's early-warning model (大数据建模预警): one example, "家暴反复报警", owned by the demo
analyst and saved switched off, so that the analyst has something to back-test and switch on
(docs/warning-models.md). Seeded once: a restart leaves the models as they are."""

from __future__ import annotations

from jingwu.composition import Services
from jingwu.service.warning_models import ModelDefinition

ANALYST = "analyst"  # simulation.seed.DEMO_ACCOUNTS
EXAMPLE = ModelDefinition(
    name="家暴反复报警",
    purpose="同一地址 30 天内三次以上家庭纠纷或家庭暴力警情：提醒辖区社区民警上门走访，防止矛盾升级",
    kind="repeat_address",
    params={
        "incident_types": ["dispute.family", "order.domestic_violence"],
        "min_count": 3,
        "window_days": 30,
    },
    sources=["incidents"],
    every_minutes=60,
    owner=ANALYST,
)


def seed_models(services: Services) -> None:
    """The example model, unless the demo has a model already."""
    catalogue = services.warning_models.catalogue
    if catalogue.list():
        return
    catalogue.create(EXAMPLE, actor=ANALYST, source="demo")


__all__ = ["EXAMPLE", "seed_models"]
