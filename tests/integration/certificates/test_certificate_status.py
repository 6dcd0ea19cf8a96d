"""A certificate's status follows the register: cancelled after its mortgage is cancelled, corrected after
a correction registration. Real cases through the pipeline; the status is read as a node answers it.
"""

from __future__ import annotations

from pathlib import Path

from certificate_case import DEVELOPER, OWNER, SEED, UNITS, Case, new_case

from estatechain.canonical import JSONValue
from estatechain.certificates.document import to_bytes
from estatechain.certificates.verify import Report, verify_bytes
from estatechain.contract.certificates import load
from estatechain.errors import NotFound
from estatechain.testing.builders import label_digest as h
from estatechain.testing.builders import material_ref as material
from estatechain.testing.synthetic import generate


def verify_now(case: Case, document: dict[str, JSONValue]) -> Report:
    def lookup(number: str) -> dict[str, JSONValue]:
        found = load(case.harness.store, number)
        if found is None:
            raise NotFound(number)
        return {"status": found.status.value, "document_sha256": found.document_sha256}

    return verify_bytes(to_bytes(document), case.genesis, lookup=lookup)


def test_a_cancelled_mortgage_s_certificate_verifies_as_cancelled(tmp_path: Path) -> None:
    case = new_case(tmp_path)
    app = case.mortgage()
    document = case.issue(app)
    assert verify_now(case, document).ok

    case.cancel(app)

    report = verify_now(case, document)
    assert report.status == "CANCELLED"
    failure = report.failure
    assert failure is not None
    assert failure.name == "status"
    assert failure.detail.startswith("CANCELLED: the certificate is authentic but no longer in force")
    assert [c.name for c in report.checks if c.ok][-1] == "attestation"  # everything else still holds
    assert verify_bytes(to_bytes(document), case.genesis).ok  # offline: valid as of its block


def test_a_corrected_notice_s_certificate_verifies_as_corrected_and_the_new_one_as_valid(tmp_path: Path) -> None:
    case = new_case(tmp_path)
    reg = case
    batches = list(generate(SEED, UNITS, batch_size=50))  # the register new_case imported
    purchased = {n.unit_number for b in batches for n in b.purchase_notices}
    seized = {s.unit_number for b in batches for s in b.seizures}
    flat = next(u for b in batches for u in b.units
                if u.predicted and u.unit_number not in purchased and u.unit_number not in seized)
    sibling = next(u.unit_number for b in batches for u in b.units
                   if u.building_ref == flat.building_ref and u.unit_number in purchased)
    obligors = reg.row(f"notice/IMP-PN-{sibling}")["obligors"]
    assert isinstance(obligors, list)
    assert isinstance(obligors[0], dict)
    developer = str(obligors[0]["party_id"])
    reg.ok("gz-identity/officer1", "identity.bind_party", {"org": "poly-developer", "party_id": developer})
    buyer = {"party_id": case.owner.party_id, "record_ref": case.owner.record_ref}
    icbc = case.bank("icbc-gz")
    confirmers = {case.owner.party_id: OWNER, developer: DEVELOPER, icbc: "icbc-gz/approver1"}

    document_hash = h(f"presale:{flat.unit_number}")
    contract = reg.ok(DEVELOPER, "presale.contract", {
        "unit_number": flat.unit_number, "developer": developer, "buyers": [case.owner.party_id],
        "price_fen": 250_000_000, "contract_no": "HC-2026-0004", "filing_no": "GZYS-2026-0004",
        "document_sha256": document_hash}).tx_id
    reg.ok(OWNER, "presale.sign", {"contract_id": contract, "document_sha256": document_hash})
    purchase = case.case(DEVELOPER, {
        "business_type": "purchase_notice.first", "unit_number": flat.unit_number,
        "applicants": [{**buyer, "capacity": "buyer"}, {"party_id": developer, "capacity": "developer"}],
        "materials": [material("APPLICATION_FORM"), material("NOTICE_AGREEMENT")],
        "details": {"presale_contract": contract}}, confirmers)
    p1 = case.issue(purchase)
    record1 = p1["record"]
    assert isinstance(record1, dict)
    assert (record1["right_or_matter"], record1["secured_amount"]) == (
        "预告登记", {"basis": "取得价格", "currency": "CNY", "fen": 250_000_000})

    yudiya = case.case("icbc-gz/operator1", {
        "business_type": "mortgage_notice.first", "unit_number": flat.unit_number,
        "applicants": [{**buyer, "capacity": "mortgagor"}, {"party_id": icbc, "capacity": "mortgagee"}],
        "materials": [material(k) for k in ("APPLICATION_FORM", "POWER_OF_ATTORNEY", "LOAN_CONTRACT",
                                            "NOTICE_AGREEMENT")],
        "details": {"notice_kind": 3, "method": 1, "secured_principal_fen": 120_000_000, "currency": "CNY",
                    "debt_term": {"start": "2026-01-04", "end": "2056-01-03"}, "scope": "详见抵押合同",
                    "contract_numbers": ["ICBC-YG-2026-0001"], "transfer_restricted": False,
                    "purchase_notice_certificate_number": record1["number"]}}, confirmers)
    p2 = case.issue(yudiya)
    record2 = p2["record"]
    assert isinstance(record2, dict)
    assert "预告登记种类：预售商品房抵押权预告登记" in record2["other"]  # type: ignore[operator]
    assert verify_now(case, p2).ok

    correct = case.case("icbc-gz/operator1", {
        "business_type": "mortgage_notice.correct", "unit_number": flat.unit_number,
        "applicants": [{"party_id": icbc, "capacity": "mortgagee"}],
        "materials": [material("APPLICATION_FORM"), material("ERROR_PROOF")],
        "details": {"certificate_number": record2["number"],
                    "error_evidence_sha256": material("LOAN_CONTRACT")["sha256"],
                    "corrections": [{"field": "contract_numbers", "old": ["ICBC-YG-2026-0001"],
                                     "new": ["ICBC-YG-2026-0010"]}]}}, {icbc: "icbc-gz/approver1"})
    p3 = case.issue(correct)

    old = verify_now(case, p2)
    assert old.status == "CORRECTED"
    assert old.failure is not None
    assert old.failure.name == "status"
    assert "CORRECTED" in old.failure.detail
    assert "correction" in old.failure.detail
    new = verify_now(case, p3)
    assert new.ok, new.failure
    record3 = p3["record"]
    assert isinstance(record3, dict)
    assert "合同编号：ICBC-YG-2026-0010" in record3["other"]  # type: ignore[operator]
    assert any(str(note).startswith("更正登记") for note in record3["notes"])  # type: ignore[union-attr]

