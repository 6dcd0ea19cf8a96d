"""The portal's sign-in limit: blocks an address after its failures, and forgets addresses it no longer needs.

A node serves for months; sign-in attempts from ever new addresses (a botnet's, or the internet's
background noise) must not pile up in its memory. What the limiter holds is the addresses with a
failure in the last minute, and whoever is blocked stays blocked until their minute is over.
"""

from __future__ import annotations

from estatechain.web.portal import RateLimit

MINUTE_MS = 60_000


def test_an_address_is_blocked_after_its_failures_for_a_minute_and_others_are_not() -> None:
    limit = RateLimit(per_minute=3)
    for second in range(3):
        assert not limit.blocked("198.51.100.7", second * 1000)
        limit.failed("198.51.100.7", second * 1000)
    assert limit.blocked("198.51.100.7", 3_000)
    assert not limit.blocked("198.51.100.8", 3_000)
    assert limit.blocked("198.51.100.7", MINUTE_MS - 1)
    assert not limit.blocked("198.51.100.7", MINUTE_MS)  # the first failure has left the minute


def test_asking_stores_nothing_and_addresses_whose_failures_passed_are_forgotten() -> None:
    limit = RateLimit(per_minute=5)
    for n in range(10_000):
        assert not limit.blocked(f"10.0.{n // 256}.{n % 256}", n)
    assert len(limit) == 0
    for n in range(3 * RateLimit.SWEEP_AT):
        limit.failed(f"10.1.{n // 256}.{n % 256}", n * 100)  # one failure each, 0.1 s apart
    assert len(limit) <= RateLimit.SWEEP_AT + 600  # the last minute's addresses, and those since the last sweep
    blocked = "203.0.113.9"
    for _ in range(5):
        limit.failed(blocked, 3 * RateLimit.SWEEP_AT * 100)
    for n in range(2 * RateLimit.SWEEP_AT):
        limit.failed(f"10.2.{n // 256}.{n % 256}", 3 * RateLimit.SWEEP_AT * 100 + n)
    assert limit.blocked(blocked, 3 * RateLimit.SWEEP_AT * 100 + 2 * RateLimit.SWEEP_AT)  # a sweep keeps it
