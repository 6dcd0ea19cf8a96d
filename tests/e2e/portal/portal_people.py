"""People in the portal: each signs in through their own browser context; the steps they take.

``file_mortgage`` and ``take`` go through the pages exactly as a person would: the desk's form or
button, then the confirmation page, whose tx id they return once the ledger committed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Browser, BrowserContext, Dialog, FilePayload, Page

SCREENSHOTS: Final = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
PDF: Final = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


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
        page.fill("#password", self.node.passwords[self.username] if password is None else password)
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
    page.wait_for_url("**/portal/sign")
    tx_id = page.inner_text("[data-testid=tx-id]").strip()
    if double_click:
        page.dblclick("[data-testid=sign]")
    else:
        page.click("[data-testid=sign]")
    page.wait_for_url("**done=*")
    done = parse_qs(urlparse(page.url).query)["done"][0]
    assert done == tx_id
    return tx_id


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
