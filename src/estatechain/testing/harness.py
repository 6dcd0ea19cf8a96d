"""A single-node ledger driven synchronously, for tests that reason block by block.

Each ``commit`` call runs the real pipeline (admission, cutter, execution, atomic commit) until the
given envelopes are committed, and ``submit_refused`` checks that a submission was refused and that
nothing at all changed on disk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from estatechain.clock import FixedClock
from estatechain.errors import Refused
from estatechain.identity.devca import DevConsortium, create_dev_consortium
from estatechain.node.pipeline import Pipeline, Receipt
from estatechain.storage.store import LedgerStore
from estatechain.testing.builders import TxFactory

START_MS = 1_767_484_800_000
"""2026-01-04 00:00 UTC+0, the day Guangzhou's platform opened: a fixed, readable start for test clocks."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a refused submission must leave untouched."""

    height: int
    head_hash: str
    txs: int
    state_rows: int
    state_root: bytes


class LedgerHarness:
    """A development consortium with one ledger and a fixed clock."""

    def __init__(self, directory: Path, *, start_ms: int = START_MS) -> None:
        self.clock = FixedClock(start_ms)
        self.consortium: DevConsortium = create_dev_consortium(directory / "consortium", now_ms=start_ms)
        self.ledger_dir = directory / "node"
        self.store = LedgerStore.create(self.ledger_dir, self.consortium.genesis)
        self.factory = TxFactory(self.consortium, self.clock)

    def commit(self, envelopes: Sequence[bytes]) -> list[Receipt]:
        """Submit ``envelopes`` together and wait until all are committed (one block if they fit)."""
        return asyncio.run(self._commit(envelopes))

    async def _commit(self, envelopes: Sequence[bytes]) -> list[Receipt]:
        pipeline = Pipeline(self.store, self.clock)
        runner = asyncio.create_task(pipeline.run())
        try:
            futures = [pipeline.submit_nowait(e) for e in envelopes]
            return list(await asyncio.gather(*futures))
        finally:
            pipeline.stop()
            await runner

    def refuse(self, envelope: bytes) -> Refused:
        """Submit ``envelope``, expecting a refusal; return it (raises AssertionError if it was accepted)."""
        return asyncio.run(self._refuse(envelope))

    async def _refuse(self, envelope: bytes) -> Refused:
        pipeline = Pipeline(self.store, self.clock)
        try:
            await pipeline.accept(envelope)  # the API's path: every check, the signature's included
        except Refused as refused:
            return refused
        msg = "the submission was accepted, not refused"
        raise AssertionError(msg)

    def snapshot(self) -> Snapshot:
        """The ledger's observable state."""
        conn = self.store.connection
        return Snapshot(
            height=self.store.height,
            head_hash=self.store.head_hash,
            txs=conn.execute("SELECT COUNT(*) FROM txs").fetchone()[0],
            state_rows=conn.execute("SELECT COUNT(*) FROM state_rows").fetchone()[0],
            state_root=self.store.state_root,
        )
