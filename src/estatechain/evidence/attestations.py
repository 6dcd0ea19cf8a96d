"""Where a node keeps block attestations, and how it makes its own (design §3.6).

Evidence packages carry the attestations over the headers they rest on, so the exporter needs a
place that holds them: its own, and — in a cluster — those its peers shared. That place is
``attestations.sqlite`` beside the ledger file, one row per (height, org, signer), created by this
module and *not* part of the ledger's schema: attestations are statements about blocks, made after
the block committed, and a node that lost them loses no ledger data (it can attest again).

Until the cluster shares attestations, a single node attests its own blocks with its org's ``node``
identity: in the development layout that is ``orgs/<org>/users/node/{key,cert}.pem``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ed25519

from estatechain.crypto import x509
from estatechain.crypto.suites import SignatureSuite
from estatechain.errors import Conflict, InputError, NotFound
from estatechain.identity.genesis import Genesis
from estatechain.ledger.attestation import NODE_ROLE, Attestation, sign_attestation, verify_attestation
from estatechain.storage.store import LedgerStore

ATTESTATIONS_FILE: Final = "attestations.sqlite"
ATTESTATIONS_SCHEMA: Final = """CREATE TABLE IF NOT EXISTS attestations(
    height INTEGER NOT NULL,
    org    TEXT NOT NULL,
    signer TEXT NOT NULL,
    block_hash TEXT NOT NULL,
    state_root TEXT NOT NULL,
    raw    BLOB NOT NULL,
    PRIMARY KEY(height, org, signer)
) WITHOUT ROWID"""


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeKey:
    """An org node's signing identity: its certificate and raw private key."""

    org: str
    cert_der: bytes
    private_key: bytes

    @classmethod
    def from_dev_layout(cls, consortium_dir: Path, org: str) -> NodeKey:
        """Read ``orgs/<org>/users/node/{cert,key}.pem`` of a development consortium folder.

        Raises:
            InputError: the files are missing or unreadable (the message names the file).

        """
        folder = consortium_dir / "orgs" / org / "users" / NODE_ROLE
        try:
            cert = x509.load_certificate((folder / "cert.pem").read_bytes(), what=str(folder / "cert.pem"))
            key = x509.load_private_key((folder / "key.pem").read_bytes(), what=str(folder / "key.pem"))
        except FileNotFoundError as exc:
            raise InputError(f"{exc.filename}: missing; the org's node identity lives in orgs/<org>/users/node/ "
                             "of a consortium made by `estatechain init`") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise InputError(f"{folder / 'key.pem'}: the node key must be Ed25519 for this suite")
        return cls(org=org, cert_der=x509.certificate_der(cert), private_key=x509.raw_private_key(key))


class AttestationStore:
    """The attestations a node holds, in ``<ledger dir>/attestations.sqlite`` (created on first use)."""

    def __init__(self, ledger_dir: Path, genesis: Genesis, suite: SignatureSuite) -> None:
        self._conn = sqlite3.connect(ledger_dir / ATTESTATIONS_FILE, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(ATTESTATIONS_SCHEMA)
        self._genesis = genesis
        self._suite = suite

    def close(self) -> None:
        """Close the file."""
        self._conn.close()

    def add(self, raw: bytes) -> Attestation:
        """Verify an attestation (own or a peer's) and keep it; adding the same one twice is harmless.

        Raises:
            InputError, Refused: the attestation is malformed or not a member node's.
            Conflict: the same org already attested a different block or state at that height.

        """
        attestation = verify_attestation(raw, genesis=self._genesis, suite=self._suite)
        row = self._conn.execute(
            "SELECT block_hash, state_root FROM attestations WHERE height = ? AND org = ? AND signer = ?",
            (attestation.height, attestation.org, attestation.signer),
        ).fetchone()
        if row is not None:
            if tuple(row) != attestation.claim:
                raise Conflict(f"org {attestation.org} attested two different blocks at height {attestation.height}; "
                               "stop and report this fork")
            return attestation
        self._conn.execute(
            "INSERT INTO attestations VALUES (?,?,?,?,?,?)",
            (attestation.height, attestation.org, attestation.signer, attestation.block_hash,
             attestation.state_root, raw),
        )
        return attestation

    def at(self, height: int) -> list[bytes]:
        """Every stored attestation of ``height``, ordered by org and signer."""
        rows = self._conn.execute(
            "SELECT raw FROM attestations WHERE height = ? ORDER BY org, signer", (height,)
        ).fetchall()
        return [bytes(row[0]) for row in rows]


def attest_block(store: LedgerStore, attestations: AttestationStore, key: NodeKey, height: int) -> bytes:
    """Sign and keep this node's attestation of committed block ``height``; return its bytes.

    Raises:
        NotFound: no block ``height`` in the ledger.

    """
    claim = store.claim(height)
    if claim is None:
        raise NotFound(f"block {height} is not in the ledger (its height is {store.height})")
    raw = sign_attestation(suite=store.suite, private_key=key.private_key, cert_der=key.cert_der,
                           chain_id=store.genesis.chain_id, org=key.org, height=height, block_hash=claim[0],
                           state_root=claim[1])
    attestations.add(raw)
    return raw
