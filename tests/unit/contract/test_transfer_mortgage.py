"""带押过户 with the buyer's new loan as one atomic case (domain.md §5.10, §5.2): ``ownership.transfer_mortgage``."""

from __future__ import annotations

from conftest import (
    BANK_A_PARTY,
    BANK_B_PARTY,
    BANK_C_PARTY,
    OWNER_A,
    OWNER_B,
    TITLE_A,
    UNIT_A,
    PresaleRegister,
    h,
    material,
)

from estatechain.contract.effects import JSON

P1, P2 = "粤(2026)广州市不动产证明第00000001号", "粤(2026)广州市不动产证明第00000002号"
NEW_TITLE = "粤(2026)广州市不动产权第00000001号"
LOAN_MATERIALS = ["APPLICATION_FORM", "TAX_PROOF", "SALE_CONTRACT", "POWER_OF_ATTORNEY", "LOAN_CONTRACT"]


def combined(extra: tuple[dict[str, JSON], ...] = (), materials: list[str] | None = None,
             cause: str = "SALE", **loan: JSON) -> dict[str, JSON]:
    """OWNER_A sells UNIT_A to OWNER_B, who borrows 50万元 from CCB against it."""
    mortgage: dict[str, JSON] = {
        "method": 1, "secured_principal_fen": 50_000_000, "currency": "CNY",
        "debt_term": {"start": "2026-01-04", "end": "2056-01-03"}, "scope": "详见抵押合同",
        "contract_numbers": ["CCB-GZ-2026-0100"], "transfer_restricted": False, "mortgagees": [BANK_B_PARTY]}
    mortgage.update(loan)
    return {"business_type": "ownership.transfer_mortgage", "unit_number": UNIT_A,
            "applicants": [{"party_id": OWNER_A, "capacity": "transferor"},
                           {"party_id": OWNER_B, "capacity": "transferee"},
                           {"party_id": BANK_B_PARTY, "capacity": "mortgagee"}, *extra],
            "materials": [material(kind) for kind in (LOAN_MATERIALS if materials is None else materials)],
            "details": {"cause": cause, "title_number": TITLE_A, "form": "sole",
                        "holders": [{"party_id": OWNER_B, "share_numerator": 1, "share_denominator": 1}],
                        "mortgage": mortgage}}


def icbc_mortgage(pre: PresaleRegister, *, restricted: bool = False) -> str:
    """The seller's ICBC mortgage 第00000001号 on UNIT_A: 70万元, rank 1."""
    app = (pre.file(transfer_restricted=True, transfer_restriction_text="未经抵押权人同意不得转让") if restricted
           else pre.file())
    pre.register_mortgage(app)
    return app


def test_the_transfer_and_the_buyers_mortgage_are_recorded_together(pre: PresaleRegister) -> None:
    icbc = icbc_mortgage(pre)
    before = dict(pre.row(f"mortgage/{icbc}"))
    case = pre.case(combined(), "bank_b")
    right = pre.row(f"ownership/{case}")
    assert (right["title_number"], right["status"], right["holders"]) == (
        NEW_TITLE, "current", [{"party_id": OWNER_B, "record_ref": None, "share_numerator": 1,
                                "share_denominator": 1}])
    assert (pre.row("ownership/own-a")["status"], pre.row("ownership/own-a")["successor"]) == (
        "historic", f"ownership/{case}")
    assert pre.row(f"mortgage/{icbc}") == before  # carried along untouched: rank 1, 第00000001号
    loan = pre.row(f"mortgage/{case}")
    assert (loan["mortgagors"], loan["mortgagees"], loan["rank"], loan["certificate_number"], loan["status"]) == (
        [{"party_id": OWNER_B, "record_ref": None}], [{"party_id": BANK_B_PARTY, "record_ref": None}], 2, P2,
        "current")
    assert (loan["secured_principal"], loan["contract_numbers"]) == (
        {"fen": 50_000_000, "currency": "CNY"}, ["CCB-GZ-2026-0100"])
    assert [key.rsplit("/", 1)[1] for key, _ in pre.d.view.scan(f"unitidx/{UNIT_A}/mortgage/")] == [icbc, case]
    assert pre.row("certificate/title/2026/00000001")["right"] == f"ownership/{case}"
    assert pre.row("certificate/title/2020/09400110")["status"] == "SUPERSEDED"
    proof = pre.row("certificate/proof/2026/00000002")
    assert (proof["right"], proof["application_id"], proof["status"], proof["issued_ms"]) == (
        f"mortgage/{case}", case, "VALID", None)
    # the title was issued by the case's own issue step; the mortgage's certificate is issued by naming it
    assert (pre.app(case)["state"], pre.app(case)["certificate_number"]) == ("CERTIFIED", NEW_TITLE)
    pre.ok("application.issue", {"application_id": case, "certificate_number": P2,
                                 "document_sha256": h(f"doc:{case}:loan")}, "issuer")
    assert pre.row("certificate/proof/2026/00000002")["issued_ms"] == 1_767_456_000_000
    again = pre.no("application.issue", {"application_id": case, "certificate_number": P2,
                                         "document_sha256": h("again")}, "issuer")
    assert (again.code, again.detail["field"]) == ("APPLICATION_STATE", "certificate_number")
    other = pre.no("application.issue", {"application_id": case, "certificate_number": P1,
                                         "document_sha256": h("icbc")}, "issuer")
    assert (other.code, other.detail["field"]) == ("RECORD_NOT_FOUND", "certificate_number")
    recorded = [e.data for e in pre.d.events if e.name == "transfer_mortgage.recorded"]
    assert recorded == [{"application_id": case, "unit_number": UNIT_A, "right": f"ownership/{case}",
                         "title_number": NEW_TITLE, "mortgage": f"mortgage/{case}", "certificate_number": P2}]


def test_bad_combined_filings_are_refused_and_change_nothing(pre: PresaleRegister) -> None:
    icbc_mortgage(pre)
    cases: list[tuple[dict[str, JSON], str, str, str]] = [
        (combined(cause="PRESALE"), "bank_b", "MALFORMED_COMMAND", "details.cause"),
        (combined(mortgagees=[BANK_C_PARTY]), "bank_b", "MALFORMED_COMMAND", "details.mortgage.mortgagees"),
        (combined(materials=LOAN_MATERIALS[:-1]), "bank_b", "V24_MATERIAL_MISSING", "materials"),
        (combined(debt_term={"start": "2026-01-04", "end": "2025-01-03"}), "bank_b", "V11_TERM_INVALID",
         "debt_term"),
        (combined(), OWNER_A, "FILER_ROLE_NOT_PERMITTED", "business_type"),
        (combined(), "bank_c", "FILER_NOT_APPLICANT", "applicants"),
    ]
    for body, actor, code, field in cases:
        rejection = pre.no("application.file", body, actor)
        assert (rejection.code, rejection.detail["field"]) == (code, field), body
    missing = pre.no("application.file", combined(materials=["APPLICATION_FORM", "SALE_CONTRACT"]), "bank_b")
    assert missing.detail["missing"] == "LOAN_CONTRACT, POWER_OF_ATTORNEY, TAX_PROOF"  # both parts', at once


def test_the_loan_is_checked_against_the_register_the_transfer_leaves(pre: PresaleRegister) -> None:
    """V16 sees the mortgage the unit carries: ICBC cannot lend again under its existing contract number."""
    icbc_mortgage(pre)
    duplicate = combined(({"party_id": BANK_A_PARTY, "capacity": "mortgagee"},),
                         mortgagees=[BANK_A_PARTY], contract_numbers=["ICBC-GZ-2026-0001"])
    duplicate["applicants"] = [a for a in duplicate["applicants"]  # type: ignore[union-attr]
                               if a["party_id"] != BANK_B_PARTY]  # type: ignore[index,call-overload]
    rejection = pre.no("application.file", duplicate, "bank_a")
    assert (rejection.code, rejection.detail["contract_number"]) == ("V16_DUPLICATE_MORTGAGE", "ICBC-GZ-2026-0001")


def test_a_restricted_carried_mortgage_needs_its_mortgagee_to_co_sign(pre: PresaleRegister) -> None:
    icbc = icbc_mortgage(pre, restricted=True)
    rejection = pre.no("application.file", combined(), "bank_b")
    assert (rejection.code, rejection.detail["mortgage_id"]) == ("TRANSFER_NEEDS_MORTGAGEE", icbc)
    case = pre.case(combined(({"party_id": BANK_A_PARTY, "capacity": "mortgagee"},)), "bank_b")
    loan = pre.row(f"mortgage/{case}")
    assert (loan["mortgagees"], loan["rank"]) == ([{"party_id": BANK_B_PARTY, "record_ref": None}], 2)


def test_a_seizure_before_recording_stops_both_parts(pre: PresaleRegister) -> None:
    filed = pre.ok("application.file", combined(), "bank_b")
    case = str(filed.effects[0].value["application_id"])  # type: ignore[union-attr]
    pre.accept_review(case)
    pre.ok("seizure.register", {"unit_number": UNIT_A, "order_no": "(2026)粤0106执9号", "kind": "1",
                                "start_date": "2026-01-04", "end_date": "2029-01-03"}, "court")
    blocked = pre.no("application.record", {"application_id": case}, "recorder")
    assert (blocked.code, blocked.detail["field"]) == ("V13_UNIT_SEIZED", "unit_number")
    assert pre.row("ownership/own-a")["status"] == "current"
    assert pre.d.view.get(f"mortgage/{case}") is None
    assert pre.d.view.get("certseq/gz-registry/2026/title") is None
