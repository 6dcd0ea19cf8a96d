"""预抵押 after its first filing: change (§5.6), transfer (§5.7), correction (§5.8), cancellation and lapse (§5.9)."""

from __future__ import annotations

from conftest import (
    BANK_A_PARTY,
    BANK_A_RENAMED,
    BANK_B_PARTY,
    BANK_C_PARTY,
    BUYER,
    BUYER_2,
    DEVELOPER_PARTY,
    PREDICTED,
    PresaleRegister,
    h,
    material,
)

from estatechain.contract.effects import JSON

P1, P2, P3, P4, P5 = (f"粤(2026)广州市不动产证明第0000000{n}号" for n in range(1, 6))
"""Purchase notice, ICBC's 预抵押, then certificates in recording order."""


def change_body(number: str, changes: dict[str, JSON], extra: tuple[dict[str, JSON], ...] = ()) -> dict[str, JSON]:
    return {"business_type": "mortgage_notice.change", "unit_number": PREDICTED,
            "applicants": [{"party_id": BUYER, "capacity": "mortgagor"},
                           {"party_id": BANK_A_PARTY, "capacity": "mortgagee"}, *extra],
            "materials": [material("APPLICATION_FORM"), material("SUPPLEMENTARY_AGREEMENT")],
            "details": {"certificate_number": number, "change_kind": "terms", "changes": changes}}


def transfer_body(number: str, **details: JSON) -> dict[str, JSON]:
    return {"business_type": "mortgage_notice.transfer", "unit_number": PREDICTED,
            "applicants": [{"party_id": BANK_A_PARTY, "capacity": "mortgagee"},
                           {"party_id": BANK_C_PARTY, "capacity": "transferee"}],
            "materials": [material("APPLICATION_FORM"), material("ASSIGNMENT_AGREEMENT"), material("DEBTOR_NOTICE")],
            "details": {"certificate_number": number, "cause": "ASSIGNMENT", **details}}


def second_notice(pre: PresaleRegister) -> str:
    """CCB's later 预抵押 on the same unit, with ICBC's consent (V15): certificate 第00000003号."""
    return pre.case(pre.notice_body(P1, bank=BANK_B_PARTY, extra=({"party_id": BANK_A_PARTY,
                                                                   "capacity": "consenter"},),
                                    contract_numbers=["CCB-YG-1"], secured_principal_fen=30_000_000), "bank_b")


def test_change_of_terms_needs_the_later_holder_and_keeps_the_priority_key(pre: PresaleRegister) -> None:
    _, first = pre.notices()
    second = second_notice(pre)
    assert pre.row(f"notice/{second}")["certificate_number"] == P3
    raise_amount: dict[str, JSON] = {"secured_principal_fen": 150_000_000,
                                     "debt_term": {"start": "2026-01-04", "end": "2056-06-30"}}
    rejection = pre.no("application.file", change_body(P2, raise_amount), "bank_a")
    assert (rejection.code, rejection.detail["field"], rejection.detail["missing"]) == (
        "V17_CONSENT_MISSING", "applicants", BANK_B_PARTY)
    change = pre.case(change_body(P2, raise_amount, ({"party_id": BANK_B_PARTY, "capacity": "consenter"},)))
    new, old = pre.row(f"notice/{change}"), pre.row(f"notice/{first}")
    assert (new["amount"], new["debt_term"]) == ({"fen": 150_000_000, "currency": "CNY"},
                                                 {"start": "2026-01-04", "end": "2056-06-30"})
    assert (new["certificate_number"], new["registration_type"], new["status"]) == (P4, "300", "current")
    assert new["priority_key"] == old["priority_key"]
    assert (old["status"], old["successor"]) == ("historic", f"notice/{change}")
    assert pre.row("certificate/proof/2026/00000002")["status"] == "SUPERSEDED"
    assert [k.rsplit("/", 1)[1] for k, _ in pre.d.view.scan(f"unitidx/{PREDICTED}/notice/")][1:] == [change, second]


def test_change_of_party_by_the_renamed_bank_alone(pre: PresaleRegister) -> None:
    _, first = pre.notices()
    renamed = BANK_A_RENAMED
    pre.ok("identity.bind_party", {"org": "icbc-gz", "party_id": renamed}, "officer")
    change = pre.case({"business_type": "mortgage_notice.change", "unit_number": PREDICTED,
                       "applicants": [{"party_id": renamed, "capacity": "mortgagee"}],
                       "materials": [material("APPLICATION_FORM"), material("NAME_CHANGE_PROOF")],
                       "details": {"certificate_number": P2, "change_kind": "party",
                                   "party": {"old": BANK_A_PARTY, "new": renamed}}})
    assert pre.row(f"notice/{change}")["holders"] == [{"party_id": renamed, "record_ref": None}]
    assert pre.row(f"notice/{change}")["certificate_number"] == P3
    assert pre.row(f"notice/{first}")["status"] == "historic"


def test_transfer_to_another_bank(pre: PresaleRegister) -> None:
    _, first = pre.notices()
    transfer = pre.case(transfer_body(P2), "bank_c")
    entry = pre.row(f"notice/{transfer}")
    assert entry["holders"] == [{"party_id": BANK_C_PARTY, "record_ref": None}]
    assert (entry["certificate_number"], entry["registration_type"]) == (P3, "200")
    assert entry["priority_key"] == pre.row(f"notice/{first}")["priority_key"]
    assert pre.row("certificate/proof/2026/00000002")["status"] == "SUPERSEDED"


def test_correction_on_application_and_ex_officio(pre: PresaleRegister) -> None:
    _, first = pre.notices()
    loan_contract = h("material:LOAN_CONTRACT:")  # the contract the entry was recorded from
    body: dict[str, JSON] = {
        "business_type": "mortgage_notice.correct", "unit_number": PREDICTED,
        "applicants": [{"party_id": BANK_A_PARTY, "capacity": "mortgagee"}],
        "materials": [material("APPLICATION_FORM"), material("ERROR_PROOF")],
        "details": {"certificate_number": P2, "error_evidence_sha256": loan_contract, "corrections": [
            {"field": "contract_numbers", "old": ["ICBC-YG-2026-0001"], "new": ["ICBC-YG-2026-0010"]}]}}
    corrected = pre.case(body)
    entry = pre.row(f"notice/{corrected}")
    assert (entry["contract_numbers"], entry["corrects"], entry["registration_type"]) == (
        ["ICBC-YG-2026-0010"], f"notice/{first}", "500")
    assert entry["certificate_number"] == P3
    assert pre.row("certificate/proof/2026/00000002")["status"] == "CORRECTED"
    # the registry finds a mistyped amount and corrects it after notification and publication
    pre.d.advance_days(80)
    pre.ok("mortgage_notice.correct_ex_officio", {
        "unit_number": PREDICTED, "certificate_number": P3, "error_evidence_sha256": loan_contract,
        "corrections": [{"field": "amount", "old": {"fen": 120_000_000, "currency": "CNY"},
                         "new": {"fen": 102_000_000, "currency": "CNY"}}],
        "notified_on": "2026-01-05", "published_from": "2026-02-20", "published_to": "2026-03-20"}, "recorder")
    assert pre.row("certificate/proof/2026/00000003")["status"] == "CORRECTED"
    assert pre.row("certificate/proof/2026/00000004")["status"] == "VALID"
    latest = pre.row(str(pre.row("certificate/proof/2026/00000004")["right"]))
    assert (latest["amount"], latest["certificate_number"]) == ({"fen": 102_000_000, "currency": "CNY"}, P4)


def correction_by(*applicants: tuple[str, str], proofs: tuple[str, ...] = ()) -> dict[str, JSON]:
    """ICBC's 预抵押 (第00000002号) with its mistyped contract number corrected, applied for by ``applicants``."""
    return {"business_type": "mortgage_notice.correct", "unit_number": PREDICTED,
            "applicants": [{"party_id": party, "capacity": capacity} for party, capacity in applicants],
            "materials": [material(kind) for kind in ("APPLICATION_FORM", "ERROR_PROOF", *proofs)],
            "details": {"certificate_number": P2, "error_evidence_sha256": h("material:LOAN_CONTRACT:"),
                        "corrections": [{"field": "contract_numbers", "old": ["ICBC-YG-2026-0001"],
                                         "new": ["ICBC-YG-2026-0010"]}]}}


def test_a_correction_may_be_filed_by_the_holders_bank_the_mortgagor_or_an_interested_party(
    pre: PresaleRegister,
) -> None:
    """细则 79 (domain.md §5.8): the right holder, or an interested party with proof of its interest, applies;
    whoever acts for such an applicant files, with their own key: not only the mortgagee's bank."""
    pre.notices()
    holder = (BANK_A_PARTY, "mortgagee")
    filings = {
        "bank_a": correction_by(holder),  # the holder's own bank
        BUYER: correction_by((BUYER, "mortgagor"), holder),  # the buyer, jointly with the holder
        BUYER_2: correction_by((BUYER_2, "interested"), proofs=("INTEREST_PROOF",)),  # a person with an interest
        "developer": correction_by((DEVELOPER_PARTY, "interested"), proofs=("INTEREST_PROOF",)),
        "bank_b": correction_by((BANK_B_PARTY, "interested"), proofs=("INTEREST_PROOF",)),
    }
    for filer, body in filings.items():
        outcome = pre.ok("application.file", body, filer)
        assert pre.app(str(outcome.effects[0].value["application_id"]))["state"] == "FILED", filer  # type: ignore[union-attr]
    # the buyer's own application goes through to a corrected entry and a new certificate
    corrected = pre.case(correction_by((BUYER, "mortgagor"), holder), BUYER)
    assert pre.row(f"notice/{corrected}")["contract_numbers"] == ["ICBC-YG-2026-0010"]
    assert pre.row("certificate/proof/2026/00000002")["status"] == "CORRECTED"


def test_a_correction_filed_by_no_applicant_is_refused(pre: PresaleRegister) -> None:
    pre.notices()
    stranger = pre.no("application.file", correction_by((BANK_A_PARTY, "mortgagee")), BUYER_2)
    assert (stranger.code, stranger.detail["capacities"]) == ("FILER_NOT_APPLICANT", "interested, mortgagee, mortgagor")
    court = pre.no("application.file", correction_by((BANK_A_PARTY, "mortgagee")), "court")
    assert court.code == "ROLE_NOT_PERMITTED"


def test_cancellation_by_the_bank_alone(pre: PresaleRegister) -> None:
    _, first = pre.notices()
    cancel = pre.case({"business_type": "mortgage_notice.cancel", "unit_number": PREDICTED,
                       "applicants": [{"party_id": BANK_A_PARTY, "capacity": "mortgagee"}],
                       "materials": [material("APPLICATION_FORM"), material("WAIVER_STATEMENT")],
                       "details": {"certificate_number": P2, "reason": "WAIVED"}})
    assert pre.app(cancel)["state"] == "RECORDED"
    entry = pre.row(f"notice/{first}")
    assert (entry["status"], entry["cancellation"]) == (
        "historic", {"business_no": cancel, "reason": "WAIVED", "time_ms": pre.d.time_ms})
    assert pre.row("certificate/proof/2026/00000002")["status"] == "CANCELLED"
    assert pre.row("certseq/gz-registry/2026") == {"last": 2}


def test_change_of_rank_needs_every_holder_whose_rank_worsens(pre: PresaleRegister) -> None:
    purchase, first = pre.notices()
    second = second_notice(pre)
    body: dict[str, JSON] = {
        "business_type": "mortgage_notice.change", "unit_number": PREDICTED,
        "applicants": [{"party_id": BUYER, "capacity": "mortgagor"},
                       {"party_id": BANK_B_PARTY, "capacity": "mortgagee"}],
        "materials": [material("APPLICATION_FORM"), material("SUPPLEMENTARY_AGREEMENT")],
        "details": {"certificate_number": P3, "change_kind": "rank", "rank_before": P2}}
    rejection = pre.no("application.file", body, "bank_b")
    assert (rejection.code, rejection.detail["missing"]) == ("V17_CONSENT_MISSING", BANK_A_PARTY)
    body["applicants"] = [*body["applicants"], {"party_id": BANK_A_PARTY, "capacity": "consenter"}]  # type: ignore[misc]
    moved = pre.case(body, "bank_b")
    assert [k.rsplit("/", 1)[1] for k, _ in pre.d.view.scan(f"unitidx/{PREDICTED}/notice/")] == [
        purchase, moved, first]
    entry = pre.row(f"notice/{moved}")
    assert (entry["certificate_number"], entry["previous"]) == (P4, f"notice/{second}")
    assert pre.row(f"notice/{purchase}")["priority_key"] < entry["priority_key"] < pre.row(f"notice/{first}")[  # type: ignore[operator]
        "priority_key"]
    assert pre.row("certificate/proof/2026/00000003")["status"] == "SUPERSEDED"
