"""Termination of a pre-sale contract (预售合同解除) and the purchase notice resting on it."""

from __future__ import annotations

from conftest import (
    BANK_A_PARTY,
    BUYER,
    BUYER_2,
    DEVELOPER_PARTY,
    OWNER_A,
    PREDICTED,
    PresaleRegister,
    h,
    material,
)
from test_presale_scenario import transfer_body as presale_transfer

from estatechain.contract.effects import JSON

P1, P2 = "粤(2026)广州市不动产证明第00000001号", "粤(2026)广州市不动产证明第00000002号"
FEB_3 = 1_770_048_000_000
"""2026-02-03 00:00 in Guangzhou: 30 days after the driver's start."""


def terminate_body(contract: str, cause: str = "AGREED", *, buyer: bool = True, developer: bool = True,
                   proof: str = "TERMINATION_AGREEMENT") -> dict[str, JSON]:
    parties: list[JSON] = []
    if buyer:
        parties.append({"party_id": BUYER, "capacity": "buyer"})
    if developer:
        parties.append({"party_id": DEVELOPER_PARTY, "capacity": "developer"})
    return {"business_type": "presale.terminate", "unit_number": PREDICTED, "applicants": parties,
            "materials": [material("APPLICATION_FORM"), material(proof)],
            "details": {"presale_contract": contract, "cause": cause}}


def purchase(pre: PresaleRegister) -> tuple[str, str]:
    """The buyer's signed contract and purchase notice 第00000001号: (contract id, notice id)."""
    contract = pre.presale()
    return contract, pre.case(pre.purchase_body(contract), "developer")


def test_an_agreed_termination_cancels_the_purchase_notice_and_frees_the_unit(pre: PresaleRegister) -> None:
    contract, notice = purchase(pre)
    pre.d.advance_days(30)
    case = pre.case(terminate_body(contract), "developer")
    assert pre.app(case)["state"] == "RECORDED"
    assert pre.app(case)["certificate_number"] is None
    assert pre.app(case)["result"] == f"presale/{contract}"
    stored = pre.row(f"presale/{contract}")
    assert (stored["state"], stored["termination"], stored["signed_by"], len(stored["source_txs"])) == (  # type: ignore[arg-type]
        "TERMINATED", {"business_no": case, "reason": "AGREED", "time_ms": FEB_3}, [BUYER], 3)
    entry = pre.row(f"notice/{notice}")
    assert (entry["status"], entry["cancellation"]) == (
        "historic", {"business_no": case, "reason": "CONTRACT_TERMINATED", "time_ms": FEB_3})
    assert pre.row("certificate/proof/2026/00000001")["status"] == "CANCELLED"
    assert list(pre.d.view.scan(f"unitidx/{PREDICTED}/presale/")) == []
    assert list(pre.d.view.scan(f"unitidx/{PREDICTED}/notice/")) == []
    assert [e.data for e in pre.d.events if e.name == "presale.terminated"] == [
        {"contract_id": contract, "unit_number": PREDICTED, "purchase_notice": notice}]
    # the developer may sell the flat again, and the terminated contract can carry nothing more
    again = pre.presale(buyers=(BUYER_2,))
    assert pre.row(f"presale/{again}")["state"] == "SIGNED"
    signed = pre.no("presale.sign", {"contract_id": contract, "document_sha256": h(f"presale:{PREDICTED}")}, BUYER)
    assert (signed.code, signed.detail["field"]) == ("PRESALE_STATE", "contract_id")
    refiled = pre.no("application.file", pre.purchase_body(contract), "developer")
    assert (refiled.code, refiled.detail["field"]) == ("PRESALE_STATE", "details.presale_contract")
    assert "terminated" in refiled.message
    twice = pre.no("application.file", terminate_body(contract), "developer")
    assert (twice.code, twice.detail["field"]) == ("PRESALE_STATE", "details.presale_contract")


def test_a_contract_without_a_notice_is_terminated_on_its_own(pre: PresaleRegister) -> None:
    contract = pre.presale()
    pre.case(terminate_body(contract), BUYER)
    assert pre.row(f"presale/{contract}")["state"] == "TERMINATED"
    assert [e.data for e in pre.d.events if e.name == "presale.terminated"] == [
        {"contract_id": contract, "unit_number": PREDICTED, "purchase_notice": None}]


def test_one_side_alone_needs_a_judgment(pre: PresaleRegister) -> None:
    contract, notice = purchase(pre)
    alone = pre.no("application.file", terminate_body(contract, buyer=False), "developer")
    assert (alone.code, alone.detail["field"]) == ("PRESALE_STATE", "applicants")
    case = pre.case(terminate_body(contract, "JUDGMENT", buyer=False, proof="JUDGMENT"), "developer")
    assert pre.row(f"notice/{notice}")["cancellation"] == {
        "business_no": case, "reason": "CONTRACT_TERMINATED", "time_ms": 1_767_456_000_000}


def test_bad_terminations_are_refused_and_change_nothing(pre: PresaleRegister) -> None:
    contract, _ = purchase(pre)
    stranger = terminate_body(contract)
    stranger["applicants"] = [*stranger["applicants"], {"party_id": OWNER_A, "capacity": "buyer"}]  # type: ignore[misc]
    rejection = pre.no("application.file", stranger, "developer")
    assert (rejection.code, rejection.detail["field"]) == ("PRESALE_STATE", "applicants")
    no_agreement = pre.no("application.file", terminate_body(contract, proof="OTHER_PROOF"), "developer")
    assert (no_agreement.code, no_agreement.detail["missing"]) == ("V24_MATERIAL_MISSING", "TERMINATION_AGREEMENT")
    unknown = pre.no("application.file", terminate_body("no-such-contract"), "developer")
    assert (unknown.code, unknown.detail["field"]) == ("RECORD_NOT_FOUND", "details.presale_contract")
    cause = pre.no("application.file", terminate_body(contract, "REGRET"), "developer")
    assert (cause.code, cause.detail["field"]) == ("MALFORMED_COMMAND", "details.cause")
    bank = pre.no("application.file", terminate_body(contract), "bank_a")
    assert bank.code == "FILER_ROLE_NOT_PERMITTED"


def cancel_notice_body() -> dict[str, JSON]:
    """ICBC waives its 预抵押 第00000002号 (domain.md §5.9: the bank alone may)."""
    return {"business_type": "mortgage_notice.cancel", "unit_number": PREDICTED,
            "applicants": [{"party_id": BANK_A_PARTY, "capacity": "mortgagee"}],
            "materials": [material("APPLICATION_FORM"), material("WAIVER_STATEMENT")],
            "details": {"certificate_number": P2, "reason": "WAIVED"}}


def test_a_current_pre_sale_mortgage_notice_blocks_termination_until_cancelled(pre: PresaleRegister) -> None:
    purchase_notice, _ = pre.notices()
    contract = str(pre.row(f"notice/{purchase_notice}")["presale_contract"])
    blocked = pre.no("application.file", terminate_body(contract), "developer")
    assert (blocked.code, blocked.detail["field"], blocked.detail["certificate_number"]) == (
        "PRESALE_TERMINATION_BLOCKED", "details.presale_contract", P2)
    pre.case(cancel_notice_body())
    case = pre.case(terminate_body(contract), "developer")
    assert pre.row(f"notice/{purchase_notice}")["cancellation"] == {
        "business_no": case, "reason": "CONTRACT_TERMINATED", "time_ms": 1_767_456_000_000}
    assert (pre.row("certificate/proof/2026/00000001")["status"],
            pre.row("certificate/proof/2026/00000002")["status"]) == ("CANCELLED", "CANCELLED")


def test_a_mortgage_notice_recorded_meanwhile_stops_the_recording(pre: PresaleRegister) -> None:
    contract, _ = purchase(pre)
    filed = pre.ok("application.file", terminate_body(contract), "developer")
    case = str(filed.effects[0].value["application_id"])  # type: ignore[union-attr]
    pre.accept_review(case)
    pre.case(pre.notice_body(P1))  # ICBC's 预抵押 is recorded before the termination
    blocked = pre.no("application.record", {"application_id": case}, "recorder")
    assert (blocked.code, blocked.detail["contract_id"]) == ("PRESALE_TERMINATION_BLOCKED", contract)
    assert pre.app(case)["state"] == "APPROVED"


def test_a_performed_contract_cannot_be_terminated(pre: PresaleRegister) -> None:
    purchase_notice, _ = pre.notices()
    contract = str(pre.row(f"notice/{purchase_notice}")["presale_contract"])
    pre.first_registration()
    pre.case(presale_transfer(), "developer")  # the buyer's ownership of the surveyed unit is recorded
    performed = pre.no("application.file", terminate_body(contract), "developer")
    assert (performed.code, performed.detail["field"]) == ("PRESALE_STATE", "details.presale_contract")
    assert "performed" in performed.message


def test_a_purchase_notice_filed_before_the_termination_can_no_longer_be_recorded(pre: PresaleRegister) -> None:
    contract = pre.presale()
    filed = pre.ok("application.file", pre.purchase_body(contract), "developer")
    notice_case = str(filed.effects[0].value["application_id"])  # type: ignore[union-attr]
    pre.accept_review(notice_case)
    pre.case(terminate_body(contract), "developer")  # no notice is recorded yet: the contract ends alone
    late = pre.no("application.record", {"application_id": notice_case}, "recorder")
    assert (late.code, late.detail["field"]) == ("PRESALE_STATE", "details.presale_contract")
    assert pre.d.view.get(f"notice/{notice_case}") is None
