"""A bank clerk drops the materials onto the filing form instead of choosing them; a wrong file is refused.

The drop is a real drag-and-drop event in Debian's chromium carrying a ``File`` in its
``DataTransfer``, dispatched on the material's row, as a file dragged from the desktop arrives. The
server must then receive the dropped bytes as that material: the form reaches the confirmation page
only when every required material came with it.
"""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from portal.portal_people import PDF, SIGN_PAGE, Person, PortalNode, open_filing

CLERK = "icbc-gz/operator1"
SLOTS = ("APPLICATION_FORM", "POWER_OF_ATTORNEY", "LOAN_CONTRACT")


def drop(page: Page, slot: str, name: str, mime: str, data: bytes) -> None:
    """Drop one file named ``name`` onto the row of material ``slot``."""
    page.evaluate(
        """([selector, name, mime, bytes]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, { type: mime }));
            const zone = document.querySelector(selector).parentElement;
            zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        [f"#material_{slot}", name, mime, list(data)],
    )


def test_materials_dropped_on_the_form_are_filed_and_a_wrong_type_is_refused(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    clerk = Person(browser, node, CLERK, locale="en")
    people.append(clerk)
    clerk.sign_in()
    page = open_filing(clerk, node.unit_of(min(node.owners)))
    page.fill("#principal_yuan", "800000")
    page.fill("#term_start", "2026-12-01")
    page.fill("#term_end", "2036-11-30")
    page.fill("#contract_number", "ICBC-DROP-1")
    expect(page.locator(".drop-note").first).to_contain_text("drop the file here")

    drop(page, "APPLICATION_FORM", "notes.txt", "text/plain", b"not a pdf")
    expect(page.locator("#material_APPLICATION_FORM ~ .drop-note")).to_contain_text("Drop one PDF, OFD, JPEG or PNG")
    assert page.evaluate("document.querySelector('#material_APPLICATION_FORM').files.length") == 0

    for slot in SLOTS:
        drop(page, slot, f"{slot.lower()}.pdf", "application/pdf", PDF + slot.encode())
        expect(page.locator(f"#material_{slot} ~ .drop-note")).to_have_text(f"{slot.lower()}.pdf")
    clerk.shoot("bank-filing-dropped-en")
    page.click("#filing button[type=submit]")
    page.wait_for_url(SIGN_PAGE)  # the server got all three materials from the drops
    assert page.locator("[data-testid=rule-failure]").count() == 0
    page.click("form[action$='/sign/cancel'] button")
