"""A court reads a unit's register only through a recorded inquiry for its case (domain.md §2, §7), in chromium.

The court desk's lookup shows what seizing needs, not the register. To read the register the court
gives its case number (案号): the inquiry (basis ``case``, purpose ``CASE``) is signed on the
confirmation page, committed, and answered by the registry's signed full answer; the case number is
on the ledger with it. The unit's owner sees the court among those who looked, and why; a bank
cannot open the court's inquiry. A case number left blank changes nothing.
"""

from __future__ import annotations

from playwright.sync_api import Browser

from estatechain.cli.main import node_dir
from estatechain.storage.store import LedgerStore
from portal.portal_people import SIGN_PAGE, Person, PortalNode, sign_here, signed_in

COURT = "gz-court/court1"
OWNER = "gz-identity/person1"
CASE_NO = "(2026)粤0106民初4711号"



def logged(node: PortalNode, tx_id: str) -> dict[str, object]:
    """The inquiry-log record the ledger holds for ``tx_id`` (read-only)."""
    store = LedgerStore.open(node_dir(node.directory), readonly=True)
    try:
        record = store.get(f"inquiry/{tx_id}")
        assert record is not None, "every court look is an inquiry on the ledger"
        return dict(record)
    finally:
        store.close()


def test_a_court_reads_the_register_through_a_recorded_inquiry_the_owner_sees(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    unit = node.unit_of(OWNER)
    court = signed_in(browser, node, people, COURT)
    page = court.page
    page.goto(f"{node.portal}/court?unit={unit}")
    desk = page.inner_text("[data-testid=court-unit]")
    assert str(node.owners[OWNER]["party_id"]) not in desk  # the lookup alone is not the register
    assert str(node.owners[OWNER]["title_number"]) not in page.inner_text("main")

    page.fill("#case_no", CASE_NO)
    page.click("#case-inquiry button[type=submit]")
    page.wait_for_url(SIGN_PAGE)
    assert CASE_NO in page.inner_text("main")
    assert "inquiry.request" in page.inner_text("main")
    inquiry = sign_here(court)

    record = logged(node, inquiry)
    assert record["basis"] == "case"
    assert record["purpose"] == "CASE"
    assert record["outcome"] == "GRANTED"
    assert record["requester_org"] == "gz-court"
    assert CASE_NO in list(record["basis_refs"])  # type: ignore[call-overload]

    assert page.locator("[data-testid=answer]").get_attribute("data-answer") == "FULL"
    assert page.inner_text("[data-testid=case-number]").strip() == CASE_NO
    assert str(node.owners[OWNER]["party_id"]) in page.inner_text("[data-testid=answer-owners]")
    assert str(node.owners[OWNER]["title_number"]) in page.inner_text("[data-testid=title-number]")
    assert int(page.inner_text("[data-testid=as-of-height]")) == record["as_of_height"]
    court.shoot("court-inquiry-answer-zh-CN")

    page.goto(node.portal + "/inquiries")
    assert page.locator(f"[data-testid=own-inquiry-{inquiry}]").get_attribute("data-outcome") == "GRANTED"
    assert page.locator("#inquiry").count() == 0  # a court asks from its desk, for a case

    bank = signed_in(browser, node, people, "icbc-gz/operator1")
    assert bank.context.request.get(f"{node.portal}/inquiries/{inquiry}").status == 404

    owner = signed_in(browser, node, people, OWNER)
    owner.page.goto(node.portal + "/owner/inquiries")
    seen = owner.page.locator(f"[data-testid=inquiry-{inquiry}]")
    assert seen.get_attribute("data-org") == "gz-court"
    assert seen.get_attribute("data-purpose") == "CASE"
    assert seen.get_attribute("data-outcome") == "GRANTED"
    assert "司法或行政机关办案" in seen.inner_text()
    owner.shoot("owner-inquiries-court-zh-CN")


def test_a_court_look_without_a_case_number_changes_nothing(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    unit = node.unit_of(OWNER)
    court = signed_in(browser, node, people, COURT)
    page = court.page
    page.goto(node.portal + "/inquiries")
    before = page.locator("[data-testid=own-inquiries] tbody tr").count()
    page.goto(f"{node.portal}/court?unit={unit}")
    page.fill("#case_no", "   ")
    with page.expect_response(lambda r: r.url.endswith("/portal/court/inquire")) as sent:
        page.click("#case-inquiry button[type=submit]")
    assert sent.value.status == 422
    assert page.is_visible("#case_no-error")
    assert page.get_attribute("#case_no", "aria-invalid") == "true"
    assert not SIGN_PAGE.match(page.url)
    page.goto(node.portal + "/inquiries")
    assert page.locator("[data-testid=own-inquiries] tbody tr").count() == before
