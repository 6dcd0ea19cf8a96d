"""带押过户 with the buyer's new loan: the registry issues the new mortgage's certificate and the bank gets it.

An ``ownership.transfer_mortgage`` case draws two numbers when it is recorded: the buyer's title
(不动产权证书, the case's own number, which this system does not issue) and the new mortgage's
registration certificate (不动产登记证明). The case is recorded through the pipeline
(``certificate_case``); then, over HTTP on the registry's node, the issuer prepares the mortgage's
certificate (``POST /v1/certificates``), signs the issue transaction that names it and submits it;
the lending bank and the buyer fetch and verify it, and nobody else may.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import pytest
from certificate_case import BUYER, OWNER, Node, new_case, serve

TITLE: Final = "粤(2026)广州市不动产权第00000001号"
"""The buyer's title: the first title the registry drew in 2026 (the case's own number)."""
MORTGAGE_CERTIFICATE: Final = "粤(2026)广州市不动产证明第00000001号"
"""The new mortgage's registration certificate: the first the registry drew in 2026."""
ISSUER: Final = "gz-registry/issuer1"
LENDER: Final = "ccb-gz/operator1"


@dataclass(frozen=True)
class Parties:
    """Party ids of the case: the seller, the buyer and the lending bank."""

    seller: str
    buyer: str
    lender: str


@pytest.fixture(scope="module")
def served_case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Parties]]:
    case = new_case(tmp_path_factory.mktemp("transfer-mortgage"))
    app = case.transfer_with_loan()
    seller, lender = case.owner.party_id, case.bank("ccb-gz")
    with serve(case, app) as served_node:
        (buyer,) = set(application(served_node)["applicants"]) - {seller, lender}
        yield served_node, Parties(seller=seller, buyer=buyer, lender=lender)


@pytest.fixture(scope="module")
def node(served_case: tuple[Node, Parties]) -> Node:
    return served_case[0]


@pytest.fixture(scope="module")
def parties(served_case: tuple[Node, Parties]) -> Parties:
    return served_case[1]


def application(node: Node, handle: str = LENDER) -> dict[str, Any]:
    response = node.call(handle, "GET", f"/v1/applications/{node.app}")
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture(scope="module")
def issued(node: Node) -> dict[str, Any]:
    """The recorded case waits for its mortgage's certificate; the issuer prepares it, names it and issues it."""
    recorded = application(node)
    assert (recorded["state"], recorded["certificate_number"], recorded["mortgage_certificate_number"]) == (
        "RECORDED", TITLE, MORTGAGE_CERTIFICATE)
    assert recorded["complete"] is False  # the bank has nothing yet

    prepared = node.call(ISSUER, "POST", "/v1/certificates", {"application_id": node.app})
    assert prepared.status_code == 200, prepared.text
    certificate, body = prepared.json()["certificate"], prepared.json()["issue"]["payload"]["body"]
    assert certificate["record"]["number"] == MORTGAGE_CERTIFICATE
    assert (body["certificate_number"], body["document_sha256"]) == (
        MORTGAGE_CERTIFICATE, certificate["document_sha256"])
    submitted = node.submit(ISSUER, "application.issue", body)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["result"] == "valid", submitted.text
    fetched = node.call(LENDER, "GET", f"/v1/certificates/{quote(MORTGAGE_CERTIFICATE)}")
    assert fetched.status_code == 200, fetched.text
    return dict(fetched.json())


def test_the_mortgages_certificate_carries_the_new_mortgage_under_its_own_number(
        node: Node, parties: Parties, issued: dict[str, Any]) -> None:
    record = issued["record"]
    assert (record["number"], record["right_or_matter"], record["mortgage_type"]) == (
        MORTGAGE_CERTIFICATE, "抵押权", "一般抵押")
    assert record["entry"] == f"mortgage/{node.app}"
    assert [p["party_id"] for p in record["obligors"]] == [parties.buyer]  # the buyer mortgages the flat
    assert [p["party_id"] for p in record["right_holders"]] == [parties.lender]
    assert record["right_holders"][0]["name"] == "中国建设银行广州分行"
    assert record["secured_amount"] == {"basis": "被担保主债权数额", "currency": "CNY", "fen": 50_000_000}
    assert record["debt_term"] == {"end": "2056-01-03", "start": "2026-01-04"}
    assert f"不动产权证书号：{TITLE}" in record["other"]  # the buyer's new title, not the seller's
    assert "被担保主债权数额：50万元" in record["other"]
    assert "合同编号：CCB-GZ-2026-0100" in record["other"]
    assert record["notes"] == ["抵押顺位：第1顺位"]

    finished = application(node)
    assert (finished["state"], finished["complete"]) == ("CERTIFIED", True)
    assert "issued_second" in finished["steps"]
    again = node.call(ISSUER, "POST", "/v1/certificates", {"application_id": node.app})
    assert (again.status_code, again.json()["error"]) == (409, "NOT_ISSUABLE")


def test_the_bank_and_the_buyer_download_and_verify_it_others_may_not(
        node: Node, issued: dict[str, Any], tmp_path: Path) -> None:
    number = quote(MORTGAGE_CERTIFICATE)
    pdf = node.call(LENDER, "GET", f"/v1/certificates/{number}/pdf")
    assert pdf.status_code == 200, pdf.text
    assert pdf.content.startswith(b"%PDF-")
    assert node.call(BUYER, "GET", f"/v1/certificates/{number}/pdf").content == pdf.content
    for handle in (OWNER, "icbc-gz/operator1"):  # the seller and a bank the certificate does not name
        assert node.call(handle, "GET", f"/v1/certificates/{number}").status_code == 403, handle

    verified = node.http.post(f"{node.url}/v1/certificates/verify", content=pdf.content)
    assert verified.status_code == 200, verified.text
    report = verified.json()
    assert (report["ok"], report["kind"], report["status"]) == (True, "pdf", "VALID"), report
    assert report["content"]["number"] == MORTGAGE_CERTIFICATE

    (tmp_path / "c.pdf").write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True,
                          check=False, timeout=60).stdout
    for box in (MORTGAGE_CERTIFICATE, "抵押权", "50万元", TITLE, "抵押顺位：第1顺位", "中国建设银行广州分行"):
        assert box in text, box


def test_a_certificate_the_case_did_not_draw_is_refused_by_name(node: Node, issued: dict[str, Any]) -> None:
    for named in (TITLE, "粤(2026)广州市不动产证明第00000099号"):
        response = node.call(ISSUER, "POST", "/v1/certificates",
                             {"application_id": node.app, "certificate_number": named})
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == {"application_id": node.app, "certificate_number": named}
        assert MORTGAGE_CERTIFICATE in response.json()["message"]  # the one it could name


def test_a_title_number_is_answered_as_one_this_platform_does_not_issue_not_as_one_not_yet_issued(
        node: Node, issued: dict[str, Any]) -> None:
    """The buyer's 不动产权证书 is on the ledger (VALID) but no file is ever issued here: every answer says so."""
    public = node.call(None, "GET", f"/v1/certificates/verify?number={quote(TITLE)}")
    assert public.status_code == 200, public.text
    answer = public.json()
    assert (answer["number"], answer["status"], answer["file"], answer["document_sha256"]) == (
        TITLE, "VALID", "NOT_ISSUED_HERE", None)
    assert "title certificate (不动产权证书)" in answer["note"]
    assert "not issued yet" not in answer["note"]
    assert "status_change" not in answer  # in force: nothing changed it

    by_qr = node.call(None, "GET", f"/v1/certificates/verify?number={quote(TITLE)}&sha256={'0' * 64}")
    assert (by_qr.status_code, by_qr.json()["error"]) == (404, "NOT_ISSUED_HERE")
    fetched = node.call(BUYER, "GET", f"/v1/certificates/{quote(TITLE)}")
    assert (fetched.status_code, fetched.json()["error"]) == (404, "NOT_ISSUED_HERE")  # before: 409 not issued yet
    assert "application.issue" not in fetched.json()["message"]
    assert "title certificate" in fetched.json()["message"]

    mortgage = node.call(None, "GET", f"/v1/certificates/verify?number={quote(MORTGAGE_CERTIFICATE)}").json()
    assert (mortgage["file"], "note" in mortgage) == ("ISSUED", False)
