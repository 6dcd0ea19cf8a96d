"""The single-node pipeline: admit → order → cut → execute → commit → acknowledge → publish.

Submissions are admitted synchronously (a refusal is raised to the caller at once and nothing is
stored), except for the two checks that depend on the bytes alone — the signature, and that the
payload is canonical — which ``node.signatures`` runs in batches: ``accept`` waits for that verdict
before it returns, ``submit_nowait`` delivers such a refusal through the returned future. No
transaction is executed before both have passed. Admitted transactions are queued in arrival order.

The cutter closes a block at ``block_max_tx`` transactions, ``block_max_bytes`` bytes, or
``batch_timeout_ms`` after the block's first entry. A block commits in one SQLite transaction; only
then are its submitters' futures resolved, so an acknowledgement always means "durably committed". A
fault during commit stops the pipeline (no retry loop, no invalid mark).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from estatechain.clock import Clock
from estatechain.crypto.batch import NON_CANONICAL, VALID
from estatechain.errors import Refused, Unavailable
from estatechain.ledger.admission import Admission, AdmittedTx, Authenticator, bad_signature, nonce_refusal
from estatechain.ledger.block import BlockHeader
from estatechain.ledger.envelope import SignedTx, payload_is_canonical
from estatechain.ledger.execution import execute_block
from estatechain.ledger.refusals import RefusalCode
from estatechain.ledger.results import ExecutedTx
from estatechain.node.shutdown import mark_logged
from estatechain.node.signatures import SignatureChecker, Verdict
from estatechain.ordering.cutter import BlockCutter
from estatechain.storage.store import LedgerStore

log = logging.getLogger("estatechain.pipeline")


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """What a submitter learns once its transaction is committed."""

    tx_id: str
    height: int
    seq: int
    position: int
    valid: bool
    code: str | None
    message: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CommittedBlock:
    """A committed block as subscribers see it."""

    header: BlockHeader
    block_hash: str
    receipts: tuple[Receipt, ...]


class BlockFanout:
    """Hands every committed block to each current subscriber (events, tests), in height order."""

    def __init__(self) -> None:
        self._queues: list[asyncio.Queue[CommittedBlock]] = []

    def publish(self, block: CommittedBlock) -> None:
        """Queue ``block`` for every subscriber."""
        for queue in self._queues:
            queue.put_nowait(block)

    async def subscribe(self) -> AsyncIterator[CommittedBlock]:
        """Committed blocks from now on, until the caller stops iterating."""
        queue: asyncio.Queue[CommittedBlock] = asyncio.Queue()
        self._queues.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.remove(queue)


def receipts_of(executed: Sequence[ExecutedTx], *, height: int, first_seq: int) -> tuple[Receipt, ...]:
    """What each submitter of a committed block's transactions learns, in block order."""
    return tuple(
        Receipt(tx_id=e.tx.tx_id, height=height, seq=first_seq + i, position=i, valid=e.result.valid,
                code=e.result.code, message=e.result.message)
        for i, e in enumerate(executed)
    )


class OrderingPipeline(Protocol):
    """**Protocol:** what the node service needs from a pipeline, single-node or cluster."""

    fault: BaseException | None

    @property
    def store(self) -> LedgerStore:
        """The ledger the pipeline commits to."""
        ...

    async def accept(self, data: bytes) -> asyncio.Future[Receipt]:
        """Admit and order ``data``; the future resolves when this node committed it."""
        ...

    @property
    def ordering_ready(self) -> bool:
        """True once submissions can be ordered (a cluster node: connected to the stream)."""
        ...

    def subscribe(self) -> AsyncIterator[CommittedBlock]:
        """Committed blocks from now on."""
        ...

    def stop(self) -> None:
        """Ask ``run`` to return."""
        ...

    async def run(self) -> None:
        """Drive the ledger until stopped."""
        ...


def _refusal(tx: SignedTx, verdict: int) -> Refused:
    """The refusal for a deferred check's failing verdict."""
    if verdict == NON_CANONICAL:
        problem = payload_is_canonical(tx.payload_bytes) or "not in RFC 8785 canonical form"
        return Refused(RefusalCode.NON_CANONICAL, problem, {})
    return bad_signature(tx)


@dataclass(slots=True)
class _Pending:
    admitted: AdmittedTx
    done: asyncio.Future[Receipt]
    verdict: Verdict


class Pipeline:
    """Drives one ledger file. Create it, ``await run()`` in a task, ``submit`` from anywhere in the loop."""

    def __init__(self, store: LedgerStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._policies = store.genesis.policies
        self._admission = Admission(Authenticator(store.genesis), store, store)
        self._signatures = SignatureChecker(store.suite)
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._pending_ids: set[str] = set()
        self._pending_nonces: dict[tuple[str, str], str] = {}
        self._fanout = BlockFanout()
        self._stopping = False
        self.fault: BaseException | None = None

    @property
    def store(self) -> LedgerStore:
        """The ledger this pipeline commits to."""
        return self._store

    def submit_nowait(self, data: bytes) -> asyncio.Future[Receipt]:
        """Admit ``data`` and queue it; the future resolves when its block has committed.

        A signature that does not verify, or a payload that is not canonical, is found a moment later
        (the checker works in batches): the future then raises ``Refused`` (BAD_SIGNATURE or
        NON_CANONICAL) and nothing is stored.

        Raises:
            Refused: the transaction fails a submission check; nothing was stored.

        """
        return self._enqueue(data).done

    def _enqueue(self, data: bytes) -> _Pending:
        if self.fault is not None:
            raise Unavailable(f"this node stopped after a fault ({self.fault!r}); nothing was stored: submit to "
                              "another member's node, or resubmit once the operator has restarted this one")
        admitted = self._admission.admit(data, defer=True)
        tx = admitted.tx
        if tx.tx_id in self._pending_ids:
            raise Refused(RefusalCode.DUPLICATE_TX, "this transaction is already waiting to be committed",
                          {"tx_id": tx.tx_id})
        if (tx.signer, tx.nonce) in self._pending_nonces:
            raise nonce_refusal(tx, self._pending_nonces[tx.signer, tx.nonce])
        verdict = self._signatures.check(admitted.signer.public_key, tx.payload_bytes, tx.signature, canonical=True)
        self._pending_ids.add(tx.tx_id)
        self._pending_nonces[tx.signer, tx.nonce] = tx.tx_id
        pending = _Pending(admitted, asyncio.get_running_loop().create_future(), verdict)
        self._queue.put_nowait(pending)
        return pending

    async def submit(self, data: bytes) -> Receipt:
        """Admit, queue and wait until committed."""
        return await self.submit_nowait(data)

    @property
    def ordering_ready(self) -> bool:
        """Always: ordering is the in-process queue."""
        return True

    async def accept(self, data: bytes) -> asyncio.Future[Receipt]:
        """Admit ``data``, signature included, and queue it (the interface the cluster pipeline shares).

        Raises:
            Refused: the transaction fails a submission check, its signature included; nothing is stored.

        """
        pending = self._enqueue(data)
        verdict = await pending.verdict.wait()
        if verdict != VALID:
            pending.done.cancel()  # the commit loop drops it; this caller hears the refusal here
            raise _refusal(pending.admitted.tx, verdict)
        return pending.done

    def subscribe(self) -> AsyncIterator[CommittedBlock]:
        """Committed blocks from now on, in height order."""
        return self._fanout.subscribe()

    def stop(self) -> None:
        """Commit the block being gathered, then return from ``run``; later queued entries are failed."""
        self._stopping = True
        self._queue.put_nowait(None)

    async def run(self) -> None:
        """Cut and commit blocks until ``stop``. A commit fault is kept in ``fault`` and re-raised."""
        cutter = BlockCutter(max_tx=self._policies.block_max_tx, max_bytes=self._policies.block_max_bytes)
        carry: _Pending | None = None
        try:
            while not self._stopping:
                first = carry if carry is not None else await self._queue.get()
                if first is None:
                    continue
                batch, carry = await self._gather(first, cutter)
                batch = await self._verified(batch)
                if batch:
                    self._commit(batch)
        finally:
            self._fail_queued(carry)

    async def _gather(self, first: _Pending, cutter: BlockCutter) -> tuple[list[_Pending], _Pending | None]:
        """Collect one block's entries; return them and the entry that did not fit, if any."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._policies.batch_timeout_ms / 1000
        cutter.reset()
        cutter.add(len(first.admitted.tx.raw))
        batch = [first]
        while not cutter.full:
            if self._queue.empty():
                remaining = deadline - loop.time()
                if remaining <= 0 or self._stopping:
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    break
            else:
                item = self._queue.get_nowait()
            if item is None:
                break
            size = len(item.admitted.tx.raw)
            if not cutter.fits(size):
                return batch, item
            cutter.add(size)
            batch.append(item)
        return batch, None

    async def _verified(self, batch: list[_Pending]) -> list[_Pending]:
        """The entries whose deferred checks passed, once every verdict is in; the others are refused.

        The checker answers in submission order, so this usually waits only for the last entry's verdict.
        """
        for pending in reversed(batch):
            if not pending.verdict.done():
                await pending.verdict.wait()
        kept = []
        for pending in batch:
            verdict = pending.verdict.result()
            if verdict == VALID:
                kept.append(pending)
                continue
            tx = pending.admitted.tx
            self._pending_ids.discard(tx.tx_id)
            self._pending_nonces.pop((tx.signer, tx.nonce), None)
            if not pending.done.done():
                pending.done.set_exception(_refusal(tx, verdict))
        return kept

    def _fail_queued(self, carry: _Pending | None) -> None:
        """Tell submitters still waiting that their transaction was not committed and may be resubmitted."""
        waiting = [carry] if carry is not None else []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                waiting.append(item)
        for pending in waiting:
            if not pending.done.done():
                pending.done.set_exception(Unavailable("the node stopped before this transaction was ordered; "
                                                       "submit it again"))

    def _commit(self, batch: list[_Pending]) -> None:
        store = self._store
        previous = store.head.time_ms if store.head is not None else 0
        time_ms = max(self._clock.now_ms(), previous)
        first_seq = store.next_seq()
        try:
            executed, overlay = execute_block(
                store, [p.admitted for p in batch], chain_id=store.genesis.chain_id, policies=self._policies,
                height=store.height + 1, time_ms=time_ms, first_seq=first_seq,
            )
            header = store.commit_block(time_ms=time_ms, executed=executed, writes=overlay.writes)
        except BaseException as exc:
            self.fault = exc
            log.exception("block %d not committed, the pipeline stops; nothing of this block was stored: "
                          "restart the node once the cause is fixed (disk space, file permissions)",
                          store.height + 1)
            mark_logged(exc)
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(exc)
            raise
        receipts = receipts_of(executed, height=header.height, first_seq=first_seq)
        for pending, receipt in zip(batch, receipts, strict=True):
            tx = pending.admitted.tx
            self._pending_ids.discard(tx.tx_id)
            self._pending_nonces.pop((tx.signer, tx.nonce), None)
            if not pending.done.done():
                pending.done.set_result(receipt)
        self._fanout.publish(CommittedBlock(header=header, block_hash=store.head_hash, receipts=receipts))
