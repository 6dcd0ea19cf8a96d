"""V19: what may be cancelled and by whom."""

from __future__ import annotations

from conftest import BANK_A_PARTY, BANK_B_PARTY, OWNER_A, OWNER_B, UNIT_B, Register, material

NUMBER = "粤(2026)广州市不动产证明第00000001号"


def cancel_body(applicants: list[dict[str, str]], reason: str = "REPAID", unit: str | None = None,
                number: str = NUMBER) -> dict[str, object]:
    proof = {"REPAID": "PAYOFF_PROOF", "JUDGMENT": "JUDGMENT", "OTHER": "OTHER_PROOF"}[reason]
    body: dict[str, object] = {"business_type": "mortgage.cancel", "applicants": applicants,
                               "materials": [material("APPLICATION_FORM"), material(proof)],
                               "details": {"certificate_number": number, "reason": reason}}
    if unit is not None:
        body["unit_number"] = unit
    return body


def registered(reg: Register) -> str:
    app = reg.file()
    reg.register_mortgage(app)
    return app


def test_v19_wrong_unit_unknown_number_and_second_cancellation(reg: Register) -> None:
    registered(reg)
    bank = [{"party_id": BANK_A_PARTY, "capacity": "mortgagee"}]
    wrong_unit = reg.no("application.file", reg.filing(cancel_body(bank, unit=UNIT_B)), "bank_a")  # type: ignore[arg-type]
    assert (wrong_unit.code, wrong_unit.detail["field"]) == ("V19_CANCELLATION_TARGET_INVALID", "certificate_number")
    unknown = reg.no("application.file", reg.filing(cancel_body(bank, number="粤(2026)广州市不动产证明第00000099号")),  # type: ignore[arg-type]
                     "bank_a")
    assert unknown.code == "V19_CANCELLATION_TARGET_INVALID"
    first = reg.file(cancel_body(bank))  # type: ignore[arg-type]
    pending = reg.no("application.file", reg.filing(cancel_body(bank)), "bank_a")  # type: ignore[arg-type]
    assert pending.code == "V19_CANCELLATION_TARGET_INVALID"
    reg.accept_review(first)
    reg.ok("application.record", {"application_id": first}, "recorder")
    twice = reg.no("application.file", reg.filing(cancel_body(bank)), "bank_a")  # type: ignore[arg-type]
    assert (twice.code, twice.detail["problem"]) == ("V19_CANCELLATION_TARGET_INVALID", "it is already cancelled")


def test_v19_owner_alone_needs_a_judgment_and_another_bank_is_not_the_holder(reg: Register) -> None:
    registered(reg)
    owner_only = reg.no("application.file", reg.filing(cancel_body(  # type: ignore[arg-type]
        [{"party_id": OWNER_A, "capacity": "mortgagor"}], reason="OTHER")), OWNER_A)
    assert (owner_only.code, owner_only.detail["field"]) == ("V19_CANCELLATION_APPLICANT_INVALID", "applicants")
    other_bank = reg.no("application.file", reg.filing(cancel_body(  # type: ignore[arg-type]
        [{"party_id": BANK_B_PARTY, "capacity": "mortgagee"}])), "bank_b")
    assert other_bank.code == "V19_CANCELLATION_APPLICANT_INVALID"
    owner_alone = cancel_body([{"party_id": OWNER_A, "capacity": "mortgagor"}], reason="JUDGMENT")
    # a bank files a cancellation only as a mortgagee it acts for: not for the owner alone, not for another's mortgage
    for bank in ("bank_a", "bank_b"):
        unnamed = reg.no("application.file", reg.filing(owner_alone), bank)  # type: ignore[arg-type]
        assert (unnamed.code, unnamed.detail["field"]) == ("FILER_NOT_APPLICANT_BANK", "applicants"), bank
    stranger = reg.no("application.file", reg.filing(owner_alone), OWNER_B)  # type: ignore[arg-type]
    assert (stranger.code, stranger.detail["field"]) == ("FILER_NOT_APPLICANT", "applicants")
    with_judgment = reg.file(owner_alone, actor=OWNER_A)  # type: ignore[arg-type]
    assert reg.app(with_judgment)["state"] == "FILED"


def test_v4_cancellation_needs_a_registration_certificate_number(reg: Register) -> None:
    registered(reg)
    bank = [{"party_id": BANK_A_PARTY, "capacity": "mortgagee"}]
    title = reg.no("application.file", reg.filing(cancel_body(bank, number="粤(2020)广州市不动产权第09400110号")),  # type: ignore[arg-type]
                   "bank_a")
    assert (title.code, title.detail["field"]) == ("V4_CERTIFICATE_NUMBER_INVALID", "details.certificate_number")
