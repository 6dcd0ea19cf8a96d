"""A steady stream of signed transactions into a ``DevCluster``, and the ledger facts fault tests check.

Fault tests need to know exactly which transactions the cluster *acknowledged* (a 200/202 answer:
the stream stored them on a quorum) while servers or nodes die, so they can show none is lost.
``SteadyLoad`` submits ``note.put`` transactions, each signed on the client side by the org admin
of the node it goes to, round robin over several nodes at a paced rate. An answer other than
200/202 is not an acknowledgement: a 503 is retried with the *same* envelope (idempotent on the tx
id, as a bank's system would), an unreachable node moves the tx to the next node. Every outcome is
recorded, so a test can also assert how submissions failed (fast, 503, JSON).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from estatechain.sdk import Client
from estatechain.sdk.errors import SdkError, ServerError
from estatechain.storage.store import LedgerStore
from estatechain.testing.devcluster import DevCluster

_RETRY_S: Final = 0.2
UNAVAILABLE: Final = 503


@dataclass(slots=True)
class LoadReport:
    """What happened to every submission of a load run."""

    acknowledged: dict[str, str] = field(default_factory=dict)
    """tx id → the org whose node acknowledged it (200/202)."""
    failures: Counter[str] = field(default_factory=Counter)
    """Failed attempts by kind: ``503 UNAVAILABLE``, ``unreachable`` …"""
    slowest_failure_s: float = 0.0
    """The longest any failed attempt took to be answered."""
    given_up: list[str] = field(default_factory=list)
    """tx ids never acknowledged within the retry budget (never promised, so never checked)."""


class SteadyLoad:
    """``total`` note.put txs at about ``rate_per_s``, round robin through the nodes of ``orgs``."""

    def __init__(  # noqa: PLR0913  (keywords only; each shapes the run)
        self, cluster: DevCluster, orgs: Sequence[str], *, total: int, rate_per_s: float, label: str,
        max_attempts: int = 100, in_flight: int = 64,
    ) -> None:
        self._cluster = cluster
        self._orgs = tuple(orgs)
        self._total = total
        self._interval = 1.0 / rate_per_s
        self._label = label
        self._attempts = max_attempts
        self._slots = asyncio.Semaphore(in_flight)
        self.report = LoadReport()
        self.submitted = 0
        """How many txs have been started so far (a test waits on this to inject its fault mid-stream)."""

    async def run(self) -> LoadReport:
        """Submit every tx; return once each is acknowledged or has exhausted its attempts."""
        clients = {org: self._cluster.client(org, f"{org}/org-admin", timeout_s=10.0) for org in self._orgs}
        tasks: list[asyncio.Task[None]] = []
        try:
            start = time.monotonic()
            for n in range(self._total):
                delay = start + n * self._interval - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self._slots.acquire()
                tasks.append(asyncio.create_task(self._one(clients, n)))
                self.submitted = n + 1
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for client in clients.values():
                await client.aclose()
        return self.report

    async def _one(self, clients: dict[str, Client], n: int) -> None:
        try:
            home = self._orgs[n % len(self._orgs)]
            signed = await clients[home].sign("note.put", {"data": {"n": n}, "if_absent": False,
                                                          "key": f"{self._label}/{n:06d}"})
            org = home
            for attempt in range(self._attempts):
                begun = time.monotonic()
                try:
                    status = await clients[org].submit(signed.envelope)
                except ServerError as exc:
                    self._failed(f"{exc.status} {exc.code}", begun)
                    if exc.status != UNAVAILABLE:  # only "unavailable" is worth retrying
                        break
                except SdkError:
                    self._failed("unreachable", begun)
                    org = self._orgs[(self._orgs.index(org) + 1) % len(self._orgs)]
                else:
                    self.report.acknowledged[status.tx_id] = org
                    return
                await asyncio.sleep(_RETRY_S * min(attempt + 1, 5))
            self.report.given_up.append(signed.tx_id)
        finally:
            self._slots.release()

    def _failed(self, kind: str, begun: float) -> None:
        self.report.failures[kind] += 1
        self.report.slowest_failure_s = max(self.report.slowest_failure_s, time.monotonic() - begun)


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerFacts:
    """The whole chain of one node as plain values: compared across nodes, checked for gaps and repeats."""

    blocks: tuple[tuple[int, str], ...]
    tx_ids: tuple[str, ...]

    @property
    def contiguous(self) -> bool:
        """Heights run 1, 2, … without a gap or a repeat."""
        return [h for h, _ in self.blocks] == list(range(1, len(self.blocks) + 1))

    @property
    def repeated(self) -> list[str]:
        """Tx ids that appear more than once (none may)."""
        return [tx for tx, n in Counter(self.tx_ids).items() if n > 1]


def ledger_facts(ledger_dir: Path) -> LedgerFacts:
    """Every block hash and tx id of the ledger in ``ledger_dir``, read-only."""
    store = LedgerStore.open(ledger_dir, readonly=True)
    try:
        blocks = tuple((int(h), str(x)) for h, x in store.connection.execute(
            "SELECT height, hash FROM blocks ORDER BY height"))
        tx_ids = tuple(str(r[0]) for r in store.connection.execute("SELECT tx_id FROM txs ORDER BY seq"))
    finally:
        store.close()
    return LedgerFacts(blocks=blocks, tx_ids=tx_ids)
