"""带押过户 with the buyer's new loan in the portal: the issuer issues the new mortgage's certificate to the bank.

On a node of its own, so that the certificate number is known: the first 不动产登记证明 the registry
draws this year. CCB files (over the API: the portal has no form for this type) the sale of person2's
flat to person3 with CCB's new 50万元 loan, ``ownership.transfer_mortgage``; the seller, the buyer and
CCB confirm and the registry records it through the portal. The case's own number is the buyer's
title (不动产权证书), which this system does not issue, so before this change the desks called the
case finished (已登簿（办结）) and nobody could issue the bank's certificate. Now it waits in the
issuer's queue as 已登簿，待发证, the issuer issues the mortgage's certificate from the case page, the
timeline and the regulator's figures follow, and CCB downloads the PDF and verifies it on the public page.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, FilePayload, Page

from estatechain.cli.main import init
from estatechain.testing.builders import material_ref
from portal.portal_people import (
    SIGN_PAGE,
    Person,
    PortalNode,
    member_banks,
    serve_node,
    sign_here,
    signed_in,
    submit_as,
    take,
)

SELLER: Final = "gz-identity/person2"
BUYER: Final = "gz-identity/person3"
CLERK: Final = "ccb-gz/operator1"
AUDITOR: Final = "gz-regulator/auditor1"
THIS_YEAR: Final = dt.datetime.now(tz=ZoneInfo("Asia/Shanghai")).year
MORTGAGE_CERTIFICATE: Final = f"粤({THIS_YEAR})广州市不动产证明第00000001号"
"""The new mortgage's certificate: the registry's first 不动产登记证明 this year on this node."""
TITLE: Final = f"粤({THIS_YEAR})广州市不动产权第00000001号"
"""The buyer's new title, the case's own number: the registry's first 不动产权证书 this year."""


def _file(node: PortalNode) -> str:
    """CCB files the combined case over the API; the application id."""
    seller, buyer = node.owners[SELLER], node.owners[BUYER]
    lender = member_banks(node)["ccb-gz"]
    today = dt.datetime.now(tz=dt.UTC).date()
    return submit_as(node, CLERK, "application.file", {
        "business_type": "ownership.transfer_mortgage", "unit_number": str(seller["unit_number"]),
        "applicants": [
            {"party_id": str(seller["party_id"]), "record_ref": str(seller["record_ref"]), "capacity": "transferor"},
            {"party_id": str(buyer["party_id"]), "record_ref": str(buyer["record_ref"]), "capacity": "transferee"},
            {"party_id": lender, "capacity": "mortgagee"}],
        "materials": [material_ref(kind) for kind in ("APPLICATION_FORM", "TAX_PROOF", "SALE_CONTRACT",
                                                      "POWER_OF_ATTORNEY", "LOAN_CONTRACT")],
        "details": {"cause": "SALE", "title_number": str(seller["title_number"]), "form": "sole",
                    "holders": [{"party_id": str(buyer["party_id"]), "record_ref": str(buyer["record_ref"]),
                                 "share_numerator": 1, "share_denominator": 1}],
                    "mortgage": {"method": 1, "secured_principal_fen": 50_000_000, "currency": "CNY",
                                 "debt_term": {"start": today.isoformat(),
                                               "end": today.replace(year=today.year + 30).isoformat()},
                                 "scope": "详见抵押合同", "contract_numbers": ["CCB-PORTAL-2026-0100"],
                                 "transfer_restricted": False, "mortgagees": [lender]}}})


@pytest.fixture(scope="module")
def own_node(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[PortalNode]:
    """Built in a worker thread: sync Playwright's event loop lives in this one (``init`` runs its own)."""
    assert browser.is_connected()
    directory: Path = tmp_path_factory.mktemp("transfer-mortgage") / "devnet"
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(init, directory, units=100, seed=20260106).result(timeout=120)
    with serve_node(directory) as served:
        yield served


def per_state(page: Page) -> dict[str, int]:
    return {str(row.get_attribute("data-state")): int(row.inner_text().split()[-1])
            for row in page.locator("[data-testid=sla-state]").all()}


def upload(data: bytes) -> FilePayload:
    return {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": data}


def test_the_issuer_issues_the_new_mortgages_certificate_and_the_bank_downloads_and_verifies_it(  # noqa: PLR0915
        browser: Browser, own_node: PortalNode, people: list[Person], tmp_path: Path) -> None:
    node = own_node
    case_id = _file(node)
    for handle in (SELLER, BUYER, "ccb-gz/approver1"):
        take(signed_in(browser, node, people, handle), case_id, "confirm")
    take(signed_in(browser, node, people, "gz-registry/intake1"), case_id, "accept")
    take(signed_in(browser, node, people, "gz-registry/reviewer1"), case_id, "review")
    take(signed_in(browser, node, people, "gz-registry/recorder2"), case_id, "record")

    auditor = signed_in(browser, node, people, AUDITOR)
    auditor.page.goto(node.portal + "/regulator")
    assert per_state(auditor.page) == {"RECORDED": 1}  # recorded, its certificate pending

    issuer = signed_in(browser, node, people, "gz-registry/issuer1")
    issuer.page.goto(node.portal + "/registry")
    queue = issuer.page.locator("[data-testid=queue]")
    assert queue.locator("[data-testid=count]").inner_text().strip() == "本列表共 1 件。"
    row = queue.locator("table.cases tbody tr", has_text=case_id[:12])
    assert row.locator("[data-testid=case-state]").inner_text().strip() == "已登簿，待发证"

    page = issuer.page
    page.goto(f"{node.portal}/cases/{case_id}")
    assert page.inner_text("[data-testid=state]").strip() == "已登簿，待发证"
    assert page.inner_text("[data-testid=certificate-number]").strip() == TITLE
    assert page.inner_text("[data-testid=mortgage-certificate-number]").strip() == MORTGAGE_CERTIFICATE
    assert "不动产登记证明" in page.inner_text("[data-testid=two-certificates]")
    assert page.locator("[data-testid=no-certificate]").count() == 0
    page.click(f"form[action$='/{case_id}/issue'] button")
    page.wait_for_url(SIGN_PAGE)
    assert MORTGAGE_CERTIFICATE in page.inner_text("main")  # the confirmation names the certificate it issues
    sign_here(issuer)
    page.goto(f"{node.portal}/cases/{case_id}")
    assert page.inner_text("[data-testid=state]").strip() == "已发证"
    step = page.inner_text("[data-testid=step-issued_second]")
    assert "发证（新设抵押权的不动产登记证明）" in step
    assert MORTGAGE_CERTIFICATE in step
    assert page.locator(f"form[action$='/{case_id}/issue']").count() == 0
    page.goto(node.portal + "/registry")
    assert queue.locator("[data-testid=count]").inner_text().strip() == "本列表共 0 件。"

    auditor.page.goto(node.portal + "/regulator")
    assert per_state(auditor.page) == {"CERTIFIED": 1}

    clerk = signed_in(browser, node, people, CLERK)
    clerk.page.goto(f"{node.portal}/cases/{case_id}")
    with clerk.page.expect_download() as download:
        clerk.page.click("a[href$='certificate.pdf']")
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    (tmp_path / "c.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True,
                          check=False, timeout=60).stdout
    carried = node.owners[SELLER]["mortgages"]  # the seller's mortgages go along with the flat and rank first
    assert isinstance(carried, list)
    for box in (MORTGAGE_CERTIFICATE, "抵押权", "50万元", TITLE, f"抵押顺位：第{len(carried) + 1}顺位"):
        assert box in text, box

    anonymous = Person(browser, node, "")
    people.append(anonymous)
    anonymous.page.goto(f"{node.portal}/public/certificate?number={MORTGAGE_CERTIFICATE}")
    assert "有效" in anonymous.page.inner_text("[data-testid=certificate-status]")
    anonymous.page.set_input_files("#file", files=[upload(pdf)])
    anonymous.page.click("#verify button[type=submit]")
    assert "文件真实有效" in anonymous.page.inner_text("[data-testid=verify-report]")
    assert MORTGAGE_CERTIFICATE in anonymous.page.inner_text("main")

    buyer = signed_in(browser, node, people, BUYER)
    buyer.page.goto(node.portal + "/owner")
    row = buyer.page.locator("table.cases tbody tr", has_text=case_id[:12])
    assert row.locator("[data-testid=case-state]").inner_text().strip() == "已发证"
