"""Inquiry of registration results (§7) end to end through the pipeline over the imported register.

An owner consents that ICBC may query their flat before a loan; ICBC's inquiry by title number is
GRANTED with the full result; CCB citing ICBC's consent, and ICBC once the consent has expired, are
REFUSED — and each refusal is a valid transaction in the log, so the owner can list all three. The
expected log records are written out as a registry would expect them, not computed by the code under test.
"""

from __future__ import annotations

from pathlib import Path

from register_case import Register, import_register

from estatechain.contract.context import BlockContext
from estatechain.contract.rules.inquiry import may_list
from estatechain.storage.audit import audit_ledger
from estatechain.web.inquiryindex import FILE as INQUIRY_INDEX
from estatechain.web.inquiryindex import InquiryIndex, who_looked

FULL = ["unit", "owners", "ownership_form", "mortgages", "notices", "seizures", "objections"]
LIMITED = "LIMITED"
DAY_MS = 86_400_000


def test_owner_consent_then_a_granted_bank_inquiry_and_refusals_that_the_owner_can_list(tmp_path: Path) -> None:
    reg = import_register(tmp_path)
    owner = reg.owner(legacy_mortgages=0)
    neighbour = reg.owner(legacy_mortgages=0, skip=1)
    reg.bind({"gz-identity/person1": owner, "gz-identity/person2": neighbour})
    icbc, ccb = reg.importer.bank_parties["icbc-gz"], reg.importer.bank_parties["ccb-gz"]
    factory = reg.harness.factory

    consent = reg.ok("gz-identity/person1", "inquiry.consent", {
        "unit_number": owner.unit_number, "bank_party": icbc, "purpose": "PRE_LOAN", "expires_on": "2026-01-31",
    }).tx_id
    given = reg.row(f"consent/{consent}")
    assert (given["unit_number"], given["owner"], given["bank_party"], given["purpose"], given["expires_on"],
            given["revoked_ms"]) == (owner.unit_number, owner.party_id, icbc, "PRE_LOAN", "2026-01-31", None)

    # ICBC asks by the owner's title number, citing the consent: the full result
    granted = reg.ok("icbc-gz/operator1", "inquiry.request", {
        "certificate_number": owner.title_number, "basis": "consent", "consent_ids": [consent],
        "purpose": "PRE_LOAN", "requester_party": icbc,
    })
    assert reg.row(f"inquiry/{granted.tx_id}") == {
        "inquiry_id": granted.tx_id, "unit_number": owner.unit_number,
        "requester": factory.identity("icbc-gz/operator1").fingerprint, "requester_org": "icbc-gz",
        "requester_role": "bank.operator", "requester_party": icbc, "lookup": "certificate_number",
        "lookup_value": owner.title_number, "basis": "consent", "basis_refs": [consent], "purpose": "PRE_LOAN",
        "outcome": "GRANTED", "answer": "FULL", "released": FULL, "as_of_height": granted.height,
        "at_ms": reg.harness.clock.now_ms(), "code": None, "field": None, "problem": None, "offered": None,
    }

    # CCB cites ICBC's consent: refused, and still a valid tx that releases nothing
    refused = reg.step("ccb-gz/operator1", "inquiry.request", {
        "unit_number": owner.unit_number, "basis": "consent", "consent_ids": [consent], "purpose": "PRE_LOAN",
        "requester_party": ccb,
    })
    assert (refused.valid, refused.code) == (True, None)
    log = reg.row(f"inquiry/{refused.tx_id}")
    assert (log["outcome"], log["answer"], log["released"], log["code"], log["field"]) == (
        "REFUSED", None, [], "V26_INQUIRY_NOT_ENTITLED", "basis")
    assert log["problem"] == f"consent {consent} does not cover this unit, requester and purpose"
    assert (log["requester_org"], log["requester_party"], log["lookup"], log["offered"]) == (
        "ccb-gz", ccb, "unit_number", None)

    # four weeks later, 2026-02-01, ICBC asks again: the consent ran to 2026-01-31, the limited answer is offered
    reg.harness.clock.advance(28 * DAY_MS)
    expired = reg.step("icbc-gz/operator1", "inquiry.request", {
        "unit_number": owner.unit_number, "basis": "consent", "consent_ids": [consent], "purpose": "PRE_LOAN",
        "requester_party": icbc,
    })
    assert (expired.valid, expired.code) == (True, None)
    late = reg.row(f"inquiry/{expired.tx_id}")
    assert (late["outcome"], late["answer"], late["released"], late["code"], late["offered"]) == (
        "REFUSED", None, [], "V26_INQUIRY_NOT_ENTITLED", LIMITED)
    assert late["problem"] == f"consent {consent} expired on 2026-01-31"

    # the owner lists who looked at the flat: all three, in ledger order; a neighbour may not list them
    store = reg.harness.store
    assert may_list(store, person_context(reg, "gz-identity/person1"), owner.unit_number)
    assert not may_list(store, person_context(reg, "gz-identity/person2"), owner.unit_number)
    index = InquiryIndex(reg.harness.ledger_dir / INQUIRY_INDEX, store.connection)  # the node's list of who looked
    try:
        assert [(r["inquiry_id"], r["requester_org"], r["outcome"])
                for r in who_looked(store, index, owner.unit_number)] == [
            (granted.tx_id, "icbc-gz", "GRANTED"), (refused.tx_id, "ccb-gz", "REFUSED"),
            (expired.tx_id, "icbc-gz", "REFUSED")]
        assert list(who_looked(store, index, neighbour.unit_number)) == []
    finally:
        index.close()

    report = audit_ledger(reg.node)
    assert report.invalid_txs == 0
    assert report.txs == len(reg.import_receipts) + 4 + 1 + 3


def person_context(reg: Register, handle: str) -> BlockContext:
    """A read-only context for a person at the head, as the node's API builds one for a signed request."""
    identity = reg.harness.factory.identity(handle)
    return BlockContext(chain_id=reg.harness.consortium.genesis.chain_id, height=reg.harness.store.height,
                        block_time_ms=reg.harness.clock.now_ms(), tx_id="", tx_seq=0, signer=identity.fingerprint,
                        signer_org=identity.org_id, signer_org_type="identity_authority", signer_role=identity.role)
