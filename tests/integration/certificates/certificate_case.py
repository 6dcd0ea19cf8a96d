"""A small imported register and the registration cases that issue real certificates, through the pipeline.

Imported by module name by this folder's tests (like ``register_case`` in tests/integration/register,
whose steps it follows with the ``estatechain.testing`` helpers). Every step is a signed transaction
by the party that acts, committed in its own block; the certificate is prepared by the registry's
``CertificateDesk`` and issued by ``gz-registry/issuer1`` signing the ``application.issue`` itself.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import orjson

from estatechain.canonical import JSONValue
from estatechain.certificates.desk import CertificateDesk
from estatechain.contract.effects import Record
from estatechain.identity.genesis import Genesis
from estatechain.node.pipeline import Receipt
from estatechain.node.settings import Settings
from estatechain.sdk import ClientIdentity, RequestTarget, sign_request, sign_transaction
from estatechain.testing.builders import material_ref as material
from estatechain.testing.harness import LedgerHarness
from estatechain.testing.register import (
    SEALED_DIR,
    OwnerCandidate,
    RegisterImporter,
    binding_envelopes,
    create_register_keys,
)
from estatechain.testing.serving import served
from estatechain.testing.synthetic import generate

SEED: Final = 20260104
UNITS: Final = 150
OWNER: Final = "gz-identity/person1"
BUYER: Final = "gz-identity/person2"
ISSUER: Final = "gz-registry/issuer1"
DEVELOPER: Final = "poly-developer/developer1"


@dataclass
class Case:
    """The harness over the imported register, the registry's desk, and the bound owner."""

    harness: LedgerHarness
    importer: RegisterImporter
    desk: CertificateDesk
    owner: OwnerCandidate

    @property
    def genesis(self) -> Genesis:
        return self.harness.consortium.genesis

    def row(self, key: str) -> Record:
        value = self.harness.store.get(key)
        assert value is not None, key
        return value

    def ok(self, handle: str, command: str, body: Mapping[str, JSONValue]) -> Receipt:
        factory = self.harness.factory
        (receipt,) = self.harness.commit([factory.sign(factory.identity(handle), command, body)])
        assert receipt.valid, (command, receipt.code, receipt.message)
        return receipt

    def bank(self, org: str) -> str:
        return self.importer.bank_parties[org]

    def case(self, filer: str, body: Mapping[str, JSONValue], confirmers: Mapping[str, str]) -> str:
        """File, every applicant confirms, accept, review, record: the application id (RECORDED)."""
        app = self.ok(filer, "application.file", body).tx_id
        applicants = body["applicants"]
        assert isinstance(applicants, list)
        for applicant in applicants:
            assert isinstance(applicant, dict)
            party = str(applicant["party_id"])
            self.ok(confirmers[party], "application.confirm",
                    {"application_id": app, "application_hash": app, "party_id": party})
        self.ok("gz-registry/intake1", "application.accept", {"application_id": app})
        self.ok("gz-registry/reviewer1", "application.review", {"application_id": app})
        self.ok("gz-registry/recorder2", "application.record", {"application_id": app})
        return app

    def mortgage(self, bank: str = "icbc-gz", contract: str = "LOAN-2026-0001") -> str:
        """ICBC's first mortgage of 120万元 over 20 years on the owner's unit, recorded."""
        owner = self.owner
        return self.case(f"{bank}/operator1", {
            "business_type": "mortgage.first", "unit_number": owner.unit_number,
            "applicants": [{"party_id": owner.party_id, "record_ref": owner.record_ref, "capacity": "mortgagor"},
                           {"party_id": self.bank(bank), "capacity": "mortgagee"}],
            "materials": [material("APPLICATION_FORM"), material("POWER_OF_ATTORNEY"), material("LOAN_CONTRACT")],
            "details": {"method": 1, "secured_principal_fen": 120_000_000, "currency": "CNY",
                        "debt_term": {"start": "2026-01-04", "end": "2046-01-03"}, "scope": "主债权及利息",
                        "contract_numbers": [contract], "transfer_restricted": False,
                        "title_number": owner.title_number},
        }, {owner.party_id: OWNER, self.bank(bank): f"{bank}/approver1"})

    def issue(self, app: str) -> dict[str, JSONValue]:
        """The desk prepares and signs the record; the issuer signs the issue tx; the issued file comes back."""
        prepared = self.desk.prepare(app)
        record = prepared["record"]
        assert isinstance(record, dict)
        self.ok(ISSUER, "application.issue", {"application_id": app, "document_sha256": prepared["document_sha256"],
                                              "elicence_id": record["elicence_id"]})
        return self.desk.issued(str(record["number"]))

    def transfer_with_loan(self, bank: str = "ccb-gz") -> str:
        """The owner sells the flat to ``BUYER``, who borrows 50万元 from ``bank`` against it: one case, recorded.

        ``ownership.transfer_mortgage`` (带押过户 with the buyer's new loan): the case draws the buyer's
        title as its own number and the new mortgage's 不动产登记证明 besides. ``BUYER`` is bound to
        the owner of another flat here, so the buyer is a registered person who confirms with their key.
        """
        buyer = next(c for c in self.importer.owners if c.party_id != self.owner.party_id)
        bound = self.harness.commit(binding_envelopes(self.harness.factory, {BUYER: buyer}, {}))
        assert all(r.valid for r in bound)
        owner, lender = self.owner, self.bank(bank)
        return self.case(f"{bank}/operator1", {
            "business_type": "ownership.transfer_mortgage", "unit_number": owner.unit_number,
            "applicants": [{"party_id": owner.party_id, "record_ref": owner.record_ref, "capacity": "transferor"},
                           {"party_id": buyer.party_id, "record_ref": buyer.record_ref, "capacity": "transferee"},
                           {"party_id": lender, "capacity": "mortgagee"}],
            "materials": [material(kind) for kind in ("APPLICATION_FORM", "TAX_PROOF", "SALE_CONTRACT",
                                                      "POWER_OF_ATTORNEY", "LOAN_CONTRACT")],
            "details": {"cause": "SALE", "title_number": owner.title_number, "form": "sole",
                        "holders": [{"party_id": buyer.party_id, "record_ref": buyer.record_ref,
                                     "share_numerator": 1, "share_denominator": 1}],
                        "mortgage": {"method": 1, "secured_principal_fen": 50_000_000, "currency": "CNY",
                                     "debt_term": {"start": "2026-01-04", "end": "2056-01-03"},
                                     "scope": "详见抵押合同", "contract_numbers": ["CCB-GZ-2026-0100"],
                                     "transfer_restricted": False, "mortgagees": [lender]}},
        }, {owner.party_id: OWNER, buyer.party_id: BUYER, lender: f"{bank}/approver1"})

    def cancel(self, app: str, bank: str = "icbc-gz") -> str:
        """The mortgagee alone cancels the mortgage of ``app`` (repaid), recorded."""
        number = str(self.row(f"mortgage/{app}")["certificate_number"])
        return self.case(f"{bank}/operator1", {
            "business_type": "mortgage.cancel", "unit_number": self.owner.unit_number,
            "applicants": [{"party_id": self.bank(bank), "capacity": "mortgagee"}],
            "materials": [material("APPLICATION_FORM"), material("PAYOFF_PROOF")],
            "details": {"certificate_number": number, "reason": "REPAID"},
        }, {self.bank(bank): f"{bank}/approver1"})


def new_case(tmp_path: Path, units: int = UNITS) -> Case:
    """A fresh ledger with the synthetic register, the owner and both member banks bound, and the desk."""
    harness = LedgerHarness(tmp_path)
    keys = create_register_keys(harness.consortium.directory, harness.consortium.genesis)
    importer = RegisterImporter(harness.factory, keys, harness.ledger_dir / SEALED_DIR, keep_owners=10_000)
    receipts = harness.commit([tx.envelope for tx in importer.transactions(generate(SEED, units, batch_size=50))])
    assert [(r.code, r.message) for r in receipts if not r.valid] == []
    owner = next(c for c in importer.owners if not c.mortgages)
    bound = harness.commit(binding_envelopes(harness.factory, {OWNER: owner}, importer.bank_parties))
    assert all(r.valid for r in bound)
    desk = CertificateDesk.from_dev(harness.store, consortium_dir=harness.consortium.directory,
                                    ledger_dir=harness.ledger_dir, org_id="gz-registry")
    return Case(harness=harness, importer=importer, desk=desk, owner=owner)


@dataclass
class Node:
    """A registry node serving a case's ledger over HTTP, and how its people call it (RFC 9421 signed)."""

    url: str
    consortium: Path
    chain_id: str
    app: str
    http: httpx.Client

    @property
    def target(self) -> RequestTarget:
        """What a request to this node is signed for: the registry's node (its folder in the dev layout)."""
        return RequestTarget(chain_id=self.chain_id, node_org="gz-registry")

    def call(self, handle: str | None, method: str, path: str, body: Any = None) -> httpx.Response:
        content = None if body is None else orjson.dumps(body)
        headers = {} if body is None else {"content-type": "application/json"}
        request = httpx.Request(method, self.url + path, content=content, headers=headers)
        if handle is not None:
            identity = ClientIdentity.from_dev(self.consortium, handle)
            sign_request(request, identity, target=self.target, created_s=int(time.time()))
        return self.http.send(request)

    def submit(self, handle: str, command: str, body: Mapping[str, JSONValue]) -> httpx.Response:
        """``handle`` signs the transaction with its own key and submits it, waiting for its commit."""
        identity = ClientIdentity.from_dev(self.consortium, handle)
        signed = sign_transaction(identity, chain_id=self.chain_id, command=command, body=dict(body),
                                  created_at_ms=int(time.time() * 1000))
        request = httpx.Request("POST", f"{self.url}/v1/transactions?wait=10", content=signed.envelope,
                                headers={"content-type": "application/json"})
        sign_request(request, identity, target=self.target, created_s=int(time.time()))
        return self.http.send(request)


@contextmanager
def serve(case: Case, app: str) -> Iterator[Node]:
    """The case's ledger laid out as ``estatechain init`` does (``<consortium>/nodes/gz-registry``) and served."""
    case.harness.store.close()
    consortium = case.harness.consortium.directory
    ledger_dir = consortium / "nodes" / "gz-registry"
    ledger_dir.parent.mkdir(parents=True)
    shutil.move(case.harness.ledger_dir, ledger_dir)
    with served(Settings(ledger_dir=ledger_dir, port=0)) as url, httpx.Client(timeout=30) as http:
        yield Node(url=url, consortium=consortium, chain_id=case.genesis.chain_id, app=app, http=http)
