"""The registry's node, killed with SIGKILL around an inquiry's commit: ``python inquiry_crash_child.py DIR ROOT``.

It serves the node of ``DIR/nodes/gz-registry`` (a consortium made by ``estatechain init``) on a free
loopback port and writes the port to ``ROOT/port``. The product code has no test hooks; this wrapper
puts one around the ledger's block commit instead, chosen by ``ESTATECHAIN_TEST_KILL``:

* ``after-inquiry-commit``: the first block holding an ``inquiry.request`` commits (durably, in its
  SQLite transaction), then the process SIGKILLs itself before the submitter's receipt is resolved,
  so the inquirer has neither an acknowledgement nor an answer;
* ``before-inquiry-commit``: the process SIGKILLs itself just before committing the first block that
  holds an ``inquiry.request``, so that inquiry never commits;
* unset: a plain node (the restart).

Before killing itself it writes ``ROOT/killed`` with the height it was at, so the parent can tell a
kill by the hook from any other death.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from estatechain.ledger.block import BlockHeader
from estatechain.ledger.results import ExecutedTx
from estatechain.storage.store import LedgerStore, Write

KILL_ENV = "ESTATECHAIN_TEST_KILL"
AFTER = "after-inquiry-commit"
BEFORE = "before-inquiry-commit"


class KillingStore(LedgerStore):
    """A LedgerStore that kills its process at the chosen side of the first commit holding an inquiry."""

    mode = ""
    root = Path()

    def commit_block(
        self, *, time_ms: int, executed: Sequence[ExecutedTx], writes: Sequence[Write],
        stream_position: int | None = None,
    ) -> BlockHeader:
        """Commit as usual, SIGKILLing the process before or after it when the block holds an inquiry."""
        inquiry = any(e.tx.command == "inquiry.request" for e in executed)
        if inquiry and self.mode == BEFORE:
            self._die()
        header = super().commit_block(time_ms=time_ms, executed=executed, writes=writes,
                                      stream_position=stream_position)
        if inquiry and self.mode == AFTER:
            self._die()
        return header

    def _die(self) -> None:
        (self.root / "killed").write_text(f"{self.mode} at height {self.height}\n")
        os.kill(os.getpid(), signal.SIGKILL)


def main(directory: Path, root: Path) -> None:
    """Serve the registry's node until killed (by the hook or the parent)."""
    from estatechain.api.server import NodeServer  # noqa: PLC0415  (after the store class is swapped in)
    from estatechain.node import bootstrap  # noqa: PLC0415
    from estatechain.node.settings import Settings  # noqa: PLC0415

    KillingStore.mode = os.environ.get(KILL_ENV, "")
    KillingStore.root = root
    vars(bootstrap)["LedgerStore"] = KillingStore  # the wrapper's hook, not the product's
    service = bootstrap.build_node(Settings(ledger_dir=directory / "nodes" / "gz-registry", port=0))

    def announce(started: NodeServer) -> None:
        (root / "port.tmp").write_text(str(started.port))
        (root / "port.tmp").replace(root / "port")

    asyncio.run(NodeServer(service, log_level="error").serve(on_started=announce))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
