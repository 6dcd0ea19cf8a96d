"""In the browser: a staff member turns the authenticator on, then sign-in asks for its code; an owner uses a code.

The test reads the secret the page shows (as a person types it into an authenticator app) and
computes codes with pyotp. Codes are accepted once per 30-second step, so the test waits for the
next step where it needs a second code.
"""

from __future__ import annotations

import re
import time

import pyotp
from playwright.sync_api import Browser, expect

from portal.portal_people import Person, PortalNode

STAFF = "gz-court/org-admin"  # an account no other portal test signs in with


def fresh_code(secret: str, used: set[str]) -> str:
    """A code of a time step not used yet (waits for the next step when needed, at most 31 s)."""
    totp = pyotp.TOTP(secret)
    while totp.now() in used:
        time.sleep(0.5)
    used.add(totp.now())
    return totp.now()


def test_staff_turn_the_authenticator_on_and_then_need_its_code(browser: Browser, node: PortalNode,
                                                                  people: list[Person]) -> None:
    staff = Person(browser, node, STAFF, locale="en")
    people.append(staff)
    page = staff.sign_in()
    page.click("a[href$='/portal/account']")
    expect(page.locator("[data-testid=totp-status]")).to_contain_text("off")
    page.fill("#password", "not the password")  # a session alone does not set up a second factor
    page.click("form[action$='/account/totp/begin'] button")
    expect(page.locator("[role=alert]")).to_contain_text("Wrong password")
    assert page.locator("[data-testid=totp-secret]").count() == 0
    page.fill("#password", node.secret_for(STAFF))
    page.click("form[action$='/account/totp/begin'] button")
    secret = page.locator("[data-testid=totp-secret]").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    expect(page.locator(".qr svg")).to_be_visible()
    staff.shoot("account-totp-en")
    used: set[str] = set()
    page.fill("#code", fresh_code(secret, used))
    page.click("form[action$='/account/totp/confirm'] button")
    expect(page.locator("[data-testid=totp-status]")).to_contain_text("on")

    page.click("form[action$='/signout'] button")
    page = staff.sign_in()  # right password: the code page follows, not the desk
    page.wait_for_url(re.compile(r".*/portal/signin/code$"))
    page.fill("#code", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.click("form[action$='/signin/code'] button")
    expect(page.locator("[role=alert]")).to_contain_text("Wrong code")
    assert "/portal/signin/code" in page.url
    page.fill("#code", fresh_code(secret, used))
    page.click("form[action$='/signin/code'] button")
    expect(page.locator("[data-testid=who]")).to_contain_text(STAFF)

    page.goto(node.portal + "/account")
    page.fill("#code", fresh_code(secret, used))
    page.click("form[action$='/account/totp/off'] button")
    expect(page.locator("[data-testid=totp-status]")).to_contain_text("off")
    page.click("form[action$='/signout'] button")
    staff.sign_in().wait_for_url(re.compile(r".*/portal/(?!signin).*"))  # the password alone again


def test_an_owner_signs_in_with_a_one_time_code_that_then_stops_working(browser: Browser, node: PortalNode,
                                                                          people: list[Person]) -> None:
    owner = Person(browser, node, "gz-identity/person3", locale="zh-CN")
    people.append(owner)
    code = node.secret_for(owner.username)
    page = owner.sign_in(password=code)
    page.wait_for_url(re.compile(r".*/portal/owner$"))
    expect(page.locator("a[href$='/portal/account']")).to_have_count(0)  # owners have no password or TOTP
    page.click("form[action$='/signout'] button")
    page = owner.sign_in(password=code)
    expect(page.locator("[role=alert]")).to_contain_text("用户名或密码错误")
