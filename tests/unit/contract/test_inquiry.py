"""Inquiry (§7): by unit or certificate number only, entitlement, consents, and the per-unit log (V26)."""

from __future__ import annotations

from conftest import (
    BANK_A_PARTY,
    BUYER,
    BUYER_2,
    OWNER_A,
    OWNER_B,
    PREDICTED,
    SPOUSE,
    TITLE_A,
    UNIT_A,
    UNIT_B,
    UNIT_JOINT,
    PresaleRegister,
    Register,
    h,
)
from test_presale_termination import terminate_body

from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Record
from estatechain.contract.rules.inquiry import FULL, LIMITED, may_list
from estatechain.contract.view import StateView


def who_looked(view: StateView, unit_number: str) -> list[Record]:
    """The unit's inquiry records in ledger order, as a node lists them (``web/inquiryindex.py``).

    The contract keeps no per-unit list: a node's index follows the ``inquiry/`` records. The driver
    runs one command per block, so a record's ``as_of_height`` is its ledger position.
    """
    found = [row for _, row in view.scan("inquiry/") if row["unit_number"] == unit_number]
    return sorted(found, key=lambda row: int(str(row["as_of_height"])))


def ask(reg: Register, actor: str = "bank_a", **body: JSON) -> dict[str, JSON]:
    """Run an inquiry that must be a valid tx, and return its log record."""
    outcome = reg.ok("inquiry.request", body, actor)
    return dict(outcome.effects[0].value)  # type: ignore[union-attr]


def give_consent(reg: Register, owner: str = OWNER_A, unit: str = UNIT_A, expires_on: str = "2026-01-31") -> str:
    outcome = reg.ok("inquiry.consent", {"unit_number": unit, "bank_party": BANK_A_PARTY, "purpose": "PRE_LOAN",
                                         "expires_on": expires_on}, owner)
    return str(outcome.effects[0].value["consent_id"])  # type: ignore[union-attr]


def test_owner_queries_own_unit_without_purpose_and_sees_who_looked(reg: Register) -> None:
    own = ask(reg, OWNER_A, unit_number=UNIT_A, basis="own_right")
    assert (own["outcome"], own["answer"], own["purpose"], own["released"]) == ("GRANTED", "FULL", None, list(FULL))
    assert (own["requester_party"], own["lookup"], own["as_of_height"]) == (OWNER_A, "unit_number", reg.d.height)
    limited = ask(reg, unit_number=UNIT_A, basis="intent", purpose="PRE_LOAN")
    assert (limited["outcome"], limited["answer"], limited["released"]) == ("GRANTED", "LIMITED", list(LIMITED))
    refused = ask(reg, OWNER_B, unit_number=UNIT_A, basis="own_right", purpose="OTHER")
    assert (refused["outcome"], refused["code"], refused["field"]) == ("REFUSED", "V26_INQUIRY_NOT_ENTITLED", "basis")
    log = list(who_looked(reg.d.view, UNIT_A))
    assert [(r["requester_org"], r["outcome"]) for r in log] == [
        ("gd-identity", "GRANTED"), ("icbc-gz", "GRANTED"), ("gd-identity", "REFUSED")]
    owner = BlockContext(chain_id="c", height=1, block_time_ms=0, tx_id="t", tx_seq=1, signer=h(f"cert:{OWNER_A}"),
                         signer_org="gd-identity", signer_org_type="identity_authority", signer_role="person")
    assert may_list(reg.d.view, owner, UNIT_A)
    assert not may_list(reg.d.view, owner, UNIT_B)


def test_bank_pre_loan_inquiry_by_title_number_with_the_owners_consent(reg: Register) -> None:
    consent = give_consent(reg)
    granted = ask(reg, certificate_number=TITLE_A, basis="consent", consent_ids=[consent], purpose="PRE_LOAN",
                  requester_party=BANK_A_PARTY)
    assert (granted["outcome"], granted["answer"], granted["unit_number"]) == ("GRANTED", "FULL", UNIT_A)
    assert (granted["lookup"], granted["basis_refs"]) == ("certificate_number", [consent])
    other_purpose = ask(reg, certificate_number=TITLE_A, basis="consent", consent_ids=[consent],
                        purpose="POST_LOAN", requester_party=BANK_A_PARTY)
    assert other_purpose["outcome"] == "REFUSED"


def test_expired_or_revoked_consent_is_refused_with_the_limited_answer_offered(reg: Register) -> None:
    consent = give_consent(reg)
    reg.d.advance_days(28)  # 2026-02-01: the consent ran to 2026-01-31
    expired = ask(reg, unit_number=UNIT_A, basis="consent", consent_ids=[consent], purpose="PRE_LOAN",
                  requester_party=BANK_A_PARTY)
    assert (expired["outcome"], expired["code"], expired["offered"]) == ("REFUSED", "V26_INQUIRY_NOT_ENTITLED",
                                                                         "LIMITED")
    assert expired["problem"] == f"consent {consent} expired on 2026-01-31"
    fresh = give_consent(reg, expires_on="2026-03-01")
    reg.ok("inquiry.consent_revoke", {"consent_id": fresh}, OWNER_A)
    revoked = ask(reg, unit_number=UNIT_A, basis="consent", consent_ids=[fresh], purpose="PRE_LOAN",
                  requester_party=BANK_A_PARTY)
    assert (revoked["outcome"], revoked["offered"]) == ("REFUSED", "LIMITED")
    assert reg.d.view.get(f"inquiry/{revoked['inquiry_id']}") is not None  # a refused inquiry is recorded


def test_joint_owners_must_all_consent(reg: Register) -> None:
    first = give_consent(reg, OWNER_B, UNIT_JOINT)
    partial = ask(reg, unit_number=UNIT_JOINT, basis="consent", consent_ids=[first], purpose="PRE_LOAN",
                  requester_party=BANK_A_PARTY)
    assert (partial["outcome"], partial["problem"]) == ("REFUSED", "1 current owner(s) have not consented")
    second = give_consent(reg, SPOUSE, UNIT_JOINT)
    full = ask(reg, unit_number=UNIT_JOINT, basis="consent", consent_ids=[first, second], purpose="PRE_LOAN",
               requester_party=BANK_A_PARTY)
    assert full["outcome"] == "GRANTED"
    stranger = reg.no("inquiry.consent", {"unit_number": UNIT_A, "bank_party": BANK_A_PARTY, "purpose": "PRE_LOAN",
                                          "expires_on": "2026-02-01"}, OWNER_B)
    assert (stranger.code, stranger.detail["field"]) == ("V26_INQUIRY_NOT_ENTITLED", "party_id")


def test_courts_query_for_a_case_and_banks_cannot(reg: Register) -> None:
    court = ask(reg, "court", unit_number=UNIT_B, basis="case", case_no="(2026)粤0106民初1号", purpose="CASE")
    assert (court["outcome"], court["basis_refs"]) == ("GRANTED", ["(2026)粤0106民初1号"])
    bank = ask(reg, unit_number=UNIT_B, basis="case", case_no="x", purpose="CASE")
    assert bank["outcome"] == "REFUSED"


def test_v26_name_searches_several_units_and_missing_purpose_are_rejected(reg: Register) -> None:
    by_name = reg.no("inquiry.request", {"name": "张三", "basis": "intent", "purpose": "PRE_LOAN"}, "bank_a")
    assert (by_name.code, by_name.detail["field"], by_name.detail["rule"]) == (
        "V26_SEARCH_NOT_BY_PROPERTY", "lookup", "V26")
    by_party = reg.no("inquiry.request", {"party_id": OWNER_A, "basis": "intent", "purpose": "PRE_LOAN"}, "bank_a")
    assert by_party.code == "V26_SEARCH_NOT_BY_PROPERTY"
    two = reg.no("inquiry.request", {"units": [UNIT_A, UNIT_B], "basis": "intent", "purpose": "PRE_LOAN"}, "bank_a")
    assert two.code == "V26_SEARCH_NOT_BY_PROPERTY"
    both = reg.no("inquiry.request", {"unit_number": UNIT_A, "certificate_number": TITLE_A, "basis": "intent",
                                      "purpose": "PRE_LOAN"}, "bank_a")
    assert both.code == "V26_SEARCH_NOT_BY_PROPERTY"
    no_purpose = reg.no("inquiry.request", {"unit_number": UNIT_A, "basis": "intent"}, "bank_a")
    assert (no_purpose.code, no_purpose.detail["field"]) == ("V26_PURPOSE_REQUIRED", "purpose")
    assert list(who_looked(reg.d.view, UNIT_A)) == []
    assert h("x")



def person(party: str) -> BlockContext:
    """The context of a read by the person whose identity certificate is bound to ``party``."""
    return BlockContext(chain_id="c", height=1, block_time_ms=0, tx_id="t", tx_seq=1, signer=h(f"cert:{party}"),
                        signer_org="gd-identity", signer_org_type="identity_authority", signer_role="person")


def test_a_pre_sale_buyer_may_list_who_looked_at_their_flat_until_the_purchase_ends(pre: PresaleRegister) -> None:
    """domain.md §2: a buyer sees who queried their unit, though they hold a purchase notice, not the ownership."""
    contract = pre.presale()
    pre.case(pre.purchase_body(contract), "developer")
    ask(pre, unit_number=PREDICTED, basis="intent", purpose="PRE_LOAN")
    assert [(r["requester_org"], r["answer"]) for r in who_looked(pre.d.view, PREDICTED)] == [("icbc-gz", "LIMITED")]
    assert may_list(pre.d.view, person(BUYER), PREDICTED)
    assert not may_list(pre.d.view, person(BUYER_2), PREDICTED)  # not their flat
    assert not may_list(pre.d.view, person(BUYER), UNIT_A)
    pre.d.advance_days(30)
    pre.case(terminate_body(contract), "developer")  # the purchase notice is cancelled with the contract
    assert not may_list(pre.d.view, person(BUYER), PREDICTED)
    pre.case(pre.purchase_body(pre.presale(buyers=(BUYER_2,)), buyers=(BUYER_2,)), "developer")
    assert may_list(pre.d.view, person(BUYER_2), PREDICTED)  # the next buyer sees the flat's log


def test_a_bank_on_its_own_right_or_a_consent_must_name_the_party_it_inquires_as(reg: Register) -> None:
    """Without ``requester_party`` an org's own right or consent can never be checked: the request is
    malformed and changes nothing, instead of a refusal the owner reads as the bank looking without a right."""
    cases: tuple[tuple[str, dict[str, JSON]], ...] = (("own_right", {}),
                                                       ("consent", {"consent_ids": [give_consent(reg)]}))
    for basis, extra in cases:
        missing = reg.no("inquiry.request", {"unit_number": UNIT_A, "basis": basis, "purpose": "PRE_LOAN", **extra},
                         "bank_a")
        assert (missing.code, missing.detail["field"]) == ("MALFORMED_COMMAND", "requester_party"), basis
        assert "name the party the organisation inquires as" in missing.message
    assert list(who_looked(reg.d.view, UNIT_A)) == []
    intent = ask(reg, unit_number=UNIT_A, basis="intent", purpose="PRE_LOAN")  # a limited answer needs no party
    assert intent["outcome"] == "GRANTED"


def test_a_consent_basis_on_a_unit_without_an_owner_is_refused(pre: PresaleRegister) -> None:
    """Nobody can consent for a pre-sale flat (it has no owner yet): "every current owner consented" must not
    hold of the empty set and hand a bank the full register of a flat its buyer never agreed to show."""
    pre.case(pre.purchase_body(pre.presale()), "developer")
    empty = ask(pre, unit_number=PREDICTED, basis="consent", consent_ids=[], purpose="PRE_LOAN",
                requester_party=BANK_A_PARTY)
    assert (empty["outcome"], empty["code"], empty["answer"]) == ("REFUSED", "V26_INQUIRY_NOT_ENTITLED", None)
    assert empty["problem"] == "the unit has no current owner whose consent could entitle the requester"
    assert not empty.get("released")  # nothing of the register may be released
    intent = ask(pre, unit_number=PREDICTED, basis="intent", purpose="PRE_LOAN")
    assert (intent["outcome"], intent["answer"]) == ("GRANTED", "LIMITED")  # the limited answer stays open
