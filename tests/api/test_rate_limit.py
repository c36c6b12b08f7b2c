"""Log-in attempts are rate-limited per client address (password spraying across accounts)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jingwu.api.ratelimit import TokenBuckets
from tests.conftest import PASSWORD


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=6, burst=3, clock=clock)
    assert [buckets.take("10.0.0.1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("10.0.0.1") == 10.0  # one token every ten seconds
    assert buckets.take("10.0.0.2") == 0.0  # another address has its own bucket
    clock.now += 10
    assert buckets.take("10.0.0.1") == 0.0
    assert buckets.take("10.0.0.1") > 0


def test_login_flood_from_one_address_gets_429_with_retry_after(client: TestClient) -> None:
    answers = [
        client.post("/api/auth/login", json={"username": f"nobody{i}", "password": "guess-guess-guess"})
        for i in range(21)
    ]
    assert [a.status_code for a in answers[:20]] == [401] * 20
    flood = answers[20]
    assert flood.status_code == 429 and flood.json()["error"]["code"] == "too_many_attempts"
    assert int(flood.headers["retry-after"]) >= 1
    # Even the right password waits: the limit is on the address, before any password is checked.
    right = client.post("/api/auth/login", json={"username": "dispatcher", "password": PASSWORD})
    assert right.status_code == 429
