"""A package of transactions years old verifies, judging each signer at the height it signed.

ICBC's operator1 files an application in 2026; a year later ICBC revokes that certificate and issues a
replacement, which keeps signing for years. Exported in 2030, the package of the 2026 application still
verifies: the revocation is in it as context, after the operator's transactions, and the report says so.
"""

from __future__ import annotations

import io
from pathlib import Path

from evidence_case import DAY_MS, Case, file_application, imported_case, revoke

from estatechain.evidence.report import render, report_console
from estatechain.evidence.verify import verify_package
from estatechain.identity.devca import issue_identity

YEAR_MS = 365 * DAY_MS


def _history(tmp_path: Path) -> tuple[Case, str]:
    case = imported_case(tmp_path)
    app = file_application(case)
    case.ok("gz-identity/person1", "application.confirm",
            {"application_id": app, "application_hash": app, "party_id": case.owner.party_id})
    early_note = case.ok("icbc-gz/operator1", "note.put", {"data": {"memo": "loan file opened"}, "if_absent": False,
                                                            "key": "memo/icbc/1"}).tx_id
    clock = case.harness.clock
    clock.advance(YEAR_MS)
    revoke(case, "icbc-gz/operator1", "icbc-gz/org-admin")
    factory = case.harness.factory
    replacement = issue_identity(case.consortium_dir, org_id="icbc-gz", user="operator1", role="bank.operator",
                                 now_ms=clock.now_ms())
    refused = case.harness.refuse(factory.sign(factory.identity("icbc-gz/operator1"), "note.put",
                                               {"data": {}, "if_absent": False, "key": "memo/icbc/2"}))
    assert refused.code == "SIGNER_REVOKED"
    for year in range(3):
        clock.advance(YEAR_MS - 40 * DAY_MS)
        (receipt,) = case.harness.commit([factory.sign(replacement, "note.put", {
            "data": {"year": year}, "if_absent": False, "key": f"memo/icbc/r{year}"})])
        assert receipt.valid, receipt.code
    return case, early_note


def test_a_2026_application_exported_in_2030_verifies_with_the_signer_revoked_since(tmp_path: Path) -> None:
    case, early_note = _history(tmp_path)
    head_ms = case.harness.clock.now_ms()
    package = case.export({"kind": "application", "application_id": case.application}).data
    verified = verify_package(package)
    operator = case.harness.factory.identity("icbc-gz/operator1").fingerprint
    filing = next(t for t in verified.txs if t.command == "application.file")
    assert filing.valid
    assert filing.signer.fingerprint == operator
    assert filing.revoked_at is not None
    assert filing.revoked_at[0] > filing.height
    revocation = next(t for t in verified.txs if t.command == "identity.revoke")
    assert revocation.context
    assert revocation.height == filing.revoked_at[0]
    assert verified.head_time_ms - filing.time_ms > 3 * YEAR_MS
    assert verified.head_time_ms == head_ms
    out = io.StringIO()
    render(verified, report_console(out))
    note = f"certificate revoked later, at height {revocation.height}; judged at height {filing.height}"
    assert note in out.getvalue()

    one = verify_package(case.export({"kind": "tx", "tx_id": early_note}).data)
    assert [t.command for t in one.txs if not t.context] == ["note.put"]

