"""The public verification desk's guard: a rate limit per client and an audit log of every lookup.

Design §3.20 asks that certificate lookups be rate-limited and recorded. ``api/limits.py`` limits body
sizes only, so this is a token bucket per client address (``burst`` lookups at once, refilled at
``per_minute``), on the node's injected clock. Every lookup, answered or refused, is appended to
``<node>/certificates/lookups.jsonl`` (one JSON object a line: time, client, kind, number, outcome);
the log is node-local on purpose — lookups are not ledger transactions, and the public endpoint has
no signer who could sign one [A].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from estatechain.clock import Clock
from estatechain.durable import append_record

LOG_NAME: Final = "lookups.jsonl"
MINUTE_MS: Final = 60_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at_ms: int


@dataclass(slots=True)
class LookupGate:
    """Admits lookups per client and records each one."""

    clock: Clock
    log_path: Path
    per_minute: int = 60
    burst: int = 60
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def admit(self, client: str) -> bool:
        """True when ``client`` may look up now (a token is taken)."""
        now = self.clock.now_ms()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) > 100_000:  # bounded: forget everyone rather than grow without end
                self._buckets.clear()
            bucket = self._buckets[client] = _Bucket(tokens=float(self.burst), at_ms=now)
        refill = (now - bucket.at_ms) * self.per_minute / MINUTE_MS
        bucket.tokens, bucket.at_ms = min(float(self.burst), bucket.tokens + refill), now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def record(self, *, client: str, kind: str, number: str | None, outcome: str) -> None:
        """Append one lookup to the audit log (flushed and synced: the log is evidence)."""
        append_record(self.log_path, {"at_ms": self.clock.now_ms(), "client": client, "kind": kind, "number": number,
                                      "outcome": outcome})
