"""The registry's queues: a recorded case with nothing for the issuer to issue is finished and leaves them.

On a node of its own, so that the ownership transfer it records changes no unit other tests use.
person5 and person6 sell their flat to person1 and the registry records the transfer: its
certificate is a title certificate (不动产权证书), which this system does not issue, so the case is
finished — 已登簿（办结） on the desks and the case page, never in the issuer's queue, no Issue button,
the page says why, and a crafted issue request is refused in the page's language.
"""

from __future__ import annotations

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
from estatechain.testing.builders import material_ref
from portal.portal_people import Person, PortalNode, serve_node, signed_in

REGISTRY_STEPS: Final = (("gz-registry/intake1", "accept"), ("gz-registry/reviewer1", "review"),
                         ("gz-registry/recorder2", "record"))


class Seeded:
    """The node and what the module filed on it before any page was opened."""

    def __init__(self, node: PortalNode, transfer: str) -> None:
        self.node = node
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
    """person5 and person6's flat recorded as sold to person1."""
    buyer = node.owners["gz-identity/person1"]
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
    return Seeded(node, transfer)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Seeded]:
    """Built in a worker thread: sync Playwright's event loop lives in this one (``init`` and the SDK run their own)."""
    assert browser.is_connected()
    directory: Path = tmp_path_factory.mktemp("queues") / "devnet"
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(init, directory, units=100, seed=20260105).result(timeout=120)
        with serve_node(directory) as node:
            yield pool.submit(_seed, node).result(timeout=600)


def test_a_recorded_transfer_is_finished_and_never_offered_to_the_issuer(
        browser: Browser, seeded: Seeded, people: list[Person]) -> None:
    case_id = seeded.transfer
    issuer = signed_in(browser, seeded.node, people, "gz-registry/issuer1")
    issuer.page.goto(seeded.node.portal + "/registry")
    assert "暂无案件" in issuer.page.inner_text("[data-testid=queue]")  # the only recorded case is finished
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
