"""A joint owner sees on the consents page whether the bank would get the full register, in chromium.

A bank inquiring on the owners' consent gets the full answer only while every current owner's
consent to it for that purpose is in force (``rules/inquiry.py``). A co-owner sees only the
consents they gave themself, so they could not tell whether theirs did anything (resident's review
item 13). Here two co-owners of one unit consent to CCB for a lease check one after the other; each
page says, per unit, bank and purpose, "no, 1 of 2" and then "yes, 2 of 2", never who, and the bank's
inquiry with those consents is refused and then granted accordingly. A revocation turns it back.
"""

from __future__ import annotations

from typing import Final

from playwright.sync_api import Browser, Locator

from estatechain.canonical import JSONValue
from estatechain.cli.main import node_dir
from estatechain.storage.store import LedgerStore
from portal.portal_people import Person, PortalNode, give_consent, member_banks, sign_here, signed_in, submit_as

BANK: Final = "ccb-gz"
CLERK: Final = "ccb-gz/operator1"
PURPOSE: Final = "LEASE"
"""No other test consents for a lease: the counts here are this test's own."""


def co_owned(node: PortalNode) -> tuple[str, str, str]:
    """The co-owned unit and its two dev person handles, as ``estatechain init`` recorded them."""
    for handle, entry in sorted(node.owners.items()):
        others = entry.get("co_owners")
        if isinstance(others, list) and len(others) == 1:
            return str(entry["unit_number"]), handle, str(others[0])
    raise AssertionError("dev-owners.json names no unit with two bound co-owners")


def revoke(owner: Person, consent_id: str) -> None:
    owner.page.goto(f"{owner.node.portal}/owner/consents")
    owner.page.click(f"form[action$='/owner/consents/{consent_id}/revoke'] button")
    sign_here(owner)


def standing(owner: Person, unit: str) -> Locator:
    """The consents page's row for the unit, CCB and a lease check."""
    owner.page.goto(f"{owner.node.portal}/owner/consents")
    return owner.page.locator(f"[data-testid=standing-{unit}-{BANK}-{PURPOSE}]")


def bank_inquiry(node: PortalNode, unit: str, consent_ids: list[str]) -> str:
    """CCB's ``inquiry.request`` on the consents through the API, committed; its outcome on the ledger."""
    body: dict[str, JSONValue] = {"unit_number": unit, "basis": "consent", "purpose": PURPOSE,
                                  "consent_ids": list[JSONValue](consent_ids),
                                  "requester_party": member_banks(node)[BANK]}

    tx_id = submit_as(node, CLERK, "inquiry.request", body)
    store = LedgerStore.open(node_dir(node.directory), readonly=True)
    try:
        record = store.get(f"inquiry/{tx_id}")
    finally:
        store.close()
    assert record is not None
    return str(record["outcome"])


def test_each_co_owner_sees_whether_every_owners_consent_is_in_force_and_the_bank_is_answered_so(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    unit, first, second = co_owned(node)
    owner_a = signed_in(browser, node, people, first)
    owner_b = signed_in(browser, node, people, second)

    consent_a = give_consent(owner_a, unit, BANK, PURPOSE)
    row = standing(owner_a, unit)
    assert row.get_attribute("data-full") == "no"
    assert "否" in row.inner_text()
    assert row.locator("[data-testid=standing-count]").inner_text() == "共 2 人，已同意 1 人"
    row = standing(owner_b, unit)  # B gave nothing yet, and sees that the bank would not get the full answer
    assert row.get_attribute("data-full") == "no"
    assert row.locator("[data-testid=standing-count]").inner_text() == "共 2 人，已同意 1 人"
    table = owner_b.page.inner_text("[data-testid=consent-standing]")
    assert str(node.owners[first]["party_id"])[:12] not in table, "counts only: not who consented"
    assert consent_a not in owner_b.page.inner_text("main")
    assert bank_inquiry(node, unit, [consent_a]) == "REFUSED"

    consent_b = give_consent(owner_b, unit, BANK, PURPOSE)
    for owner in (owner_a, owner_b):
        row = standing(owner, unit)
        assert row.get_attribute("data-full") == "yes"
        assert "是" in row.inner_text()
        assert row.locator("[data-testid=standing-count]").inner_text() == "共 2 人，已同意 2 人"
    owner_b.switch("en")
    row = owner_b.page.locator(f"[data-testid=standing-{unit}-{BANK}-{PURPOSE}]")
    assert "Yes" in row.inner_text()
    assert row.locator("[data-testid=standing-count]").inner_text() == "2 of 2"
    owner_b.switch("zh-CN")
    assert bank_inquiry(node, unit, [consent_a, consent_b]) == "GRANTED"

    revoke(owner_a, consent_a)
    row = standing(owner_b, unit)
    assert row.get_attribute("data-full") == "no"
    assert row.locator("[data-testid=standing-count]").inner_text() == "共 2 人，已同意 1 人"
    revoke(owner_b, consent_b)  # leaves no consent in force for other tests
    assert standing(owner_b, unit).count() == 0
