"""Registry decisions with reasons: intake does not accept listing every missing item; the reviewer refuses."""

from __future__ import annotations

from playwright.sync_api import Browser

from portal.portal_people import Person, PortalNode, fill_filing, open_filing, sign_here, take

OWNER = "gz-identity/person4"


def confirmed_case(browser: Browser, node: PortalNode, people: list[Person], contract: str) -> str:
    clerk, owner, approver = (Person(browser, node, name) for name in
                              ("icbc-gz/operator1", OWNER, "icbc-gz/approver1"))
    people.extend([clerk, owner, approver])
    clerk.sign_in()
    open_filing(clerk, node.unit_of(OWNER))
    fill_filing(clerk, contract=contract)
    case_id = sign_here(clerk)
    owner.sign_in()
    take(owner, case_id, "confirm")
    approver.sign_in()
    take(approver, case_id, "confirm")
    return case_id


def test_intake_lists_every_missing_item_and_the_reviewer_refuses_with_a_ground(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    case_id = confirmed_case(browser, node, people, "LOAN-PORTAL-NA")
    intake = Person(browser, node, "gz-registry/intake1")
    people.append(intake)
    intake.sign_in()
    page = intake.page
    page.goto(f"{node.portal}/cases/{case_id}")
    page.click(f"form[action$='/{case_id}/not-accept'] button")
    assert page.locator("[role=alert]").inner_text().startswith("请勾选")  # nothing ticked: nothing prepared
    page.goto(f"{node.portal}/cases/{case_id}")
    page.check("input[name=missing_item][value=POWER_OF_ATTORNEY]")
    page.check("input[name=missing_item][value=IDENTITY]")
    page.fill("#text-not-accept", "授权委托书未签章；身份证明复印件不清晰")
    page.click(f"form[action$='/{case_id}/not-accept'] button")
    assert "POWER_OF_ATTORNEY, IDENTITY" in page.inner_text("main")
    sign_here(intake)
    assert page.inner_text("[data-testid=state]").strip() == "不予受理"
    assert page.inner_text("[data-testid=missing]").count("授权委托书未签章") == 2  # each item with the note

    second = confirmed_case(browser, node, people, "LOAN-PORTAL-RF")
    take(intake, second, "accept")
    reviewer = Person(browser, node, "gz-registry/reviewer2")
    people.append(reviewer)
    reviewer.sign_in()
    reviewer.page.goto(f"{node.portal}/cases/{second}")
    reviewer.page.select_option("#reason_code", "OWNERSHIP_DISPUTE")
    reviewer.page.fill("#text-refuse", "权属存在争议，法院已受理确权诉讼")
    reviewer.page.click(f"form[action$='/{second}/refuse'] button")
    assert "存在权属争议" in reviewer.page.inner_text("main")
    sign_here(reviewer)
    assert reviewer.page.inner_text("[data-testid=state]").strip() == "不予登记"
    assert reviewer.page.inner_text("[data-testid=reasons]") == "存在权属争议: 权属存在争议，法院已受理确权诉讼"
    reviewer.shoot("case-refused-zh-CN")
