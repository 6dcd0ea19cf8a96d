"""The registry's queues say how many cases they hold and page through them; a finished case leaves them.

On a node of its own, since its 105 waiting cases would push the shared node's cases off the first
page of intake's queue for every other test. ICBC files 105 mortgages on person1's flat, each
confirmed by the owner and the bank: intake's queue says 1–100 of 105, and its next page holds the
other five (the order of the pages is the index's, tested in tests/unit/web/test_caseindex.py); a
case opens by its short id as the lists print it. person5 and person6
sell their flat to person1 and the registry records the transfer: its certificate is a title
certificate (不动产权证书), which this system does not issue, so the case is finished — 已登簿（办结）
on the desks and the case page, never in the issuer's queue, no Issue button, and the page says why.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

import pytest
from playwright.sync_api import Browser

from estatechain.canonical import JSONValue
from estatechain.cli.main import init
from estatechain.sdk import ClientIdentity
from estatechain.sdk.sync import SyncClient
from estatechain.testing.builders import material_ref, mortgage_first_body
from portal.portal_people import Person, PortalNode, member_banks, serve_node, signed_in

WAITING: Final = 105
ICBC: Final = "icbc-gz"
REGISTRY_STEPS: Final = (("gz-registry/intake1", "accept"), ("gz-registry/reviewer1", "review"),
                         ("gz-registry/recorder2", "record"))


class Seeded:
    """The node and what the module filed on it before any page was opened."""

    def __init__(self, node: PortalNode, waiting: list[str], transfer: str) -> None:
        self.node = node
        self.waiting = waiting
        self.transfer = transfer


def _submit_all(node: PortalNode, handle: str, bodies: list[tuple[str, dict[str, JSONValue]]]) -> list[str]:
    """``handle`` signs and submits every command in order without waiting, then every one must commit valid."""
    with SyncClient(node.url, ClientIdentity.from_dev(node.directory, handle)) as client:
        ids = []
        for command, body in bodies:
            signed = client.sign(command, body)
            client.submit(signed.envelope)
            ids.append(signed.tx_id)
        client.wait_for_commit(ids[-1], timeout_s=120)
        statuses = [client.status(tx_id) for tx_id in ids]
        assert [(s.code, s.message) for s in statuses if not s.valid] == []
        return ids


def _confirm(application_id: str, party: str) -> tuple[str, dict[str, JSONValue]]:
    return "application.confirm", {"application_id": application_id, "party_id": party,
                                   "application_hash": application_id}


def _owner_ref(node: PortalNode, handle: str, capacity: str) -> dict[str, JSONValue]:
    owner = node.owners[handle]
    return {"party_id": str(owner["party_id"]), "record_ref": str(owner["record_ref"]), "capacity": capacity}


def _seed(node: PortalNode) -> Seeded:
    """105 confirmed mortgage filings on person1's flat, and person5 and person6's flat recorded as sold to person1."""
    buyer = node.owners["gz-identity/person1"]
    bank = member_banks(node)[ICBC]
    today = dt.datetime.now(tz=dt.UTC).date()
    filings = [("application.file", mortgage_first_body(
        unit_number=str(buyer["unit_number"]), party_id=str(buyer["party_id"]), record_ref=str(buyer["record_ref"]),
        bank_party=bank, title_number=str(buyer["title_number"]), contract=f"QUEUE-{i:03d}", today=today))
        for i in range(WAITING)]
    waiting = _submit_all(node, f"{ICBC}/operator1", filings)
    _submit_all(node, "gz-identity/person1", [_confirm(a, str(buyer["party_id"])) for a in waiting])
    _submit_all(node, f"{ICBC}/approver1", [_confirm(a, bank) for a in waiting])

    seller = node.owners["gz-identity/person5"]
    (transfer,) = _submit_all(node, "gz-identity/person5", [("application.file", {
        "business_type": "ownership.transfer", "unit_number": str(seller["unit_number"]),
        "applicants": [_owner_ref(node, "gz-identity/person5", "transferor"),
                       _owner_ref(node, "gz-identity/person6", "transferor"),
                       _owner_ref(node, "gz-identity/person1", "transferee")],
        "materials": [material_ref("APPLICATION_FORM"), material_ref("TAX_PROOF"), material_ref("SALE_CONTRACT")],
        "details": {"cause": "SALE", "title_number": str(seller["title_number"]), "form": "sole",
                    "holders": [{"party_id": str(buyer["party_id"]), "record_ref": str(buyer["record_ref"]),
                                 "share_numerator": 1, "share_denominator": 1}]}})])
    for handle in ("gz-identity/person5", "gz-identity/person6", "gz-identity/person1"):
        _submit_all(node, handle, [_confirm(transfer, str(node.owners[handle]["party_id"]))])
    for handle, step in REGISTRY_STEPS:
        _submit_all(node, handle, [(f"application.{step}", {"application_id": transfer})])
    return Seeded(node, waiting, transfer)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Seeded]:
    """Built in a worker thread: sync Playwright's event loop lives in this one (``init`` and the SDK run their own)."""
    assert browser.is_connected()
    directory: Path = tmp_path_factory.mktemp("queues") / "devnet"
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(init, directory, units=100, seed=20260105).result(timeout=120)
        with serve_node(directory) as node:
            yield pool.submit(_seed, node).result(timeout=600)


def _queue_ids(person: Person) -> list[str]:
    rows = person.page.locator("[data-testid=queue] table.cases tbody tr a")
    return [re.sub(r"…$", "", text.strip()) for text in rows.all_inner_texts()]


def test_intake_queue_says_how_many_cases_wait_and_pages_through_them(
        browser: Browser, seeded: Seeded, people: list[Person]) -> None:
    intake = signed_in(browser, seeded.node, people, "gz-registry/intake1")
    intake.page.goto(seeded.node.portal + "/registry")
    queue = intake.page.locator("[data-testid=queue]")
    assert queue.locator("[data-testid=count]").inner_text().strip() == f"第 1–100 件，共 {WAITING} 件。"
    first = _queue_ids(intake)
    assert len(first) == 100
    queue.locator("[data-testid=next-page]").click()
    intake.page.wait_for_url("**/registry?page=2")
    assert queue.locator("[data-testid=count]").inner_text().strip() == f"第 101–105 件，共 {WAITING} 件。"
    second = _queue_ids(intake)
    assert len(second) == WAITING - 100
    assert queue.locator("[data-testid=next-page]").count() == 0
    assert {*first, *second} == {a[:12] for a in seeded.waiting}  # every waiting case, each once

    intake.switch("en")
    assert queue.locator("[data-testid=count]").inner_text().strip() == f"Cases 101–105 of {WAITING}."

    case_id = seeded.waiting[-1]
    intake.page.goto(f"{seeded.node.portal}/cases/{case_id[:12]}")  # the short id the lists print
    intake.page.wait_for_url(f"**/cases/{case_id}")
    assert intake.page.inner_text("[data-testid=state]").strip() == "Confirmed, awaiting intake"


def test_a_recorded_transfer_is_finished_and_never_offered_to_the_issuer(
        browser: Browser, seeded: Seeded, people: list[Person]) -> None:
    case_id = seeded.transfer
    issuer = signed_in(browser, seeded.node, people, "gz-registry/issuer1")
    issuer.page.goto(seeded.node.portal + "/registry")
    assert issuer.page.locator("[data-testid=queue] [data-testid=count]").inner_text().strip() == "本列表共 0 件。"
    assert case_id[:12] not in issuer.page.inner_text("[data-testid=queue]")
    row = issuer.page.locator("[data-testid=all-cases] table.cases tbody tr", has_text=case_id[:12])
    assert row.locator("[data-testid=case-state]").inner_text().strip() == "已登簿（办结）"

    issuer.page.goto(f"{seeded.node.portal}/cases/{case_id}")
    assert issuer.page.inner_text("[data-testid=state]").strip() == "已登簿（办结）"
    assert "不动产权证书" in issuer.page.inner_text("[data-testid=no-certificate]")
    assert "不动产权" in issuer.page.inner_text("[data-testid=certificate-number]")
    assert issuer.page.locator(f"form[action$='/{case_id}/issue']").count() == 0

    csrf = issuer.page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf is not None
    refused = issuer.page.request.post(f"{seeded.node.portal}/cases/{case_id}/issue", form={"csrf": csrf})
    assert refused.status == 409
    assert _problem(refused.text()) == "您目前不能对该案件办理此步骤。"  # the page's language, not the desk's English

    buyer = signed_in(browser, seeded.node, people, "gz-identity/person1")
    buyer.page.goto(seeded.node.portal + "/owner")
    row = buyer.page.locator("table.cases tbody tr", has_text=case_id[:12])
    assert row.locator("[data-testid=case-state]").inner_text().strip() == "已登簿（办结）"


def _problem(html: str) -> str:
    found = re.search(r'role="alert">(.*?)</p>', html, re.DOTALL)
    assert found is not None, html
    return found.group(1)
