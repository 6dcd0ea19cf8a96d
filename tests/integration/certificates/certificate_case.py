"""A small imported register and the registration cases that issue real certificates, through the pipeline.

Imported by module name by this folder's tests (like ``register_case`` in tests/integration/register,
whose steps it follows with the ``estatechain.testing`` helpers). Every step is a signed transaction
by the party that acts, committed in its own block; the certificate is prepared by the registry's
``CertificateDesk`` and issued by ``gz-registry/issuer1`` signing the ``application.issue`` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from estatechain.canonical import JSONValue
from estatechain.certificates.desk import CertificateDesk
from estatechain.contract.effects import Record
from estatechain.identity.genesis import Genesis
from estatechain.node.pipeline import Receipt
from estatechain.testing.builders import material_ref as material
from estatechain.testing.harness import LedgerHarness
from estatechain.testing.register import (
    SEALED_DIR,
    OwnerCandidate,
    RegisterImporter,
    binding_envelopes,
    create_register_keys,
)
from estatechain.testing.synthetic import generate

SEED: Final = 20260104
UNITS: Final = 150
OWNER: Final = "gz-identity/person1"
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
