"""Tables of the residents' self-service: sign-in codes, applications, certificates.

On the one metadata of :mod:`jingwu.store.tables`, so the migrations test compares them too."""

from __future__ import annotations

from jingwu.store.tables import metadata

__all__ = ["metadata"]
