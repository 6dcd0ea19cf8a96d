"""The certificate file: the signed record, and the ledger evidence that its hash was issued.

JSON form (``docs/certificates.md`` has it byte for byte)::

    {"type": "estatechain.certificate-file.v1",
     "record": {...},                         the record (record.py), signed as its canonical bytes
     "document_sha256": "<hex>",              SHA-256 of the canonical record = the issue tx's document_sha256
     "signature": "<base64>",                 the issuer's signature over the canonical record (genesis suite)
     "certificate": "<base64 DER>",           the registry.issuer certificate that signed it
     "ledger": {"envelope": "<base64>",       the application.issue transaction as committed
                "seq": n, "height": h, "position": p,
                "header": {...},              the block header (docs/formats.md) the tx is in
                "proof": ["<hex>", ...],      RFC 9162 audit path of leaf seq in the tree of header.txlog_size
                "attestation": "<base64>"}}   the registry node's attestation of that header (ledger/attestation.py)

``ledger`` is null in the copy made before the issue transaction committed. The record signature
and the ledger evidence are separate on purpose: the record is signed first, its hash then goes on
the ledger, and the proof can only exist after that.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping
from typing import Final

import orjson

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.certificates.record import document_sha256
from estatechain.crypto.suites import SignatureSuite
from estatechain.errors import Conflict, NotFound
from estatechain.identity.devca import Identity
from estatechain.ledger.attestation import sign_attestation
from estatechain.ledger.block import BLOCK_TYPE
from estatechain.storage.store import LedgerStore

FILE_TYPE: Final = "estatechain.certificate-file.v1"
ISSUE_COMMAND: Final = "application.issue"


def sign_record(record: Mapping[str, JSONValue], issuer: Identity, suite: SignatureSuite) -> dict[str, JSONValue]:
    """The certificate file of ``record`` signed by ``issuer``, without ledger evidence yet."""
    data = canonical.encode(dict(record))
    return {
        "type": FILE_TYPE, "record": dict(record), "document_sha256": document_sha256(record),
        "signature": base64.b64encode(suite.sign(issuer.private_key, data)).decode("ascii"),
        "certificate": base64.b64encode(issuer.cert_der).decode("ascii"), "ledger": None,
    }


def issue_tx_id(store: LedgerStore, number_key: str, sha256: str) -> str:
    """The valid ``application.issue`` tx that put ``sha256`` on the ledger for the certificate row ``number_key``.

    Raises:
        NotFound: the certificate is not on the ledger.
        Conflict: it was not issued yet, or with another document hash.

    """
    row = store.get(number_key)
    if row is None:
        raise NotFound(f"{number_key}: no such certificate on this node's ledger")
    if row.get("document_sha256") != sha256:
        raise Conflict(f"{number_key}: the ledger holds document hash {row.get('document_sha256')}, not {sha256}; "
                       "submit the application.issue transaction for this record first")
    sources = row.get("source_txs")
    for tx_id in reversed(sources if isinstance(sources, list) else []):
        found = store.connection.execute("SELECT command, status FROM txs WHERE tx_id = ?", (str(tx_id),)).fetchone()
        if found is not None and found[0] == ISSUE_COMMAND and found[1] == "valid":
            return str(tx_id)
    raise NotFound(f"{number_key}: no valid application.issue transaction among its source transactions")


def ledger_evidence(store: LedgerStore, tx_id: str, attester: Identity | None) -> dict[str, JSONValue]:
    """The issue tx's envelope, place, block header, RFC 9162 audit path and (when a key is held) attestation."""
    tx = store.tx_record(tx_id)
    if tx is None:
        raise NotFound(f"transaction {tx_id} is not committed on this node")
    envelope = store.connection.execute("SELECT envelope FROM txs WHERE tx_id = ?", (tx_id,)).fetchone()[0]
    block = store.block_at(tx.height)
    assert block is not None, tx.height  # a committed tx's block
    header, block_hash = block
    proof = store.txlog.inclusion_proof(tx.seq, header.txlog_size)
    attestation: str | None = None
    if attester is not None:
        wire = sign_attestation(suite=store.suite, private_key=attester.private_key, cert_der=attester.cert_der,
                                chain_id=header.chain_id, org=attester.org_id, height=header.height,
                                block_hash=block_hash, state_root=header.state_root)
        attestation = base64.b64encode(wire).decode("ascii")
    # With its type tag: exactly the object whose canonical bytes the block hash covers (docs/formats.md),
    # so an outsider hashes what the file holds and meets the attested hash without adding anything.
    header_json: dict[str, JSONValue] = {"type": BLOCK_TYPE, **dataclasses.asdict(header)}
    return {
        "envelope": base64.b64encode(bytes(envelope)).decode("ascii"), "seq": tx.seq, "height": tx.height,
        "position": tx.position, "header": header_json, "proof": [p.hex() for p in proof],
        "attestation": attestation,
    }


def to_bytes(document: Mapping[str, JSONValue]) -> bytes:
    """The file's bytes: indented UTF-8 JSON with sorted keys (the signature is over the canonical record)."""
    return orjson.dumps(dict(document), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
