"""Attacks on the portal found in the security review, each against the real node and chromium's cookies.

* A session left open (or stolen) must not replace the account's authenticator: turning the factor
  off needs a current code, and enrolling a new secret over the one in force would be the same
  removal by another road, so it is refused while the factor is on.
* A certificate PDF is rendered once and kept (every copy handed out is the same file); the
  verification address in its QR code must not come from the request's ``Host`` header, or the
  first person to download it could point every later copy at a site of their choosing.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pyotp
from playwright.sync_api import Browser, expect

from estatechain.certificates.qr import parse_qr
from portal.portal_people import Person, PortalNode, fill_filing, open_filing, sign_here, signed_in, take

STAFF = "ccb-gz/org-admin"  # an account no other portal test signs in with
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SECRET = re.compile(r'data-testid="totp-secret">([A-Z2-7]+)<')


def _next_code(secret: str, used: set[str]) -> str:
    """A code of a time step not used yet (codes are accepted once per 30-second step)."""
    totp = pyotp.TOTP(secret)
    while totp.now() in used:
        time.sleep(0.5)
    used.add(totp.now())
    return totp.now()


def test_an_open_session_cannot_swap_the_authenticator_in_force_for_another(browser: Browser, node: PortalNode,
                                                                            people: list[Person]) -> None:
    staff = Person(browser, node, STAFF, locale="en")
    people.append(staff)
    page = staff.sign_in()
    page.goto(node.portal + "/account")
    page.fill("#password", node.secret_for(STAFF))
    page.click("form[action$='/account/totp/begin'] button")
    secret = page.locator("[data-testid=totp-secret]").inner_text().strip()
    used: set[str] = set()
    page.fill("#code", _next_code(secret, used))
    page.click("form[action$='/account/totp/confirm'] button")
    expect(page.locator("[data-testid=totp-status]")).to_contain_text("on")

    # whoever holds the session (no code) asks for a new secret and confirms it with their own app
    token = CSRF.search(page.content())
    assert token is not None
    begun = page.request.post(node.portal + "/account/totp/begin",
                              form={"csrf": token.group(1), "password": node.secret_for(STAFF)})
    assert begun.status == 409, begun.status
    assert SECRET.search(begun.text()) is None, "a new secret was handed out while the factor is on"
    assert "turn it off first" in begun.text()
    page.goto(node.portal + "/account")
    expect(page.locator("[data-testid=totp-status]")).to_contain_text("on")

    # the factor in force is still the one the owner set up: sign-in takes its code
    page.click("form[action$='/signout'] button")
    page = staff.sign_in()
    page.wait_for_url(re.compile(r".*/portal/signin/code$"))
    page.fill("#code", _next_code(secret, used))
    page.click("form[action$='/signin/code'] button")
    expect(page.locator("[data-testid=who]")).to_contain_text(STAFF)
    page.goto(node.portal + "/account")  # leave the account as found: later tests sign in with the password only
    page.fill("#code", _next_code(secret, used))
    page.click("form[action$='/account/totp/off'] button")
    expect(page.locator("[data-testid=totp-status]")).to_contain_text("off")


def _qr_of(pdf: bytes) -> str:
    """What the certificate PDF's QR code holds, read from the rendered page as a phone would."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "certificate.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "150", "-png", str(path), str(Path(scratch) / "page")], check=True)
        read = subprocess.run(["zbarimg", "-q", "--raw", str(Path(scratch) / "page-1.png")], capture_output=True,
                              text=True, check=True)
    return read.stdout.strip()


def test_the_certificate_pdf_qr_code_ignores_a_crafted_host_header(browser: Browser, node: PortalNode,
                                                                    people: list[Person]) -> None:
    clerk = signed_in(browser, node, people, "icbc-gz/operator1")
    owner_handle = "gz-identity/person1"
    open_filing(clerk, node.unit_of(owner_handle))
    fill_filing(clerk, contract="ICBC-HOST-0001", amount="700000")
    case_id = sign_here(clerk)
    take(signed_in(browser, node, people, owner_handle), case_id, "confirm")
    take(signed_in(browser, node, people, "icbc-gz/approver1"), case_id, "confirm")
    take(signed_in(browser, node, people, "gz-registry/intake1"), case_id, "accept")
    take(signed_in(browser, node, people, "gz-registry/reviewer1"), case_id, "review")
    take(signed_in(browser, node, people, "gz-registry/recorder2"), case_id, "record")
    take(signed_in(browser, node, people, "gz-registry/issuer1"), case_id, "issue")

    # the clerk's bank downloads the PDF first, from a script that sends a Host of its choosing
    cookie = next(c["value"] for c in clerk.context.cookies() if c["name"] == "ec_session")
    with httpx.Client(cookies={"ec_session": cookie}) as http:
        crafted = http.get(f"{node.portal}/cases/{case_id}/certificate.pdf", headers={"Host": "evil.example"})
    assert crafted.status_code == 200, crafted.text[:300]
    assert "evil.example" not in _qr_of(crafted.content)
    # everyone after gets the same kept file, whose QR code names this node
    later = clerk.context.request.get(f"{node.portal}/cases/{case_id}/certificate.pdf")
    assert later.status == 200
    assert parse_qr(_qr_of(later.body())).base_url == node.url
