"""A rule violation filed through the form is shown with its code and both languages' texts, and nothing is filed."""

from __future__ import annotations

import re

from playwright.sync_api import Browser

from portal.portal_people import SIGN_PAGE, Person, PortalNode, fill_filing, open_filing

OWNER = "gz-identity/person3"


def test_a_debt_term_that_ends_before_it_starts_is_refused_on_the_page_with_its_rule_code(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    clerk = Person(browser, node, "icbc-gz/operator1")
    people.append(clerk)
    clerk.sign_in()
    rows = clerk.page.locator("table.cases tbody tr", has_text=node.unit_of(OWNER))
    before = rows.count()
    open_filing(clerk, node.unit_of(OWNER))
    fill_filing(clerk, contract="LOAN-PORTAL-RULE", term=("2046-11-30", "2026-12-01"))
    clerk.page.wait_for_url(SIGN_PAGE)
    failure = clerk.page.inner_text("[data-testid=rule-failure]")
    code = failure.split()[0]
    assert re.fullmatch(r"V\d+_[A-Z_]+", code), failure
    chinese = clerk.page.inner_text("[data-testid=rule-failure] [lang=zh-CN]")
    english = clerk.page.inner_text("[data-testid=rule-failure] [lang=en]")
    assert re.search(r"[\u4e00-\u9fff]", chinese)
    assert re.search(r"[a-z]{3}", english)
    assert clerk.page.locator("[data-testid=sign]").count() == 0
    clerk.shoot("rule-failure-zh-CN")
    clerk.page.click("form[action$='/sign/cancel'] button")
    clerk.page.goto(node.portal + "/bank")
    assert rows.count() == before
