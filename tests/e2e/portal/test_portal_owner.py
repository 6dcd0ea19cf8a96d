"""The owner's own pages in chromium: my units and their register pages, who looked at them, my consents.

The owner signs in as themself and sees their unit with its current entries; gives a member bank an
inquiry consent through the confirmation page and sees it in force; the bank then inquires with it
over the API (signed by the bank's own key with the SDK) and the owner sees who looked, why and
that it was granted; after the owner revokes the consent, the bank's next inquiry is refused and the
owner sees that too. A bad consent form changes nothing, and another owner gets 404 for the unit.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from playwright.sync_api import Browser

from estatechain.sdk import Client
from estatechain.sdk.identity import ClientIdentity
from portal.portal_people import SIGN_PAGE, Person, PortalNode, presale_flat, sign_here, signed_in, submit_as

OWNER = "gz-identity/person2"
OTHER_OWNER = "gz-identity/person1"
BANK_CLERK = "icbc-gz/operator1"



def bank_inquiry(node: PortalNode, body: dict[str, Any]) -> str:
    """The bank's own ``inquiry.request`` through the API, committed; its tx id (outside Playwright's loop)."""

    async def go() -> str:
        identity = ClientIdentity.from_dev(node.directory, BANK_CLERK)
        async with Client(node.url, identity, timeout_s=15) as client:
            signed, status = await client.submit_and_wait("inquiry.request", body)
            assert status.valid, status
            return signed.tx_id

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, go()).result()


def revoked_by(other: Person, consent_id: str) -> int:
    """Another owner posts the revocation (with their own valid CSRF token): the HTTP status they get."""
    other.page.goto(f"{other.node.portal}/owner/consents")
    assert consent_id not in other.page.content()
    csrf = other.page.get_attribute("#consent input[name=csrf]", "value")
    assert csrf
    return other.context.request.post(f"{other.node.portal}/owner/consents/{consent_id}/revoke",
                                      form={"csrf": csrf}).status


def test_an_owner_sees_their_unit_and_its_current_entries(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    owner = signed_in(browser, node, people, OWNER)
    unit = node.unit_of(OWNER)
    owner.page.click("a[href$='/owner/units']")
    assert unit in owner.page.inner_text("[data-testid=my-units]")
    owner.page.click(f"a[href$='/owner/units/{unit}']")
    register = owner.page.inner_text("[data-testid=unit-register]")
    assert str(node.owners[OWNER]["title_number"]) in register
    owners = owner.page.inner_text("[data-testid=owners]")
    assert str(node.owners[OWNER]["party_id"]) in owners
    assert "(本人)" in owners
    legacy = node.owners[OWNER]["mortgages"]
    assert isinstance(legacy, list)
    assert legacy, "person2 is bound to an owner with a mortgage (choose_dev_owners)"
    mortgages = owner.page.inner_text("[data-testid=mortgages]")
    for mortgage in legacy:
        assert mortgage["certificate_number"] in mortgages
    owner.shoot("owner-unit-zh-CN")
    owner.switch("en")
    assert "Mortgages" in owner.page.inner_text("main")
    owner.shoot("owner-unit-en")
    owner.switch("zh-CN")


def test_co_owners_are_shown_by_party_on_the_register_page(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    first, second = sorted(h for h, entry in node.owners.items() if entry.get("co_owners"))
    owner = signed_in(browser, node, people, first)
    owner.page.goto(f"{node.portal}/owner/units/{node.unit_of(first)}")
    owners = owner.page.inner_text("[data-testid=owners]")
    assert str(node.owners[first]["party_id"]) in owners
    assert str(node.owners[second]["party_id"]) in owners


def test_a_consent_is_given_used_by_the_bank_seen_by_the_owner_and_revoked(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    owner = signed_in(browser, node, people, OWNER)
    unit = node.unit_of(OWNER)
    page = owner.page
    page.goto(f"{node.portal}/owner/units/{unit}")
    page.click(f"a[href$='/owner/consents?unit={unit}']")
    page.select_option("#bank", "icbc-gz")
    page.select_option("#purpose", "PRE_LOAN")
    page.fill("#expires_on", "2030-12-31")
    page.click("#consent button[type=submit]")
    page.wait_for_url(SIGN_PAGE)
    assert "2030-12-31" in page.inner_text("main")
    consent_id = sign_here(owner)
    row = page.locator(f"[data-testid=consent-{consent_id}]")
    assert row.get_attribute("data-state") == "active"
    assert "2030-12-31" in row.inner_text()
    assert "贷前审查" in row.inner_text()
    bank_party = str(row.locator("[data-testid=bank-party]").get_attribute("data-party"))
    owner.shoot("owner-consents-zh-CN")

    granted = bank_inquiry(node, {"unit_number": unit, "basis": "consent", "consent_ids": [consent_id],
                                  "purpose": "PRE_LOAN", "requester_party": bank_party})
    page.goto(f"{node.portal}/owner/inquiries")
    entry = page.locator(f"[data-testid=inquiry-{granted}]")
    assert entry.get_attribute("data-outcome") == "GRANTED"
    assert entry.get_attribute("data-org") == "icbc-gz"
    assert entry.get_attribute("data-purpose") == "PRE_LOAN"
    assert "中国工商银行广州分行" in entry.inner_text()
    assert "贷前审查" in entry.inner_text()
    assert "准予查询" in entry.inner_text()
    owner.shoot("owner-inquiries-zh-CN")
    owner.switch("en")
    assert "Pre-loan check" in page.locator(f"[data-testid=inquiry-{granted}]").inner_text()
    owner.switch("zh-CN")

    assert revoked_by(signed_in(browser, node, people, OTHER_OWNER), consent_id) == 404, \
        "only the owner who gave a consent may revoke it"
    page.goto(f"{node.portal}/owner/consents")
    assert page.locator(f"[data-testid=consent-{consent_id}]").get_attribute("data-state") == "active"
    page.click(f"form[action$='/owner/consents/{consent_id}/revoke'] button")
    page.wait_for_url(SIGN_PAGE)
    sign_here(owner)
    assert page.locator(f"[data-testid=consent-{consent_id}]").get_attribute("data-state") == "revoked"
    assert page.locator(f"form[action$='/owner/consents/{consent_id}/revoke']").count() == 0

    refused = bank_inquiry(node, {"unit_number": unit, "basis": "consent", "consent_ids": [consent_id],
                                  "purpose": "PRE_LOAN", "requester_party": bank_party})
    page.goto(f"{node.portal}/owner/units/{unit}")
    entry = page.locator(f"[data-testid=inquiry-{refused}]")
    assert entry.get_attribute("data-outcome") == "REFUSED"
    assert "未准予" in entry.inner_text()
    assert page.locator(f"[data-testid=inquiry-{granted}]").get_attribute("data-outcome") == "GRANTED"


def test_a_bad_consent_form_says_what_is_wrong_and_changes_nothing(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    owner = signed_in(browser, node, people, OWNER)
    page = owner.page
    page.goto(f"{node.portal}/owner/consents")
    before = page.locator("[data-testid=consents] tbody tr").count()
    page.fill("#expires_on", "2001-01-01")
    page.click("#consent button[type=submit]")
    assert page.url.endswith("/owner/consents")
    assert page.is_visible("#expires_on-error")
    assert page.get_attribute("#expires_on", "aria-invalid") == "true"
    page.goto(f"{node.portal}/owner/consents")
    assert page.locator("[data-testid=consents] tbody tr").count() == before


def test_another_owner_does_not_see_the_unit(browser: Browser, node: PortalNode, people: list[Person]) -> None:
    other = signed_in(browser, node, people, OTHER_OWNER)
    unit = node.unit_of(OWNER)
    response = other.page.goto(f"{node.portal}/owner/units/{unit}")
    assert response is not None
    assert response.status == 404
    assert unit not in other.page.inner_text("main")
    other.page.goto(f"{node.portal}/owner/units")
    assert node.unit_of(OTHER_OWNER) in other.page.inner_text("[data-testid=my-units]")
    assert unit not in other.page.inner_text("[data-testid=my-units]")
    clerk = signed_in(browser, node, people, BANK_CLERK)
    denied = clerk.page.goto(f"{node.portal}/owner/units/{unit}")
    assert denied is not None
    assert denied.status == 403


def person_inquiry(node: PortalNode, handle: str, body: dict[str, Any]) -> str:
    """A person's own ``inquiry.request`` through the API (their dev key), committed; its tx id."""

    return submit_as(node, handle, "inquiry.request", body)


def test_a_private_person_s_inquiry_reads_as_a_person_not_as_the_identity_authority(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    """A person signs under the identity authority's org: the log must not say that authority (an owner) looked."""
    unit = node.unit_of(OWNER)
    stranger = person_inquiry(node, OTHER_OWNER, {"unit_number": unit, "basis": "intent", "purpose": "TRANSACTION"})
    mine = person_inquiry(node, OWNER, {"unit_number": unit, "basis": "own_right"})
    owner = signed_in(browser, node, people, OWNER)
    page = owner.page
    for path in ("/owner/inquiries", f"/owner/units/{unit}"):
        page.goto(node.portal + path)
        who = page.locator(f"[data-testid=inquiry-{stranger}] td").nth(2 if path == "/owner/inquiries" else 1)
        assert who.inner_text() == "个人", path
        assert "身份认证" not in page.locator(f"[data-testid=inquiry-{stranger}]").inner_text(), path
        assert "您本人" in page.locator(f"[data-testid=inquiry-{mine}]").inner_text(), path
    owner.switch("en")
    assert "A private person" in page.locator(f"[data-testid=inquiry-{stranger}]").inner_text()
    assert "Identity Authority" not in page.locator(f"[data-testid=inquiry-{stranger}]").inner_text()
    owner.switch("zh-CN")


def test_a_pre_sale_buyer_sees_which_bank_looked_at_the_flat_they_are_buying(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    """domain.md §2: a buyer sees who queried their unit, though they hold a purchase notice, not the ownership."""
    flat = presale_flat(node, buyer=OWNER, serial=11, bank=None)
    looked = bank_inquiry(node, {"unit_number": flat.unit_number, "basis": "intent", "purpose": "PRE_LOAN"})
    owner = signed_in(browser, node, people, OWNER)
    page = owner.page
    for path in ("/owner/inquiries", f"/owner/units/{flat.unit_number}"):
        page.goto(node.portal + path)
        entry = page.locator(f"[data-testid=inquiry-{looked}]")
        assert entry.get_attribute("data-org") == "icbc-gz", path
        assert "工商银行" in entry.inner_text(), path
        assert page.locator("[data-testid=notice-units]").count() == 0, path
    assert page.locator("a[href*='/owner/consents?unit=']").count() == 0  # consents are the owners' to give
    owner.switch("en")
    assert "Pre-loan check" in page.locator(f"[data-testid=inquiry-{looked}]").inner_text()
    owner.switch("zh-CN")
