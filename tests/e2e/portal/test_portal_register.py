"""The register page of a unit as of a height: an entry made later is absent at an earlier height and present at
the head, each entry links to the transactions it rests on, and only the registry and the regulator read it: courts,
banks and owners ask through an inquiry, which is recorded."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from portal.portal_people import Person, PortalNode
from portal.test_portal_court import lift, record_seizure

COURT = "gz-court/court1"
REVIEWER = "gz-registry/reviewer1"
UNIT = "440114026003GB00001F00010023"
ORDER = "(2026)粤0106执保9号"


def test_the_register_at_an_earlier_height_does_not_show_a_later_seizure_and_the_head_does(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    court = Person(browser, node, COURT)
    reviewer = Person(browser, node, REVIEWER)
    auditor = Person(browser, node, "gz-regulator/auditor1", locale="en")
    people.extend([court, reviewer, auditor])
    court.sign_in()
    seizure_tx = record_seizure(court, UNIT, ORDER)
    page = reviewer.sign_in()
    page.goto(f"{node.portal}/tx/{seizure_tx}")
    height = int(page.inner_text("[data-testid=tx-height]"))
    assert page.inner_text("[data-testid=tx-command]") == "seizure.register"

    page.goto(f"{node.portal}/register/{UNIT}")
    assert page.locator("[data-testid=seizure-row]", has_text=ORDER).count() == 1
    head = int(page.inner_text("[data-testid=as-of-height]").split()[0])
    assert head >= height

    page.fill("#height", str(height - 1))
    page.click("#height-form button[type=submit]")
    assert page.url.endswith(f"?height={height - 1}")
    assert int(page.inner_text("[data-testid=as-of-height]")) == height - 1
    assert page.locator("[data-testid=seizure-row]", has_text=ORDER).count() == 0
    assert page.locator("[data-testid=ownership-row]").count() >= 1
    reviewer.shoot("register-earlier-height-zh-CN")

    page.goto(f"{node.portal}/register/{UNIT}?height={height}")
    row = page.locator("[data-testid=seizure-row]", has_text=ORDER)
    assert row.count() == 1
    row.locator("[data-testid=entry-tx]").first.click()
    page.wait_for_url(f"**/portal/tx/{seizure_tx}")
    assert page.locator("[data-testid=proof-verified]").count() == 1

    auditor.sign_in()
    auditor.page.goto(f"{node.portal}/register/{UNIT}")
    assert auditor.page.locator("[data-testid=seizure-row]", has_text=ORDER).count() == 1
    auditor.shoot("register-head-en")
    lift(court, seizure_tx, ORDER + "之一")  # later tests may file on this unit


def test_a_height_that_is_not_a_block_is_refused_on_the_field(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    reviewer = Person(browser, node, "gz-registry/reviewer1", locale="en")
    people.append(reviewer)
    page = reviewer.sign_in()
    page.click("header a[href$='/portal/register']")
    page.fill("#unit", "4401")
    page.click("form[action$='/portal/register'] button[type=submit]")
    assert page.inner_text("#unit-error") == "Enter the unit's 28-character number."
    page.fill("#unit", UNIT)
    page.click("form[action$='/portal/register'] button[type=submit]")
    page.wait_for_url(f"**/portal/register/{UNIT}")
    # superscript two passes str.isdigit but not int; an Arabic-Indic one passes both; int refuses 5000 digits
    for height in ("99999999", "0", "-1", "1.5", "²", "١", "9" * 5000):
        response = page.goto(f"{node.portal}/register/{UNIT}?height={height}")
        assert response is not None
        assert response.status == 422, height
        assert page.inner_text("#height-error") == "Enter a block height between 1 and the head."
    response = page.goto(f"{node.portal}/register/440114026003GB00001F99999999")
    assert response is not None
    assert response.status == 404


@pytest.mark.parametrize("username", ["icbc-gz/operator1", "gz-identity/person1", COURT])
def test_banks_owners_and_courts_do_not_read_the_register_page_or_its_transactions(
        browser: Browser, node: PortalNode, people: list[Person], username: str) -> None:
    person = Person(browser, node, username)
    people.append(person)
    person.sign_in()
    reviewer = Person(browser, node, REVIEWER)
    people.append(reviewer)
    reviewer.sign_in()
    reviewer.page.goto(f"{node.portal}/register/{UNIT}")
    tx = reviewer.page.locator("[data-testid=entry-tx]").first.get_attribute("href")
    assert tx is not None
    for path in (f"/register/{UNIT}", f"/register/{UNIT}?height=1", "/register", tx.removeprefix("/portal")):
        response = person.page.goto(node.portal + path)
        assert response is not None
        assert response.status in {403, 404}, path
        assert UNIT not in person.page.inner_text("main")
    assert person.page.locator("header a[href$='/portal/register']").count() == 0
