"""A maximum-amount mortgage's 债权确定期间 on the owner's register page and in a bank's inquiry answer, in chromium.

A maximum-amount mortgage (最高额抵押) secures the claims arising within its determination period
(民法典 420-423); the portal's filing form asks for that period, not a debt term. The owner's
register page and the registry-signed inquiry answer printed only the debt term, so such a
mortgage showed "—" where the one period that defines what it secures belongs (resident's review
item 8). Here the registry enters a flat owned by a dev person with such a mortgage held by CCB;
the owner's page and CCB's own-right inquiry answer both show the period, labelled, in both languages.
"""

from __future__ import annotations

import time
from typing import Final

from playwright.sync_api import Browser

from estatechain.canonical import JSONValue
from estatechain.cli.demo_world import new_flat
from estatechain.testing.register import IDENTITY_ORG, PARTY_ID_KEY
from portal.portal_people import (
    IMPORTER,
    SIGN_PAGE,
    Person,
    PortalNode,
    member_banks,
    sign_here,
    signed_in,
    submit_as,
)

OWNER: Final = "gz-identity/person2"
CLERK: Final = "ccb-gz/operator1"
PERIOD: Final = ("2026-01-01", "2030-12-31")


def flat_with_maximum_mortgage(node: PortalNode, *, owner: str, bank: str, serial: int) -> str:
    """The registry enters a surveyed flat ``owner`` owns with a maximum-amount mortgage ``bank`` holds; its number.

    The mortgage states a determination period and no debt term, as the portal's form files one.
    It carries no certificate number, so other tests' picks of a bank's certified mortgages
    (``bank_mortgages``) never land on it.
    """
    key = (node.directory / "orgs" / IDENTITY_ORG / PARTY_ID_KEY).read_bytes()
    flat = new_flat(key, int(time.time()) * 100 + serial)
    unit = flat.surveyed
    person = node.owners[owner]
    owner_ref: dict[str, JSONValue] = {"party_id": str(person["party_id"]), "record_ref": str(person["record_ref"])}
    registered = int(time.time() * 1000) - 86_400_000
    submit_as(node, IMPORTER, "register.import", {
        "units": [{"unit_number": unit, "kind": "surveyed", "use": "residential", "area_centi_m2": 8912,
                   "location_code": flat.location_code, "predecessor": None, "successor": None}],
        "ownerships": [{"right_id": f"OWN-{unit}", "unit_number": unit, "title_number": f"IMP-TITLE-{unit}",
                        "form": "sole", "holders": [{**owner_ref, "share_numerator": 1, "share_denominator": 1}],
                        "agreed_threshold": None, "successor": None, "registered_ms": registered}],
        "mortgages": [{
            "mortgage_id": f"IMP-{unit}-1", "unit_number": unit, "business_no": f"IMP-{unit}-1",
            "mortgagors": [owner_ref], "mortgagees": [{"party_id": member_banks(node)[bank]}], "debtor": None,
            "method": 2, "property_type": 2, "registration_type": "100", "cause": "LOAN", "scope": "详见抵押合同",
            "contract_numbers": [f"ZGE-PORTAL-{serial}"], "transfer_restricted": False,
            "transfer_restriction_text": None, "secured_principal": None,
            "max_claim": {"fen": 300_000_000, "currency": "CNY"}, "max_claim_basis": None, "debt_term": None,
            "determination_period": {"start": PERIOD[0], "end": PERIOD[1]}, "rank": 1,
            "county_code": unit[:6], "registry": "gz-registry", "registered_ms": registered,
            "certificate_number": None, "recorder": None, "notes": None, "cancellation": None,
            "derived_from": None}],
        "notices": [], "seizures": []})
    return unit


def test_a_maximum_amount_mortgage_shows_its_determination_period_to_the_owner_and_in_the_answer(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    unit = flat_with_maximum_mortgage(node, owner=OWNER, bank="ccb-gz", serial=81)
    period = f"{PERIOD[0]} – {PERIOD[1]}"

    owner = signed_in(browser, node, people, OWNER)
    owner.page.goto(f"{node.portal}/owner/units/{unit}")
    row = owner.page.locator("[data-testid=mortgages] tbody tr", has_text="300万元")
    assert row.locator("[data-testid=determination-period]").inner_text() == f"债权确定期间 {period}"
    owner.switch("en")
    assert f"Determination period {period}" in owner.page.inner_text("[data-testid=mortgages]")
    owner.switch("zh-CN")

    clerk = signed_in(browser, node, people, CLERK)
    page = clerk.page
    page.goto(node.portal + "/inquiries")
    page.fill("#unit_number", unit)
    page.select_option("#purpose", "POST_LOAN")
    page.check("#basis-own_right")
    page.click("#inquiry button[type=submit]")
    page.wait_for_url(SIGN_PAGE)
    sign_here(clerk)
    assert page.locator("[data-testid=answer]").get_attribute("data-answer") == "FULL"
    answered = page.locator("[data-testid=answer-mortgages] tbody tr", has_text="300万元")
    assert answered.locator("[data-testid=determination-period]").inner_text() == f"债权确定期间 {period}"
    clerk.switch("en")
    assert f"Determination period {period}" in page.inner_text("[data-testid=answer-mortgages]")
    clerk.switch("zh-CN")
