"""The public verification desk's guard: a rate limit per client and an audit log of every lookup.

Design §3.20 asks that certificate lookups be rate-limited and recorded. ``api/limits.py`` limits body
sizes only, so this is a token bucket per client address (``burst`` lookups at once, refilled at
``per_minute``; ``buckets.TokenBuckets``), on the node's injected clock. Every lookup is appended to
``<node>/certificates/lookups.jsonl`` (one JSON object a line: time, client, kind, number, outcome);
the log is node-local on purpose — lookups are not ledger transactions, and the public endpoint has
no signer who could sign one [A]. The party-id lookups use the same gate and log format
(``<node>/parties/lookups.jsonl``).

Every answered lookup gets its own line. A client past its limit is refused, and its refusals cost a
bounded amount of log (``audit_log.AuditLog.refused``): the first of a kind in a minute on its own
line, the rest of that minute counted into one line (``count``, ``from_ms``, ``to_ms``). Otherwise a
client refused a thousand times a second would make the node write and fsync a thousand lines a
second, for as long as it liked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from estatechain.audit_log import AuditLog
from estatechain.buckets import TokenBuckets
from estatechain.clock import Clock

LOG_NAME: Final = "lookups.jsonl"


@dataclass(slots=True)
class LookupGate:
    """Admits lookups per client and records each one; a refused client's refusals are counted per minute."""

    clock: Clock
    log_path: Path
    per_minute: int = 60
    burst: int = 60
    _buckets: TokenBuckets = field(init=False)
    _log: AuditLog = field(init=False)

    def __post_init__(self) -> None:
        """The buckets and the log, on the gate's clock."""
        self._buckets = TokenBuckets(self.clock, per_minute=self.per_minute, burst=self.burst)
        self._log = AuditLog(self.log_path, self.clock)

    def admit(self, client: str) -> bool:
        """True when ``client`` may look up now (a token is taken); else answer with ``rate_limited``."""
        return self._buckets.take(client)

    async def record(self, *, client: str, kind: str, number: str | None, outcome: str) -> None:
        """Append one lookup to the audit log (fsynced before the answer goes out: the log is evidence)."""
        await self._log.append({"client": client, "kind": kind, "number": number, "outcome": outcome})

    async def rate_limited(self, *, client: str, kind: str, number: str | None, outcome: str) -> None:
        """Record a lookup ``admit`` refused: the first of a client's kind in a minute on a line, the rest counted.

        The summary line has ``number`` None (the numbers asked in between are not kept), ``count``
        (refusals after the first) and ``from_ms``/``to_ms``; the same ``outcome`` as the first line,
        so a reader adds ``count`` to the lines with that outcome to get every refusal.
        """
        await self._log.refused((client, kind), {"client": client, "kind": kind, "number": number, "outcome": outcome},
                                {"client": client, "kind": kind, "number": None, "outcome": outcome})

    async def close(self) -> None:
        """Write the refusal counts still open (the node is stopping)."""
        await self._log.close()
