"""Token buckets per caller on the node's injected clock: how much one caller may cost the node.

Used where a caller makes the node write a durable line (the public lookups' gate,
``certificates/lookups.py``; the refusals answered to a peer node, ``node/peers.py``): ``burst`` at
once, refilled at ``per_minute``. Memory is bounded: past ``max_keys`` callers, every bucket is
forgotten (each caller starts full again) rather than the node growing without end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

from estatechain.clock import Clock

MINUTE_MS: Final = 60_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at_ms: int


@dataclass(slots=True)
class TokenBuckets:
    """One token bucket per key: ``burst`` takes at once, refilled at ``per_minute``."""

    clock: Clock
    per_minute: int
    burst: int
    max_keys: int = 100_000
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, key: str) -> bool:
        """True when ``key`` has a token now (it is taken); False when it must wait (``wait_s``)."""
        bucket = self._refilled(key)
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def wait_s(self, key: str) -> int:
        """Whole seconds until ``key`` has a token again (0: it has one now): what ``Retry-After`` says."""
        missing = 1 - self._refilled(key).tokens
        return 0 if missing <= 0 else math.ceil(missing * MINUTE_MS / self.per_minute / 1000)

    def _refilled(self, key: str) -> _Bucket:
        now = self.clock.now_ms()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > self.max_keys:  # bounded: forget everyone rather than grow without end
                self._buckets.clear()
            bucket = self._buckets[key] = _Bucket(tokens=float(self.burst), at_ms=now)
        refill = (now - bucket.at_ms) * self.per_minute / MINUTE_MS
        bucket.tokens, bucket.at_ms = min(float(self.burst), bucket.tokens + refill), now
        return bucket
