"""People in the portal: each signs in through their own browser context; the steps they take.

``file_mortgage`` and ``take`` go through the pages exactly as a person would: the desk's form or
button, then the confirmation page, whose tx id they return once the ledger committed it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Browser, BrowserContext, Dialog, FilePayload, Page

from estatechain.canonical import JSONValue
from estatechain.cli.demo_world import new_flat
from estatechain.cli.main import node_dir
from estatechain.clock import SystemClock
from estatechain.contract.certificate_number import proof_number
from estatechain.contract.records import Mortgage, Status
from estatechain.node.settings import Settings
from estatechain.sdk import ClientIdentity
from estatechain.sdk.sync import SyncClient
from estatechain.storage.store import LedgerStore
from estatechain.testing.register import IDENTITY_ORG, PARTY_ID_KEY
from estatechain.testing.serving import served
from estatechain.web.devaccounts import ensure_dev_accounts, issue_owner_code

SCREENSHOTS: Final = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
PDF: Final = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


SIGN_PAGE: Final = re.compile(r".*/portal/sign(\?tx=[0-9a-f]{64})?$")
"""The confirmation page: a desk sends each tab to its own action (``?tx=``)."""

@dataclass(frozen=True, slots=True)
class PortalNode:
    """The running node as the tests reach it."""

    url: str
    directory: Path
    passwords: dict[str, str]
    owners: dict[str, dict[str, object]]

    @property
    def portal(self) -> str:
        return self.url + "/portal"

    def unit_of(self, handle: str) -> str:
        return str(self.owners[handle]["unit_number"])

    def secret_for(self, username: str) -> str:
        """What signs ``username`` in: a staff password, or a fresh one-time code for an owner (codes work once)."""
        if username in self.passwords:
            return self.passwords[username]
        return issue_owner_code(node_dir(self.directory), username, clock=SystemClock())


@contextmanager
def serve_node(directory: Path) -> Iterator[PortalNode]:
    """A node over the consortium ``init`` made in ``directory`` on a free port, with the portal's dev accounts."""
    accounts = ensure_dev_accounts(directory, node_dir(directory), clock=SystemClock())
    owners = json.loads((directory / "orgs" / "gz-identity" / "dev-owners.json").read_text(encoding="utf-8"))
    with served(Settings(ledger_dir=node_dir(directory), port=0)) as url:
        yield PortalNode(url=url, directory=directory,
                         passwords={a.username: a.password for a in accounts if a.password is not None},
                         owners=owners)


class Person:
    """One signed-in person in their own browser context (own cookies)."""

    def __init__(self, browser: Browser, node: PortalNode, username: str, *, locale: str = "zh-CN") -> None:
        self.node = node
        self.username = username
        self.context: BrowserContext = browser.new_context(accept_downloads=True, locale=locale,
                                                           viewport={"width": 1280, "height": 900})
        self.page: Page = self.context.new_page()
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def sign_in(self, password: str | None = None) -> Page:
        page = self.page
        page.goto(self.node.portal + "/signin")
        page.fill("#username", self.username)
        page.fill("#password", self.node.secret_for(self.username) if password is None else password)
        page.click("form[action$='/signin'] button[type=submit]")
        return page

    def switch(self, locale: str) -> None:
        self.page.click(f"button[name=locale][value='{locale}']")

    def shoot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()




def sign_here(person: Person, *, double_click: bool = False) -> str:
    """On the confirmation page: read the tx id, sign, and wait for the desk saying it committed."""
    page = person.page
    page.wait_for_url(SIGN_PAGE)
    tx_id = page.inner_text("[data-testid=tx-id]").strip()
    if double_click:
        page.dblclick("[data-testid=sign]")
    else:
        page.click("[data-testid=sign]")
    page.wait_for_url("**done=*")
    done = parse_qs(urlparse(page.url).query)["done"][0]
    assert done == tx_id
    return tx_id


def signed_in(browser: Browser, node: PortalNode, people: list[Person], username: str, *,
              locale: str = "zh-CN") -> Person:
    """``username`` signed in in a fresh browser context, closed after the test (``people`` fixture)."""
    person = Person(browser, node, username, locale=locale)
    people.append(person)
    person.sign_in()
    return person


def open_filing(person: Person, unit: str) -> Page:
    page = person.page
    page.goto(person.node.portal + "/bank/new?unit=" + unit)
    return page


def fill_filing(person: Person, *, contract: str, scope: str = "主债权及利息", amount: str = "1200000",
                term: tuple[str, str] = ("2026-12-01", "2046-11-30")) -> None:
    page = person.page
    page.fill("#principal_yuan", amount)
    page.fill("#term_start", term[0])
    page.fill("#term_end", term[1])
    page.fill("#contract_number", contract)
    page.fill("#scope", scope)
    for kind in ("APPLICATION_FORM", "POWER_OF_ATTORNEY", "LOAN_CONTRACT"):
        upload: FilePayload = {"name": f"{kind.lower()}.pdf", "mimeType": "application/pdf",
                               "buffer": PDF + contract.encode() + kind.encode()}
        page.set_input_files(f"#material_{kind}", files=[upload])
    page.click("#filing button[type=submit]")


def take(person: Person, case_id: str, step: str) -> str:
    """Open the case, press the step's button, confirm and sign; the committed tx id."""
    page = person.page
    page.goto(f"{person.node.portal}/cases/{case_id}")
    page.click(f"form[action$='/{case_id}/{step}'] button")
    return sign_here(person)


# ---------------------------------------------------------------- other business types (test_portal_business)

IMPORTER: Final = "gz-registry/admin1"
NOTICE_YEAR: Final = 2019
"""Imported notice certificates take numbers of a past year, far above the synthetic register's serials."""


@dataclass(frozen=True, slots=True)
class PresaleFlat:
    """A predicted flat the registry entered, with its purchase notice and maybe a 预抵押 (certificate numbers)."""

    unit_number: str
    purchase_certificate: str
    notice_certificate: str | None


def give_consent(owner: Person, unit: str, bank: str, purpose: str = "PRE_LOAN", *,
                 expires_on: str = "2031-06-30") -> str:
    """The owner consents on their consents page that ``bank`` may inquire into ``unit`` for ``purpose``; its tx id."""
    page = owner.page
    page.goto(f"{owner.node.portal}/owner/consents?unit={unit}")
    page.select_option("#bank", bank)
    page.select_option("#purpose", purpose)
    page.fill("#expires_on", expires_on)
    page.click("#consent button[type=submit]")
    return sign_here(owner)


def member_banks(node: PortalNode) -> dict[str, str]:
    """Member bank org → party id, read from the node's ledger (read-only) as the identity authority bound them."""
    store = LedgerStore.open(node_dir(node.directory), readonly=True)
    try:
        return {str(row["org"]): str(row["party_id"]) for _, row in store.scan("identity/orgparty/")}
    finally:
        store.close()


def submit_as(node: PortalNode, handle: str, command: str, body: dict[str, JSONValue]) -> str:
    """Sign ``body`` with ``handle``'s dev key and submit it over the API; it must commit valid. Its tx id.

    Runs in a worker thread: the sync SDK drives its own event loop, and Playwright's lives in this thread.
    """
    def run() -> str:
        with SyncClient(node.url, ClientIdentity.from_dev(node.directory, handle)) as client:
            signed, status = client.submit_and_wait(command, body)
            assert status.valid, status
            return signed.tx_id

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=60)


def presale_flat(node: PortalNode, *, buyer: str, serial: int, bank: str | None,
                 clock_started_days_ago: int | None = None) -> PresaleFlat:
    """The registry enters a pre-sale flat (``register.import``) whose purchase notice ``buyer`` holds.

    With ``bank``, the flat also carries a 预抵押 that bank holds against the buyer, as an existing
    register would show it; ``serial`` keeps the flat and its certificate numbers apart from other runs'.
    With ``clock_started_days_ago``, the 预抵押's 90-day lapse clock started that many days ago.
    """
    key = (node.directory / "orgs" / IDENTITY_ORG / PARTY_ID_KEY).read_bytes()
    flat = new_flat(key, int(time.time()) * 100 + serial)
    owner = node.owners[buyer]
    buyer_ref: dict[str, JSONValue] = {"party_id": str(owner["party_id"]), "record_ref": str(owner["record_ref"])}
    base = 5_000_000 + (int(time.time()) % 100_000) * 20 + serial * 2
    purchase = proof_number(NOTICE_YEAR, base)
    today = dt.datetime.now(tz=dt.UTC).date()
    common: dict[str, JSONValue] = {"unit_number": flat.predicted, "registry": "gz-registry",
                                    "registered_ms": int(time.time() * 1000) - 86_400_000,
                                    "registration_type": "700", "transfer_restricted": False}
    notices: list[JSONValue] = [{
        **common, "notice_id": f"IMP-PN-{flat.predicted}", "business_no": f"IMP-PN-{flat.predicted}", "kind": 1,
        "rank": 1, "holders": [buyer_ref], "obligors": [{"party_id": flat.developer}],
        "amount": {"fen": 250_000_000, "currency": "CNY"}, "cause": "PRESALE", "contract_numbers": [],
        "certificate_number": purchase}]
    notice = None
    if bank is not None:
        notice = proof_number(NOTICE_YEAR, base + 1)
        notices.append({
            **common, "notice_id": f"IMP-YD-{flat.predicted}-1", "business_no": f"IMP-YD-{flat.predicted}-1",
            "kind": 3, "rank": 1, "holders": [{"party_id": member_banks(node)[bank]}], "obligors": [buyer_ref],
            "amount": {"fen": 120_000_000, "currency": "CNY"}, "cause": "LOAN", "method": 1,
            "debt_term": {"start": today.isoformat(), "end": today.replace(year=today.year + 30).isoformat()},
            "scope": "详见抵押合同", "contract_numbers": [f"YG-PORTAL-{serial}"],
            "linked_purchase_notice": f"IMP-PN-{flat.predicted}", "certificate_number": notice,
            "lapse_clock_start_ms": None if clock_started_days_ago is None
            else int(time.time() * 1000) - clock_started_days_ago * 86_400_000})
    submit_as(node, IMPORTER, "register.import", {**flat.import_body(), "notices": notices})
    return PresaleFlat(unit_number=flat.predicted, purchase_certificate=purchase, notice_certificate=notice)


def attach(person: Person, *slots: str, label: str = "") -> None:
    """Attach a small distinct PDF to each named material input of the filing form."""
    for slot in slots:
        upload: FilePayload = {"name": f"{slot.lower()}.pdf", "mimeType": "application/pdf",
                               "buffer": PDF + f"{label}{slot}{time.time_ns()}".encode()}
        person.page.set_input_files(f"#material_{slot}", files=[upload])


def open_new_filing(person: Person, kind: str, *, unit: str = "", certificate: str = "") -> Page:
    """The bank's new-filing page for business type ``kind``, the unit found by its number or a certificate."""
    page = person.page
    page.goto(person.node.portal + "/bank/new")
    page.select_option("#kind", kind)
    page.fill("#unit", unit)
    page.fill("#certificate", certificate)
    page.click("#lookup button[type=submit]")
    return page


def bank_mortgages(node: PortalNode, org: str) -> list[tuple[str, str]]:
    """(unit number, certificate) of current mortgages ``org`` holds on units no dev person owns (ledger, read-only).

    Other tests count a bank's cases on the dev owners' units, so a cancellation is filed elsewhere.
    """
    bank = member_banks(node)[org]
    owned = {str(owner["unit_number"]) for owner in node.owners.values()}
    store = LedgerStore.open(node_dir(node.directory), readonly=True)
    try:
        mortgages = (Mortgage.from_json(row) for _, row in store.scan("mortgage/"))
        return [(m.unit_number, m.certificate_number) for m in mortgages
                if m.status is Status.CURRENT and m.certificate_number is not None and m.unit_number not in owned
                and m.mortgagee_ids() == {bank}]
    finally:
        store.close()
