"""The cluster pipeline: admit → publish to the stream → read the stream → cut → execute → commit → attest.

A node in a cluster commits only what it reads from the ordering stream, in stream order, so every
node that read the same stream commits the same blocks (design §3.8, §6). The decisions that shape a
block are functions of the stream alone:

* each tx entry is re-admitted against the committed state after the previous block (signature,
  signer known and unrevoked, tx id and nonce not already in the ledger or in the block being
  gathered); entries that fail are dropped by every node alike (§3.13);
* a block closes when the cutter is full by count, when the next admitted entry would not fit by
  bytes (the block then ends just before it), or at a cut marker for exactly the next height — the
  first such marker wins, later or stale ones are ignored;
* block time = max(previous block time, stream time of the entry that closed the block): the stream
  leader's clock, stored in the message, never a node clock.

Cut markers are published by whichever node has held a non-empty block for ``batch_timeout_ms``
(its local clock decides only *when* to ask for a cut, never *where* the cut falls). Each committed
block stores the stream sequence it consumed up to, in the same SQLite transaction, so after a crash
the node resumes reading exactly there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Final

import nats.errors

from estatechain import canonical
from estatechain.clock import Clock
from estatechain.errors import EstatechainError, Refused, Unavailable
from estatechain.ledger.admission import Admission, AdmittedTx, Authenticator
from estatechain.ledger.attestation import sign_attestation, verify_attestation
from estatechain.ledger.execution import execute_block
from estatechain.ledger.refusals import RefusalCode
from estatechain.ledger.results import ExecutedTx
from estatechain.node.finality import Finality
from estatechain.node.outbox import WebhookKey
from estatechain.node.pipeline import BlockFanout, CommittedBlock, Receipt, receipts_of
from estatechain.node.shutdown import mark_logged
from estatechain.ordering import subjects
from estatechain.ordering.cutter import BlockCutter
from estatechain.ordering.jetstream import EntryKind, JetStreamOrdering, NatsAccess, StreamEntry
from estatechain.ordering.streams import check_cluster
from estatechain.state.overlay import Overlay
from estatechain.storage.store import LedgerStore

log = logging.getLogger(__name__)

CUT_TYPE: Final = "estatechain.cut.v1"
CONNECT_S: Final = 60.0
"""How long a starting node waits for the NATS cluster to answer (leader elections take seconds)."""
CHECK_S: Final = 2.0
"""How often a running node asks the stream whether it can store a write (readiness)."""


def cut_marker(chain_id: str, height: int) -> bytes:
    """The canonical body of a cut marker asking every node to close block ``height`` here."""
    return canonical.encode({"chain_id": chain_id, "height": height, "type": CUT_TYPE})


def _marker_height(data: bytes, chain_id: str) -> int | None:
    """The height a well-formed marker of this chain names; None for anything else (ignored alike)."""
    try:
        value = canonical.decode(data, what="cut marker")
    except ValueError:
        return None
    if (isinstance(value, dict) and value.keys() == {"chain_id", "height", "type"} and value["type"] == CUT_TYPE
            and value["chain_id"] == chain_id and isinstance(value["height"], int)):
        return value["height"]
    return None


async def _cancel_all(tasks: list[asyncio.Task[None]], within_s: float = 10.0) -> None:
    """Cancel ``tasks`` until they are done, bounded.

    Cancelling once is not enough: a cancellation that lands while nats-py's fetch is inside
    ``asyncio.wait_for`` can be swallowed (Python 3.11), and the reader would fetch on forever.
    """
    deadline = asyncio.get_running_loop().time() + within_s
    while pending := [t for t in tasks if not t.done()]:
        if asyncio.get_running_loop().time() > deadline:
            log.error("%d pipeline task(s) ignored cancellation for %.0f s; leaving them", len(pending), within_s)
            return
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=0.2)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            log.debug("pipeline task %s ended with %r", task.get_name(), task.exception())


@dataclass(slots=True)
class _Gathering:
    """The block being gathered from the stream."""

    txs: list[AdmittedTx] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    nonces: set[tuple[str, str]] = field(default_factory=set)
    since: float = 0.0
    asked: float = 0.0
    """Loop time this node last published a cut marker for this block (0: never)."""


class ClusterPipeline:
    """Drives one node's ledger from the ordering stream. ``await run()`` in a task of the node's loop."""

    def __init__(  # noqa: PLR0913  (keywords only; every part is needed)
        self, store: LedgerStore, clock: Clock, *, access: NatsAccess, monitoring: tuple[str, ...],
        node_key: WebhookKey, finality: Finality,
    ) -> None:
        self._store = store
        self._clock = clock
        self._access = access
        self._monitoring = monitoring
        self._transport: JetStreamOrdering | None = None
        self._org = access.org_id
        self._key = node_key
        self.finality = finality
        self._policies = store.genesis.policies
        self._chain_id = store.genesis.chain_id
        self._authenticator = Authenticator(store.genesis)
        self._admission = Admission(self._authenticator, store, store)
        self._cutter = BlockCutter(max_tx=self._policies.block_max_tx, max_bytes=self._policies.block_max_bytes)
        self._block = _Gathering()
        self._last_seq = store.stream_position
        self._last_time_ms = 0
        self._waiting: dict[str, asyncio.Future[Receipt]] = {}
        self._fanout = BlockFanout()
        self._unattested: list[int] = [store.height] if store.height else []  # the head may not have gone out
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = asyncio.Event()
        self._stream_trouble: str | None = "the ordering stream has not been checked yet"
        self.fault: BaseException | None = None

    @property
    def store(self) -> LedgerStore:
        """The ledger this pipeline commits to."""
        return self._store

    @property
    def org_id(self) -> str:
        """The member org this node belongs to."""
        return self._org

    async def connect(self) -> None:
        """Connect with the org's credentials and refuse to run on an unsafe cluster (design §3.8).

        Raises:
            Unavailable: no NATS server answered.
            ClusterMisconfigured: a server or stream lacks a setting that keeps acknowledged writes.

        """
        if self._transport is not None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONNECT_S
        waiting = False
        while True:
            try:
                transport = await JetStreamOrdering.connect(self._access, chain_id=self._chain_id,
                                                            within_s=max(1.0, deadline - loop.time()))
                try:
                    await check_cluster(transport.js, self._monitoring, subjects.chain_tag(self._chain_id))
                except BaseException:
                    await transport.close()
                    raise
            except (TimeoutError, Unavailable, nats.errors.Error) as exc:  # a cluster still electing leaders
                if loop.time() >= deadline:
                    raise Unavailable(f"the NATS cluster did not answer within {CONNECT_S:.0f} s: {exc}; check "
                                      "the servers, their URLs and the org's credentials file") from None
                if not waiting:
                    log.warning("NATS not ready (%s); retrying for up to %.0f s", exc, CONNECT_S)
                    waiting = True
                await asyncio.sleep(1.0)
                continue
            self._transport = transport
            self._stream_trouble = None
            return

    @property
    def node_key(self) -> WebhookKey:
        """The node's own identity (attestations, requests to peers)."""
        return self._key

    @property
    def ordering_ready(self) -> bool:
        """True while the stream can take a write: connected, and its last check or publish was answered."""
        return self.ordering_trouble is None

    @property
    def ordering_trouble(self) -> str | None:
        """Why a write would not be ordered now (None: it would): not connected, or the stream does not answer."""
        if self._transport is None:
            return "this node is not connected to the ordering service yet"
        if self._transport.gone:
            return (f"the connection to the NATS cluster was closed {self._transport.down_for_s:.0f} s ago and will "
                    f"not be reopened ({self._transport.last_error}); restart the node")
        if not self._transport.connected:
            return (f"no connection to the NATS cluster for {self._transport.down_for_s:.0f} s "
                    f"({self._transport.last_error}); reconnecting")
        return self._stream_trouble

    @property
    def nats_connected(self) -> bool:
        """True while this node's connection to a NATS server is up."""
        return self._transport is not None and self._transport.connected

    @property
    def transport(self) -> JetStreamOrdering:
        """The connection to the streams (after ``connect``)."""
        if self._transport is None:
            raise Unavailable("this node is not connected to the ordering service yet; try again shortly")
        return self._transport

    # -- submissions ------------------------------------------------------------------------------------

    async def accept(self, data: bytes) -> asyncio.Future[Receipt]:
        """Admit ``data`` and have the stream store it; the future resolves when this node commits it.

        Raises:
            Refused: the transaction fails a submission check; nothing was published.
            Unavailable: the stream did not acknowledge it (no quorum); nothing is promised: resubmit.

        """
        if self.fault is not None:
            raise Unavailable(f"this node stopped after a fault: {self.fault!r}")
        if self.finality.alarm is not None:
            raise Unavailable(self.finality.alarm.message)
        admitted = self._admission.admit(data)
        tx_id = admitted.tx.tx_id
        future = self._waiting.get(tx_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiting[tx_id] = future
        try:
            await self.transport.publish_tx(tx_id, data)
        except Unavailable as exc:
            self._stream_trouble = str(exc)  # not ready until a check or a publish is answered again
            if self._waiting.get(tx_id) is future and not future.done():
                del self._waiting[tx_id]
                future.cancel()
            raise
        self._stream_trouble = None
        return future

    def subscribe(self) -> AsyncIterator[CommittedBlock]:
        """Committed blocks from now on, in height order."""
        return self._fanout.subscribe()

    # -- lifecycle --------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop reading. The block being gathered is not committed: its entries stay on the stream."""
        self._stopped.set()

    async def run(self) -> None:
        """Read the streams until ``stop``; a commit fault is kept in ``fault`` and re-raised."""
        loop = asyncio.get_running_loop()
        try:
            await self.connect()
        except BaseException as exc:
            self.fault = exc
            self.finality.close()
            raise
        self._tasks = [loop.create_task(self._read_transactions(), name="stream-reader"),
                       loop.create_task(self._read_attestations(), name="attestation-reader"),
                       loop.create_task(self._tick(), name="cut-timer"),
                       loop.create_task(self._check_stream(), name="stream-check")]
        stopped = loop.create_task(self._stopped.wait())
        try:
            done, _ = await asyncio.wait([*self._tasks, stopped], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopped and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            stopped.cancel()
            await _cancel_all(self._tasks)
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(Unavailable("the node stopped before committing this transaction; it is "
                                                     "on the stream and commits when the node is back"))
            self._waiting.clear()
            try:
                await self.transport.close()
            except Exception:  # logged, not raised: it would replace the error the node is stopping with
                log.exception("while stopping, could not close the connection to the NATS cluster")
            finally:
                self.finality.close()

    # -- the stream -------------------------------------------------------------------------------------

    async def _read_transactions(self) -> None:
        async for entry in self.transport.entries(self._store.stream_position):
            try:
                self._take(entry)
            except BaseException as exc:
                self.fault = exc
                log.exception("commit failed at stream sequence %d; the node stops", entry.seq)
                mark_logged(exc)
                raise

    def _take(self, entry: StreamEntry) -> None:
        """Apply one stream entry; every node calls this with the same entries in the same order."""
        block = self._block
        if entry.kind is EntryKind.CUT:
            if block.txs and _marker_height(entry.data, self._chain_id) == self._store.height + 1:
                self._commit(position=entry.seq, time_ms=entry.time_ms)
            self._consumed(entry)
            return
        admitted = self._admit(entry)
        if admitted is not None:
            size = len(admitted.tx.raw)
            if not self._cutter.fits(size):
                self._commit(position=self._last_seq, time_ms=self._last_time_ms)
            self._gather(admitted)
        self._consumed(entry)
        if self._cutter.full:
            self._commit(position=entry.seq, time_ms=entry.time_ms)

    def _consumed(self, entry: StreamEntry) -> None:
        self._last_seq, self._last_time_ms = entry.seq, entry.time_ms

    def _admit(self, entry: StreamEntry) -> AdmittedTx | None:
        """The entry re-admitted against committed state and the block being gathered; None when dropped."""
        try:
            admitted = self._admission.admit(entry.data)
            tx = admitted.tx
            if tx.tx_id in self._block.ids:
                raise Refused(RefusalCode.DUPLICATE_TX, "already in the block being gathered", {"tx_id": tx.tx_id})
            if (tx.signer, tx.nonce) in self._block.nonces:
                raise Refused(RefusalCode.DUPLICATE_NONCE, "nonce already used in the block being gathered",
                              {"signer": tx.signer, "nonce": tx.nonce})
        except EstatechainError as exc:
            log.info("stream entry %d from %s dropped: %s", entry.seq, entry.origin or "?", exc)
            self._refuse_waiter(entry, exc)
            return None
        return admitted

    def _refuse_waiter(self, entry: StreamEntry, exc: EstatechainError) -> None:
        """A local submitter whose tx every node dropped learns why (unless it is a duplicate of a commit)."""
        if not isinstance(exc, Refused) or exc.code == RefusalCode.DUPLICATE_TX:
            return
        with contextlib.suppress(EstatechainError):
            tx_id = self._authenticator.parse(entry.data).tx_id
            future = self._waiting.pop(tx_id, None)
            if future is not None and not future.done():
                future.set_exception(exc)

    def _gather(self, admitted: AdmittedTx) -> None:
        block = self._block
        if not block.txs:
            block.since = asyncio.get_running_loop().time()
        block.txs.append(admitted)
        block.ids.add(admitted.tx.tx_id)
        block.nonces.add((admitted.tx.signer, admitted.tx.nonce))
        self._cutter.add(len(admitted.tx.raw))

    def _commit(self, *, position: int, time_ms: int) -> None:
        store = self._store
        previous = store.head.time_ms if store.head is not None else 0
        block_time = max(time_ms, previous)
        batch, first_seq = self._block.txs, store.next_seq()
        executed, overlay = self._execute(batch, block_time, first_seq)
        header = store.commit_block(time_ms=block_time, executed=executed, writes=overlay.writes,
                                    stream_position=position)
        self._block = _Gathering()
        self._cutter.reset()
        receipts = receipts_of(executed, height=header.height, first_seq=first_seq)
        for receipt in receipts:
            future = self._waiting.pop(receipt.tx_id, None)
            if future is not None and not future.done():
                future.set_result(receipt)
        self._fanout.publish(CommittedBlock(header=header, block_hash=store.head_hash, receipts=receipts))
        self.finality.committed(header.height)
        self._unattested.append(header.height)

    def _execute(self, batch: list[AdmittedTx], time_ms: int, first_seq: int) -> tuple[list[ExecutedTx], Overlay]:
        """Run the contract over one block (the deterministic step every node must agree on)."""
        store = self._store
        executed, overlay = execute_block(store, batch, chain_id=self._chain_id, policies=self._policies,
                                          height=store.height + 1, time_ms=time_ms, first_seq=first_seq)
        return executed, overlay

    async def _check_stream(self) -> None:
        """Ask the stream every ``CHECK_S`` whether it can store a write, for readiness (``ordering_trouble``).

        A node connected to a server of a cluster without quorum, or to a paused server, keeps its
        connection, yet every write fails: only asking the stream tells readiness so.
        """
        while True:
            await asyncio.sleep(CHECK_S)
            try:
                await self.transport.probe()
            except Unavailable as exc:
                self._stream_trouble = str(exc)
            except Exception as exc:  # noqa: BLE001  (a check that breaks must not stop the node, only unready it)
                self._stream_trouble = f"the ordering stream could not be checked: {exc!r}"
            else:
                self._stream_trouble = None

    # -- attestations and cut markers -------------------------------------------------------------------

    async def _tick(self) -> None:
        """Ask for a cut when a block waited too long; publish attestations of committed blocks.

        The marker is asked for again every batch timeout while the block stays uncut: a publish
        that the stream did not store (no leader during an election) must not leave the block
        waiting for a full count forever. A repeat that the stream did store is dropped as a
        duplicate (same ``Nats-Msg-Id``), and a late one is ignored by height.
        """
        timeout_s = self._policies.batch_timeout_ms / 1000
        while True:
            await asyncio.sleep(timeout_s / 4)
            block, now = self._block, asyncio.get_running_loop().time()
            if block.txs and now - max(block.since, block.asked) >= timeout_s:
                block.asked = now
                height = self._store.height + 1
                await self.transport.publish_cut(height, cut_marker(self._chain_id, height), self._store.head_hash)
            await self._attest()

    async def _attest(self) -> None:
        while self._unattested:
            height = self._unattested[0]
            claim = self._store.claim(height)
            assert claim is not None, height  # only committed heights are queued
            data = sign_attestation(suite=self._store.suite, private_key=self._key.private_key,
                                    cert_der=self._key.cert_der, chain_id=self._chain_id, org=self._org,
                                    height=height, block_hash=claim[0], state_root=claim[1])
            try:
                await self.transport.publish_attestation(height, data)
            except Unavailable:
                return  # the next tick tries again
            self._unattested.pop(0)

    async def _read_attestations(self) -> None:
        genesis, suite = self._store.genesis, self._store.suite
        async for seq, data in self.transport.attestations(self.finality.position):
            try:
                attestation = verify_attestation(data, genesis=genesis, suite=suite)
            except EstatechainError as exc:
                log.warning("attestation %d ignored: %s", seq, exc)
                continue
            self.finality.record(attestation, seq=seq)
