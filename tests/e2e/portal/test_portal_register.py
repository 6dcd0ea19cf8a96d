"""The register page of a unit as of a height: an entry made later is absent at an earlier height and present at
the head, each entry links to the transactions it rests on, and only the registry and the regulator read it: courts,
banks and owners ask through an inquiry, which is recorded."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from portal.portal_people import Person, PortalNode, presale_flat, sign_here
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


def test_the_recorder_marks_a_lapsed_notice_from_the_register_page_and_others_only_see_it(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    """民法典 221: the registry ends a notice whose 90 days ran out; the page shows which ones have."""
    flat = presale_flat(node, buyer=min(node.owners), serial=7, bank="icbc-gz", clock_started_days_ago=120)
    assert flat.notice_certificate is not None
    reviewer = Person(browser, node, REVIEWER, locale="en")
    recorder = Person(browser, node, "gz-registry/recorder1")
    people.extend([reviewer, recorder])

    page = reviewer.sign_in()
    page.goto(f"{node.portal}/register/{flat.unit_number}")
    row = page.locator("[data-testid=notice-row]", has_text=flat.notice_certificate)
    assert "; not yet marked lapsed." in row.inner_text()
    assert row.locator("[data-testid=mark-lapsed]").count() == 0  # a reviewer does not record
    purchase = page.locator("[data-testid=notice-row]", has_text=flat.purchase_certificate)
    assert purchase.locator("[data-testid=notice-clock]").inner_text().strip() == "—"  # no clock before completion

    page = recorder.sign_in()
    page.goto(f"{node.portal}/register/{flat.unit_number}")
    row = page.locator("[data-testid=notice-row]", has_text=flat.notice_certificate)
    assert "尚未标记失效" in row.inner_text()
    recorder.shoot("register-notice-lapsed-zh-CN")
    row.locator("[data-testid=mark-lapsed]").click()
    tx_id = sign_here(recorder)
    assert page.url.split("?")[0].endswith(f"/register/{flat.unit_number}")
    row = page.locator("[data-testid=notice-row]", has_text=flat.notice_certificate)
    assert "历史" in row.inner_text()
    assert row.locator("[data-testid=notice-clock]").inner_text().strip() == "—"
    assert row.locator("[data-testid=mark-lapsed]").count() == 0
    assert page.locator(f"[data-testid=entry-tx][href$='{tx_id}']").count() >= 1

    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf is not None
    gone = page.request.post(f"{node.portal}/register/{flat.unit_number}/notices/IMP-none/lapse", form={"csrf": csrf})
    assert gone.status == 404
    csrf = reviewer.page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf is not None
    refused = reviewer.page.request.post(
        f"{node.portal}/register/{flat.unit_number}/notices/IMP-YD-{flat.unit_number}-1/lapse", form={"csrf": csrf})
    assert refused.status == 403  # only the recorder prepares it; the contract would refuse anyone else too
