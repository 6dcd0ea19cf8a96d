"""V3 (predicted unit), V12, V13, V14, V15, V17-V21 on advance notices: code, field, and nothing changed."""

from __future__ import annotations

from conftest import (
    BANK_A_PARTY,
    BANK_B_PARTY,
    BANK_C_PARTY,
    BUYER,
    BUYER_2,
    OWNER_A,
    OWNER_B,
    PREDICTED,
    PREDICTED_2,
    SURVEYED,
    UNIT_A,
    PresaleRegister,
    h,
    material,
)
from test_notice_scenario import P1, P2, change_body, transfer_body
from test_presale_scenario import convert_body
from test_presale_scenario import transfer_body as presale_transfer

from estatechain.contract.effects import JSON


def seize(pre: PresaleRegister, unit_number: str = PREDICTED) -> None:
    pre.ok("seizure.register", {"unit_number": unit_number, "order_no": "(2026)粤0106执9号", "kind": "3",
                                "start_date": "2026-01-04", "end_date": "2028-01-03"}, "court")


def test_v3_mortgage_notice_needs_a_predicted_unit_not_yet_first_registered(pre: PresaleRegister) -> None:
    pre.notices()
    surveyed = pre.no("application.file", pre.notice_body(P1, unit_number=UNIT_A), "bank_a")
    assert (surveyed.code, surveyed.detail["field"], surveyed.detail["kind"]) == (
        "V3_UNIT_KIND_MISMATCH", "unit_number", "surveyed")
    pre.first_registration()
    registered = pre.no("application.file", pre.notice_body(P1, contract_numbers=["ICBC-2"]), "bank_a")
    assert (registered.code, registered.detail["kind"]) == ("V3_UNIT_KIND_MISMATCH", "first-registered predicted")
    presale = pre.no("presale.contract", {"unit_number": UNIT_A, "developer": h("party:developer"),
                                          "buyers": [BUYER], "price_fen": 1, "contract_no": "X", "filing_no": "Y",
                                          "document_sha256": h("doc")}, "developer")
    assert presale.code == "V3_UNIT_KIND_MISMATCH"


def test_v12_notice_kind_must_be_3(pre: PresaleRegister) -> None:
    pre.notices()
    rejection = pre.no("application.file", pre.notice_body(P1, notice_kind=4, contract_numbers=["X"]), "bank_a")
    assert (rejection.code, rejection.detail["field"]) == ("V12_NOTICE_KIND_INVALID", "details.notice_kind")


def test_v15_no_purchase_notice_no_mortgage_notice(pre: PresaleRegister) -> None:
    pre.notices()
    rejection = pre.no("application.file", pre.notice_body(P1, unit_number=PREDICTED_2), "bank_a")
    assert (rejection.code, rejection.detail["field"], rejection.detail["rule"]) == (
        "V15_NO_PURCHASE_NOTICE", "unit_number", "V15")
    wrong_number = pre.no("application.file", pre.notice_body(P2, contract_numbers=["X"]), "bank_a")
    assert (wrong_number.code, wrong_number.detail["field"]) == (
        "V4_CERTIFICATE_NUMBER_MISMATCH", "details.purchase_notice_certificate_number")


def test_v15_a_further_mortgage_notice_needs_the_existing_holders_consent(pre: PresaleRegister) -> None:
    pre.notices()
    rejection = pre.no("application.file", pre.notice_body(P1, bank=BANK_B_PARTY, contract_numbers=["CCB-1"]),
                       "bank_b")
    assert (rejection.code, rejection.detail["field"], rejection.detail["missing"]) == (
        "V15_NOTICE_HOLDER_CONSENT_MISSING", "applicants", BANK_A_PARTY)


def test_v6_every_co_buyer_is_a_mortgagor(pre: PresaleRegister) -> None:
    purchase = pre.case(pre.purchase_body(pre.presale(buyers=(BUYER, BUYER_2)), buyers=(BUYER, BUYER_2)),
                        "developer")
    assert pre.row(f"notice/{purchase}")["certificate_number"] == P1
    rejection = pre.no("application.file", pre.notice_body(P1), "bank_a")
    assert (rejection.code, rejection.detail["field"]) == ("V6_CO_OWNERS_MISSING", "applicants")
    pre.case(pre.notice_body(P1, buyers=(BUYER, BUYER_2)))


def test_v13_seizure_blocks_pre_sale_filings_and_increases_but_not_transfer(pre: PresaleRegister) -> None:
    contract = pre.presale()
    seize(pre)
    assert pre.no("application.file", pre.purchase_body(contract), "developer").code == "V13_UNIT_SEIZED"
    pre.d.advance_days(1)
    other = PresaleRegister()
    other.seed()
    other.notices()
    seize(other)
    increase: dict[str, JSON] = {"secured_principal_fen": 130_000_000}
    assert other.no("application.file", change_body(P2, increase), "bank_a").code == "V13_UNIT_SEIZED"
    other.case(change_body(P2, {"secured_principal_fen": 100_000_000}))  # a decrease prejudices nobody
    other.case(transfer_body("粤(2026)广州市不动产证明第00000003号"), "bank_c")


def test_v14_another_notice_holder_must_consent_to_a_mortgage(pre: PresaleRegister) -> None:
    pre.ok("register.import", {"notices": [{
        "notice_id": "imp-ygdj-1", "unit_number": UNIT_A, "business_no": "imp-ygdj-1", "kind": 2, "rank": 1,
        "holders": [{"party_id": OWNER_B}], "obligors": [{"party_id": OWNER_A}],
        "amount": {"fen": 300_000_000, "currency": "CNY"}, "registry": "gz-registry", "registered_ms": 0,
        "registration_type": "700", "cause": "SALE", "contract_numbers": [], "transfer_restricted": False,
        "certificate_number": "粤(2025)广州市不动产证明第00012345号"}]}, "admin")
    rejection = pre.no("application.file", pre.filing(), "bank_a")
    assert (rejection.code, rejection.detail["field"], rejection.detail["missing"]) == (
        "V14_NOTICE_HOLDER_CONSENT_MISSING", "applicants", OWNER_B)
    pre.file({"applicants": [{"party_id": OWNER_A, "capacity": "mortgagor"},
                             {"party_id": BANK_A_PARTY, "capacity": "mortgagee"},
                             {"party_id": OWNER_B, "capacity": "consenter"}]})


def test_v17_only_changes_that_may_prejudice_need_consent(pre: PresaleRegister) -> None:
    pre.notices()
    pre.case(pre.notice_body(P1, bank=BANK_B_PARTY, extra=({"party_id": BANK_A_PARTY, "capacity": "consenter"},),
                             contract_numbers=["CCB-1"]), "bank_b")
    scope = pre.no("application.file", change_body(P2, {"scope": "本金、利息及实现债权的费用"}), "bank_a")
    assert (scope.code, scope.detail["missing"]) == ("V17_CONSENT_MISSING", BANK_B_PARTY)
    shorter: dict[str, JSON] = {"debt_term": {"start": "2026-01-04", "end": "2046-01-03"}}
    pre.case(change_body(P2, shorter))


def test_v18_transfers(pre: PresaleRegister) -> None:
    pre.notices()
    body = transfer_body(P2)
    body["materials"] = [material("APPLICATION_FORM"), material("ASSIGNMENT_AGREEMENT")]
    no_notice = pre.no("application.file", body, "bank_c")
    assert (no_notice.code, no_notice.detail["field"]) == ("V18_TRANSFER_INVALID", "materials")
    to_itself = transfer_body(P2)
    to_itself["applicants"] = [{"party_id": BANK_A_PARTY, "capacity": "mortgagee"},
                               {"party_id": BANK_A_PARTY, "capacity": "transferee"}]
    assert pre.no("application.file", to_itself, "bank_a").code == "MALFORMED_COMMAND"  # one party, one role
    renamed = transfer_body(P2)
    renamed["applicants"] = [{"party_id": BANK_C_PARTY, "capacity": "transferee"}]
    alone = pre.no("application.file", renamed, "bank_c")
    assert (alone.code, alone.detail["field"]) == ("V18_TRANSFER_INVALID", "transferee")
    assert "every current holder must apply" in alone.message
    pre.case(transfer_body(P2, partial=True), "bank_c")  # an ordinary notice: BOC joins as co-holder
    again = transfer_body("粤(2026)广州市不动产证明第00000003号")
    rejection = pre.no("application.file", again, "bank_c")
    assert (rejection.code, rejection.message) == (
        "V18_TRANSFER_INVALID", "The transfer is not valid: the transferee already holds the notice.")


def test_v18_partial_transfer_of_a_maximum_amount_notice_needs_the_agreed_variant(pre: PresaleRegister) -> None:
    purchase = pre.case(pre.purchase_body(pre.presale()), "developer")
    assert pre.row(f"notice/{purchase}")["certificate_number"] == P1
    body = pre.notice_body(P1, method=2, secured_principal_fen=None, max_claim_fen=150_000_000, debt_term=None,
                           determination_period={"start": "2026-01-04", "end": "2031-01-03"})
    body["materials"] = [material(t) for t in ("APPLICATION_FORM", "POWER_OF_ATTORNEY", "MAX_MORTGAGE_CONTRACT",
                                               "NOTICE_AGREEMENT")]
    pre.case(body)
    partial = pre.no("application.file", transfer_body(P2, partial=True), "bank_c")
    assert (partial.code, partial.detail["rule"]) == ("V18_TRANSFER_INVALID", "V18")
    pre.case(transfer_body(P2, partial=True, agreed_variant="受让人与转让人按份共享最高额抵押权"), "bank_c")


def test_v19_cancelling_a_notice(pre: PresaleRegister) -> None:
    pre.notices()
    body: dict[str, JSON] = {"business_type": "mortgage_notice.cancel", "unit_number": PREDICTED,
                             "applicants": [{"party_id": BUYER, "capacity": "mortgagor"}],
                             "materials": [material("APPLICATION_FORM"), material("WAIVER_STATEMENT")],
                             "details": {"certificate_number": P2, "reason": "WAIVED"}}
    buyer_alone = pre.no("application.file", body, BUYER)
    assert (buyer_alone.code, buyer_alone.detail["field"]) == ("V19_CANCELLATION_APPLICANT_INVALID", "applicants")
    body["applicants"] = [{"party_id": BANK_A_PARTY, "capacity": "mortgagee"}]
    pre.case(body)
    again = pre.no("application.file", body, "bank_a")
    assert (again.code, again.detail["field"]) == ("V19_CANCELLATION_TARGET_INVALID", "certificate_number")


def correction(evidence: str, old: JSON = None, field: str = "contract_numbers") -> dict[str, JSON]:
    return {"business_type": "mortgage_notice.correct", "unit_number": PREDICTED,
            "applicants": [{"party_id": BANK_A_PARTY, "capacity": "mortgagee"}],
            "materials": [material("APPLICATION_FORM"), material("ERROR_PROOF")],
            "details": {"certificate_number": P2, "error_evidence_sha256": evidence, "corrections": [
                {"field": field, "old": old if old is not None else ["ICBC-YG-2026-0001"], "new": ["ICBC-9"]}]}}


def test_v20_corrections(pre: PresaleRegister) -> None:
    pre.notices()
    filed = h("material:LOAN_CONTRACT:")
    new_agreement = pre.no("application.file", correction(h("a new supplementary agreement")), "bank_a")
    assert (new_agreement.code, new_agreement.detail["field"]) == (
        "V20_CORRECTION_INVALID", "details.error_evidence_sha256")
    wrong_old = pre.no("application.file", correction(filed, ["ICBC-OTHER"]), "bank_a")
    assert (wrong_old.code, wrong_old.detail["field"]) == ("V20_CORRECTION_INVALID", "details.corrections[0]")
    unknown = pre.no("application.file", correction(filed, field="priority_key"), "bank_a")
    assert unknown.detail["field"] == "details.corrections[0]"
    pre.d.advance_days(1)
    seize(pre)
    after = pre.no("application.file", correction(filed), "bank_a")
    assert (after.code, after.detail["field"]) == ("V20_CORRECTION_INVALID", "details.corrections")
    assert "was registered on the unit after the entry" in after.message
    early = pre.no("mortgage_notice.correct_ex_officio", {
        "unit_number": PREDICTED, "certificate_number": P2, "error_evidence_sha256": filed,
        "corrections": [{"field": "contract_numbers", "old": ["ICBC-YG-2026-0001"], "new": ["ICBC-9"]}],
        "notified_on": "2026-01-04", "published_from": "2026-01-20", "published_to": "2026-02-20"}, "recorder")
    assert (early.code, early.detail["field"]) == ("V20_CORRECTION_INVALID", "published_to")


def converted_chain(pre: PresaleRegister) -> None:
    """Purchase notice, 预抵押, first registration and the buyer's ownership: ready to convert."""
    pre.notices()
    pre.first_registration()
    pre.case(presale_transfer(), "developer")


def test_v21_lapse_is_derived_shown_and_marked_only_by_the_registry(pre: PresaleRegister) -> None:
    converted_chain(pre)
    wrong_bank = convert_body()
    wrong_bank["applicants"] = [{"party_id": BUYER, "capacity": "mortgagor"},
                                {"party_id": BANK_B_PARTY, "capacity": "mortgagee"}]
    rejection = pre.no("application.file", wrong_bank, "bank_b")
    assert (rejection.code, rejection.detail["field"]) == ("V21_CONVERSION_INVALID",
                                                           "details.notice_certificate_number")
    pre.d.advance_days(90)  # Sat 2026-04-04, day 90 after the buyer's ownership was recorded on 01-04
    early = pre.no("notice.mark_lapsed", {"certificate_number": P2}, "recorder")
    # No calendar recorded: the weekend is the rest, so the last day is Mon 04-06 (民法典 203).
    assert (early.code, early.detail["problem"]) == ("NOTICE_NOT_LAPSED", "it lapses from 2026-04-07")
    pre.d.advance_days(2)
    monday = pre.no("notice.mark_lapsed", {"certificate_number": P2}, "recorder")
    assert (monday.code, monday.detail["problem"]) == ("NOTICE_NOT_LAPSED", "it lapses from 2026-04-07")
    pre.d.advance_days(1)
    shown = pre.file(convert_body())  # the derived lapse alone does not block: the reviewer sees it
    pre.accept_review(shown)
    steps = pre.app(shown)["steps"]
    reviewed = steps.get("reviewed") if isinstance(steps, dict) else None
    assert isinstance(reviewed, dict)
    assert (reviewed["notice_lapsed"], reviewed["notice_lapse_due_ms"]) == (True, 1_775_491_200_000)  # 04-07 00:00 +08
    pre.ok("application.refuse", {"application_id": shown, "reason_code": "RIGHT_EXPIRED",
                                  "reason_text": "预告登记已失效"}, "reviewer")
    pre.ok("notice.mark_lapsed", {"certificate_number": P2}, "recorder")
    lapsed = pre.no("application.file", {**convert_body(), "details": {
        "notice_certificate_number": P2, "title_number": "粤(2026)广州市不动产权第00000002号"}}, "bank_a")
    assert (lapsed.code, lapsed.detail["problem"]) == ("V21_CONVERSION_INVALID",
                                                       "the registry marked the notice lapsed")
    assert pre.row("certificate/proof/2026/00000002")["status"] == "CANCELLED"


def test_a_conversion_filed_within_the_90_days_holds_the_notice_while_its_case_is_open(pre: PresaleRegister) -> None:
    """民法典 221: the notice lapses only if no application is made in time; review may take longer."""
    converted_chain(pre)  # the clock starts on Sun 2026-01-04; the 90 days run until Mon 04-06 (203)
    pre.d.advance_days(89)  # Fri 04-03
    app = pre.file(convert_body())
    pre.confirm_all(app)
    pre.ok("application.accept", {"application_id": app}, "intake")
    pre.d.advance_days(5)  # Wed 04-08: past the last day
    held = pre.no("notice.mark_lapsed", {"certificate_number": P2}, "recorder")
    assert (held.code, held.detail["problem"]) == (
        "NOTICE_NOT_LAPSED",
        f"application {app} for its final registration was filed on 2026-04-03, within its 90 days, and is still open")
    pre.ok("application.review", {"application_id": app}, "reviewer")
    steps = pre.app(app)["steps"]
    reviewed = steps.get("reviewed") if isinstance(steps, dict) else None
    assert isinstance(reviewed, dict)
    assert (reviewed["notice_lapsed"], reviewed["notice_lapse_due_ms"]) == (False, 1_775_491_200_000)  # before 04-07
    pre.ok("application.record", {"application_id": app}, "recorder")
    assert pre.row("certificate/proof/2026/00000002")["status"] == "CONVERTED"


def test_a_withdrawn_timely_conversion_no_longer_holds_the_notice(pre: PresaleRegister) -> None:
    converted_chain(pre)
    pre.d.advance_days(89)
    app = pre.file(convert_body())
    pre.d.advance_days(5)
    assert pre.no("notice.mark_lapsed", {"certificate_number": P2}, "recorder").code == "NOTICE_NOT_LAPSED"
    pre.ok("application.withdraw", {"application_id": app, "party_id": BUYER}, BUYER)
    assert pre.no("notice.mark_lapsed", {"certificate_number": P2}, "recorder").code == "NOTICE_NOT_LAPSED"
    pre.ok("application.withdraw", {"application_id": app, "party_id": BANK_A_PARTY}, "bank_a_approver")
    assert pre.app(app)["state"] == "WITHDRAWN"
    pre.ok("notice.mark_lapsed", {"certificate_number": P2}, "recorder")
    assert pre.row("certificate/proof/2026/00000002")["status"] == "CANCELLED"


def test_the_buyers_transfer_filed_in_time_holds_the_purchase_notice(pre: PresaleRegister) -> None:
    pre.notices()
    pre.first_registration()  # the purchase notice's clock starts on Sun 2026-01-04
    pre.d.advance_days(89)
    app = pre.file(presale_transfer(), actor="developer")
    pre.d.advance_days(5)
    held = pre.no("notice.mark_lapsed", {"certificate_number": P1}, "recorder")
    assert (held.code, held.detail["problem"]) == (
        "NOTICE_NOT_LAPSED",
        f"application {app} for its final registration was filed on 2026-04-03, within its 90 days, and is still open")


def test_v13_conversion_is_blocked_only_by_a_seizure_older_than_the_notice(pre: PresaleRegister) -> None:
    converted_chain(pre)
    pre.d.advance_days(1)
    seize(pre, SURVEYED)  # delivered after the 预抵押 was recorded: no bar (担保制度解释 52)
    pre.case(convert_body())
    older = PresaleRegister()
    older.seed()
    # a pre-seizure delivered before the 预抵押 but starting later does not block the filing ...
    older.ok("seizure.register", {"unit_number": PREDICTED, "order_no": "(2026)粤0106执8号", "kind": "3",
                                  "start_date": "2026-03-01", "end_date": "2028-02-29"}, "court")
    older.d.advance_days(1)
    converted_chain(older)
    older.d.advance_days(60)  # ... but once in effect it blocks the conversion (it followed the unit)
    rejection = older.no("application.file", convert_body(), "bank_a")
    assert (rejection.code, rejection.detail["unit_number"]) == ("V13_UNIT_SEIZED", SURVEYED)
    assert OWNER_A


def test_v14_the_buyers_mortgage_notice_on_the_predicted_unit_binds_a_new_mortgage(pre: PresaleRegister) -> None:
    converted_chain(pre)
    body = pre.filing({"unit_number": SURVEYED, "applicants": [{"party_id": BUYER, "capacity": "mortgagor"},
                                                               {"party_id": BANK_B_PARTY, "capacity": "mortgagee"}]},
                      title_number="粤(2026)广州市不动产权第00000002号", contract_numbers=["CCB-9"])
    rejection = pre.no("application.file", body, "bank_b")
    assert (rejection.code, rejection.detail["unit_number"], rejection.detail["missing"]) == (
        "V14_NOTICE_HOLDER_CONSENT_MISSING", PREDICTED, BANK_A_PARTY)


def test_one_purchase_notice_per_unit(pre: PresaleRegister) -> None:
    contract = pre.presale()
    first = pre.case(pre.purchase_body(contract), "developer")
    again = pre.no("application.file", pre.purchase_body(contract), "developer")
    assert (again.code, again.detail["field"], again.detail["id"]) == ("RECORD_EXISTS", "unit_number", first)


def test_v13_a_pre_seizure_follows_the_unit_into_its_first_registration(pre: PresaleRegister) -> None:
    pre.presale()
    seize(pre)
    [(_, row)] = list(pre.d.view.scan(f"unitidx/{PREDICTED}/seizure/"))
    pre.first_registration()
    assert [k for k, _ in pre.d.view.scan(f"unitidx/{SURVEYED}/seizure/")] == [
        f"unitidx/{SURVEYED}/seizure/000001/{row['seizure_id']}"]
    sale = presale_transfer()
    sale["materials"] = [material("APPLICATION_FORM"), material("TAX_PROOF"), material("SALE_CONTRACT")]
    sale["details"] = {"cause": "SALE", "title_number": "粤(2026)广州市不动产权第00000001号", "form": "sole",
                       "holders": [{"party_id": BUYER, "share_numerator": 1, "share_denominator": 1}]}
    rejection = pre.no("application.file", sale, "developer")
    assert (rejection.code, rejection.detail["unit_number"]) == ("V13_UNIT_SEIZED", SURVEYED)
