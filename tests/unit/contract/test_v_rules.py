"""Each V rule with domain.md §12's rejected examples: code, field, and nothing changed."""

from __future__ import annotations

import pytest
from conftest import (
    BANK_A_PARTY,
    CO_1,
    CO_2,
    CO_3,
    OWNER_A,
    OWNER_B,
    UNIT_A,
    UNIT_JOINT,
    UNIT_LAND,
    UNIT_SHARES,
    UNIT_SHOP,
    Register,
    h,
    material,
)

from estatechain.contract.checks.elicence import mod37_36_check
from estatechain.contract.effects import JSON


@pytest.mark.parametrize("number", [
    "44010600100GB00123F00010203", "440106001001GB00123X00010203", "440106001001gb00123F00010203",
    "440106001001GA00123F00010203",
    "44010600100\uff11GB00123F00010203",  # a full-width 1 (an input method's): the same unit spelt twice otherwise
    "440106001001GB00123F0001020\u0663",  # an Arabic-Indic 3: Python's \d matches it, GB/T 37346 does not
])
def test_v1_malformed_unit_numbers_are_refused(reg: Register, number: str) -> None:
    rejection = reg.no("application.file", reg.filing({"unit_number": number}), "bank_a")
    assert (rejection.code, rejection.detail["field"], rejection.detail["rule"]) == (
        "V1_UNIT_NUMBER_INVALID", "unit_number", "V1")


def test_v1_beijing_unit_is_outside_the_guangzhou_registry(reg: Register) -> None:
    rejection = reg.no("application.file", reg.filing({"unit_number": "110105001001GB00123F00010203"}), "bank_a")
    assert rejection.code == "V1_UNIT_OUT_OF_JURISDICTION"
    assert rejection.detail["county"] == "110105"


@pytest.mark.parametrize("number", [UNIT_LAND, UNIT_SHOP])
def test_v2_land_only_and_shop_units_are_not_housing(reg: Register, number: str) -> None:
    rejection = reg.no("application.file", reg.filing({"unit_number": number}), "bank_a")
    assert (rejection.code, rejection.detail["field"]) == ("V2_UNIT_NOT_HOUSING", "unit_number")


def test_v3_unknown_unit_and_unit_without_ownership(reg: Register) -> None:
    unknown = reg.no("application.file", reg.filing({"unit_number": "440106001001GB00123F00019999"}), "bank_a")
    assert unknown.code == "V3_UNIT_NOT_FOUND"
    reg.ok("register.import", {"units": [{"unit_number": "440106001001GB00123F00019998", "kind": "surveyed",
                                          "use": "residential", "area_centi_m2": 1, "location_code": "X"}]}, "admin")
    bare = reg.no("application.file", reg.filing({"unit_number": "440106001001GB00123F00019998"}), "bank_a")
    assert bare.code == "V3_NO_CURRENT_OWNERSHIP"


@pytest.mark.parametrize(("title", "code"), [
    ("粤(2026)广州市不动产证明第00000001号", "V4_CERTIFICATE_NUMBER_INVALID"),
    ("京(2020)广州市不动产权第09400110号", "V4_CERTIFICATE_NUMBER_INVALID"),
    ("粤(2027)广州市不动产权第09400110号", "V4_CERTIFICATE_NUMBER_INVALID"),
    ("粤(2020)广州市不动产权第0940011号", "V4_CERTIFICATE_NUMBER_INVALID"),
    ("粤(2020)广州市不动产权第09400111号", "V4_CERTIFICATE_NUMBER_MISMATCH"),
])
def test_v4_title_number_of_the_wrong_kind_province_year_length_or_unit(reg: Register, title: str, code: str) -> None:
    rejection = reg.no("application.file", reg.filing(title_number=title), "bank_a")
    assert (rejection.code, rejection.detail["field"]) == (code, "details.title_number")


def test_v4_full_width_brackets_are_the_same_number(reg: Register) -> None:
    reg.file(title_number="粤（2020）广州市不动产权第09400110号")


def test_v4_full_width_digits_are_the_same_number_and_other_digits_or_a_line_break_are_refused(reg: Register) -> None:
    reg.file(title_number="粤（２０２０）广州市不动产权第０９４００１１０号")
    for title in ("粤(2020)广州市不动产权第0940011\u0660号", "粤(2020)广州市不动产权第09400110号\n"):
        rejection = reg.no("application.file", reg.filing(title_number=title), "bank_a")
        assert (rejection.code, rejection.detail["field"]) == ("V4_CERTIFICATE_NUMBER_INVALID", "details.title_number")


def test_v6_missing_joint_owner_non_owner_and_too_few_shares(reg: Register) -> None:
    bank: dict[str, JSON] = {"party_id": BANK_A_PARTY, "capacity": "mortgagee"}
    joint = reg.no("application.file", reg.filing(
        {"unit_number": UNIT_JOINT, "applicants": [{"party_id": OWNER_B, "capacity": "mortgagor"}, bank]},
        title_number="粤(2020)广州市不动产权第00000003号"), "bank_a")
    assert (joint.code, joint.detail["field"]) == ("V6_CO_OWNERS_MISSING", "applicants")
    stranger = reg.no("application.file", reg.filing(
        {"applicants": [{"party_id": OWNER_A, "capacity": "mortgagor"},
                        {"party_id": OWNER_B, "capacity": "mortgagor"}, bank]}), "bank_a")
    assert (stranger.code, stranger.detail["party_id"]) == ("V6_MORTGAGOR_NOT_OWNER", OWNER_B)
    shares_title = "粤(2020)广州市不动产权第00000004号"
    half = reg.no("application.file", reg.filing(   # 1/2 + 1/6 = 2/3 passes, 1/2 alone does not
        {"unit_number": UNIT_SHARES, "applicants": [{"party_id": CO_1, "capacity": "mortgagor"}, bank]},
        title_number=shares_title), "bank_a")
    assert half.code == "V6_CO_OWNERS_MISSING"
    reg.file({"unit_number": UNIT_SHARES, "applicants": [{"party_id": CO_1, "capacity": "mortgagor"},
                                                          {"party_id": CO_2, "capacity": "mortgagor"}, bank]},
             title_number=shares_title)
    assert CO_3  # the third co-owner (1/3) need not join


def test_v7_confirmations(reg: Register) -> None:
    app = reg.file()
    wrong_hash = reg.no("application.confirm", {"application_id": app, "application_hash": h("other"),
                                                "party_id": OWNER_A}, OWNER_A)
    assert (wrong_hash.code, wrong_hash.detail["field"]) == ("V7_APPLICATION_HASH_MISMATCH", "application_hash")
    other_person = reg.no("application.confirm", {"application_id": app, "application_hash": app,
                                                  "party_id": OWNER_A}, OWNER_B)
    assert other_person.code == "V7_NOT_AN_APPLICANT"
    bank_for_owner = reg.no("application.confirm", {"application_id": app, "application_hash": app,
                                                    "party_id": OWNER_A}, "bank_a_approver")
    assert (bank_for_owner.code, bank_for_owner.detail["field"]) == ("V7_PROXY_NOT_NOTARISED", "party_id")
    missing = reg.no("application.accept", {"application_id": app}, "intake")
    assert missing.code == "V7_CONFIRMATIONS_MISSING"


def test_v7_unbound_person_certificate(reg: Register) -> None:
    app = reg.file()
    before = dict(reg.d.view.rows)
    outcome = reg.d.run("application.confirm", {"application_id": app, "application_hash": app, "party_id": OWNER_A},
                        role="person", signer=h("cert:unbound"), org="gd-identity")
    assert outcome.rejection.code == "V7_SIGNER_NOT_BOUND"  # type: ignore[union-attr]
    assert reg.d.view.rows == before


def test_v8_bank_cannot_record_and_reviewer_cannot_record_own_review(reg: Register) -> None:
    app = reg.file()
    reg.accept_review(app)
    bank = reg.no("application.record", {"application_id": app}, "bank_a")
    assert bank.code == "ROLE_NOT_PERMITTED"
    reviewer_cert = h("cert:reviewer")
    outcome = reg.d.run("application.record", {"application_id": app}, role="registry.recorder",
                        signer=reviewer_cert, org="gz-registry")
    assert outcome.rejection.code == "V8_RECORDER_IS_REVIEWER"  # type: ignore[union-attr]
    assert outcome.rejection.detail["field"] == "signer"  # type: ignore[union-attr]


@pytest.mark.parametrize("amount", [0, -1, "1e6", "1,000,000", 7000000.5, True, 10**13 + 1])
def test_v9_amounts_must_be_positive_integer_fen(reg: Register, amount: object) -> None:
    rejection = reg.no("application.file", reg.filing(secured_principal_fen=amount), "bank_a")  # type: ignore[arg-type]
    assert (rejection.code, rejection.detail["field"]) == ("V9_AMOUNT_INVALID", "secured_principal_fen")


def test_v9_currency_must_be_cny(reg: Register) -> None:
    assert reg.no("application.file", reg.filing(currency="USD"), "bank_a").code == "V9_AMOUNT_INVALID"


def test_v10_both_or_neither_amount(reg: Register) -> None:
    both = reg.no("application.file", reg.filing(max_claim_fen=1000), "bank_a")
    assert (both.code, both.detail["field"]) == ("V10_AMOUNT_KIND_MISMATCH", "method")
    neither = reg.no("application.file", reg.filing(method=2, secured_principal_fen=None, debt_term=None), "bank_a")
    assert neither.code == "V10_AMOUNT_KIND_MISMATCH"


@pytest.mark.parametrize(("term", "code", "field"), [
    ({"start": "2026-02-30", "end": "2046-01-01"}, "V11_DATE_INVALID", "debt_term.start"),
    ({"start": "2026-03-01", "end": "2026-02-01"}, "V11_TERM_INVALID", "debt_term"),
    ({"start": "2025-01-01", "end": "2026-01-04"}, "V11_TERM_INVALID", "debt_term.end"),
    ({"start": "2026-03-0\u0661", "end": "2046-01-01"}, "V11_DATE_INVALID", "debt_term.start"),  # Arabic-Indic 1
    ({"start": "2026-03-01", "end": "\uff12\uff10\uff14\uff16-01-01"}, "V11_DATE_INVALID", "debt_term.end"),
])
def test_v11_dates(reg: Register, term: dict[str, str], code: str, field: str) -> None:
    rejection = reg.no("application.file", reg.filing(debt_term=term), "bank_a")  # type: ignore[arg-type]
    assert (rejection.code, rejection.detail["field"]) == (code, field)


def test_v12_method(reg: Register) -> None:
    assert reg.no("application.file", reg.filing(method=3), "bank_a").code == "V12_METHOD_INVALID"


def test_v16_duplicate_contract_for_the_same_mortgagee(reg: Register) -> None:
    reg.file()
    rejection = reg.no("application.file", reg.filing(), "bank_a")
    assert (rejection.code, rejection.detail["contract_number"]) == ("V16_DUPLICATE_MORTGAGE", "ICBC-GZ-2026-0001")


def test_v16_passes_an_application_at_review_and_recording_though_its_own_filing_shares_its_contract(
    reg: Register,
) -> None:
    """V16 runs again at review and recording; the application's own open filing is no duplicate of itself."""
    app = reg.file()
    reg.register_mortgage(app)
    assert reg.app(app)["state"] == "CERTIFIED"
    rejection = reg.no("application.file", reg.filing(), "bank_a")
    assert (rejection.code, rejection.detail["existing"]) == ("V16_DUPLICATE_MORTGAGE", f"Mortgage {app}")


def test_v22_withdrawal_needs_every_applicant_and_is_closed_after_recording(reg: Register) -> None:
    app = reg.file()
    reg.ok("application.withdraw", {"application_id": app, "party_id": OWNER_A}, OWNER_A)
    assert reg.app(app)["state"] == "FILED"
    reg.ok("application.withdraw", {"application_id": app, "party_id": BANK_A_PARTY}, "bank_a_approver")
    assert reg.app(app)["state"] == "WITHDRAWN"
    recorded = reg.file(contract_numbers=["ICBC-2"])
    reg.register_mortgage(recorded)
    rejection = reg.no("application.withdraw", {"application_id": recorded, "party_id": OWNER_A}, OWNER_A)
    assert (rejection.code, rejection.detail["field"]) == ("V22_WITHDRAWAL_NOT_ALLOWED", "application_id")


def test_v24_materials(reg: Register) -> None:
    missing = reg.no("application.file", reg.filing({"materials": [material("APPLICATION_FORM")]}), "bank_a")
    assert (missing.code, missing.detail["missing"]) == ("V24_MATERIAL_MISSING", "LOAN_CONTRACT, POWER_OF_ATTORNEY")
    unknown = reg.no("application.file", reg.filing({"materials": [material("TITLE_CERTIFICATE")]}), "bank_a")
    assert (unknown.code, unknown.detail["field"]) == ("V24_MATERIAL_INVALID", "materials[0]")
    gif = reg.no("application.file", reg.filing({"materials": [{**material("LOAN_CONTRACT"),
                                                                "media_type": "image/gif"}]}), "bank_a")
    assert gif.code == "V24_MATERIAL_INVALID"


def test_v25_confirmation_after_the_deadline_and_expiry_is_derived_not_written(reg: Register) -> None:
    app = reg.file()
    reg.d.advance_days(7)
    rejection = reg.no("application.confirm", {"application_id": app, "application_hash": app,
                                               "party_id": OWNER_A}, OWNER_A)
    assert (rejection.code, rejection.detail["field"]) == ("V25_CONFIRMATION_EXPIRED", "application_id")
    assert reg.app(app)["state"] == "FILED"  # stored as filed; reads as EXPIRED from the deadline
    reg.file()  # an expired filing no longer blocks the same contract (V16)


def test_v27_elicence_identifier_check_character(reg: Register) -> None:
    app = reg.file()
    reg.accept_review(app)
    reg.ok("application.record", {"application_id": app}, "recorder")
    body = "11100000MB03271699022" + "11440100MB2C12345X" + "2026000001" + "001"
    good = f"1.2.156.3005.2.11100000MB03271699022.11440100MB2C12345X.2026000001.001.{mod37_36_check(body)}"
    bad_char = "0" if good[-1] != "0" else "1"
    rejection = reg.no("application.issue", {"application_id": app, "document_sha256": h("doc"),
                                             "elicence_id": good[:-1] + bad_char}, "issuer")
    assert (rejection.code, rejection.detail["field"]) == ("V27_ELICENCE_ID_INVALID", "elicence_id")
    rejection = reg.no("application.issue", {"application_id": app, "document_sha256": h("doc"),
                                             "elicence_id": good + "\n"}, "issuer")
    assert (rejection.code, rejection.detail["field"]) == ("V27_ELICENCE_ID_INVALID", "elicence_id")
    reg.ok("application.issue", {"application_id": app, "document_sha256": h("doc"), "elicence_id": good}, "issuer")
    assert UNIT_A
