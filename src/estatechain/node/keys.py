"""The keys a node holds for its org, found in one place: the org's keystore, or the development layout.

Before this module every part that signed (webhooks, inquiry answers, certificates, party-id
lookups, the portal) looked for its key in the development folder on its own. A member org in
production has no such folder: it has its own keystore (``identity/keystore.py``), encrypted under a
passphrase the node reads at start-up (``ESTATECHAIN_KEYSTORE`` and ``ESTATECHAIN_KEYSTORE_PASSPHRASE_FILE``
or ``ESTATECHAIN_KEYSTORE_PASSPHRASE``). ``NodeKeys`` answers the same questions from either source, so
the rest of the node never knows which one it runs with; ``source`` says it, for the operator.

A key the source does not hold is ``None`` (the node then refuses that service with a clear 503: a
bank's node signs no certificates). Decrypted keys are kept in memory once read, since each
PKCS#12 opening costs 600,000 PBKDF2 rounds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519

from estatechain.errors import EstatechainError, InputError
from estatechain.identity.devca import DocumentSigner, Identity, load_dev_consortium, load_document_signer
from estatechain.identity.keystore import Keystore, read_passphrase

PASSPHRASE_VARIABLE: Final = "ESTATECHAIN_KEYSTORE_PASSPHRASE"  # noqa: S105  (a variable's name, not a secret)
PARTY_ID_SECRET: Final = "party-id"  # noqa: S105  (an entry's name)
"""The keystore entry of the identity authority's party-id HMAC key."""
DEV_PARTY_ID_KEY: Final = "orgs/gz-identity/party-id.key"
DEV_SEALING_KEY: Final = "sealing-x25519.key.pem"


@dataclass(slots=True)
class NodeKeys:
    """What this node may sign and open with, for org ``org_id``."""

    org_id: str
    source: str
    """Where the keys come from, in words (shown at start-up and in ``GET /v1/cluster``-style status)."""
    keystore: Keystore | None = None
    consortium_dir: Path | None = None
    _identities: dict[str, Identity | None] = field(default_factory=dict)
    _docsign: DocumentSigner | None = None

    @staticmethod
    def none(org_id: str) -> NodeKeys:
        """A node that holds no key: it verifies and serves reads, and signs nothing."""
        return NodeKeys(org_id=org_id, source="no keys (set ESTATECHAIN_KEYSTORE to sign)")

    @staticmethod
    def from_keystore(directory: Path, org_id: str | None, passphrase: bytes) -> NodeKeys:
        """The org's keystore; refused when it belongs to another org or the passphrase does not open it."""
        store = Keystore.open(directory, passphrase)
        if org_id is not None and store.org_id != org_id:
            raise InputError(f"{directory}: a keystore of {store.org_id}, but this node serves {org_id}")
        return NodeKeys(org_id=store.org_id, source=f"keystore {directory}", keystore=store)

    @staticmethod
    def from_dev(consortium_dir: Path, org_id: str) -> NodeKeys:
        """The development layout: every org's keys in clear in one folder (development only)."""
        return NodeKeys(org_id=org_id, source=f"development layout {consortium_dir} (keys in clear: development only)",
                        consortium_dir=consortium_dir)

    # -- questions -------------------------------------------------------------------------------------

    def identity(self, user: str) -> Identity | None:
        """The org's identity ``<org>/<user>`` (``node``, ``issuer1``, a person the portal signs for)."""
        if user not in self._identities:
            self._identities[user] = self._find_identity(user)
        return self._identities[user]

    def identity_with_role(self, role: str) -> Identity | None:
        """The first of the org's identities holding ``role`` (by user name), e.g. the registry's issuer."""
        if self.keystore is not None:
            user = next((e.name for e in self.keystore.names() if e.kind == "identity" and e.role == role), None)
            return None if user is None else self.identity(user)
        if self.consortium_dir is not None:
            identities = self._dev_identities()
            handle = next((h for h in sorted(identities) if h.startswith(f"{self.org_id}/")
                           and identities[h].role == role), None)
            return None if handle is None else self.identity(handle.partition("/")[2])
        return None

    def document_signer(self) -> DocumentSigner | None:
        """The registry's PAdES document-signing certificate and key."""
        if self._docsign is None:
            try:
                if self.keystore is not None and self.keystore.has("docsign"):
                    self._docsign = self.keystore.document_signer()
                elif self.consortium_dir is not None:
                    self._docsign = load_document_signer(self.consortium_dir, self.org_id)
            except InputError:
                if self.keystore is not None:
                    raise  # a keystore that lists a docsign it cannot open is broken: say so
        return self._docsign

    def sealing_key(self) -> x25519.X25519PrivateKey | None:
        """The org's X25519 key that opens the personal records sealed to it."""
        if self.keystore is not None:
            return self.keystore.sealing_key() if self.keystore.has("sealing") else None
        if self.consortium_dir is not None:
            path = self.consortium_dir / "orgs" / self.org_id / DEV_SEALING_KEY
            if path.exists():
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
                if not isinstance(key, x25519.X25519PrivateKey):
                    raise InputError(f"{path}: not an X25519 key")
                return key
        return None

    def party_id_key(self) -> bytes | None:
        """The identity authority's party-id HMAC key (design §3.18), if this node holds it."""
        if self.keystore is not None:
            return self.keystore.secret(PARTY_ID_SECRET) if self.keystore.has(PARTY_ID_SECRET) else None
        if self.consortium_dir is not None:
            path = self.consortium_dir / DEV_PARTY_ID_KEY
            return path.read_bytes() if path.exists() else None
        return None

    # -- internals -------------------------------------------------------------------------------------

    def _find_identity(self, user: str) -> Identity | None:
        if self.keystore is not None:
            return self.keystore.identity(user) if self.keystore.has(user) else None
        if self.consortium_dir is not None:
            return self._dev_identities().get(f"{self.org_id}/{user}")
        return None

    def _dev_identities(self) -> Mapping[str, Identity]:
        assert self.consortium_dir is not None
        try:
            return load_dev_consortium(self.consortium_dir).identities
        except EstatechainError:
            return {}


def dev_consortium_of(ledger_dir: Path) -> Path | None:
    """The development consortium a ledger folder ``<dir>/nodes/<org>`` (``<dir>/cluster/nodes/<org>``) is in."""
    if ledger_dir.parent.name != "nodes":
        return None
    candidates = (ledger_dir.parent.parent, ledger_dir.parent.parent.parent)
    return next((c for c in candidates if (c / "identities.json").exists()), None)


def node_keys(*, ledger_dir: Path, org_id: str | None, keystore: Path | None, passphrase_file: Path | None,
              environment: Mapping[str, str] | None = None) -> NodeKeys:
    """The node's keys: its keystore when one is configured, else the development layout around its ledger.

    ``org_id`` is the configured org (cluster nodes); a single node's org is its keystore's, or in the
    development layout the name of its ledger folder.
    """
    if keystore is not None:
        passphrase = read_passphrase(passphrase_file, os.environ if environment is None else environment,
                                     PASSPHRASE_VARIABLE)
        return NodeKeys.from_keystore(keystore, org_id, passphrase)
    org = org_id or ledger_dir.name
    consortium = dev_consortium_of(ledger_dir)
    return NodeKeys.none(org) if consortium is None else NodeKeys.from_dev(consortium, org)
