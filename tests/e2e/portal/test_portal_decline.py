"""An owner declines an application that names them: the case ends DECLINED and offers no further step."""

from __future__ import annotations

from playwright.sync_api import Browser

from portal.portal_people import Person, PortalNode, fill_filing, open_filing, sign_here, take

OWNER = "gz-identity/person4"


def test_an_owner_declines_and_the_case_ends_declined_for_the_bank_too(browser: Browser, node: PortalNode,
                                                                       people: list[Person]) -> None:
    clerk = Person(browser, node, "icbc-gz/operator1")
    owner = Person(browser, node, OWNER, locale="en")
    people.extend([clerk, owner])
    clerk.sign_in()
    open_filing(clerk, node.unit_of(OWNER))
    fill_filing(clerk, contract="LOAN-PORTAL-DECLINE", amount="850000.50")
    assert "850,000.50元" in clerk.page.inner_text("main")
    case_id = sign_here(clerk)
    owner.sign_in()  # a browser asking for English first gets English; the account keeps what it chose
    assert "CNY 850,000.50" in owner.page.inner_text("main")
    take(owner, case_id, "decline")
    assert owner.page.inner_text("[data-testid=state]").strip() == "Declined"
    assert owner.page.locator("form[action$='/confirm']").count() == 0
    clerk.page.goto(f"{node.portal}/cases/{case_id}")
    assert clerk.page.inner_text("[data-testid=state]").strip() == "已拒绝"
