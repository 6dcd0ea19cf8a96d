"""One org node as the edges see it: submissions with their status, and read queries over the ledger.

The pipeline admits and commits; this service remembers which submissions are still waiting, so a
status query can answer "pending" before a block holds the transaction, and a resubmission of the
same signed transaction returns the first one's result instead of an error (idempotency keys on the
tx id, which is the hash of the signed payload). Reads go through the writer's own ``LedgerStore``
on the event loop's thread, between block commits, so they never see half a block.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from dataclasses import dataclass
from typing import Final

import orjson

from estatechain.canonical import JSONValue
from estatechain.clock import Clock
from estatechain.contract.rules.governance import revoked_key
from estatechain.crypto import x509
from estatechain.errors import InputError, NotFound, Refused, Unavailable
from estatechain.identity.genesis import Genesis
from estatechain.identity.membership import Signer, SignerCache
from estatechain.ledger.admission import cert_key
from estatechain.ledger.block import BlockHeader
from estatechain.ledger.envelope import parse_envelope
from estatechain.ledger.refusals import RefusalCode
from estatechain.node.cluster import ClusterPipeline
from estatechain.node.events import EventHub
from estatechain.node.expiry import HeldCertificate
from estatechain.node.keys import NodeKeys
from estatechain.node.outbox import Outbox
from estatechain.node.peers import FETCH_LOG, MaterialLog, fetch_material, peers_to_ask
from estatechain.node.pipeline import OrderingPipeline, Receipt
from estatechain.node.settings import Settings
from estatechain.node.shutdown import close_audit_log, run_every_step
from estatechain.storage.store import LedgerStore

log = logging.getLogger(__name__)


def _nothing() -> None:
    """A stop step with nothing to do (a node without that part)."""

PENDING: Final = "pending"
COMMITTED: Final = "committed"


@dataclass(frozen=True, slots=True, kw_only=True)
class TxStatus:
    """Where a transaction stands: pending, or committed valid / invalid with its reason."""

    tx_id: str
    status: str
    result: str | None = None
    code: str | None = None
    message: str | None = None
    detail: dict[str, str] | None = None
    height: int | None = None
    seq: int | None = None
    position: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Submission:
    """The answer to a submission: the status now, and whether an earlier submission made it."""

    status: TxStatus
    duplicate: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredBlock:
    """A committed block: its header, hash and transactions in order."""

    header: BlockHeader
    block_hash: str
    txs: tuple[TxStatus, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class InclusionProof:
    """An RFC 9162 audit path of tx-log leaf ``seq`` in the tree of the first ``size`` leaves."""

    seq: int
    size: int
    tx_id: str
    leaf_hash: bytes
    root: bytes
    path: tuple[bytes, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsistencyProof:
    """An RFC 9162 proof that the tree of ``old_size`` leaves is a prefix of the one of ``size``."""

    old_size: int
    size: int
    old_root: bytes
    root: bytes
    path: tuple[bytes, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgAttestation:
    """How far one member org's node has attested, next to this node's head."""

    org: str
    height: int | None
    """The highest height the org attested (None: none read from it yet: no node, or not started)."""
    behind: int
    """Blocks this node committed above ``height`` (0 when the org is level or ahead)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterStatus:
    """A cluster node's view: its head, stream position, what is final, any divergence, each org's attestations."""

    org: str
    height: int
    head_hash: str
    stream_position: int
    final_height: int
    alarm: str | None
    nats_connected: bool
    orgs: tuple[OrgAttestation, ...] = ()
    """Every genesis org, in genesis order: a stopped peer shows as falling behind while the quorum holds."""


class NodeService:
    """The node's pipeline, its ledger and the queries the API serves. Use from one event loop."""

    def __init__(  # noqa: PLR0913  (keywords only; events and outbox are optional parts)
        self, *, settings: Settings, store: LedgerStore, pipeline: OrderingPipeline, clock: Clock,
        events: EventHub | None = None, outbox: Outbox | None = None, party_key: bytes | None = None,
        keys: NodeKeys | None = None, certificates: tuple[HeldCertificate, ...] = (),
    ) -> None:
        self.settings = settings
        self.keys = keys if keys is not None else NodeKeys.none(settings.org_id or settings.ledger_dir.name)
        """What this node signs and opens with (its keystore, the dev layout, or nothing)."""
        self.certificates = certificates
        """The certificates it uses and its org's CA, with their ends (``estatechain_certificate_expiry_seconds``)."""
        self.events = events
        self.outbox = outbox
        self.party_key = party_key
        """The identity authority's party-id key, on the node that serves party-id lookups only."""
        self._event_tasks: list[asyncio.Task[None]] = []
        self.store = store
        self.pipeline = pipeline
        self.clock = clock
        self.genesis: Genesis = store.genesis
        self.suite = store.suite
        self._signers = SignerCache(store.genesis)
        self._waiting: dict[str, asyncio.Future[Receipt]] = {}
        self._admitting: dict[str, asyncio.Future[BaseException | None]] = {}
        """First submissions still being admitted, by tx id: their retries wait on them (``submit``)."""
        self._runner: asyncio.Task[None] | None = None
        self.material_log = MaterialLog(clock, settings.ledger_dir / "materials" / FETCH_LOG,
                                        refusals_per_minute=settings.peer_refusals_per_minute,
                                        refusal_burst=settings.peer_refusal_burst)
        """The durable record of materials this node asked of and gave to peer nodes (``peers.MaterialLog``)."""

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the pipeline in a task of the running loop."""
        if self._runner is None:
            loop = asyncio.get_running_loop()
            self._runner = loop.create_task(self.pipeline.run(), name="pipeline")
            if self.events is not None:
                self._event_tasks.append(loop.create_task(self.events.follow(self.pipeline.subscribe()), name="events"))
            if self.outbox is not None:
                self._event_tasks.append(loop.create_task(self.outbox.run(), name="outbox"))

    async def stop(self) -> None:
        """Commit what is being gathered, stop the pipeline and events, and close the ledger.

        Every step runs even if an earlier one raised (``shutdown.run_every_step``): a pipeline that
        stopped on a fault must not leave the node half-stopped with its ledger open and its writer lock
        held. The first failure is raised at the end; the fetch log's last counts failing to be written (a
        full disk) is logged only, as the lookup logs' are.
        """
        await run_every_step([
            ("stop the pipeline (it commits what it had gathered)", self._stop_pipeline),
            ("queue the events of the last blocks", self._queue_last_events),
            ("stop following and delivering events", self._stop_event_tasks),
            ("close the webhook outbox", self.outbox.close if self.outbox is not None else _nothing),
            ("close the fetch log", lambda: close_audit_log(self.material_log.close, self.material_log.path, log)),
            ("close the ledger (its writer lock stays held until the process ends)", self.store.close),
        ], log)

    async def _stop_pipeline(self) -> None:
        if self._runner is not None:
            self.pipeline.stop()
            try:
                await self._runner
            finally:
                self._runner = None

    def _queue_last_events(self) -> None:
        if self.events is not None:
            self.events.advance(self.store.height)

    async def _stop_event_tasks(self) -> None:
        for task in self._event_tasks:
            task.cancel()
        for task in self._event_tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._event_tasks.clear()

    @property
    def ready(self) -> bool:
        """True while this node would take a write: see ``unready_reason``."""
        return self.unready_reason is None

    @property
    def unready_reason(self) -> str | None:
        """Why a write would fail now (None: it would not), as ``/v1/ready`` and ``estatechain_ready`` say.

        The pipeline is not running or stopped on a fault, the divergence alarm refuses writes, or the
        ordering service cannot store one (a cluster node that lost NATS, or whose stream has no quorum).
        """
        pipeline = self.pipeline
        if self._runner is None or self._runner.done() or pipeline.fault is not None:
            return "the pipeline is not running" + (f": {pipeline.fault!r}" if pipeline.fault else "")
        if isinstance(pipeline, ClusterPipeline):
            alarm = pipeline.finality.alarm
            return alarm.message if alarm is not None else pipeline.ordering_trouble
        return None if pipeline.ordering_ready else "the ordering service is not ready"

    @property
    def fetches_materials(self) -> bool:
        """Whether this node can fetch a material from its peers (a cluster node that knows them)."""
        return isinstance(self.pipeline, ClusterPipeline) and bool(self.settings.peers)

    async def fetch_material(self, sha256: str, max_bytes: int, *, reader: str, case: str | None = None,
                             person: str | None = None) -> bytes | None:
        """A material uploaded at a peer node, fetched with this node's identity (cluster nodes only).

        ``case`` (and ``person``, a resident's certificate whose key this org keeps) when the node asks
        for one of that case's applicants rather than as the registry (``peers.may_fetch``); then only
        the nodes of the orgs the case involves are asked (``peers.peers_to_ask``). ``reader`` is the
        certificate that asked this node, for the record (``material_log``).
        """
        pipeline = self.pipeline
        if not isinstance(pipeline, ClusterPipeline) or not self.settings.peers:
            return None
        return await fetch_material(sha256, peers=peers_to_ask(self.store, self.settings.peers, case=case),
                                    own_org=pipeline.org_id, key=pipeline.node_key, chain_id=self.genesis.chain_id,
                                    max_bytes=max_bytes, record=self.material_log, reader=reader, case=case,
                                    person=person)

    def cluster_status(self) -> ClusterStatus | None:
        """Where this cluster node stands (None on a single node): stream position, finality, alarm."""
        pipeline = self.pipeline
        if not isinstance(pipeline, ClusterPipeline):
            return None
        finality = pipeline.finality
        alarm = finality.alarm
        height = self.store.height
        latest = finality.last_attested()
        orgs = tuple(OrgAttestation(org=o.id, height=latest.get(o.id), behind=max(0, height - latest.get(o.id, 0)))
                     for o in self.genesis.orgs)
        return ClusterStatus(org=pipeline.org_id, height=height, head_hash=self.store.head_hash,
                             stream_position=self.store.stream_position, final_height=finality.final_height,
                             alarm=None if alarm is None else alarm.message, nats_connected=pipeline.nats_connected,
                             orgs=orgs)

    @property
    def pending_count(self) -> int:
        """Submissions admitted but not yet committed."""
        return len(self._waiting)

    # -- submissions -------------------------------------------------------------------------------------

    async def submit(self, envelope: bytes) -> Submission:
        """Admit and order ``envelope``; a transaction already pending or committed returns its first result.

        A retry that arrives while the first submission of the same transaction is still being admitted
        (its signature waits for the checker's batch) waits for that admission and answers as it did:
        the first one's status once admitted, or its refusal (a bad signature is the retry's too, the
        bytes being the same). A bank that resubmits after its own timeout must hear "pending", not a
        refusal of a transaction the node is about to commit.

        Raises:
            Refused: the envelope fails a submission check (other than being a duplicate).
            Unavailable: the ordering service did not take it (cluster without quorum): resubmit.

        """
        try:
            tx_id: str | None = parse_envelope(envelope, suite=self.suite,
                                               max_bytes=self.genesis.policies.max_tx_bytes).tx_id
        except Refused:
            tx_id = None  # the pipeline's admission refuses it below, with its own reason, as it always did
        admitting: asyncio.Future[BaseException | None] | None = None
        if tx_id is not None and tx_id not in self._admitting:
            admitting = self._admitting[tx_id] = asyncio.get_running_loop().create_future()
        try:
            future = await self.pipeline.accept(envelope)
        except Refused as refused:
            self._settle(tx_id, admitting, refused)
            return await self._twin(refused, admitting)
        except BaseException as failed:
            self._settle(tx_id, admitting, failed)
            raise
        assert tx_id is not None  # the pipeline admitted it, so it parsed
        self._waiting[tx_id] = future
        future.add_done_callback(lambda done: self._committed_or_failed(tx_id, done))
        self._settle(tx_id, admitting, None)
        return Submission(status=TxStatus(tx_id=tx_id, status=PENDING), duplicate=False)

    def _committed_or_failed(self, tx_id: str, done: asyncio.Future[Receipt]) -> None:
        """Stop tracking ``tx_id`` as waiting; a failed commit's error counts as seen.

        The pipeline has logged the fault that failed the block; without this, asyncio would log each
        such transaction's future again as "exception was never retrieved" when no client waited for it.
        """
        self._waiting.pop(tx_id, None)
        if not done.cancelled():
            done.exception()

    def _settle(self, tx_id: str | None, admitting: asyncio.Future[BaseException | None] | None,
                outcome: BaseException | None) -> None:
        """Tell the retries of the first submission of ``tx_id`` how its admission ended (None: admitted)."""
        if admitting is not None and tx_id is not None:
            self._admitting.pop(tx_id, None)
            admitting.set_result(outcome)

    async def _twin(self, refused: Refused, admitting: asyncio.Future[BaseException | None] | None) -> Submission:
        """Answer a submission refused as a duplicate with its first submission's status (else re-raise)."""
        tx_id = refused.detail.get("tx_id") if refused.code == RefusalCode.DUPLICATE_TX else None
        if tx_id is None:
            raise refused
        first = self._admitting.get(tx_id)
        if first is not None and first is not admitting:
            outcome = await asyncio.shield(first)
            if isinstance(outcome, Refused):
                raise Refused(outcome.code, outcome.message, outcome.detail) from None
            if outcome is not None:
                raise Unavailable(f"the first submission of transaction {tx_id} failed ({outcome!r}); "
                                  "submit it again") from None
        status = self.status(tx_id)
        if status is None:
            raise refused
        return Submission(status=status, duplicate=True)

    async def wait(self, tx_id: str, timeout_s: float) -> TxStatus | None:
        """The status of ``tx_id`` once committed, or as it stands after ``timeout_s`` seconds."""
        future = self._waiting.get(tx_id)
        if future is not None and timeout_s > 0:
            with contextlib.suppress(Exception):  # a timeout or a failed commit: the status tells which
                await asyncio.wait_for(asyncio.shield(future), timeout_s)
        return self.status(tx_id)

    def status(self, tx_id: str) -> TxStatus | None:
        """Committed (with result), pending, or None when this node has never seen ``tx_id``."""
        row = self.store.connection.execute(
            "SELECT seq, height, position, status, code, message, detail FROM txs WHERE tx_id = ?", (tx_id,)
        ).fetchone()
        if row is not None:
            return _committed(tx_id, row)
        if tx_id in self._waiting:
            return TxStatus(tx_id=tx_id, status=PENDING)
        return None

    # -- blocks and proofs -------------------------------------------------------------------------------

    def block(self, height: int) -> StoredBlock:
        """The committed block at ``height``.

        Raises:
            NotFound: no block has that height yet.

        """
        block = self.store.block_at(height)
        if block is None:
            raise NotFound(f"no block at height {height}; the head is at height {self.store.height}")
        header, block_hash = block
        txs = self.store.connection.execute(
            "SELECT tx_id, seq, height, position, status, code, message, detail FROM txs WHERE height = ? "
            "ORDER BY position",
            (height,),
        ).fetchall()
        return StoredBlock(header=header, block_hash=block_hash,
                           txs=tuple(_committed(str(r[0]), r[1:]) for r in txs))

    def head(self) -> StoredBlock:
        """The last committed block.

        Raises:
            NotFound: nothing has been committed yet.

        """
        if self.store.height == 0:
            raise NotFound("no block has been committed yet")
        return self.block(self.store.height)

    def inclusion_proof(self, seq: int, size: int | None) -> InclusionProof:
        """The audit path of leaf ``seq`` in the tree of ``size`` leaves (default: the whole log).

        Raises:
            InputError: ``seq`` or ``size`` is outside the log.

        """
        txlog = self.store.txlog
        tree_size = txlog.size() if size is None else size
        path = txlog.inclusion_proof(seq, tree_size)
        row = self.store.connection.execute("SELECT tx_id FROM txs WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise InputError(f"no transaction has tx-log index {seq}")
        return InclusionProof(seq=seq, size=tree_size, tx_id=str(row[0]), leaf_hash=txlog.leaf_hash(seq),
                              root=txlog.root(tree_size), path=tuple(path))

    def consistency_proof(self, old_size: int, size: int | None) -> ConsistencyProof:
        """The proof that the log of ``old_size`` leaves is a prefix of the log of ``size`` leaves.

        Raises:
            InputError: a size is outside the log, or ``old_size > size``.

        """
        txlog = self.store.txlog
        tree_size = txlog.size() if size is None else size
        path = txlog.consistency_proof(old_size, tree_size)
        return ConsistencyProof(old_size=old_size, size=tree_size, old_root=txlog.root(old_size),
                                root=txlog.root(tree_size), path=tuple(path))

    # -- callers -----------------------------------------------------------------------------------------

    def resolve_caller(self, *, key_id: str, certificate: bytes | None) -> Signer:
        """The member identity behind a request key id (the certificate's SHA-256 fingerprint).

        The certificate comes with the request, or is the one registered on the ledger under that
        fingerprint. Revoked certificates and ones outside their validity period cannot call.

        Raises:
            NotFound: no certificate is given and none with this fingerprint is on the ledger.
            Refused: the certificate is not a member's, does not match the key id, is revoked or expired.

        """
        if certificate is None:
            registered = self.store.get(cert_key(key_id))
            if registered is None:
                raise NotFound(f"no certificate with fingerprint {key_id} is on the ledger; send the certificate")
            certificate = base64.b64decode(str(registered["certificate"]))
        if x509.fingerprint(certificate) != key_id:
            raise Refused(RefusalCode.SIGNER_MISMATCH, "keyid is not the SHA-256 fingerprint of the certificate sent",
                          {"keyid": key_id})
        signer = self._signers.resolve(certificate)
        if self.store.get(revoked_key(signer.fingerprint)) is not None:
            raise Refused(RefusalCode.SIGNER_REVOKED, "the caller's certificate has been revoked",
                          {"signer": signer.fingerprint})
        now = self.clock.now_ms()
        if not signer.not_before_ms <= now <= signer.not_after_ms:
            raise Refused("CERTIFICATE_EXPIRED", "the caller's certificate is outside its validity period",
                          {"signer": signer.fingerprint})
        return signer


def _committed(tx_id: str, row: tuple[object, ...]) -> TxStatus:
    seq, height, position, status, code, message, detail = row
    decoded: JSONValue = orjson.loads(str(detail)) if detail else None
    return TxStatus(
        tx_id=tx_id,
        status=COMMITTED,
        result=str(status),
        code=None if code is None else str(code),
        message=None if message is None else str(message),
        detail={str(k): str(v) for k, v in decoded.items()} if isinstance(decoded, dict) else None,
        height=int(str(height)),
        seq=int(str(seq)),
        position=int(str(position)),
    )

