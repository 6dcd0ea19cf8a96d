"""The registry node's certificate desk: build and sign records, attach ledger evidence, render PDFs.

How the issuer signs at the registry's node (design §3.17, §3.20): the node holds the registry's
``registry.issuer`` identity (in the development layout, ``orgs/<registry>/users/issuer1``), its
``node`` identity (attestations) and its document-signing key. A registry issuer asks the desk to
prepare an application's certificate; the desk builds the record from the register at the head,
opens the parties' sealed records for the names, signs the record with the held issuer key and
keeps the signed copy in ``<node>/certificates/<sha256>.json``. The *issue transaction* is still
signed by the issuer who asked, with their own key, and submitted by them: the node never signs a
transaction for a caller. Once it committed, the desk adds the ledger evidence to the copy and
renders the signed PDF on request (``<sha256>.pdf``, kept).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import orjson

from estatechain.canonical import JSONValue
from estatechain.certificates.document import issue_tx_id, ledger_evidence, sign_record, to_bytes
from estatechain.certificates.parties import PartyDirectory
from estatechain.certificates.record import PartyNames, Registry, build_record
from estatechain.contract.certificates import certificate_key, load
from estatechain.contract.view import StateView
from estatechain.errors import Conflict, InputError, NotFound
from estatechain.identity.devca import DocumentSigner, Identity, load_dev_consortium, load_document_signer
from estatechain.storage.store import LedgerStore

ARCHIVE_DIR: Final = "certificates"
ISSUER_ROLE: Final = "registry.issuer"
DEV_USCC: Final = {"gz-registry": "11440100MB2C92731X"}
"""The registry's unified social credit code for e-licence identifiers [A: a development placeholder]."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistryKeys:
    """What a registry node holds to issue certificates."""

    registry: Registry
    issuer: Identity
    node: Identity | None
    docsign: DocumentSigner
    ca_der: bytes


def load_registry_keys(consortium_dir: Path, org_id: str) -> RegistryKeys:
    """The registry's keys from a development consortium folder.

    Raises:
        InputError: the folder holds no issuer identity or document-signing key for ``org_id``.

    """
    consortium = load_dev_consortium(consortium_dir)
    org = consortium.genesis.org(org_id)
    issuer = next((i for i in consortium.by_role(ISSUER_ROLE) if i.org_id == org_id), None)
    if issuer is None:
        raise InputError(f"{consortium_dir}: org {org_id} has no {ISSUER_ROLE} identity")
    return RegistryKeys(
        registry=Registry(org_id=org_id, name=org.name.split(" / ", 1)[0], uscc=DEV_USCC.get(org_id, "0" * 18)),
        issuer=issuer, node=consortium.identities.get(f"{org_id}/node"),
        docsign=load_document_signer(consortium_dir, org_id), ca_der=org.ca_cert_der,
    )


class CertificateDesk:
    """Prepares, completes and renders one registry node's certificates; use from the store's thread."""

    def __init__(self, *, store: LedgerStore, keys: RegistryKeys, archive_dir: Path,
                 names: Callable[[StateView], PartyNames]) -> None:
        self.store = store
        self.keys = keys
        self.archive_dir = archive_dir
        self._names = names

    @classmethod
    def from_dev(cls, store: LedgerStore, *, consortium_dir: Path, ledger_dir: Path, org_id: str) -> CertificateDesk:
        """The desk of a node in the development layout (keys in ``consortium_dir``, ledger in ``ledger_dir``)."""
        def names(view: StateView) -> PartyNames:
            return PartyDirectory.from_dev(view=view, genesis=store.genesis, consortium_dir=consortium_dir,
                                           ledger_dir=ledger_dir, org_id=org_id)

        return cls(store=store, keys=load_registry_keys(consortium_dir, org_id), archive_dir=ledger_dir / ARCHIVE_DIR,
                   names=names)

    def prepare(self, application_id: str) -> dict[str, JSONValue]:
        """The signed certificate file of a RECORDED application, without ledger evidence; kept in the archive.

        Raises:
            NotFound: no such application or entry.
            Conflict: nothing to issue, or the certificate was issued already.

        """
        record = build_record(self.store, application_id=application_id, chain_id=self.store.genesis.chain_id,
                              registry=self.keys.registry, issuer=self.keys.issuer.fingerprint,
                              names=self._names(self.store))
        issued = load(self.store, str(record["number"]))
        if issued is not None and issued.document_sha256 is not None:
            raise Conflict(f"{record['number']}: already issued (document {issued.document_sha256}); fetch it instead")
        document = sign_record(record, self.keys.issuer, self.store.suite)
        self._keep(f"{document['document_sha256']}.json", to_bytes(document))
        return document

    def issued(self, number: str) -> dict[str, JSONValue]:
        """The certificate file of ``number`` with its ledger evidence.

        Raises:
            NotFound: unknown number, or this node did not prepare its record.
            Conflict: not issued yet.

        """
        key = certificate_key(number)
        certificate = None if key is None else load(self.store, number)
        if key is None or certificate is None:
            raise NotFound(f"{number}: no such certificate on this node's ledger")
        if certificate.document_sha256 is None:
            raise Conflict(f"{number}: not issued yet; the application.issue transaction has not committed")
        document = self.archived(certificate.document_sha256)
        if document is None:
            raise NotFound(f"{number}: this node holds no signed record with hash {certificate.document_sha256}")
        if document.get("ledger") is None:
            tx_id = issue_tx_id(self.store, key, certificate.document_sha256)
            document["ledger"] = ledger_evidence(self.store, tx_id, self.keys.node)
            self._keep(f"{certificate.document_sha256}.json", to_bytes(document))
        return document

    def archived(self, sha256: str) -> dict[str, JSONValue] | None:
        """The signed copy with this record hash, if this node prepared it."""
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            return None
        path = self.archive_dir / f"{sha256}.json"
        if not path.exists():
            return None
        document: dict[str, JSONValue] = orjson.loads(path.read_bytes())
        return document

    def cached_pdf(self, sha256: str) -> bytes | None:
        """The rendered PDF of this record, if made before."""
        path = self.archive_dir / f"{sha256}.pdf"
        return path.read_bytes() if path.exists() else None

    def keep_pdf(self, sha256: str, pdf: bytes) -> None:
        """Keep a rendered PDF so every copy handed out is the same file."""
        self._keep(f"{sha256}.pdf", pdf)

    def _keep(self, name: str, data: bytes) -> None:
        """Write atomically and durably: a copy handed out must survive a crash."""
        self.archive_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.archive_dir / f".{name}.tmp"
        with tmp.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(self.archive_dir / name)
