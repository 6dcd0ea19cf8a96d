"""A node that the crash test kills with SIGKILL: ``python crash_child.py LEDGER_DIR CONSORTIUM_DIR ACK_FILE COUNT``.

It opens (or resumes) the ledger in LEDGER_DIR, runs a Pipeline and keeps up to a block and a half of
signed ``note.put`` transactions in flight, each under a key unique to this run. Whenever receipts
arrive it appends their tx ids to ACK_FILE, one ``tx_id`` line each, then flushes and fsyncs before it
does anything else. A line is only ever written after the receipt, i.e. after the block committed, so
every id in ACK_FILE is a promise the ledger must keep across the kill.

Two more things for the parent:

* ``ready`` on stdout once the ledger is open and the pipeline runs, so the kill delay starts there
  and not during interpreter start-up;
* ``ACK_FILE.commits``: ``begin H`` right before ``commit_block`` for height H and ``end H`` right
  after it (plain ``write`` calls, which survive a SIGKILL in the page cache). A file whose last line
  is ``begin`` means the kill landed inside a commit.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from estatechain.clock import SystemClock
from estatechain.identity.devca import load_dev_consortium
from estatechain.ledger.block import BlockHeader
from estatechain.ledger.results import ExecutedTx
from estatechain.node.pipeline import Pipeline, Receipt
from estatechain.storage.store import LedgerStore, Write
from estatechain.testing.builders import TxFactory

IN_FLIGHT = 750
"""More than a block's worth (the genesis default cuts at 500), so the cutter always has a full block waiting."""


class MarkedStore(LedgerStore):
    """A LedgerStore that records when each commit starts and ends."""

    marks_fd = -1

    def commit_block(
        self, *, time_ms: int, executed: Sequence[ExecutedTx], writes: Sequence[Write],
        stream_position: int | None = None,
    ) -> BlockHeader:
        """Commit as usual, bracketed by ``begin H`` / ``end H`` lines in the marks file."""
        height = self.height + 1
        os.write(self.marks_fd, f"begin {height}\n".encode())
        header = super().commit_block(time_ms=time_ms, executed=executed, writes=writes,
                                      stream_position=stream_position)
        os.write(self.marks_fd, f"end {height}\n".encode())
        return header


def _ack(fd: int, receipts: list[Receipt]) -> None:
    os.write(fd, "".join(f"{r.tx_id}\n" for r in receipts).encode())
    os.fsync(fd)


async def _run(store: LedgerStore, factory: TxFactory, ack_fd: int, count: int) -> None:
    pipeline = Pipeline(store, factory.clock)
    runner = asyncio.create_task(pipeline.run())
    writers = [i for i in factory.consortium.identities.values() if i.role != "auditor"]
    run_id = secrets.token_hex(6)
    in_flight: set[asyncio.Future[Receipt]] = set()
    submitted = 0
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while submitted < count or in_flight:
        while submitted < count and len(in_flight) < IN_FLIGHT:
            envelope = factory.note(writers[submitted % len(writers)], f"crash/{run_id}/{submitted:07d}",
                                    {"n": submitted, "run": run_id})
            in_flight.add(pipeline.submit_nowait(envelope))
            submitted += 1
        done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        _ack(ack_fd, [future.result() for future in done])
    pipeline.stop()
    await runner


def main(argv: list[str]) -> None:
    """Run until COUNT transactions are acknowledged (or, as intended, until killed)."""
    ledger_dir, consortium_dir, ack_file, count = Path(argv[1]), Path(argv[2]), Path(argv[3]), int(argv[4])
    consortium = load_dev_consortium(consortium_dir)
    store = MarkedStore.open(ledger_dir)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    MarkedStore.marks_fd = os.open(f"{ack_file}.commits", flags, 0o644)
    ack_fd = os.open(ack_file, flags, 0o644)
    try:
        asyncio.run(_run(store, TxFactory(consortium, SystemClock()), ack_fd, count))
    finally:
        os.close(ack_fd)
        store.close()


if __name__ == "__main__":
    main(sys.argv)
