"""Registration cases end to end through the pipeline over an imported synthetic register.

Each step is its own signed transaction in its own block; the expected register entries, ranks and
certificate numbers are written out as a registry would expect them, not computed by the code under test.
"""

from __future__ import annotations

from pathlib import Path

from register_case import Register, import_register

from estatechain.storage.audit import audit_ledger
from estatechain.testing.builders import label_digest as h
from estatechain.testing.builders import material_ref as material


def other_bank(org: str | None) -> str:
    return "ccb-gz" if org == "icbc-gz" else "icbc-gz"


def register_mortgage(reg: Register, owner_handle: str, bank: str, app: str, party_id: str) -> None:
    reg.confirm(app, owner_handle, party_id)
    reg.confirm(app, f"{bank}/approver1", reg.importer.bank_parties[bank])
    reg.ok("gz-registry/intake1", "application.accept", {"application_id": app})
    reg.ok("gz-registry/reviewer1", "application.review", {"application_id": app})
    reg.ok("gz-registry/recorder2", "application.record", {"application_id": app})
    reg.ok("gz-registry/issuer1", "application.issue", {"application_id": app, "document_sha256": h(f"pdf:{app}")})


def test_first_registration_ranks_after_the_imported_mortgage_and_moves_up_when_that_one_is_cancelled(
    tmp_path: Path,
) -> None:
    reg = import_register(tmp_path)
    owner = reg.owner(legacy_mortgages=1, held_by_member_bank=True)
    legacy = owner.mortgages[0]
    assert legacy.mortgagee_org is not None
    legacy_id = f"IMP-{owner.unit_number}-1"
    reg.bind({"gz-identity/person1": owner})
    bank = other_bank(legacy.mortgagee_org)

    app = reg.file_first_mortgage(owner, bank, "LOAN-2026-0001")
    register_mortgage(reg, "gz-identity/person1", bank, app, owner.party_id)

    assert reg.row(f"application/{app}")["state"] == "CERTIFIED"
    entry = reg.row(f"mortgage/{app}")
    assert entry["status"] == "current"
    assert entry["rank"] == 2
    assert entry["certificate_number"] == "粤(2026)广州市不动产证明第00000001号"
    assert entry["unit_number"] == owner.unit_number
    assert entry["mortgagors"] == [{"party_id": owner.party_id, "record_ref": owner.record_ref}]
    assert entry["mortgagees"] == [{"party_id": reg.importer.bank_parties[bank], "record_ref": None}]
    assert entry["secured_principal"] == {"fen": 120_000_000, "currency": "CNY"}
    assert entry["debt_term"] == {"start": "2026-01-04", "end": "2046-01-03"}
    assert entry["method"] == 1
    assert entry["registry"] == "gz-registry"
    assert entry["recorder"] == reg.harness.factory.identity("gz-registry/recorder2").fingerprint
    imported = reg.row(f"mortgage/{legacy_id}")
    assert (imported["rank"], imported["status"], imported["priority_key"]) == (1, "current", "L0001")
    certificate = reg.row("certificate/proof/2026/00000001")
    assert (certificate["number"], certificate["status"], certificate["right"]) == (
        "粤(2026)广州市不动产证明第00000001号", "VALID", f"mortgage/{app}")
    assert certificate["document_sha256"] == h(f"pdf:{app}")
    assert reg.row("certseq/gz-registry/2026") == {"last": 1}

    # the imported rank-1 mortgage is repaid: its bank cancels it alone, and the new mortgage moves up
    cancel = reg.ok(f"{legacy.mortgagee_org}/operator1", "application.file", {
        "business_type": "mortgage.cancel", "unit_number": owner.unit_number,
        "applicants": [{"party_id": legacy.mortgagee_party, "capacity": "mortgagee"}],
        "materials": [material("APPLICATION_FORM"), material("PAYOFF_PROOF")],
        "details": {"certificate_number": legacy.certificate_number, "reason": "REPAID"},
    }).tx_id
    reg.confirm(cancel, f"{legacy.mortgagee_org}/approver1", legacy.mortgagee_party)
    reg.ok("gz-registry/intake1", "application.accept", {"application_id": cancel})
    reg.ok("gz-registry/reviewer2", "application.review", {"application_id": cancel})
    reg.ok("gz-registry/recorder1", "application.record", {"application_id": cancel})

    assert reg.row(f"application/{cancel}")["state"] == "RECORDED"
    cancelled = reg.row(f"mortgage/{legacy_id}")
    assert cancelled["status"] == "historic"
    assert cancelled["cancellation"] == {"business_no": cancel, "reason": "REPAID",
                                         "time_ms": reg.harness.clock.now_ms()}
    assert reg.row(f"mortgage/{app}")["rank"] == 1
    assert reg.row(f"mortgage/{app}")["status"] == "current"
    year, serial = legacy.certificate_number[2:6], legacy.certificate_number[-9:-1]
    assert reg.row(f"certificate/proof/{year}/{serial}")["status"] == "CANCELLED"
    assert reg.row("certificate/proof/2026/00000001")["status"] == "VALID"
    assert reg.row("certseq/gz-registry/2026") == {"last": 1}  # a cancellation issues no certificate
    mortgages = [key for key, _ in reg.harness.store.scan(f"unitidx/{owner.unit_number}/mortgage/")]
    assert mortgages == [f"unitidx/{owner.unit_number}/mortgage/{entry['priority_key']}/{app}"]

    report = audit_ledger(reg.node)
    assert report.invalid_txs == 0
    assert report.txs == len(reg.import_receipts) + 3 + 7 + 5


def test_a_seizure_delivered_between_review_and_recording_is_refused_at_record_with_v13(tmp_path: Path) -> None:
    reg = import_register(tmp_path)
    owner = reg.owner(legacy_mortgages=0)
    reg.bind({"gz-identity/person2": owner})
    app = reg.file_first_mortgage(owner, "icbc-gz", "LOAN-2026-0002")
    reg.confirm(app, "gz-identity/person2", owner.party_id)
    reg.confirm(app, "icbc-gz/approver1", reg.importer.bank_parties["icbc-gz"])
    reg.ok("gz-registry/intake1", "application.accept", {"application_id": app})
    reg.ok("gz-registry/reviewer1", "application.review", {"application_id": app})
    assert reg.row(f"application/{app}")["state"] == "APPROVED"

    seizure = reg.ok("gz-court/court1", "seizure.register", {
        "unit_number": owner.unit_number, "kind": "1", "order_no": "(2026)粤0106执保1号",
        "start_date": "2026-01-04", "end_date": "2028-12-31",
    }).tx_id
    rows_before = reg.harness.snapshot().state_rows
    refused = reg.step("gz-registry/recorder2", "application.record", {"application_id": app})

    assert not refused.valid
    assert refused.code == "V13_UNIT_SEIZED"
    assert owner.unit_number in (refused.message or "")
    assert seizure in (refused.message or "")
    assert reg.row(f"application/{app}")["state"] == "APPROVED"
    assert reg.harness.store.get(f"mortgage/{app}") is None
    assert reg.harness.store.get("certseq/gz-registry/2026") is None
    assert reg.harness.store.get("certificate/proof/2026/00000001") is None
    assert list(reg.harness.store.scan(f"unitidx/{owner.unit_number}/mortgage/")) == []
    assert reg.harness.snapshot().state_rows == rows_before

    report = audit_ledger(reg.node)
    assert report.invalid_txs == 1
