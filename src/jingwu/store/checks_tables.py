"""Tables of patrol checks (巡逻盘查) and the watch lists.

On the one metadata of :mod:`jingwu.store.tables`, so the migrations test compares them too."""

from __future__ import annotations

from jingwu.store.tables import metadata

__all__ = ["metadata"]
