"""Registry decisions with reasons: intake does not accept listing every missing item; the reviewer refuses.

What a registry reviewer of the portal found: one note copied onto every missing item, the same five
items for every business type, an "other" item saying nothing, raw codes on the confirmation page, a
note the form let through refused there; a refusal signed with a ground nobody chose, its text lost
on "Cancel", and two tabs' confirmations silently dropping each other.
"""

from __future__ import annotations

from playwright.sync_api import Browser, Page

from portal.portal_people import SIGN_PAGE, Person, PortalNode, fill_filing, open_filing, sign_here, take

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


def accepted_case(browser: Browser, node: PortalNode, people: list[Person], contract: str) -> str:
    case_id = confirmed_case(browser, node, people, contract)
    intake = Person(browser, node, "gz-registry/intake1")
    people.append(intake)
    intake.sign_in()
    take(intake, case_id, "accept")
    return case_id


def prepare_refusal(page: Page, case_url: str, ground: str, reasons: str) -> None:
    """In one tab: the case's refusal form filled in and submitted, up to its confirmation page."""
    page.goto(case_url)
    page.select_option("#reason_code", ground)
    page.fill("#text-refuse", reasons)
    page.click(f"form[action$='{case_url.rsplit('/portal', 1)[1]}/refuse'] button")
    page.wait_for_url(SIGN_PAGE)


def sign_on(page: Page) -> str:
    """On a confirmation page (of any tab): sign, and wait for the case saying it committed."""
    page.wait_for_url(SIGN_PAGE)
    tx_id = page.inner_text("[data-testid=tx-id]").strip()
    page.click("[data-testid=sign]")
    page.wait_for_url(f"**done={tx_id}")
    return tx_id


def test_intake_lists_each_missing_item_of_the_business_type_with_its_own_text(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    case_id = confirmed_case(browser, node, people, "LOAN-PORTAL-NA")
    intake = Person(browser, node, "gz-registry/intake1")
    people.append(intake)
    intake.sign_in()
    page = intake.page
    page.goto(f"{node.portal}/cases/{case_id}")
    offered = page.locator("input[name=missing_item]").evaluate_all("boxes => boxes.map(b => b.value)")
    assert offered == ["APPLICATION_FORM", "POWER_OF_ATTORNEY", "LOAN_CONTRACT", "OTHER"]  # what this type needs
    assert page.get_attribute("#missing-text-LOAN_CONTRACT", "maxlength") == "500"  # the contract's limit
    assert "每项最多 500 个字" in page.inner_text(f"form[action$='/{case_id}/not-accept']")

    page.click(f"form[action$='/{case_id}/not-accept'] button")
    assert page.inner_text("#missing_item-error") == "请勾选所有缺少或不符合要求的材料。"  # nothing prepared

    # An "other" item without its text, and a note over the limit (past the browser's maxlength) come back.
    page.check("input[name=missing_item][value=LOAN_CONTRACT]")
    page.check("input[name=missing_item][value=OTHER]")
    page.evaluate("() => document.querySelector('#missing-text-LOAN_CONTRACT').removeAttribute('maxlength')")
    page.fill("#missing-text-LOAN_CONTRACT", "缺" * 600)
    page.click(f"form[action$='/{case_id}/not-accept'] button")
    assert page.locator("[data-testid=form-problem]").is_visible()
    assert page.inner_text("#missing_text_LOAN_CONTRACT-error") == "最多 500 个字：这段文字有 600 个字。"
    assert page.inner_text("#missing_text_OTHER-error") == "请写明这项材料缺少什么或哪里不符合要求。"
    assert page.input_value("#missing-text-LOAN_CONTRACT") == "缺" * 600  # kept, never cut short
    assert page.is_checked("input[name=missing_item][value=OTHER]")

    page.fill("#missing-text-LOAN_CONTRACT", "借款合同缺少第3页")
    page.fill("#missing-text-OTHER", "缺少抵押物清单")
    page.check("input[name=missing_item][value=POWER_OF_ATTORNEY]")
    page.fill("#missing-text-POWER_OF_ATTORNEY", "授权委托书未签章")
    page.click(f"form[action$='/{case_id}/not-accept'] button")
    page.wait_for_url(SIGN_PAGE)
    summary = page.inner_text("main")
    assert "授权委托书\n授权委托书未签章" in summary
    assert "借款合同\n借款合同缺少第3页" in summary
    assert "其他材料\n缺少抵押物清单" in summary
    assert "LOAN_CONTRACT" not in summary
    intake.switch("en")
    summary = page.inner_text("main")
    assert "Loan contract\n借款合同缺少第3页" in summary
    assert "LOAN_CONTRACT" not in summary
    intake.switch("zh-CN")
    sign_here(intake)
    assert page.inner_text("[data-testid=state]").strip() == "不予受理"
    assert page.locator("[data-testid=missing] li").all_inner_texts() == [
        "授权委托书: 授权委托书未签章", "借款合同: 借款合同缺少第3页", "其他材料: 缺少抵押物清单"]


def test_a_refusal_needs_a_chosen_ground_and_cancel_gives_the_reasons_back(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    case_id = accepted_case(browser, node, people, "LOAN-PORTAL-RF")
    reviewer = Person(browser, node, "gz-registry/reviewer2")
    people.append(reviewer)
    reviewer.sign_in()
    page = reviewer.page
    page.goto(f"{node.portal}/cases/{case_id}")
    assert page.input_value("#reason_code") == ""  # no ground chosen for the reviewer
    assert page.get_attribute("#text-refuse", "maxlength") == "2000"
    page.fill("#text-refuse", "权属存在争议，法院已受理确权诉讼")
    page.click(f"form[action$='/{case_id}/refuse'] button")
    assert page.inner_text("#reason_code-error") == "请选择不予登记的理由。"  # nothing signed as "违法"
    assert page.input_value("#text-refuse") == "权属存在争议，法院已受理确权诉讼"

    page.select_option("#reason_code", "OWNERSHIP_DISPUTE")
    page.click(f"form[action$='/{case_id}/refuse'] button")
    page.wait_for_url(SIGN_PAGE)
    assert "存在权属争议" in page.inner_text("main")
    page.click("form[action$='/sign/cancel'] button")
    page.wait_for_url(f"**/cases/{case_id}?draft=*")
    assert page.inner_text("[data-testid=form-returned]").startswith("已取消：未签名任何内容。")
    assert page.input_value("#text-refuse") == "权属存在争议，法院已受理确权诉讼"
    assert page.input_value("#reason_code") == "OWNERSHIP_DISPUTE"
    assert page.inner_text("[data-testid=state]").strip() == "已受理，审核中"

    page.click(f"form[action$='/{case_id}/refuse'] button")
    sign_here(reviewer)
    assert page.inner_text("[data-testid=state]").strip() == "不予登记"
    assert page.inner_text("[data-testid=reasons]") == "存在权属争议: 权属存在争议，法院已受理确权诉讼"
    reviewer.shoot("case-refused-zh-CN")


def test_two_tabs_each_sign_their_own_and_a_replaced_one_says_so_with_its_text_back(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    first = accepted_case(browser, node, people, "LOAN-PORTAL-TAB-A")
    second = accepted_case(browser, node, people, "LOAN-PORTAL-TAB-B")
    reviewer = Person(browser, node, "gz-registry/reviewer2")
    people.append(reviewer)
    reviewer.sign_in()
    one, two = reviewer.page, reviewer.context.new_page()

    prepare_refusal(one, f"{node.portal}/cases/{first}", "LEGAL_BAR", "法律禁止登记的情形")
    two.goto(f"{node.portal}/cases/{second}")
    two.fill("#text-hold", "需实地查看房屋现状")
    two.click(f"form[action$='/{second}/hold'] button")
    two.wait_for_url(SIGN_PAGE)
    one.reload()  # a reload (or a language switch) shows this tab's own action again, not the newest one
    assert "法律禁止登记的情形" in one.inner_text("main")
    assert "需实地查看房屋现状" not in one.inner_text("main")
    sign_on(one)
    sign_on(two)
    assert one.inner_text("[data-testid=state]").strip() == "不予登记"
    assert one.inner_text("[data-testid=reasons]") == "法律、行政法规禁止登记: 法律禁止登记的情形"
    assert two.inner_text("[data-testid=state]").strip() == "中止"

    # Two actions on the same case: the later one replaces the first, whose tab says so and keeps its text.
    prepare_refusal(one, f"{node.portal}/cases/{second}", "OTHER", "申请材料前后矛盾")
    two.goto(f"{node.portal}/cases/{second}")
    two.click(f"form[action$='/{second}/resume'] button")
    two.wait_for_url(SIGN_PAGE)
    one.click("[data-testid=sign]")
    one.wait_for_url(f"**/cases/{second}?draft=*")
    assert one.inner_text("[data-testid=form-returned]").startswith("未签名任何内容：您稍后")
    assert one.input_value("#text-refuse") == "申请材料前后矛盾"
    assert one.input_value("#reason_code") == "OTHER"
    assert one.inner_text("[data-testid=state]").strip() == "中止"  # nothing signed
    sign_on(two)
    assert two.inner_text("[data-testid=state]").strip() == "已受理，审核中"

    # Replaced by a step that then closed the case: the first tab's text is still shown, not lost.
    prepare_refusal(one, f"{node.portal}/cases/{second}", "OTHER", "第一个标签页的理由")
    prepare_refusal(two, f"{node.portal}/cases/{second}", "RIGHT_EXPIRED", "第二个标签页的理由")
    sign_on(two)
    one.click("[data-testid=sign]")
    one.wait_for_url(f"**/cases/{second}?draft=*")
    assert one.inner_text("[data-testid=form-returned]").startswith("未签名任何内容，且本案件已不能再进行这一步。")
    assert one.inner_text("[data-testid=returned-text]") == "第一个标签页的理由"
    assert one.inner_text("[data-testid=reasons]").endswith(": 第二个标签页的理由")
