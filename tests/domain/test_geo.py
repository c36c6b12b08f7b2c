"""Great-circle distances: the batch form agrees with the one-pair form it mirrors."""

from __future__ import annotations

import math

import numpy as np

from jingwu.domain.geo import haversine_deg_m, haversine_deg_m_many


def test_the_batch_haversine_agrees_with_the_scalar_one_to_the_last_digits() -> None:
    rng = np.random.default_rng(5)
    lat1, lat2 = rng.uniform(-89.9, 89.9, 500), rng.uniform(-89.9, 89.9, 500)
    lon1, lon2 = rng.uniform(-180, 180, 500), rng.uniform(-180, 180, 500)
    # Street-sized steps too, where the GPS filter's limits lie, and an antipode (the clamp).
    lat2[:200], lon2[:200] = lat1[:200] + rng.normal(0, 1e-3, 200), lon1[:200] + rng.normal(0, 1e-3, 200)
    lat1[-1], lon1[-1], lat2[-1], lon2[-1] = 10.0, 20.0, -10.0, -160.0
    many = haversine_deg_m_many(lat1, lon1, lat2, lon2)
    for k in range(500):
        one = haversine_deg_m(lat1[k], lon1[k], lat2[k], lon2[k])
        assert math.isclose(many[k], one, rel_tol=1e-9, abs_tol=1e-6)
    assert math.isclose(many[-1], math.pi * 6_371_008.8, rel_tol=1e-7)  # half the globe, within cm
