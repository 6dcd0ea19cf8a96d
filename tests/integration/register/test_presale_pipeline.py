"""The pre-sale chain and the later life of a 预抵押, end to end through the pipeline over the imported register.

Pre-sale contract (developer files, buyer signs) → purchase notice (§5.4) → 预抵押 (§5.5) → the building's
first registration → 预告转本 (§5.9), and a 预抵押's change (§5.6), transfer (§5.7) and correction (§5.8).
Each step is its own signed transaction in its own block; the expected register entries, ranks,
certificate numbers and statuses are written out as a registry would expect them, not computed by the
code under test. The register's own certificates are all of 2025 or earlier, so the registry's 2026
sequences start at 第00000001号.
"""

from __future__ import annotations

from pathlib import Path

from presale_case import Presale, presale_register

from estatechain.canonical import JSONValue
from estatechain.storage.audit import audit_ledger
from estatechain.testing.builders import label_digest as h
from estatechain.testing.builders import material_ref as material

P1, P2, P3, P4, P5 = (f"粤(2026)广州市不动产证明第0000000{n}号" for n in range(1, 6))
"""Registration certificates (不动产登记证明) of 2026 in recording order."""
T1, T2 = "粤(2026)广州市不动产权第00000001号", "粤(2026)广州市不动产权第00000002号"
"""Title certificates (不动产权证书) of 2026: the developer's, then the buyer's."""

SETUP_TXS = 3 + 1
"""Binding the buyer and both member banks (one block), then the developer."""
CASE_TXS = 1 + 2 + 3 + 1
"""File, two applicants confirm, accept, review, record, issue."""


def purchase_and_mortgage_notice(pre: Presale) -> tuple[str, str]:
    """Contract, purchase notice (P1) and ICBC's 预抵押 (P2) on the predicted unit, as registered (16 txs)."""
    reg = pre.reg
    contract = pre.contract()
    signed = reg.row(f"presale/{contract}")
    assert (signed["state"], signed["signed_by"]) == ("SIGNED", [pre.buyer.party_id])

    purchase = pre.case("poly-developer/developer1", pre.purchase_body(contract))
    entry = reg.row(f"notice/{purchase}")
    assert (entry["kind"], entry["status"], entry["registration_type"]) == (1, "current", "700")
    assert entry["unit_number"] == pre.predicted
    assert entry["holders"] == [{"party_id": pre.buyer.party_id, "record_ref": pre.buyer.record_ref}]
    assert entry["obligors"] == [{"party_id": pre.developer, "record_ref": None}]
    assert entry["amount"] == {"fen": 250_000_000, "currency": "CNY"}
    assert entry["certificate_number"] == P1
    assert entry["lapse_clock_start_ms"] is None
    certificate = reg.row("certificate/proof/2026/00000001")
    assert (certificate["number"], certificate["status"], certificate["right"]) == (P1, "VALID",
                                                                                 f"notice/{purchase}")

    yudiya = pre.case("icbc-gz/operator1", pre.notice_body(P1))
    notice = reg.row(f"notice/{yudiya}")
    assert (notice["kind"], notice["method"], notice["cause"], notice["status"]) == (3, 1, "LOAN", "current")
    assert notice["holders"] == [{"party_id": pre.icbc, "record_ref": None}]
    assert notice["obligors"] == [{"party_id": pre.buyer.party_id, "record_ref": pre.buyer.record_ref}]
    assert notice["amount"] == {"fen": 120_000_000, "currency": "CNY"}
    assert notice["debt_term"] == {"start": "2026-01-04", "end": "2056-01-03"}
    assert notice["contract_numbers"] == ["ICBC-YG-2026-0001"]
    assert notice["linked_purchase_notice"] == purchase
    assert notice["certificate_number"] == P2
    certificate = reg.row("certificate/proof/2026/00000002")
    assert (certificate["number"], certificate["status"], certificate["right"]) == (P2, "VALID", f"notice/{yudiya}")
    assert [key.rsplit("/", 1)[1] for key, _ in reg.harness.store.scan(f"unitidx/{pre.predicted}/notice/")] == [
        purchase, yudiya]
    assert reg.row("certseq/gz-registry/2026") == {"last": 2}
    return purchase, yudiya


def first_registration(pre: Presale, purchase: str, yudiya: str) -> int:
    """The building's first registration: the surveyed unit, the developer's title T1, the lapse clock starts."""
    reg = pre.reg
    pre.first_registration()
    assert reg.row(f"unit/{pre.predicted}")["successor"] == pre.surveyed
    surveyed = reg.row(f"unit/{pre.surveyed}")
    assert (surveyed["kind"], surveyed["predecessor"], surveyed["successor"]) == ("surveyed", pre.predicted, None)
    title = reg.row("certificate/title/2026/00000001")
    assert (title["number"], title["status"]) == (T1, "VALID")
    developer_right = reg.row(str(title["right"]))
    assert (developer_right["unit_number"], developer_right["title_number"], developer_right["form"],
            developer_right["status"]) == (pre.surveyed, T1, "sole", "current")
    assert developer_right["holders"] == [{"party_id": pre.developer, "record_ref": None,
                                           "share_numerator": 1, "share_denominator": 1}]
    registered_ms = reg.harness.clock.now_ms()
    assert reg.row(f"notice/{purchase}")["lapse_clock_start_ms"] == registered_ms
    assert reg.row(f"notice/{yudiya}")["lapse_clock_start_ms"] is None  # its clock waits for the buyer's title
    assert reg.row("certseq/gz-registry/2026/title") == {"last": 1}
    return registered_ms


def test_pre_sale_chain_from_contract_to_a_converted_mortgage_that_keeps_its_priority(tmp_path: Path) -> None:
    pre = presale_register(tmp_path)
    reg = pre.reg
    purchase, yudiya = purchase_and_mortgage_notice(pre)
    priority = reg.row(f"notice/{yudiya}")["priority_key"]
    assert isinstance(priority, str)

    registered_ms = first_registration(pre, purchase, yudiya)
    developer_right = str(reg.row("certificate/title/2026/00000001")["right"])

    # 预告转本 (1), a month later: the developer's ownership passes to the buyer, the purchase notice converts
    pre.advance_days(30)
    transfer = pre.case("poly-developer/developer1", {
        "business_type": "ownership.transfer", "unit_number": pre.surveyed,
        "applicants": [{"party_id": pre.developer, "capacity": "transferor"},
                       {**pre.buyer_ref(), "capacity": "transferee"}],
        "materials": [material("APPLICATION_FORM"), material("TAX_PROOF")],
        "details": {"cause": "PRESALE", "title_number": T1, "form": "sole",
                    "holders": [{**pre.buyer_ref(), "share_numerator": 1, "share_denominator": 1}],
                    "purchase_notice_certificate_number": P1},
    })
    # the recording assigns the buyer's title certificate T2 to the application, and the registry issues it (发证)
    application = reg.row(f"application/{transfer}")
    assert (application["state"], application["certificate_number"]) == ("CERTIFIED", T2)
    owned = reg.row(f"ownership/{transfer}")
    assert (owned["unit_number"], owned["title_number"], owned["form"], owned["status"]) == (
        pre.surveyed, T2, "sole", "current")
    assert owned["holders"] == [{"party_id": pre.buyer.party_id, "record_ref": pre.buyer.record_ref,
                                 "share_numerator": 1, "share_denominator": 1}]
    assert (reg.row(developer_right)["status"], reg.row(developer_right)["successor"]) == (
        "historic", f"ownership/{transfer}")
    assert reg.row("certificate/title/2026/00000001")["status"] == "SUPERSEDED"
    buyer_title = reg.row("certificate/title/2026/00000002")
    assert (buyer_title["number"], buyer_title["status"], buyer_title["right"], buyer_title["application_id"]) == (
        T2, "VALID", f"ownership/{transfer}", transfer)
    issuer = reg.row("certificate/proof/2026/00000001")["issuer"]  # the issuer of every case (issuer1)
    assert issuer is not None
    assert (buyer_title["issuer"], buyer_title["document_sha256"]) == (issuer, h(f"pdf:{transfer}"))
    assert isinstance(buyer_title["issued_ms"], int)
    converted = reg.row(f"notice/{purchase}")
    assert (converted["status"], converted["converted_to"]) == ("historic", f"ownership/{transfer}")
    assert reg.row("certificate/proof/2026/00000001")["status"] == "CONVERTED"
    assert reg.row(f"notice/{yudiya}")["lapse_clock_start_ms"] == registered_ms + 30 * 86_400_000

    # 预告转本 (2): the 预抵押 becomes ICBC's rank-1 mortgage on the surveyed unit, keeping its priority key
    convert = pre.case("icbc-gz/operator1", {
        "business_type": "mortgage.convert", "unit_number": pre.surveyed,
        "applicants": [{**pre.buyer_ref(), "capacity": "mortgagor"},
                       {"party_id": pre.icbc, "capacity": "mortgagee"}],
        "materials": [material("APPLICATION_FORM")],
        "details": {"notice_certificate_number": P2, "title_number": T2},
    })
    assert reg.row(f"application/{convert}")["state"] == "CERTIFIED"
    mortgage = reg.row(f"mortgage/{convert}")
    assert (mortgage["rank"], mortgage["priority_key"], mortgage["status"]) == (1, priority, "current")
    assert (mortgage["derived_from"], mortgage["unit_number"]) == (yudiya, pre.surveyed)
    assert mortgage["mortgagors"] == [{"party_id": pre.buyer.party_id, "record_ref": pre.buyer.record_ref}]
    assert mortgage["mortgagees"] == [{"party_id": pre.icbc, "record_ref": None}]
    assert mortgage["secured_principal"] == {"fen": 120_000_000, "currency": "CNY"}
    assert mortgage["debt_term"] == {"start": "2026-01-04", "end": "2056-01-03"}
    assert mortgage["certificate_number"] == P3
    ended = reg.row(f"notice/{yudiya}")
    assert (ended["status"], ended["converted_to"]) == ("historic", f"mortgage/{convert}")
    assert reg.row("certificate/proof/2026/00000001")["status"] == "CONVERTED"
    assert reg.row("certificate/proof/2026/00000002")["status"] == "CONVERTED"
    certificate = reg.row("certificate/proof/2026/00000003")
    assert (certificate["number"], certificate["status"], certificate["right"]) == (P3, "VALID",
                                                                                 f"mortgage/{convert}")
    assert list(reg.harness.store.scan(f"unitidx/{pre.predicted}/notice/")) == []
    assert [key for key, _ in reg.harness.store.scan(f"unitidx/{pre.surveyed}/mortgage/")] == [
        f"unitidx/{pre.surveyed}/mortgage/{priority}/{convert}"]
    assert reg.row("certseq/gz-registry/2026") == {"last": 3}
    assert reg.row("certseq/gz-registry/2026/title") == {"last": 2}

    report = audit_ledger(reg.node)
    assert report.invalid_txs == 0
    assert report.txs == len(reg.import_receipts) + SETUP_TXS + 2 + CASE_TXS * 2 + 1 + CASE_TXS * 2


def change_body(pre: Presale, number: str, changes: dict[str, JSONValue]) -> dict[str, JSONValue]:
    return {"business_type": "mortgage_notice.change", "unit_number": pre.predicted,
            "applicants": [{**pre.buyer_ref(), "capacity": "mortgagor"},
                           {"party_id": pre.icbc, "capacity": "mortgagee"}],
            "materials": [material("APPLICATION_FORM"), material("SUPPLEMENTARY_AGREEMENT")],
            "details": {"certificate_number": number, "change_kind": "terms", "changes": changes}}


def test_a_yudiya_changed_transferred_and_corrected_leaves_superseded_and_corrected_certificates(
    tmp_path: Path,
) -> None:
    pre = presale_register(tmp_path)
    reg = pre.reg
    purchase, first = purchase_and_mortgage_notice(pre)
    priority = reg.row(f"notice/{first}")["priority_key"]

    # change of terms (§5.6): buyer and ICBC raise the principal to 150万元 and extend the term
    change = pre.case("icbc-gz/operator1", change_body(pre, P2, {
        "secured_principal_fen": 150_000_000, "debt_term": {"start": "2026-01-04", "end": "2056-06-30"}}))
    changed = reg.row(f"notice/{change}")
    assert (changed["amount"], changed["debt_term"]) == ({"fen": 150_000_000, "currency": "CNY"},
                                                         {"start": "2026-01-04", "end": "2056-06-30"})
    assert (changed["certificate_number"], changed["registration_type"], changed["status"]) == (P3, "300", "current")
    assert (changed["priority_key"], changed["previous"]) == (priority, f"notice/{first}")
    assert changed["holders"] == [{"party_id": pre.icbc, "record_ref": None}]
    old = reg.row(f"notice/{first}")
    assert (old["status"], old["successor"]) == ("historic", f"notice/{change}")
    assert reg.row("certificate/proof/2026/00000002")["status"] == "SUPERSEDED"
    assert reg.row("certificate/proof/2026/00000003")["status"] == "VALID"

    # transfer (§5.7): ICBC assigns the secured claim to CCB, which files
    transfer = pre.case("ccb-gz/operator1", {
        "business_type": "mortgage_notice.transfer", "unit_number": pre.predicted,
        "applicants": [{"party_id": pre.icbc, "capacity": "mortgagee"},
                       {"party_id": pre.ccb, "capacity": "transferee"}],
        "materials": [material("APPLICATION_FORM"), material("ASSIGNMENT_AGREEMENT"), material("DEBTOR_NOTICE")],
        "details": {"certificate_number": P3, "cause": "ASSIGNMENT"},
    })
    moved = reg.row(f"notice/{transfer}")
    assert moved["holders"] == [{"party_id": pre.ccb, "record_ref": None}]
    assert moved["obligors"] == [{"party_id": pre.buyer.party_id, "record_ref": pre.buyer.record_ref}]
    assert moved["amount"] == {"fen": 150_000_000, "currency": "CNY"}
    assert (moved["certificate_number"], moved["registration_type"], moved["status"]) == (P4, "200", "current")
    assert (moved["priority_key"], moved["previous"]) == (priority, f"notice/{change}")
    assert (reg.row(f"notice/{change}")["status"], reg.row(f"notice/{change}")["successor"]) == (
        "historic", f"notice/{transfer}")
    assert reg.row("certificate/proof/2026/00000003")["status"] == "SUPERSEDED"
    assert reg.row("certificate/proof/2026/00000004")["status"] == "VALID"

    # correction (§5.8): the loan contract ICBC filed shows the contract number was mistyped at recording
    correct = pre.case("ccb-gz/operator1", {
        "business_type": "mortgage_notice.correct", "unit_number": pre.predicted,
        "applicants": [{"party_id": pre.ccb, "capacity": "mortgagee"}],
        "materials": [material("APPLICATION_FORM"), material("ERROR_PROOF")],
        "details": {"certificate_number": P4, "error_evidence_sha256": material("LOAN_CONTRACT")["sha256"],
                    "corrections": [{"field": "contract_numbers", "old": ["ICBC-YG-2026-0001"],
                                     "new": ["ICBC-YG-2026-0010"]}]},
    })
    fixed = reg.row(f"notice/{correct}")
    assert (fixed["contract_numbers"], fixed["corrects"], fixed["registration_type"]) == (
        ["ICBC-YG-2026-0010"], f"notice/{transfer}", "500")
    assert (fixed["certificate_number"], fixed["status"], fixed["priority_key"]) == (P5, "current", priority)
    assert fixed["holders"] == [{"party_id": pre.ccb, "record_ref": None}]
    assert fixed["amount"] == {"fen": 150_000_000, "currency": "CNY"}
    assert reg.row(f"notice/{transfer}")["status"] == "historic"

    statuses = {n: reg.row(f"certificate/proof/2026/0000000{n}")["status"] for n in range(1, 6)}
    assert statuses == {1: "VALID", 2: "SUPERSEDED", 3: "SUPERSEDED", 4: "CORRECTED", 5: "VALID"}
    assert reg.row("certificate/proof/2026/00000005")["right"] == f"notice/{correct}"
    assert [key.rsplit("/", 1)[1] for key, _ in reg.harness.store.scan(f"unitidx/{pre.predicted}/notice/")] == [
        purchase, correct]
    assert reg.row("certseq/gz-registry/2026") == {"last": 5}

    report = audit_ledger(reg.node)
    assert report.invalid_txs == 0
    assert report.txs == len(reg.import_receipts) + SETUP_TXS + 2 + CASE_TXS * 4 + (CASE_TXS - 1)
