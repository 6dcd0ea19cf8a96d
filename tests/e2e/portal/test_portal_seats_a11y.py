"""axe-core on the owner's, the public's and the regulator's pages in the states no link crawl reaches.

``test_portal_accessibility.py`` crawls each desk as its links lead, so a page is checked in the
state a fresh link shows: an empty form, no lookup. Residents and auditors also meet these pages
with a form's field errors, a found certificate's status, a pasted QR code's error and a
consistency size out of range; each is audited here in both languages.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from portal.portal_people import PortalNode
from portal.test_portal_accessibility import AXE, Violation, audit, opened, sign_in

OWNER = "gz-identity/person4"
AUDITOR = "gz-regulator/auditor1"


def legacy_certificate(node: PortalNode) -> str:
    """A registration certificate number of the imported register (one of the dev owners' mortgages)."""
    for entry in node.owners.values():
        mortgages = entry.get("mortgages")
        if isinstance(mortgages, list) and mortgages:
            return str(mortgages[0]["certificate_number"])
    raise AssertionError("no dev owner's unit carries a mortgage")


def owner_states(page: Page, node: PortalNode) -> None:
    """The consent form sent with a past date: the page with its field error."""
    page.goto(node.portal + "/owner/consents")
    page.fill("#expires_on", "2001-01-01")
    page.click("#consent button[type=submit]")
    page.wait_for_selector("#expires_on-error")


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_pages_in_their_other_states_pass_axe(browser: Browser, node: PortalNode, locale: str) -> None:
    assert AXE.exists(), f"axe-core is missing at {AXE}: run scripts/setup"
    script = Path(AXE)
    violations: list[Violation] = []
    with opened(browser, node, locale) as page:
        page.goto(f"{node.portal}/public/certificate?number={legacy_certificate(node)}")
        page.wait_for_selector("[data-testid=certificate-status]")
        violations += audit(page, script, locale)
        page.fill("#qr", "not a QR code")
        page.click("#verify-qr button[type=submit]")
        page.wait_for_selector("#qr-error")
        violations += audit(page, script, locale)
    with opened(browser, node, locale) as page:
        sign_in(page, node, OWNER)
        owner_states(page, node)
        violations += audit(page, script, locale)
    with opened(browser, node, locale) as page:
        sign_in(page, node, AUDITOR)
        page.goto(f"{node.portal}/regulator/consistency?old=0")
        page.wait_for_selector("#old-error")
        violations += audit(page, script, locale)
    assert not violations, "axe found serious or critical problems:\n" + "\n".join(map(str, violations))
