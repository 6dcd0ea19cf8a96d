"""A retry of a transaction whose first submission is still being admitted gets that submission's status.

The pipeline admits a transaction, then waits for its signature batch before it hands back the commit
future; a bank that resubmits in that moment (its own HTTP timeout, a second worker) used to be refused
DUPLICATE_TX for a transaction the node then committed. The first submission is held in that moment
here by a gate around the real pipeline's ``accept``.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson

from estatechain.clock import SystemClock
from estatechain.identity.devca import create_dev_consortium
from estatechain.node.bootstrap import build_node
from estatechain.node.pipeline import Receipt
from estatechain.node.settings import Settings
from estatechain.sdk.identity import ClientIdentity
from estatechain.sdk.signing import SignedTransaction, sign_transaction
from estatechain.storage.store import LedgerStore

ORG = "icbc-gz"
OPERATOR = f"{ORG}/operator1"


def _node_and_tx(tmp_path: Path) -> tuple[Path, SignedTransaction]:
    """A fresh ledger for icbc-gz's node and a note signed by its operator."""
    net = tmp_path / "net"
    made = create_dev_consortium(net, now_ms=SystemClock().now_ms())
    ledger_dir = net / "nodes" / ORG
    LedgerStore.create(ledger_dir, made.genesis).close()
    identity = ClientIdentity.from_dev(net, OPERATOR)
    signed = sign_transaction(identity, chain_id=made.genesis.chain_id, command="note.put",
                              body={"key": "retry/1", "data": {"n": 1}, "if_absent": True},
                              created_at_ms=SystemClock().now_ms())
    return ledger_dir, signed


def test_a_retry_during_the_first_admission_gets_its_status_and_the_tx_commits_once(tmp_path: Path) -> None:
    ledger_dir, signed = _node_and_tx(tmp_path)

    async def scenario() -> None:
        service = build_node(Settings(ledger_dir=ledger_dir, port=0))
        service.start()
        gate = asyncio.Event()
        original: Callable[[bytes], Awaitable[asyncio.Future[Receipt]]] = service.pipeline.accept
        calls = 0

        async def held_first(data: bytes) -> asyncio.Future[Receipt]:
            nonlocal calls
            calls += 1
            future = await original(data)
            if calls == 1:
                await gate.wait()  # the first submission is admitted but has not returned yet
            return future

        service.pipeline.accept = held_first  # type: ignore[method-assign]
        try:
            first = asyncio.create_task(service.submit(signed.envelope))
            await asyncio.sleep(0.2)
            retry = asyncio.create_task(service.submit(signed.envelope))
            await asyncio.sleep(0.2)
            assert not retry.done(), retry  # it waits for the first, rather than refusing
            gate.set()
            first_submission, retried = await asyncio.wait_for(asyncio.gather(first, retry), 10)
            assert (first_submission.duplicate, retried.duplicate) == (False, True)
            assert retried.status.tx_id == first_submission.status.tx_id == signed.tx_id
            committed = await service.wait(signed.tx_id, 10)
            assert committed is not None
            assert (committed.status, committed.result) == ("committed", "valid")
            assert service.store.connection.execute("SELECT COUNT(*) FROM txs WHERE tx_id = ?",
                                                    (signed.tx_id,)).fetchone()[0] == 1
        finally:
            await service.stop()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_a_retry_of_a_badly_signed_first_submission_gets_the_same_refusal_at_once(tmp_path: Path) -> None:
    """The retry hears the first one's BAD_SIGNATURE (same bytes), not a duplicate that will never commit."""
    ledger_dir, signed = _node_and_tx(tmp_path)
    envelope = orjson.loads(signed.envelope)
    signature = bytearray(base64.b64decode(envelope["signature"]))
    signature[0] ^= 1
    bad = orjson.dumps({**envelope, "signature": base64.b64encode(bytes(signature)).decode()},
                       option=orjson.OPT_SORT_KEYS)

    async def scenario() -> None:
        service = build_node(Settings(ledger_dir=ledger_dir, port=0))
        service.start()
        try:
            outcomes = await asyncio.wait_for(
                asyncio.gather(service.submit(bad), service.submit(bad), return_exceptions=True), 5)
            assert [(type(o).__name__, getattr(o, "code", None)) for o in outcomes] == [
                ("Refused", "BAD_SIGNATURE"), ("Refused", "BAD_SIGNATURE")]
            assert service.status(signed.tx_id) is None
        finally:
            await service.stop()

    asyncio.run(asyncio.wait_for(scenario(), 60))
