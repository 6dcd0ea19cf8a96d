"""Authentic transactions that fail a check at block time stay in their block, marked invalid, changing nothing."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from estatechain.identity.devca import Identity, issue_identity
from estatechain.storage.audit import audit_ledger
from estatechain.testing.harness import LedgerHarness

MINUTE = 60_000


@pytest.fixture
def ledger(tmp_path: Path) -> LedgerHarness:
    return LedgerHarness(tmp_path)


def _stored(ledger: LedgerHarness, tx_id: str) -> tuple[str, str | None, int]:
    row = ledger.store.connection.execute("SELECT status, code, height FROM txs WHERE tx_id = ?", (tx_id,)).fetchone()
    assert row is not None, "an invalid transaction must still be recorded in its block"
    return row[0], row[1], row[2]


def _assert_invalid_and_inert(
    ledger: LedgerHarness, envelope: bytes, code: str, witness_by: Identity | None = None
) -> None:
    bank = witness_by or ledger.factory.identity("ccb-gz/operator1")
    witness = ledger.factory.note(bank, f"witness-{code}", {"ok": True})
    rows_before = ledger.snapshot().state_rows
    bad, good = ledger.commit([envelope, witness])
    assert (bad.valid, bad.code) == (False, code)
    assert bad.message
    assert good.valid
    assert bad.height == good.height, "both must be in the same block"
    assert _stored(ledger, bad.tx_id) == ("invalid", code, bad.height)
    written = ledger.store.connection.execute(
        "SELECT key FROM state_rows WHERE seq = ?", (bad.seq,)).fetchall()
    assert written == [], "an invalid transaction writes nothing"
    assert ledger.snapshot().state_rows > rows_before  # the witness did write
    audit_ledger(ledger.ledger_dir)


def test_a_transaction_created_too_long_before_block_time_is_invalid(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    stale = ledger.factory.sign(bank, "note.put", {"data": {}, "key": "stale"},
                                created_at_ms=ledger.clock.now_ms() - 11 * MINUTE)
    _assert_invalid_and_inert(ledger, stale, "OUTSIDE_TIME_WINDOW")


def test_a_transaction_dated_in_the_future_is_invalid(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    future = ledger.factory.sign(bank, "note.put", {"data": {}, "key": "future"},
                                 created_at_ms=ledger.clock.now_ms() + 3 * MINUTE)
    _assert_invalid_and_inert(ledger, future, "OUTSIDE_TIME_WINDOW")


def test_a_role_that_may_not_act_is_invalid(ledger: LedgerHarness) -> None:
    auditor = ledger.factory.identity("gz-regulator/auditor1")
    _assert_invalid_and_inert(ledger, ledger.factory.note(auditor, "regulator-write", {}), "ROLE_NOT_PERMITTED")


def test_an_expired_certificate_is_invalid_at_block_time(ledger: LedgerHarness) -> None:
    operator = ledger.factory.identity("icbc-gz/operator1")
    ledger.clock.advance(6 * 365 * 24 * 60 * MINUTE)  # past the 5-year user certificate, within the CA's 10
    envelope = ledger.factory.note(operator, "late", {})
    renewed = issue_identity(ledger.consortium.directory, org_id="ccb-gz", user="renewed", role="bank.operator",
                             now_ms=ledger.clock.now_ms())
    _assert_invalid_and_inert(ledger, envelope, "CERTIFICATE_NOT_VALID_AT_BLOCK_TIME", witness_by=renewed)


def test_a_contract_rejection_is_invalid_with_the_rule_code(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    ledger.commit([ledger.factory.note(bank, "taken", {"v": 1})])
    clash = ledger.factory.note(bank, "taken", {"v": 2}, if_absent=True)
    _assert_invalid_and_inert(ledger, clash, "NOTE_EXISTS")
    assert ledger.store.get("note/taken") is not None
    stored = ledger.store.get("note/taken")
    assert stored is not None
    assert stored["data"] == {"v": 1}


def test_a_malformed_command_body_is_invalid(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    envelope = ledger.factory.sign(bank, "note.put", {"data": "not an object", "key": "k"})
    _assert_invalid_and_inert(ledger, envelope, "MALFORMED_COMMAND")


def _revoke(ledger: LedgerHarness, admin_handle: str, target_handle: str) -> bytes:
    admin = ledger.factory.identity(admin_handle)
    target = ledger.factory.identity(target_handle)
    body = {"certificate": base64.b64encode(target.cert_der).decode(), "reason": "key reported lost"}
    return ledger.factory.sign(admin, "identity.revoke", body)


def test_revocation_applies_from_its_block_and_keeps_older_transactions_valid(ledger: LedgerHarness) -> None:
    bank = ledger.factory.identity("icbc-gz/operator1")
    (older,) = ledger.commit([ledger.factory.note(bank, "before-revocation", {"v": 1})])
    assert older.valid
    revocation, same_block = ledger.commit([
        _revoke(ledger, "icbc-gz/org-admin", "icbc-gz/operator1"),
        ledger.factory.note(bank, "same-block", {"v": 2}),
    ])
    assert revocation.valid
    assert (same_block.valid, same_block.code) == (False, "SIGNER_REVOKED")
    before = ledger.snapshot()
    refused = ledger.refuse(ledger.factory.note(bank, "after-revocation", {"v": 3}))
    assert refused.code == "SIGNER_REVOKED"
    assert ledger.snapshot() == before
    report = audit_ledger(ledger.ledger_dir)  # the revoked signer's older transaction still verifies
    assert report.valid_txs == 2
    assert _stored(ledger, older.tx_id)[0] == "valid"


def test_an_org_admin_cannot_revoke_another_orgs_certificate(ledger: LedgerHarness) -> None:
    envelope = _revoke(ledger, "ccb-gz/org-admin", "icbc-gz/operator1")
    _assert_invalid_and_inert(ledger, envelope, "REVOKE_OTHER_ORG")


def test_only_an_org_admin_may_revoke(ledger: LedgerHarness) -> None:
    envelope = _revoke(ledger, "icbc-gz/approver1", "icbc-gz/operator1")
    _assert_invalid_and_inert(ledger, envelope, "ROLE_NOT_PERMITTED")
