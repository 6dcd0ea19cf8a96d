"""The registry node's certificate desk: build and sign records, attach ledger evidence, render PDFs.

How the issuer signs at the registry's node (design §3.17, §3.20): the node holds the registry's
``registry.issuer`` identity (in the development layout, ``orgs/<registry>/users/issuer1``), its
``node`` identity (attestations) and its document-signing key. A registry issuer asks the desk to
prepare an application's certificate; the desk builds the record from the register at the head,
opens the parties' sealed records for the names, signs the record with the held issuer key and
keeps the signed copy in ``<node>/certificates/<sha256>.json``. The *issue transaction* is still
signed by the issuer who asked, with their own key, and submitted by them: the node never signs a
transaction for a caller. Once it committed, the desk adds the ledger evidence to the copy, and the
signed PDF is rendered once and kept (``<sha256>.issued.pdf``; ``printing.py`` says when).

The kept copies name the parties in clear, so they are kept sealed to the registry org's own
sealing key (``certificates/archive.py``: ``<sha256>.json.sealed``, ``<sha256>.issued.pdf.sealed``) and
opened only to serve or render them; a registry node without its sealing key prepares no
certificates rather than keep names in clear on its disk.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import orjson

from estatechain.canonical import JSONValue
from estatechain.certificates.archive import SealedArchive
from estatechain.certificates.document import issue_tx_id, ledger_evidence, sign_record, to_bytes
from estatechain.certificates.parties import PartyDirectory
from estatechain.certificates.record import PartyNames, Registry, build_record
from estatechain.certificates.standing import FileState, NotIssuedHere, file_state
from estatechain.contract import keys
from estatechain.contract.certificates import certificate_key, load
from estatechain.contract.records import PartyRef
from estatechain.contract.view import StateView
from estatechain.errors import Conflict, InputError, IntegrityFault, NotFound
from estatechain.identity.devca import DocumentSigner, Identity
from estatechain.node.keys import NodeKeys
from estatechain.storage.store import LedgerStore
from estatechain.testing.register import SEALED_DIR

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


class CertificateDesk:
    """Prepares, completes and renders one registry node's certificates; use from the store's thread."""

    def __init__(self, *, store: LedgerStore, keys: RegistryKeys, archive: SealedArchive,
                 names: Callable[[StateView], PartyNames]) -> None:
        self.store = store
        self.keys = keys
        self.archive = archive
        self._names = names
        self._page_names: PartyNames | None = None
        self.pdf_lock = asyncio.Lock()
        """Held while a PDF is rendered and kept (``printing.issued_pdf``): one signed file per record."""

    @classmethod
    def from_dev(cls, store: LedgerStore, *, consortium_dir: Path, ledger_dir: Path, org_id: str) -> CertificateDesk:
        """The desk of a node in the development layout (keys in ``consortium_dir``, ledger in ``ledger_dir``).

        Raises:
            InputError: the folder lacks the org's issuer, document-signing or sealing key.

        """
        return cls.from_keys(store, keys=NodeKeys.from_dev(consortium_dir, org_id), ledger_dir=ledger_dir)

    @classmethod
    def from_keys(cls, store: LedgerStore, *, keys: NodeKeys, ledger_dir: Path) -> CertificateDesk:
        """The desk of a registry node from the node's keys (its keystore, or the development layout).

        Raises:
            InputError: the node is not a registry's, or holds no issuer, document-signing or sealing key.

        """
        org_id = keys.org_id
        org = next((o for o in store.genesis.orgs if o.id == org_id), None)
        if org is None or org.type != "registry":
            raise InputError(f"{org_id} is not a registry: only a registry's node issues certificates")
        issuer, docsign, sealing_key = keys.identity_with_role(ISSUER_ROLE), keys.document_signer(), keys.sealing_key()
        missing = [what for what, key in (("an issuer identity", issuer), ("a document-signing key", docsign),
                                          ("a sealing key", sealing_key)) if key is None]
        if missing or issuer is None or docsign is None or sealing_key is None:
            raise InputError(f"{keys.source}: holds no {', no '.join(missing)} for {org_id}; the desk needs each "
                             "(the sealing key because the copies it keeps name the parties)")
        registry_keys = RegistryKeys(
            registry=Registry(org_id=org_id, name=org.name.split(" / ", 1)[0], uscc=DEV_USCC.get(org_id, "0" * 18)),
            issuer=issuer, node=keys.identity("node"), docsign=docsign, ca_der=org.ca_cert_der)

        def names(view: StateView) -> PartyNames:
            return PartyDirectory(view=view, genesis=store.genesis, org_id=org_id, sealing_key=sealing_key,
                                  sealed_dir=ledger_dir / SEALED_DIR)

        archive = SealedArchive(ledger_dir / ARCHIVE_DIR, chain_id=store.genesis.chain_id, org_id=org_id,
                                key=sealing_key)
        return cls(store=store, keys=registry_keys, archive=archive, names=names)

    def applicant_names(self, parties: Sequence[PartyRef]) -> dict[str, str]:
        """Each party's name (and a person's ID document) as the registry's desk shows it, by party id."""
        if self._page_names is None:  # kept: reading the sealed store costs about a second a million records
            self._page_names = self._names(self.store)
        directory = self._page_names
        if isinstance(directory, PartyDirectory):
            return {p.party_id: directory.identity(p) for p in parties}
        return {p.party_id: str(directory(p)["name"]) for p in parties}

    def prepare(self, application_id: str, number: str | None = None) -> dict[str, JSONValue]:
        """The signed certificate file of a RECORDED application, without ledger evidence; kept in the archive.

        ``number`` names which of the case's 不动产登记证明 (a combined case's new mortgage has its
        own); by default the one still to issue (``record.build_record``).

        Raises:
            NotFound: no such application or entry, or ``number`` is not one of its certificates.
            Conflict: nothing to issue, or the certificate was issued already.

        """
        record = build_record(self.store, application_id=application_id, chain_id=self.store.genesis.chain_id,
                              registry=self.keys.registry, issuer=self.keys.issuer.fingerprint,
                              names=self._names(self.store), number=number)
        issued = load(self.store, str(record["number"]))
        if issued is not None and issued.document_sha256 is not None:
            raise Conflict(f"{record['number']}: already issued (document {issued.document_sha256}); fetch it instead")
        document = sign_record(record, self.keys.issuer, self.store.suite)
        self.archive.write(f"{document['document_sha256']}.json", to_bytes(document))
        return document

    def issue_fields(self, document: Mapping[str, JSONValue]) -> dict[str, JSONValue]:
        """The ``application.issue`` body fields for a prepared file: its hash, e-licence id and, when needed, number.

        The issue step names the certificate (``certificate_number``) when it is not the case's own
        number, as for a combined case's new mortgage (``contract.rules.registration.issue``); the
        case's own certificate is issued without naming it, as it always was.
        """
        record = document["record"]
        assert isinstance(record, dict)
        application_id, number = str(record["application_id"]), str(record["number"])
        fields: dict[str, JSONValue] = {"application_id": application_id,
                                        "document_sha256": str(document["document_sha256"]),
                                        "elicence_id": str(record["elicence_id"])}
        row = self.store.get(keys.application(application_id))
        if row is None or row.get("certificate_number") != number:
            fields["certificate_number"] = number
        return fields

    def issued(self, number: str) -> dict[str, JSONValue]:
        """The certificate file of ``number`` with its ledger evidence.

        Raises:
            NotFound: unknown number, or this node did not prepare its record.
            NotIssuedHere: a title certificate, or one imported from the register: no file is issued here.
            Conflict: not issued yet.

        """
        key = certificate_key(number)
        certificate = None if key is None else load(self.store, number)
        if key is None or certificate is None:
            raise NotFound(f"{number}: no such certificate on this node's ledger")
        if certificate.document_sha256 is None:
            state, reason = file_state(certificate)
            if state is FileState.NOT_ISSUED_HERE:
                raise NotIssuedHere(number, str(reason))
            raise Conflict(f"{number}: {reason}")
        document = self.archived(certificate.document_sha256)
        if document is None:
            raise NotFound(f"{number}: this node holds no signed record with hash {certificate.document_sha256}")
        if document.get("ledger") is None:
            tx_id = issue_tx_id(self.store, key, certificate.document_sha256)
            document["ledger"] = ledger_evidence(self.store, tx_id, self.keys.node)
            self.archive.write(f"{certificate.document_sha256}.json", to_bytes(document))
        return document

    def archived(self, sha256: str) -> dict[str, JSONValue] | None:
        """The signed copy with this record hash, if this node prepared it (opened from the sealed archive).

        Raises:
            IntegrityFault: the kept copy does not open or is not JSON: it was altered on disk.

        """
        if not _is_sha256(sha256):
            return None
        data = self.archive.read(f"{sha256}.json")
        if data is None:
            return None
        try:
            document: dict[str, JSONValue] = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise IntegrityFault(f"{ARCHIVE_DIR}/{sha256}.json", f"the kept copy is not JSON: {exc}") from None
        return document

    def kept_pdf(self, sha256: str, base_url: str) -> bytes | None:
        """The signed PDF kept for this record (``<sha256>.issued.pdf``), if one was made.

        An archive of an earlier version kept a PDF per QR address (``<sha256>.<tag>.pdf``, rendered
        at a first download for that address); the one made for ``base_url`` is adopted as the
        record's PDF, since it was handed out already, rather than signed again.
        """
        if not _is_sha256(sha256):
            return None
        kept = self.archive.read(_pdf_name(sha256))
        if kept is None and (kept := self.archive.read(_legacy_pdf_name(sha256, base_url))) is not None:
            self.archive.write(_pdf_name(sha256), kept)
        return kept

    def keep_pdf(self, sha256: str, pdf: bytes) -> None:
        """Keep the record's signed PDF, sealed: every copy handed out from now on is this file.

        One PDF per record, whatever address later requests come in on: its QR code names the
        address the node had when it was issued (``Settings.public_url``), like anything printed.

        Raises:
            InputError: ``sha256`` is not a record hash.
            Conflict: a PDF is kept for this record already (it is never replaced).

        """
        if not _is_sha256(sha256):
            raise InputError(f"{sha256!r}: expected the record's SHA-256 in lower-case hex")
        if self.archive.read(_pdf_name(sha256)) is not None:
            raise Conflict(f"certificate {sha256}: a signed PDF is kept already; it is never replaced")
        self.archive.write(_pdf_name(sha256), pdf)


def _pdf_name(sha256: str) -> str:
    """``<sha256>.issued.pdf``: the record's one PDF, signed when it was issued.

    Not ``<sha256>.pdf``: a version before PDFs were kept per address used that name, with a QR code
    that may name a crafted ``Host``; such a copy is never handed out.
    """
    return f"{sha256}.issued.pdf"


def _legacy_pdf_name(sha256: str, base_url: str) -> str:
    """``<sha256>.<16 hex of the QR address's SHA-256>.pdf``: how earlier versions kept one PDF per address."""
    return f"{sha256}.{hashlib.sha256(base_url.encode()).hexdigest()[:16]}.pdf"


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)
