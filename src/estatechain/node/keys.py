"""The keys a node holds for its org, found in one place: the org's keystore, or the development layout.

Before this module every part that signed (webhooks, inquiry answers, certificates, party-id
lookups, the portal) looked for its key in the development folder on its own. A member org in
production has no such folder: it has its own keystore (``identity/keystore.py``), encrypted under a
passphrase the node reads at start-up (``ESTATECHAIN_KEYSTORE`` and ``ESTATECHAIN_KEYSTORE_PASSPHRASE_FILE``
or ``ESTATECHAIN_KEYSTORE_PASSPHRASE``). ``NodeKeys`` answers the same questions from either source, so
the rest of the node never knows which one it runs with; ``source`` says it, for the operator.

A key the source does not hold is ``None`` (the node then refuses that service with a clear 503: a
bank's node signs no certificates). A key the source lists but cannot give (a file missing, damaged,
or not opened by the passphrase) is an error, and ``node_keys`` finds it at start-up, before the
ledger opens (``NodeKeys.check``), rather than at the first request that needs the key. Decrypted
keys are kept in memory once read, since each PKCS#12 opening costs 600,000 PBKDF2 rounds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519

from estatechain.errors import EstatechainError, InputError
from estatechain.identity.devca import (
    DocumentSigner,
    Identity,
    docsign_paths,
    load_dev_consortium,
    load_document_signer,
)
from estatechain.identity.keystore import INDEX, Keystore, read_passphrase

_T = TypeVar("_T")

PASSPHRASE_VARIABLE: Final = "ESTATECHAIN_KEYSTORE_PASSPHRASE"  # noqa: S105  (a variable's name, not a secret)
PARTY_ID_SECRET: Final = "party-id"  # noqa: S105  (an entry's name)
"""The keystore entry of the identity authority's party-id HMAC key."""
DEV_PARTY_ID_KEY: Final = "orgs/gz-identity/party-id.key"
DEV_SEALING_KEY: Final = "sealing-x25519.key.pem"
DEV_MARKERS: Final = ("identities.json", "DEVELOPMENT-ONLY.txt")
"""Files ``estatechain init`` writes at a consortium's top: either says a development layout is meant to be there."""
NODE_USER: Final = "node"
"""The node's own identity: requests between nodes, attestations, inquiry answers, webhook signatures."""
ISSUER_ROLE: Final = "registry.issuer"
"""The role of the identity the registry's certificate desk signs with (``certificates/desk.py`` asks for it)."""


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
    _dev: Mapping[str, Identity] | None = None
    _sealing: tuple[x25519.X25519PrivateKey | None] | None = None
    """``None`` until read; then the key, or ``(None,)`` when the source holds none."""
    _party_id: tuple[bytes | None] | None = None

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

    # -- the start-up check ----------------------------------------------------------------------------

    def check(self) -> None:
        """Open now every key this node will load, so a missing or damaged one stops it before its ledger opens.

        Without this a node started, and the first webhook, inquiry answer, certificate or portal
        sign-in failed with "no identity" or a 503, far from the file at fault. Opened and checked
        here (each where the source holds it): the node identity, which a node with keys must have;
        the registry's issuer identity and document signer (certificates); the sealing key (personal
        records, the portal's TOTP secrets); the party-id key. They stay in memory, so the node pays
        for each once. The keys of staff and of the people the portal signs for are opened when they
        sign (an identity authority keeps one per person); a keystore's files for them are checked
        to be there, and the development layout reads every key of the folder anyway.

        Raises:
            InputError: naming the key, the file or keystore it is in, and how to fix it.

        """
        if self.keystore is not None:
            self.keystore.check_files()
            if not any(e.name == NODE_USER and e.kind == "identity" for e in self.keystore.names()):
                raise InputError(f"{self.keystore.directory / INDEX}: this keystore of {self.org_id} holds no "
                                 f"identity {NODE_USER!r}, the node's own key (requests between nodes, attestations, "
                                 "inquiry answers, webhooks); add it with `estatechain keystore import`, or point "
                                 "ESTATECHAIN_KEYSTORE at the org's full keystore")
        elif self.consortium_dir is not None:
            self._dev_identities()
        else:
            return
        node = self._checked(f"the node identity {self.org_id}/{NODE_USER}", lambda: self.identity(NODE_USER))
        if node is None:  # the development layout: the index has no <org>/node
            raise InputError(f"{self.consortium_dir}/identities.json has no identity {self.org_id}/{NODE_USER}, the "
                             "node's own key; is the ledger folder named after a member org? Re-create the "
                             "consortium with `estatechain init NEWDIR` if its index lost the entry")
        self._checked(f"the issuer identity ({ISSUER_ROLE})", lambda: self.identity_with_role(ISSUER_ROLE))
        self._checked("the document signer", self.document_signer)
        self._checked("the sealing key", self.sealing_key)
        self._checked("the party-id key", self.party_id_key)

    def _checked(self, what: str, load: Callable[[], _T]) -> _T:
        """``load()``, its error prefixed with the key's name and where this node's keys are."""
        try:
            return load()
        except InputError as exc:
            raise InputError(f"{self.source}: cannot load {what}: {exc}") from None

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
        """The registry's PAdES document-signing certificate and key.

        ``None`` when the org has none (only a registry has one). In the development layout that is
        when neither of its files is there: a certificate without its key, or a damaged file, is an
        error, since the registry would otherwise start and then refuse every certificate.
        """
        if self._docsign is None:
            if self.keystore is not None and self.keystore.has("docsign"):
                self._docsign = self.keystore.document_signer()
            elif self.keystore is None and self.consortium_dir is not None and any(
                path.exists() for path in docsign_paths(self.consortium_dir, self.org_id)
            ):
                self._docsign = load_document_signer(self.consortium_dir, self.org_id)
        return self._docsign

    def sealing_key(self) -> x25519.X25519PrivateKey | None:
        """The org's X25519 key that opens the personal records sealed to it."""
        if self._sealing is None:
            self._sealing = (self._read_sealing_key(),)
        return self._sealing[0]

    def party_id_key(self) -> bytes | None:
        """The identity authority's party-id HMAC key (design §3.18), if this node holds it."""
        if self._party_id is None:
            self._party_id = (self._read_party_id_key(),)
        return self._party_id[0]

    # -- internals -------------------------------------------------------------------------------------

    def _read_sealing_key(self) -> x25519.X25519PrivateKey | None:
        if self.keystore is not None:
            return self.keystore.sealing_key() if self.keystore.has("sealing") else None
        if self.consortium_dir is not None:
            path = self.consortium_dir / "orgs" / self.org_id / DEV_SEALING_KEY
            if path.exists():
                try:
                    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
                except (ValueError, TypeError) as exc:
                    raise InputError(f"{path}: not a readable PEM private key ({exc})") from None
                if not isinstance(key, x25519.X25519PrivateKey):
                    raise InputError(f"{path}: not an X25519 key")
                return key
        return None

    def _read_party_id_key(self) -> bytes | None:
        if self.keystore is not None:
            return self.keystore.secret(PARTY_ID_SECRET) if self.keystore.has(PARTY_ID_SECRET) else None
        if self.consortium_dir is not None:
            path = self.consortium_dir / DEV_PARTY_ID_KEY
            return path.read_bytes() if path.exists() else None
        return None

    def _find_identity(self, user: str) -> Identity | None:
        if self.keystore is not None:
            return self.keystore.identity(user) if self.keystore.has(user) else None
        if self.consortium_dir is not None:
            return self._dev_identities().get(f"{self.org_id}/{user}")
        return None

    def _dev_identities(self) -> Mapping[str, Identity]:
        """Every identity of the development layout, read once.

        A layout that does not load is an error, not "no keys": returning nothing here let a node
        start and then answer "no identity" at its first signature, far from the file at fault.

        Raises:
            InputError: naming the missing or damaged file and how to get a working layout back.

        """
        assert self.consortium_dir is not None
        if self._dev is None:
            try:
                self._dev = load_dev_consortium(self.consortium_dir).identities
            except EstatechainError as exc:
                raise InputError(
                    f"{exc} — the development layout in {self.consortium_dir} is damaged, so the {self.org_id} "
                    "node cannot load its keys. Put the file back from a copy of that folder, or re-create the "
                    "consortium with `estatechain init NEWDIR` (a new chain with its own ledger); if this ledger "
                    "belongs to another consortium folder, run the node from there (its ledger in DIR/nodes/<org>)",
                ) from None
        return self._dev


def dev_consortium_of(ledger_dir: Path) -> Path | None:
    """The development consortium a ledger folder ``<dir>/nodes/<org>`` (``<dir>/cluster/nodes/<org>``) is in.

    A folder counts when it holds ``identities.json`` or the ``DEVELOPMENT-ONLY.txt`` notice that
    ``estatechain init`` writes beside it: a consortium that lost its index is then reported as
    damaged at start-up instead of being taken for "no development layout" (a node without keys).
    """
    if ledger_dir.parent.name != "nodes":
        return None
    candidates = (ledger_dir.parent.parent, ledger_dir.parent.parent.parent)
    return next((c for c in candidates if any((c / marker).exists() for marker in DEV_MARKERS)), None)


def node_keys(*, ledger_dir: Path, org_id: str | None, keystore: Path | None, passphrase_file: Path | None,
              environment: Mapping[str, str] | None = None) -> NodeKeys:
    """The node's keys: its keystore when one is configured, else the development layout around its ledger.

    ``org_id`` is the configured org (cluster nodes); a single node's org is its keystore's, or in the
    development layout the name of its ledger folder. Every key the node will load is opened here
    (``NodeKeys.check``): the node calls this before it opens its ledger, so a bad key touches nothing.

    Raises:
        InputError: no passphrase, a wrong one, another org's keystore, or a key missing or damaged
            (named, with the keystore or development folder it should be in).

    """
    if keystore is not None:
        passphrase = read_passphrase(passphrase_file, os.environ if environment is None else environment,
                                     PASSPHRASE_VARIABLE)
        keys = NodeKeys.from_keystore(keystore, org_id, passphrase)
    else:
        org = org_id or ledger_dir.name
        consortium = dev_consortium_of(ledger_dir)
        keys = NodeKeys.none(org) if consortium is None else NodeKeys.from_dev(consortium, org)
    keys.check()
    return keys
