"""Happy paths: first registration (ordinary and maximum), rank by acceptance, cancellation with promotion."""

from __future__ import annotations

from conftest import BANK_A_PARTY, BANK_B_PARTY, OWNER_A, OWNER_B, SPOUSE, UNIT_A, UNIT_JOINT, Register, h, material


def test_two_mortgages_rank_in_acceptance_order_and_the_second_moves_up_on_cancellation(reg: Register) -> None:
    first = reg.file()
    reg.register_mortgage(first)
    assert reg.app(first)["state"] == "CERTIFIED"
    entry = reg.row(f"mortgage/{first}")
    assert entry["rank"] == 1
    assert entry["status"] == "current"
    assert entry["certificate_number"] == "粤(2026)广州市不动产证明第00000001号"
    assert entry["secured_principal"] == {"fen": 70_000_000, "currency": "CNY"}
    assert entry["debt_term"] == {"start": "2026-01-04", "end": "2046-01-03"}
    assert entry["mortgagors"] == [{"party_id": OWNER_A, "record_ref": None}]
    assert entry["mortgagees"] == [{"party_id": BANK_A_PARTY, "record_ref": None}]
    assert entry["county_code"] == "440106"
    assert entry["registry"] == "gz-registry"
    assert entry["recorder"] == h("cert:recorder")
    assert entry["method"] == 1
    certificate = reg.row("certificate/proof/2026/00000001")
    assert certificate["status"] == "VALID"
    assert certificate["right"] == f"mortgage/{first}"
    assert certificate["document_sha256"] == h(f"doc:{first}")

    second = reg.file(
        {"applicants": [{"party_id": OWNER_A, "capacity": "mortgagor"},
                        {"party_id": BANK_B_PARTY, "capacity": "mortgagee"}],
         "materials": [material("APPLICATION_FORM"), material("POWER_OF_ATTORNEY"),
                       material("MAX_MORTGAGE_CONTRACT")]},
        actor="bank_b", method=2, secured_principal_fen=None, max_claim_fen=30_000_000, debt_term=None,
        determination_period={"start": "2026-01-04", "end": "2028-01-03"}, contract_numbers=["CCB-ZGE-77"],
    )
    reg.register_mortgage(second)
    entry2 = reg.row(f"mortgage/{second}")
    assert (entry2["rank"], entry2["method"], entry2["max_claim"]) == (2, 2, {"fen": 30_000_000, "currency": "CNY"})
    assert entry2["certificate_number"] == "粤(2026)广州市不动产证明第00000002号"
    assert reg.row("certseq/gz-registry/2026") == {"last": 2}

    cancel = reg.file({"business_type": "mortgage.cancel",
                       "applicants": [{"party_id": BANK_A_PARTY, "capacity": "mortgagee"}],
                       "materials": [material("APPLICATION_FORM"), material("PAYOFF_PROOF")],
                       "details": {"certificate_number": "粤(2026)广州市不动产证明第00000001号", "reason": "REPAID"}})
    reg.accept_review(cancel)
    reg.ok("application.record", {"application_id": cancel}, "recorder")
    assert reg.app(cancel)["state"] == "RECORDED"
    cancelled = reg.row(f"mortgage/{first}")
    assert cancelled["status"] == "historic"
    assert cancelled["cancellation"] == {"business_no": cancel, "reason": "REPAID", "time_ms": reg.d.time_ms}
    assert reg.row(f"mortgage/{second}")["rank"] == 1
    assert reg.row("certificate/proof/2026/00000001")["status"] == "CANCELLED"
    assert reg.row("certificate/proof/2026/00000002")["status"] == "VALID"
    assert [key for key, _ in reg.d.view.scan(f"unitidx/{UNIT_A}/mortgage/")] == [
        f"unitidx/{UNIT_A}/mortgage/{entry2['priority_key']}/{second}"
    ]
    assert reg.d.view.get(f"unitidx/{UNIT_A}/application/{cancel}") is None


def test_rank_follows_acceptance_not_recording_order(reg: Register) -> None:
    early = reg.file()
    late = reg.file({"applicants": [{"party_id": OWNER_A, "capacity": "mortgagor"},
                                    {"party_id": BANK_B_PARTY, "capacity": "mortgagee"}]},
                    actor="bank_b", contract_numbers=["CCB-1"])
    reg.accept_review(early)
    reg.accept_review(late)
    reg.ok("application.record", {"application_id": late}, "recorder")
    assert reg.row(f"mortgage/{late}")["rank"] == 1
    reg.ok("application.record", {"application_id": early}, "recorder")
    assert reg.row(f"mortgage/{early}")["rank"] == 1
    assert reg.row(f"mortgage/{late}")["rank"] == 2
    # certificate numbers follow recording order, ranks follow acceptance order
    assert reg.row(f"mortgage/{late}")["certificate_number"] == "粤(2026)广州市不动产证明第00000001号"
    assert reg.row(f"mortgage/{early}")["certificate_number"] == "粤(2026)广州市不动产证明第00000002号"


def test_joint_owners_and_spouse_confirm_and_the_bank_confirms_as_notarised_proxy(reg: Register) -> None:
    notarial = h("notarial:spouse")
    app = reg.file({"unit_number": UNIT_JOINT,
                    "applicants": [{"party_id": OWNER_B, "capacity": "mortgagor"},
                                   {"party_id": SPOUSE, "capacity": "mortgagor", "proxy_notarial_sha256": notarial},
                                   {"party_id": BANK_A_PARTY, "capacity": "mortgagee"}],
                    "materials": [*[material(t) for t in ("APPLICATION_FORM", "POWER_OF_ATTORNEY", "LOAN_CONTRACT")],
                                  {**material("NOTARIAL_CERTIFICATE"), "sha256": notarial}]},
                   title_number="粤(2020)广州市不动产权第00000003号")
    reg.confirm(app, OWNER_B, OWNER_B)
    reg.confirm(app, SPOUSE, "bank_a_approver")
    reg.confirm(app, BANK_A_PARTY, "bank_a_approver")
    record = reg.app(app)
    assert record["state"] == "CONFIRMED"
    confirmations = record["confirmations"]
    assert isinstance(confirmations, list)
    assert [c["by_proxy"] for c in confirmations if isinstance(c, dict)] == [False, True, False]
    reg.ok("application.accept", {"application_id": app}, "intake")
    reg.ok("application.review", {"application_id": app}, "reviewer")
    reg.ok("application.record", {"application_id": app}, "recorder")
    assert reg.row(f"mortgage/{app}")["rank"] == 1
