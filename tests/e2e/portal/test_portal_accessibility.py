"""Accessibility of every portal page, in zh-CN and en, checked by axe-core inside chromium.

The pages are found by crawling: each role signs in and follows the links of its desk within
``/portal`` (GET only, a bounded number of pages, one page of each kind: case pages differ only in
their id), so pages that later work adds are checked without editing this test. A few pages no link
leads to are added by hand: the sign-in page, the bank's new filing with a unit looked up, the
confirmation page of a prepared filing, the public certificate page with a lookup, and the problem
page (a missing case and an unknown address).

axe-core comes from the npm registry (``package.json``, installed by ``scripts/setup``) and is
injected with Playwright's ``add_script_tag``. The portal's Content-Security-Policy rightly refuses
such a script, so these contexts alone are opened with ``bypass_csp``. A page fails on any
violation of impact "serious" or "critical"; the message names the page, language, rule, impact
and the elements' selectors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page

from portal.portal_people import SIGN_PAGE, PortalNode

AXE: Final = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"
LOCALES: Final = ("zh-CN", "en")
PAGES_PER_ROLE: Final = 40
"""At most this many pages are crawled for one role in one language."""
FAILING: Final = frozenset({"serious", "critical"})
OWNER: Final = "gz-identity/person3"  # the rules test counts person3's rows relative to before; others count absolutely
CLERK: Final = "icbc-gz/operator1"
SKIPPED: Final = re.compile(r"/(static|events)/|/materials/|\.pdf$|\.json$")
"""Links that are not pages: the style sheet and script, the event stream, downloads."""
RUN_AXE: Final = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(" "))}));
}"""


@dataclass(frozen=True, slots=True)
class Violation:
    """One failing axe rule on one page."""

    page: str
    locale: str
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.page} [{self.locale}] {self.rule} ({self.impact}): {self.help} — {', '.join(self.targets)}"


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run scripts/setup (it runs npm ci for package.json)",
                    pytrace=False)
    return AXE


@pytest.fixture(scope="module")
def roles(node: PortalNode) -> dict[str, str]:
    """One account of each role (role → username), from the consortium's identity index."""
    index = json.loads((node.directory / "identities.json").read_text(encoding="utf-8"))["identities"]
    found: dict[str, str] = {"bank.operator": CLERK, "person": OWNER}  # they filed or are named in ``case_id``
    for handle, entry in sorted(index.items()):
        if handle in node.passwords:
            found.setdefault(str(entry["role"]), handle)
    return found


@pytest.fixture(scope="module")
def case_id(browser: Browser, node: PortalNode) -> str:
    """A filed case, so that the desks list one and the case page has a timeline and actions."""
    with opened(browser, node, "zh-CN") as page:
        sign_in(page, node, CLERK)
        fill_filing(page, node, contract="LOAN-A11Y-0001")
        page.wait_for_url(SIGN_PAGE)
        tx_id = page.inner_text("[data-testid=tx-id]").strip()
        page.click("[data-testid=sign]")
        page.wait_for_url("**done=*")
        return tx_id


class opened:  # noqa: N801  (used as a context manager, like a function)
    """A browser context that may run axe (CSP bypassed), closed on exit."""

    def __init__(self, browser: Browser, node: PortalNode, locale: str) -> None:
        self.context: BrowserContext = browser.new_context(bypass_csp=True, locale=locale,
                                                           viewport={"width": 1280, "height": 900})
        self.node = node

    def __enter__(self) -> Page:
        return self.context.new_page()

    def __exit__(self, *_: object) -> None:
        self.context.close()


def sign_in(page: Page, node: PortalNode, username: str) -> None:
    page.goto(node.portal + "/signin")
    page.fill("#username", username)
    page.fill("#password", node.secret_for(username))
    page.click("form[action$='/signin'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/portal/(?!signin).*"))


def fill_filing(page: Page, node: PortalNode, *, contract: str) -> None:
    """The clerk's new filing for the owner's unit, up to the confirmation page."""
    page.goto(node.portal + "/bank/new?unit=" + node.unit_of(OWNER))
    page.fill("#principal_yuan", "800000")
    page.fill("#term_start", "2026-12-01")
    page.fill("#term_end", "2036-11-30")
    page.fill("#contract_number", contract)
    page.fill("#scope", "主债权及利息")
    for kind in ("APPLICATION_FORM", "POWER_OF_ATTORNEY", "LOAN_CONTRACT"):
        upload: FilePayload = {"name": f"{kind.lower()}.pdf", "mimeType": "application/pdf",
                               "buffer": b"%PDF-1.4\n%%EOF\n" + contract.encode() + kind.encode()}
        page.set_input_files(f"#material_{kind}", files=[upload])
    page.click("#filing button[type=submit]")


def audit(page: Page, script: Path, locale: str) -> list[Violation]:
    """axe's serious and critical violations on the page now shown."""
    assert page.get_attribute("html", "lang") == locale, f"{page.url} is not in {locale}"
    page.add_script_tag(path=str(script))
    found = page.evaluate(RUN_AXE)
    where = urlsplit(page.url)
    name = where.path + (f"?{where.query}" if where.query else "")
    return [Violation(name, locale, str(v["id"]), str(v["impact"]), str(v["help"]), tuple(v["targets"]))
            for v in found if v["impact"] in FAILING]


def kind_of(url: str) -> str:
    """Pages of one kind differ only in ids: one of each kind is checked."""
    parts = urlsplit(url)
    keys = sorted(part.split("=", 1)[0] for part in parts.query.split("&") if part and not part.startswith("done="))
    return re.sub(r"[0-9a-f]{64}|(?<=/)[0-9]+(?=/|$)", "<id>", parts.path) + "?" + "&".join(keys)


class Crawler:
    """Audits pages in one browser context, one page of each kind, following links within the portal."""

    def __init__(self, page: Page, node: PortalNode, script: Path, locale: str) -> None:
        self.page, self.node, self.script, self.locale = page, node, script, locale
        self.seen: set[str] = set()
        """Kinds of the pages requested or shown so far."""
        self.checked: list[str] = []
        self.violations: list[Violation] = []
        self.failures: list[str] = []
        """Pages that failed on the server: a crawl must not meet any."""

    def check(self, url: str) -> bool:
        """Open ``url`` and audit it unless a page of its kind (after redirects) was audited; True when audited."""
        response = self.page.goto(url)
        assert response is not None
        shown = kind_of(self.page.url) + (f" [{response.status}]" if response.status >= 400 else "")
        if response.status >= 500:
            self.failures.append(f"{url} answered {response.status}")
        if shown in self.checked or "text/html" not in response.headers.get("content-type", ""):
            return False
        if response.status < 400:
            self.seen.add(kind_of(self.page.url))
        self.checked.append(shown)
        self.violations += audit(self.page, self.script, self.locale)
        return True

    def crawl(self, start: list[str]) -> None:
        """Audit ``start`` and the portal pages reachable by links from them, at most ``PAGES_PER_ROLE``."""
        queue, audited = list(start), 0
        while queue and audited < PAGES_PER_ROLE:
            url = queue.pop(0)
            if kind_of(url) in self.seen:
                continue
            self.seen.add(kind_of(url))
            if not self.check(url):
                continue
            audited += 1
            queue += [link for link in self.links() if kind_of(link) not in self.seen]

    def links(self) -> Iterator[str]:
        """The page's links to other portal pages (no downloads, no script or style, GET only)."""
        for href in self.page.eval_on_selector_all("a[href]:not([download])", "found => found.map(a => a.href)"):
            url = str(href).split("#", 1)[0]
            if url.startswith(self.node.portal) and not SKIPPED.search(urlsplit(url).path):
                yield url


@pytest.mark.parametrize("locale", LOCALES)
def test_every_page_of_every_role_passes_axe(  # noqa: PLR0913, PLR0917  (fixtures)
        browser: Browser, node: PortalNode, axe_script: Path, roles: dict[str, str], case_id: str,
        locale: str) -> None:
    violations: list[Violation] = []
    failures: list[str] = []
    pages: list[str] = []
    with opened(browser, node, locale) as page:
        anonymous = Crawler(page, node, axe_script, locale)
        anonymous.crawl([node.portal + "/signin", node.portal + "/public/certificate",
                         node.portal + "/public/certificate?number=GZ-NO-SUCH-CERTIFICATE"])
        anonymous.check(node.portal + "/nowhere/at/all")
        violations += anonymous.violations
        failures += anonymous.failures
        pages += anonymous.checked
    for role, username in sorted(roles.items()):
        with opened(browser, node, locale) as page:
            sign_in(page, node, username)
            start = [page.url, node.portal + "/cases/" + case_id]
            crawler = Crawler(page, node, axe_script, locale)
            crawler.seen |= {kind_of(node.portal + "/public/certificate")}  # checked without signing in
            if role == "bank.operator":
                crawler.check(node.portal + "/cases/" + "0" * 64)  # the problem page: no such case
                start.append(node.portal + "/bank/new?unit=" + node.unit_of(OWNER))
            crawler.crawl(start)
            if role == "bank.operator":
                fill_filing(page, node, contract=f"LOAN-A11Y-{locale}")
                page.wait_for_url(SIGN_PAGE)
                crawler.violations += audit(page, axe_script, locale)
                crawler.checked.append("/portal/sign")
            violations += crawler.violations
            failures += crawler.failures
            pages += [f"{role}: {kind}" for kind in crawler.checked]
    print("\n".join(pages))  # noqa: T201  (which pages were checked, shown with -s)
    assert len(pages) >= 12, pages  # sign-in, public, problem, and each desk at least
    assert not failures, failures
    assert not violations, "axe found serious or critical problems:\n" + "\n".join(map(str, violations))
