"""Export an evidence package from one node's ledger directory (``docs/evidence.md``).

The exporter reads only what every node has — blocks, transactions, the tx log and state history —
plus the node's attestation store and, for a court, the sealed personal records its org can open.
So a package can be exported from any node of a cluster, and packages from different nodes of the
same ledger differ only in which attestations they carry and who signed the export statement.

What the exporter asserts, and signs with its node key, is the *selection*: "these are the
transactions of this subject on my ledger up to head H" (the export statement). Everything else in
the package proves itself: signatures, RFC 9162 inclusion into each block's tx-log root, the header
chain up to the head, and the org attestations over the head.
"""

from __future__ import annotations

import base64
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import orjson

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.crypto import x509
from estatechain.errors import Conflict, NotFound, Unavailable
from estatechain.evidence.attestations import AttestationStore, NodeKey, attest_block
from estatechain.evidence.mentions import MENTIONS_FILE, MentionIndex
from estatechain.evidence.openings import Opener
from estatechain.evidence.package import EVIDENCE_TYPE, EXPORT_TYPE, b64text, record_refs
from estatechain.evidence.select import Selection, StoredTx, header_at, select
from estatechain.ledger.admission import cert_key
from estatechain.ledger.attestation import verify_attestation
from estatechain.storage.store import LedgerStore


@dataclass(frozen=True, slots=True, kw_only=True)
class Exported:
    """An exported package: its canonical bytes and a summary for the CLI."""

    data: bytes
    txs: int
    context_txs: int
    headers: int
    attestations: int
    openings: int
    head_height: int


def export_package(
    ledger_dir: Path, subject: dict[str, JSONValue], *, node_key: NodeKey, opener: Opener | None = None,
) -> Exported:
    """Build the evidence package of ``subject`` from the ledger in ``ledger_dir``.

    ``node_key`` signs the export statement and, when the node has not yet attested the head, an
    attestation of it. ``opener`` (a court export) adds the openings of the personal records the
    subject's transactions name.

    Raises:
        NotFound: no ledger, or nothing matches the subject.
        InputError: the subject is malformed.
        Conflict: a stored attestation contradicts the ledger (a fork): nothing is exported.
        Unavailable: the exporter's index beside the ledger cannot be written now (``_mention_index``).

    """
    store = LedgerStore.open(ledger_dir, readonly=True)
    attestations = AttestationStore(ledger_dir, store.genesis, store.suite)
    try:
        index = _mention_index(ledger_dir, store)
        try:
            selection = select(store, subject, index)
        finally:
            index.close()
        return _build(store, attestations, selection, node_key, opener)
    finally:
        attestations.close()
        store.close()


def _mention_index(ledger_dir: Path, store: LedgerStore) -> MentionIndex:
    """The exporter's index, caught up; a damaged file is rebuilt, a held or unwritable one is reported.

    Raises:
        Unavailable: another export held the file longer than ``MentionIndex.WAIT_S``, or the folder
            cannot be written.

    """
    path = ledger_dir / MENTIONS_FILE
    try:
        try:
            return MentionIndex.caught_up(ledger_dir, store.connection)
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError):
                raise
            for damaged in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                damaged.unlink(missing_ok=True)  # not a database, malformed: derived data, so start it again
            return MentionIndex.caught_up(ledger_dir, store.connection)
    except sqlite3.OperationalError as error:  # locked, read-only, no space: nothing to rebuild
        raise Unavailable(f"{path}: {error}; the exporter keeps its index there (another export may hold it: "
                          "try again when it ends)") from error


def _build(
    store: LedgerStore, attestations: AttestationStore, selection: Selection, key: NodeKey, opener: Opener | None,
) -> Exported:
    suite, genesis = store.suite, store.genesis
    txs = sorted((*selection.txs, *selection.context), key=lambda t: t.seq)
    head = store.height
    low = min(t.height for t in txs)
    headers = [header_at(store, h) for h in range(low, head + 1)]
    by_height = {hd.height: hd for hd in headers}
    head_hash = headers[-1].hash(suite)
    if not any(verify_attestation(raw, genesis=genesis, suite=suite).org == key.org for raw in attestations.at(head)):
        attest_block(store, attestations, key, head)
    attested: list[JSONValue] = []
    for height in sorted({t.height for t in txs} | {head}):
        expected = by_height[height].hash(suite)
        for raw in attestations.at(height):
            attestation = verify_attestation(raw, genesis=genesis, suite=suite)
            if attestation.block_hash != expected or attestation.state_root != by_height[height].state_root:
                raise Conflict(f"org {attestation.org} attested block {attestation.block_hash} at height {height}, "
                               f"but this ledger's block is {expected}: a fork; stop and report it")
            attested.append(orjson.loads(raw))
    openings: list[dict[str, JSONValue]] = []
    if opener is not None:
        unit = selection.subject.get("unit_number")
        refs = set[str]().union(*(record_refs(t.body, unit if isinstance(unit, str) else None) for t in selection.txs))
        openings = opener.open(refs)
    statement = _statement(store, key, selection, head_hash=head_hash, head=head,
                           attestations=[suite.hash(canonical.encode(a)).hex() for a in attested],
                           openings=[str(o["commitment"]) for o in openings])
    package: dict[str, JSONValue] = {
        "attestations": attested,
        "certificates": [b64text(der) for _, der in sorted(_certificates(store, txs).items())],
        "chain_id": genesis.chain_id,
        "export": statement,
        "genesis": genesis.to_json(),
        "headers": [orjson.loads(hd.to_bytes()) for hd in headers],
        "openings": list[JSONValue](openings),
        "timestamps": [],
        "transactions": [_entry(store, t, by_height[t.height].txlog_size) for t in txs],
        "type": EVIDENCE_TYPE,
    }
    return Exported(data=canonical.encode(package), txs=len(selection.txs), context_txs=len(selection.context),
                    headers=len(headers), attestations=len(attested), openings=len(openings), head_height=head)


def _entry(store: LedgerStore, tx: StoredTx, tree_size: int) -> dict[str, JSONValue]:
    """One transaction: its envelope object, place, result and inclusion proof into its block's tree."""
    status, code = store.connection.execute("SELECT status, code FROM txs WHERE seq = ?", (tx.seq,)).fetchone()
    result: dict[str, JSONValue] = {"status": "valid"} if status == "valid" else {"code": code, "status": "invalid"}
    return {
        "envelope": orjson.loads(tx.envelope),
        "height": tx.height,
        "position": tx.position,
        "proof": [node.hex() for node in store.txlog.inclusion_proof(tx.seq, tree_size)],
        "result": result,
        "seq": tx.seq,
    }


def _certificates(store: LedgerStore, txs: list[StoredTx]) -> dict[str, bytes]:
    """Every signer's certificate by fingerprint: from its envelope, else as registered on the ledger."""
    found: dict[str, bytes] = {}
    for tx in txs:
        envelope = orjson.loads(tx.envelope)
        if "certificate" in envelope:
            found[tx.signer] = base64.b64decode(envelope["certificate"])
    for signer in {t.signer for t in txs} - found.keys():
        row = store.connection.execute(
            "SELECT value FROM state_rows WHERE key = ? AND value IS NOT NULL ORDER BY seq LIMIT 1",
            (cert_key(signer),),
        ).fetchone()
        if row is None:
            raise NotFound(f"signer {signer}: no certificate in its envelopes or under {cert_key(signer)}")
        found[signer] = base64.b64decode(orjson.loads(row[0])["certificate"])
    return found


def _statement(  # noqa: PLR0913  (every field of the statement)
    store: LedgerStore, key: NodeKey, selection: Selection, *, head_hash: str, head: int,
    attestations: list[str], openings: list[str],
) -> dict[str, JSONValue]:
    """The exporting node's signed statement of what the package holds (its selection)."""
    payload: dict[str, JSONValue] = {
        "attestations": list[JSONValue](attestations),
        "chain_id": store.genesis.chain_id,
        "context_tx_ids": [t.tx_id for t in selection.context],
        "head_hash": head_hash,
        "head_height": head,
        "openings": list[JSONValue](openings),
        "org": key.org,
        "signer": x509.fingerprint(key.cert_der),
        "subject": selection.subject,
        "tx_ids": [t.tx_id for t in selection.txs],
        "type": EXPORT_TYPE,
    }
    signature = store.suite.sign(key.private_key, canonical.encode(payload))
    return {"certificate": b64text(key.cert_der), "payload": payload, "signature": b64text(signature)}

