"""Happy paths of the pre-sale chain: contract, purchase notice (§5.4), 预抵押 (§5.5), first registration."""

from __future__ import annotations

from conftest import (
    BANK_A_PARTY,
    BUYER,
    DEVELOPER_PARTY,
    PREDICTED,
    SURVEYED,
    PresaleRegister,
    h,
    material,
)

from estatechain.contract.effects import JSON


def purchase_and_mortgage_notice(pre: PresaleRegister) -> tuple[str, str]:
    """Contract, purchase notice (第00000001号) and 预抵押 (第00000002号) on the predicted unit, as registered."""
    contract = pre.presale()
    assert pre.row(f"presale/{contract}")["state"] == "SIGNED"
    purchase = pre.case(pre.purchase_body(contract), "developer")
    entry = pre.row(f"notice/{purchase}")
    assert (entry["kind"], entry["status"], entry["registration_type"]) == (1, "current", "700")
    assert entry["holders"] == [{"party_id": BUYER, "record_ref": None}]
    assert entry["obligors"] == [{"party_id": DEVELOPER_PARTY, "record_ref": None}]
    assert entry["amount"] == {"fen": 250_000_000, "currency": "CNY"}
    assert entry["certificate_number"] == "粤(2026)广州市不动产证明第00000001号"
    assert entry["lapse_clock_start_ms"] is None
    assert pre.row("certificate/proof/2026/00000001")["right"] == f"notice/{purchase}"

    yudiya = pre.case(pre.notice_body("粤(2026)广州市不动产证明第00000001号"))
    notice = pre.row(f"notice/{yudiya}")
    assert (notice["kind"], notice["method"], notice["cause"]) == (3, 1, "LOAN")
    assert notice["holders"] == [{"party_id": BANK_A_PARTY, "record_ref": None}]
    assert notice["obligors"] == [{"party_id": BUYER, "record_ref": None}]
    assert notice["amount"] == {"fen": 120_000_000, "currency": "CNY"}
    assert notice["debt_term"] == {"start": "2026-01-04", "end": "2056-01-03"}
    assert notice["linked_purchase_notice"] == purchase
    assert notice["certificate_number"] == "粤(2026)广州市不动产证明第00000002号"
    assert pre.row("certificate/proof/2026/00000002")["status"] == "VALID"
    assert [key.rsplit("/", 1)[1] for key, _ in pre.d.view.scan(f"unitidx/{PREDICTED}/notice/")] == [purchase, yudiya]
    return purchase, yudiya


def test_pre_sale_chain_from_contract_to_converted_mortgage(pre: PresaleRegister) -> None:
    purchase, yudiya = purchase_and_mortgage_notice(pre)
    notice = pre.row(f"notice/{yudiya}")
    pre.first_registration()
    assert pre.row(f"unit/{PREDICTED}")["successor"] == SURVEYED
    surveyed = pre.row(f"unit/{SURVEYED}")
    assert (surveyed["kind"], surveyed["predecessor"]) == ("surveyed", PREDICTED)
    title = pre.row("certificate/title/2026/00000001")
    assert title["number"] == "粤(2026)广州市不动产权第00000001号"
    developer_right = pre.row(str(title["right"]))
    assert developer_right["holders"] == [{"party_id": DEVELOPER_PARTY, "record_ref": None,
                                           "share_numerator": 1, "share_denominator": 1}]
    assert pre.row(f"notice/{purchase}")["lapse_clock_start_ms"] == pre.d.time_ms
    assert pre.row(f"notice/{yudiya}")["lapse_clock_start_ms"] is None

    # 预告转本 (1): the developer's ownership passes to the buyer and converts the purchase notice
    pre.d.advance_days(30)
    transfer = pre.case(transfer_body(), "developer")
    assert pre.app(transfer)["result"] == f"ownership/{transfer}"
    # the recording assigns the buyer's title certificate to the application, and it is issued (发证)
    assert (pre.app(transfer)["state"], pre.app(transfer)["certificate_number"]) == (
        "CERTIFIED", "粤(2026)广州市不动产权第00000002号")
    buyer_title = pre.row("certificate/title/2026/00000002")
    assert (buyer_title["status"], buyer_title["right"], buyer_title["application_id"]) == (
        "VALID", f"ownership/{transfer}", transfer)
    assert (buyer_title["issued_ms"], buyer_title["document_sha256"]) == (pre.d.time_ms, h(f"doc:{transfer}"))
    assert buyer_title["issuer"] is not None
    owned = pre.row(f"ownership/{transfer}")
    assert (owned["title_number"], owned["form"], owned["status"]) == ("粤(2026)广州市不动产权第00000002号", "sole",
                                                                       "current")
    assert owned["holders"] == [{"party_id": BUYER, "record_ref": None, "share_numerator": 1,
                                 "share_denominator": 1}]
    assert pre.row(str(title["right"]))["status"] == "historic"
    assert pre.row("certificate/title/2026/00000001")["status"] == "SUPERSEDED"
    converted = pre.row(f"notice/{purchase}")
    assert (converted["status"], converted["converted_to"]) == ("historic", f"ownership/{transfer}")
    assert pre.row("certificate/proof/2026/00000001")["status"] == "CONVERTED"
    assert pre.row(f"notice/{yudiya}")["lapse_clock_start_ms"] == pre.d.time_ms

    # 预告转本 (2): the 预抵押 becomes a mortgage on the surveyed unit and keeps its priority key
    convert = pre.case(convert_body())
    mortgage = pre.row(f"mortgage/{convert}")
    assert (mortgage["rank"], mortgage["priority_key"]) == (1, notice["priority_key"])
    assert (mortgage["derived_from"], mortgage["unit_number"], mortgage["status"]) == (yudiya, SURVEYED, "current")
    assert mortgage["secured_principal"] == {"fen": 120_000_000, "currency": "CNY"}
    assert mortgage["debt_term"] == {"start": "2026-01-04", "end": "2056-01-03"}
    assert mortgage["mortgagors"] == [{"party_id": BUYER, "record_ref": None}]
    assert mortgage["certificate_number"] == "粤(2026)广州市不动产证明第00000003号"
    assert pre.row(f"notice/{yudiya}")["converted_to"] == f"mortgage/{convert}"
    assert pre.row("certificate/proof/2026/00000002")["status"] == "CONVERTED"
    assert pre.row("certificate/proof/2026/00000003")["status"] == "VALID"
    assert list(pre.d.view.scan(f"unitidx/{PREDICTED}/notice/")) == []
    assert pre.row("certseq/gz-registry/2026") == {"last": 3}
    assert pre.row("certseq/gz-registry/2026/title") == {"last": 2}


def transfer_body(**changes: JSON) -> dict[str, JSON]:
    body: dict[str, JSON] = {
        "business_type": "ownership.transfer", "unit_number": SURVEYED,
        "applicants": [{"party_id": DEVELOPER_PARTY, "capacity": "transferor"},
                       {"party_id": BUYER, "capacity": "transferee"}],
        "materials": [material("APPLICATION_FORM"), material("TAX_PROOF")],
        "details": {"cause": "PRESALE", "title_number": "粤(2026)广州市不动产权第00000001号", "form": "sole",
                    "holders": [{"party_id": BUYER, "share_numerator": 1, "share_denominator": 1}],
                    "purchase_notice_certificate_number": "粤(2026)广州市不动产证明第00000001号"},
    }
    body.update(changes)
    return body


def convert_body(**details: JSON) -> dict[str, JSON]:
    return {"business_type": "mortgage.convert", "unit_number": SURVEYED,
            "applicants": [{"party_id": BUYER, "capacity": "mortgagor"},
                           {"party_id": BANK_A_PARTY, "capacity": "mortgagee"}],
            "materials": [material("APPLICATION_FORM")],
            "details": {"notice_certificate_number": "粤(2026)广州市不动产证明第00000002号",
                        "title_number": "粤(2026)广州市不动产权第00000002号", **details}}


def test_the_buyer_alone_files_the_purchase_notice_when_the_developer_fails_to(pre: PresaleRegister) -> None:
    contract = pre.presale()
    body = pre.purchase_body(contract)
    body["applicants"] = [{"party_id": BUYER, "capacity": "buyer"}]
    body["details"] = {"presale_contract": contract, "developer_default": True}
    missing = pre.no("application.file", body, BUYER)
    assert (missing.code, missing.detail["missing"]) == ("V24_MATERIAL_MISSING", "DEVELOPER_DEFAULT_PROOF")
    body["materials"] = [*pre.purchase_body(contract)["materials"], material("DEVELOPER_DEFAULT_PROOF")]  # type: ignore[misc]
    notice = pre.case(body, BUYER)
    entry = pre.row(f"notice/{notice}")
    assert (entry["obligors"], entry["certificate_number"]) == (
        [{"party_id": DEVELOPER_PARTY, "record_ref": None}], "粤(2026)广州市不动产证明第00000001号")
