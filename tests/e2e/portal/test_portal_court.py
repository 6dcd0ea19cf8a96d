"""The court desk: a clerk records a seizure, the register shows it, a bank's filing is refused with V13, the
court lifts it; a second seizure on a unit queues behind the first (轮候)."""

from __future__ import annotations

from playwright.sync_api import Browser

from portal.portal_people import Person, PortalNode, fill_filing, open_filing, sign_here

COURT = "gz-court/court1"
CLERK = "icbc-gz/operator1"
SEIZED_UNIT = "440114026003GB00001F00010021"
"""Units no other portal test files on: a seizure left in effect would refuse their filings."""
QUEUE_UNIT = "440114026003GB00001F00010022"


def record_seizure(court: Person, unit: str, order_no: str, *, term: tuple[str, str] = ("2026-01-01", "2029-12-31"),
                   ) -> str:
    """On the court desk: look the unit up, fill in the order, confirm and sign; the committed tx (= seizure id)."""
    page = court.page
    page.goto(f"{court.node.portal}/court?unit={unit}")
    page.fill("#order_no", order_no)
    page.select_option("#kind", "1")
    page.fill("#start_date", term[0])
    page.fill("#end_date", term[1])
    page.click("#seizure button[type=submit]")
    return sign_here(court)


def own_row(court: Person, seizure_id: str) -> dict[str, str]:
    """The court desk's row of one of its seizures: queue order and state as shown."""
    court.page.goto(court.node.portal + "/court")
    row = court.page.locator(f"[data-testid=own-seizure][data-seizure='{seizure_id}']")
    return {"queue": row.locator("[data-testid=queue-order]").inner_text().strip(),
            "state": row.locator("[data-testid=seizure-state]").inner_text().strip()}


def lift(court: Person, seizure_id: str, order_no: str) -> str:
    page = court.page
    page.goto(court.node.portal + "/court")
    row = page.locator(f"[data-testid=own-seizure][data-seizure='{seizure_id}']")
    row.locator("input[name=order_no]").fill(order_no)
    row.locator("button[type=submit]").click()
    return sign_here(court)


def bank_precheck(clerk: Person, unit: str, contract: str) -> str | None:
    """The rule code the confirmation page shows for a bank filing on ``unit`` (None: it could be signed); cancelled."""
    open_filing(clerk, unit)
    fill_filing(clerk, contract=contract)
    page = clerk.page
    page.wait_for_url("**/portal/sign")
    failure = page.locator("[data-testid=rule-failure]")
    code = failure.inner_text().split()[0] if failure.count() else None
    assert (page.locator("[data-testid=sign]").count() == 0) == (code is not None)
    page.click("form[action$='/sign/cancel'] button")
    return code


def test_a_court_seizure_shows_on_the_register_blocks_a_bank_filing_and_is_lifted(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    court = Person(browser, node, COURT)
    clerk = Person(browser, node, CLERK)
    people.extend([court, clerk])
    court.sign_in().wait_for_url("**/portal/court")
    court.page.goto(f"{node.portal}/court?unit={SEIZED_UNIT}")
    assert court.page.locator("[data-testid=will-queue]").count() == 0

    seizure_id = record_seizure(court, SEIZED_UNIT, "(2026)粤0106执保1号")
    assert own_row(court, seizure_id) == {"queue": "1", "state": "生效中"}
    court.page.goto(f"{node.portal}/register/{SEIZED_UNIT}")
    row = court.page.locator("[data-testid=seizure-row]", has_text="(2026)粤0106执保1号")
    assert row.locator("[data-testid=seizure-state]").inner_text().strip() == "生效中"
    court.shoot("court-seizure-register-zh-CN")

    clerk.sign_in()
    assert bank_precheck(clerk, SEIZED_UNIT, "LOAN-COURT-SEIZED") == "V13_UNIT_SEIZED"

    lift(court, seizure_id, "(2026)粤0106执保1号之一")
    assert own_row(court, seizure_id)["state"] == "已解封"
    court.page.goto(f"{node.portal}/register/{SEIZED_UNIT}")
    row = court.page.locator("[data-testid=seizure-row]", has_text="(2026)粤0106执保1号")
    assert row.locator("[data-testid=seizure-state]").inner_text().strip() == "已解封"
    assert bank_precheck(clerk, SEIZED_UNIT, "LOAN-COURT-LIFTED") is None


def test_a_second_seizure_on_a_unit_is_queued_behind_the_first(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    court = Person(browser, node, COURT, locale="en")
    people.append(court)
    court.sign_in()
    first = record_seizure(court, QUEUE_UNIT, "(2026)粤0106执保2号")
    court.page.goto(f"{node.portal}/court?unit={QUEUE_UNIT}")
    assert court.page.locator("[data-testid=will-queue]").count() == 1
    court.page.fill("#order_no", "(2026)粤0106执保3号")
    court.page.fill("#start_date", "2026-02-01")
    court.page.fill("#end_date", "2028-01-31")
    court.page.click("#seizure button[type=submit]")
    court.page.wait_for_url("**/portal/sign")
    assert "Record a queued seizure" in court.page.inner_text("main")
    second = sign_here(court)
    assert own_row(court, first) == {"queue": "1", "state": "In effect"}
    assert own_row(court, second) == {"queue": "2", "state": "Queued (轮候)"}
    court.shoot("court-queue-en")
    lift(court, first, "(2026)粤0106执保2号之一")
    assert own_row(court, second)["state"] == "In effect"
    lift(court, second, "(2026)粤0106执保3号之一")
    assert own_row(court, second)["state"] == "Released"


def test_a_bad_order_is_refused_on_its_fields_and_nothing_is_prepared(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    court = Person(browser, node, COURT, locale="en")
    people.append(court)
    court.sign_in()
    page = court.page
    page.goto(f"{node.portal}/court?unit={QUEUE_UNIT}")
    page.fill("#start_date", "2027-01-01")
    page.fill("#end_date", "2026-01-01")
    page.eval_on_selector("#order_no", "e => e.removeAttribute('required')")
    page.click("#seizure button[type=submit]")
    assert page.url.endswith("/portal/court/seize")
    assert page.inner_text("#order_no-error").startswith("Enter the number of the court's order")
    assert page.inner_text("#end_date-error") == "The term must end on or after its start."
    page.goto(node.portal + "/sign")
    assert not page.url.endswith("/portal/sign")


def test_only_court_staff_use_the_court_desk(browser: Browser, node: PortalNode, people: list[Person]) -> None:
    clerk = Person(browser, node, CLERK)
    people.append(clerk)
    clerk.sign_in()
    response = clerk.page.goto(node.portal + "/court")
    assert response is not None
    assert response.status == 403
