"""Security of the portal in chromium: CSRF, case visibility across banks, escaping, lockout, double submit.

Each test signs in its own people; the filing here uses person2's unit (the flow test uses person1's).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser

from portal.portal_people import Person, PortalNode, fill_filing, open_filing, sign_here

OWNER = "gz-identity/person2"
SCRIPT = '<script>alert("xss")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def filed(browser: Browser, node: PortalNode) -> str:
    """A case filed by icbc-gz's clerk with script in a free-text field, its sign button double-clicked."""
    clerk = Person(browser, node, "icbc-gz/operator1")
    try:
        clerk.sign_in()
        open_filing(clerk, node.unit_of(OWNER))
        fill_filing(clerk, contract="LOAN-PORTAL-XSS", scope=SCRIPT)
        case_id = sign_here(clerk, double_click=True)
        assert clerk.dialogs == []
        return case_id
    finally:
        clerk.close()


def test_a_form_post_without_a_valid_csrf_token_is_refused(browser: Browser, node: PortalNode, people: list[Person],
                                                           filed: str) -> None:
    owner = Person(browser, node, OWNER)
    people.append(owner)
    owner.sign_in()
    forms: list[dict[str, str | float | bool]] = [{}, {"csrf": "forged-token"}]
    for form in forms:
        answer = owner.context.request.post(f"{node.portal}/cases/{filed}/confirm", form=form, max_redirects=0)
        assert answer.status == 403
        assert "此表单已失效" in answer.text()
    owner.page.goto(f"{node.portal}/cases/{filed}")
    assert owner.page.locator("form[action$='/confirm']").count() == 1  # still waiting: nothing was prepared


def test_a_clerk_of_another_bank_sees_not_found_for_a_case_url(browser: Browser, node: PortalNode,
                                                               people: list[Person], filed: str) -> None:
    other = Person(browser, node, "ccb-gz/operator1")
    people.append(other)
    other.sign_in()
    answer = other.page.goto(f"{node.portal}/cases/{filed}")
    assert answer is not None
    assert answer.status == 404
    hidden = other.page.inner_text("main")
    assert filed not in hidden
    assert "未找到" in hidden
    unknown = other.page.goto(f"{node.portal}/cases/{'0' * 64}")
    assert unknown is not None
    assert unknown.status == 404
    assert other.page.inner_text("main") == hidden  # a hidden case and a missing one look the same
    pdf = other.context.request.get(f"{node.portal}/cases/{filed}/certificate.pdf")
    assert pdf.status == 404


def test_script_typed_into_a_text_field_is_shown_as_text(browser: Browser, node: PortalNode, people: list[Person],
                                                         filed: str) -> None:
    clerk = Person(browser, node, "icbc-gz/operator1")
    people.append(clerk)
    clerk.sign_in()
    clerk.page.goto(f"{node.portal}/cases/{filed}")
    assert SCRIPT in clerk.page.inner_text("main")
    assert clerk.page.locator("main script, main img").count() == 0
    assert clerk.dialogs == []
    csp = clerk.page.goto(f"{node.portal}/cases/{filed}")
    assert csp is not None
    policy = csp.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    cookie = next(c for c in clerk.context.cookies() if c["name"] == "ec_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert cookie["expires"] > 0


def test_a_double_clicked_submit_files_once(browser: Browser, node: PortalNode, people: list[Person],
                                            filed: str) -> None:
    clerk = Person(browser, node, "icbc-gz/operator1")
    people.append(clerk)
    clerk.sign_in()
    unit = node.unit_of(OWNER)
    rows = clerk.page.locator("table.cases tbody tr", has_text=unit)
    assert rows.count() == 1
    assert filed[:12] in rows.inner_text()


def test_repeated_wrong_passwords_lock_the_account(browser: Browser, node: PortalNode, people: list[Person]) -> None:
    locked = Person(browser, node, "poly-developer/org-admin")  # an account no other portal test signs in with
    people.append(locked)
    for _ in range(4):
        locked.sign_in(password="not-the-password")
        assert "用户名或密码错误" in locked.page.inner_text("[role=alert]")
    locked.sign_in(password="not-the-password")
    assert "已被锁定" in locked.page.inner_text("[role=alert]")
    locked.sign_in()  # the right password no longer helps while locked
    assert "已被锁定" in locked.page.inner_text("[role=alert]")
    assert re.search(r"/portal/signin$", locked.page.url)
