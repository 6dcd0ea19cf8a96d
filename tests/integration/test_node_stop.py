"""A node that stopped on a fault still stops whole: its ledger closed and its writer lock free for the restart.

The operator's path after a full disk failed a block's commit is: free space, restart the node. A stop
that gave up at the pipeline's fault (or at any later step) left the ledger open and its writer lock
held by a process that no longer committed anything, so the restart was refused until that process
was killed.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from pathlib import Path

import pytest

from estatechain.clock import SystemClock
from estatechain.identity.devca import create_dev_consortium
from estatechain.node.bootstrap import build_node
from estatechain.node.settings import Settings
from estatechain.sdk.identity import ClientIdentity
from estatechain.sdk.signing import sign_transaction
from estatechain.storage.store import LedgerStore

ORG = "icbc-gz"


def _disk_full(*_: object, **__: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_node_whose_commit_failed_on_a_full_disk_stops_whole_and_can_be_started_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    net = tmp_path / "net"
    made = create_dev_consortium(net, now_ms=SystemClock().now_ms())
    ledger_dir = net / "nodes" / ORG
    LedgerStore.create(ledger_dir, made.genesis).close()
    signed = sign_transaction(ClientIdentity.from_dev(net, f"{ORG}/operator1"), chain_id=made.genesis.chain_id,
                              command="note.put", body={"key": "stop/1", "data": {"n": 1}},
                              created_at_ms=SystemClock().now_ms())

    faults: list[BaseException] = []

    async def scenario() -> None:
        service = build_node(Settings(ledger_dir=ledger_dir, port=0))
        service.start()
        monkeypatch.setattr(service.store, "commit_block", _disk_full)  # the disk fills up
        monkeypatch.setattr(service.material_log, "close", _disk_full)  # and the fetch log's last line fails too
        await service.submit(signed.envelope)
        for _ in range(200):
            if service.pipeline.fault is not None:
                break
            await asyncio.sleep(0.05)
        assert isinstance(service.pipeline.fault, OSError)
        faults.append(service.pipeline.fault)
        assert not service.ready
        with pytest.raises(OSError, match="No space left") as raised:  # the caller still learns why the node stopped
            await service.stop()
        assert raised.value is service.pipeline.fault

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())
    restarted = LedgerStore.open(ledger_dir)  # the writer lock was released: the operator can start it again
    try:
        assert restarted.height == 0  # the failed block left nothing behind
        assert restarted.connection.execute("SELECT count(*) FROM txs WHERE tx_id = ?",
                                            (signed.tx_id,)).fetchone()[0] == 0
    finally:
        restarted.close()
    stopping = [r.getMessage() for r in caplog.records if r.getMessage().startswith("while stopping")]
    assert any("stop the pipeline" in m and m.endswith("logged above") for m in stopping), stopping
    tracebacks = [r for r in caplog.records if r.exc_info is not None and r.exc_info[1] is faults[0]]
    assert len(tracebacks) == 1  # the fault's traceback once, where the commit failed
    assert any("refusal counts" in r.getMessage() and "stopping" in r.getMessage() and r.exc_info
               for r in caplog.records)  # the later failure is logged, not lost
