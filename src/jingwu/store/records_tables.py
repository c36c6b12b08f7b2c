"""Tables of the community registry (实有人口 / 房屋 / 单位) and its field collections.

On the one metadata of :mod:`jingwu.store.tables`, so the migrations test compares them too."""

from __future__ import annotations

from jingwu.store.tables import metadata

__all__ = ["metadata"]
