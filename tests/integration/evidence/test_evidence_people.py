"""Whom an evidence report names: only what valid transactions state, never a refused claim.

A refused filing can pair an owner's party id with another person's record (a clerk's slip, or worse).
Had the report taken the first pairing it met, a court would read that other person's name beside the
owner's confirmations.
"""

from __future__ import annotations

import io
from pathlib import Path

from evidence_case import MINUTE_MS, SEED, UNITS, Case

from estatechain.canonical import JSONValue
from estatechain.evidence.report import render, report_console
from estatechain.evidence.verify import verify_package
from estatechain.testing.builders import material_ref as material
from estatechain.testing.harness import LedgerHarness
from estatechain.testing.register import (
    SEALED_DIR,
    RegisterImporter,
    binding_envelopes,
    create_register_keys,
)
from estatechain.testing.synthetic import generate


def test_a_refused_filing_that_pairs_the_owner_with_another_persons_record_does_not_name_that_person(
    tmp_path: Path,
) -> None:
    harness = LedgerHarness(tmp_path)
    keys = create_register_keys(harness.consortium.directory, harness.consortium.genesis)
    importer = RegisterImporter(harness.factory, keys, harness.ledger_dir / SEALED_DIR, keep_owners=1000)
    assert all(r.valid for r in harness.commit(
        [tx.envelope for tx in importer.transactions(generate(SEED, UNITS, batch_size=50))]))
    owner, other = [c for c in importer.owners if not c.mortgages][:2]
    harness.clock.advance(MINUTE_MS)
    assert all(r.valid for r in harness.commit(
        binding_envelopes(harness.factory, {"gz-identity/person1": owner}, importer.bank_parties)))
    case = Case(harness=harness, owner=owner, bank_party=importer.bank_parties["icbc-gz"])
    bank: dict[str, JSONValue] = {"party_id": case.bank_party, "capacity": "mortgagee"}
    details: dict[str, JSONValue] = {"method": 1, "secured_principal_fen": 120_000_000, "currency": "CNY",
               "debt_term": {"start": "2026-01-04", "end": "2046-01-03"}, "scope": "主债权及利息",
               "contract_numbers": ["LOAN-2026-0001"], "transfer_restricted": False,
               "title_number": owner.title_number}
    slip = case.step("icbc-gz/operator1", "application.file", {
        "business_type": "mortgage.first", "unit_number": owner.unit_number,
        "applicants": [{"party_id": owner.party_id, "record_ref": other.record_ref, "capacity": "mortgagor"}, bank],
        "materials": [], "details": details})  # no materials: refused (V24), after naming the wrong record
    assert not slip.valid
    filed = case.ok("icbc-gz/operator1", "application.file", {
        "business_type": "mortgage.first", "unit_number": owner.unit_number,
        "applicants": [{"party_id": owner.party_id, "record_ref": owner.record_ref, "capacity": "mortgagor"}, bank],
        "materials": [material("APPLICATION_FORM"), material("POWER_OF_ATTORNEY"), material("LOAN_CONTRACT")],
        "details": details})
    case.ok("gz-identity/person1", "application.confirm",
            {"application_id": filed.tx_id, "application_hash": filed.tx_id, "party_id": owner.party_id})

    since_import = harness.clock.now_ms() - 3 * 7 * MINUTE_MS  # a period after the import: the slip comes first
    verified = verify_package(case.export({"kind": "unit", "unit_number": owner.unit_number,
                                           "from_ms": since_import, "to_ms": 2**53 - 1}).data)
    assert "register.import" not in {t.command for t in verified.txs}
    assert slip.tx_id in {t.tx_id for t in verified.txs}  # the slip is part of the record
    assert verified.party_refs[owner.party_id] == owner.record_ref
    out = io.StringIO()
    render(verified, report_console(out))
    owner_name, other_name = (str(verified.openings[ref]["name"]) for ref in (owner.record_ref, other.record_ref))
    confirmation = next(line for line in out.getvalue().splitlines() if "application.confirm" in line)
    assert owner_name in confirmation
    assert other_name not in confirmation
