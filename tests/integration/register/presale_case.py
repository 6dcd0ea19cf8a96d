"""A pre-sale flat of the imported synthetic register and the steps of its cases, through the real pipeline.

Shared by the pipeline scenario tests of the pre-sale chain and of 预抵押 changes (imported by module
name, like ``register_case``). The flat is the one predicted unit of the synthetic register of
``register_case.SEED`` that no purchase notice holds yet; its developer is the developer of its
project in the register, bound to the dev consortium's ``poly-developer`` org [dev only: the
synthetic developers are not members, as the synthetic banks other than ICBC and CCB are not]. The
buyer is a resident who already owns a flat in the register, acting with ``gz-identity/person1``.
Every step is a signed transaction by the party that acts, committed in its own block.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from register_case import Register, import_register

from estatechain.canonical import JSONValue
from estatechain.testing.builders import label_digest as h
from estatechain.testing.builders import material_ref as material
from estatechain.testing.register import OwnerCandidate

BUYER_HANDLE: Final = "gz-identity/person1"
DEVELOPER_HANDLE: Final = "poly-developer/developer1"
DEVELOPER_ORG: Final = "poly-developer"
DAY_MS: Final = 86_400_000

NOTICE_MATERIALS: Final = ("APPLICATION_FORM", "POWER_OF_ATTORNEY", "LOAN_CONTRACT", "NOTICE_AGREEMENT")


@dataclass
class Presale:
    """The register, the pre-sale flat, its developer and buyer, and who confirms for each party."""

    reg: Register
    predicted: str
    surveyed: str
    developer: str
    buyer: OwnerCandidate
    confirmers: dict[str, str]

    @property
    def icbc(self) -> str:
        return self.reg.importer.bank_parties["icbc-gz"]

    @property
    def ccb(self) -> str:
        return self.reg.importer.bank_parties["ccb-gz"]

    def buyer_ref(self) -> dict[str, JSONValue]:
        return {"party_id": self.buyer.party_id, "record_ref": self.buyer.record_ref}

    def case(self, filer: str, body: Mapping[str, JSONValue]) -> str:
        """File, confirm by every applicant (one block), accept, review, record, issue: the application id.

        The issue step (发证) only where the recording assigned the application a certificate number
        (a 不动产登记证明, or the new title certificate of an ownership transfer).
        """
        reg = self.reg
        app = reg.ok(filer, "application.file", body).tx_id
        applicants = body["applicants"]
        assert isinstance(applicants, list)
        factory = reg.harness.factory
        confirmations = []
        for applicant in applicants:
            assert isinstance(applicant, dict)
            party = str(applicant["party_id"])
            confirmations.append(factory.sign(factory.identity(self.confirmers[party]), "application.confirm",
                                              {"application_id": app, "application_hash": app, "party_id": party}))
        receipts = reg.harness.commit(confirmations)  # each applicant signs on its own; they share a block
        assert [(r.code, r.message) for r in receipts if not r.valid] == []
        reg.ok("gz-registry/intake1", "application.accept", {"application_id": app})
        reg.ok("gz-registry/reviewer1", "application.review", {"application_id": app})
        reg.ok("gz-registry/recorder2", "application.record", {"application_id": app})
        if reg.row(f"application/{app}")["certificate_number"] is not None:
            reg.ok("gz-registry/issuer1", "application.issue",
                   {"application_id": app, "document_sha256": h(f"pdf:{app}")})
        return app

    def contract(self, price_fen: int = 250_000_000) -> str:
        """The developer files the pre-sale contract and the buyer signs it (2 txs): the contract id."""
        document = h(f"presale:{self.predicted}")
        contract = self.reg.ok(DEVELOPER_HANDLE, "presale.contract", {
            "unit_number": self.predicted, "developer": self.developer, "buyers": [self.buyer.party_id],
            "price_fen": price_fen, "contract_no": "HC-2026-0004", "filing_no": "GZYS-2026-0004",
            "document_sha256": document,
        }).tx_id
        self.reg.ok(BUYER_HANDLE, "presale.sign", {"contract_id": contract, "document_sha256": document})
        return contract

    def purchase_body(self, contract: str) -> dict[str, JSONValue]:
        return {"business_type": "purchase_notice.first", "unit_number": self.predicted,
                "applicants": [{**self.buyer_ref(), "capacity": "buyer"},
                               {"party_id": self.developer, "capacity": "developer"}],
                "materials": [material("APPLICATION_FORM"), material("NOTICE_AGREEMENT")],
                "details": {"presale_contract": contract}}

    def notice_body(self, purchase_number: str) -> dict[str, JSONValue]:
        """ICBC's 预抵押: 120万元 over 30 years against the buyer."""
        return {"business_type": "mortgage_notice.first", "unit_number": self.predicted,
                "applicants": [{**self.buyer_ref(), "capacity": "mortgagor"},
                               {"party_id": self.icbc, "capacity": "mortgagee"}],
                "materials": [material(kind) for kind in NOTICE_MATERIALS],
                "details": {"notice_kind": 3, "method": 1, "secured_principal_fen": 120_000_000, "currency": "CNY",
                            "debt_term": {"start": "2026-01-04", "end": "2056-01-03"}, "scope": "详见抵押合同",
                            "contract_numbers": ["ICBC-YG-2026-0001"], "transfer_restricted": False,
                            "purchase_notice_certificate_number": purchase_number}}

    def first_registration(self) -> None:
        """The registry records the flat's building first registration for the developer (1 tx)."""
        self.reg.ok("gz-registry/recorder1", "building.first_registration", {
            "developer": self.developer,
            "units": [{"predicted": self.predicted, "surveyed": {
                "unit_number": self.surveyed, "kind": "surveyed", "use": "residential", "area_centi_m2": 8912,
                "location_code": "J0000003-1-F02"}}],
        })

    def advance_days(self, days: int) -> None:
        self.reg.harness.clock.advance(days * DAY_MS)


def presale_register(tmp_path: Path) -> Presale:
    """The imported register with the buyer, both member banks and the developer bound (all valid txs)."""
    reg = import_register(tmp_path)
    purchased = {n.unit_number for b in reg.batches for n in b.purchase_notices}
    seized = {s.unit_number for b in reg.batches for s in b.seizures}
    free = [u for b in reg.batches for u in b.units
            if u.predicted and u.unit_number not in purchased and u.unit_number not in seized]
    assert free, "the synthetic register of this seed has no free pre-sale flat; change SEED or UNITS"
    flat = free[0]
    sibling = next(u.unit_number for b in reg.batches for u in b.units
                   if u.building_ref == flat.building_ref and u.unit_number in purchased)
    obligors = reg.row(f"notice/IMP-PN-{sibling}")["obligors"]
    assert isinstance(obligors, list)
    assert isinstance(obligors[0], dict)
    developer = str(obligors[0]["party_id"])
    buyer = reg.owner(legacy_mortgages=0)
    reg.bind({BUYER_HANDLE: buyer})
    reg.ok("gz-identity/officer1", "identity.bind_party", {"org": DEVELOPER_ORG, "party_id": developer})
    # the surveyed number: same parcel code, the real estate survey's own parcel serial [A: test data]
    surveyed = f"{flat.unit_number[:14]}90001{flat.unit_number[19:]}"
    confirmers = {buyer.party_id: BUYER_HANDLE, developer: DEVELOPER_HANDLE,
                  reg.importer.bank_parties["icbc-gz"]: "icbc-gz/approver1",
                  reg.importer.bank_parties["ccb-gz"]: "ccb-gz/approver1"}
    return Presale(reg=reg, predicted=flat.unit_number, surveyed=surveyed, developer=developer, buyer=buyer,
                   confirmers=confirmers)
