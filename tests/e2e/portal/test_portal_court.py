"""The court desk: a clerk records a seizure, the register shows it, a bank's filing is refused with V13, the
court lifts it; a second seizure on a unit queues behind the first (轮候). The desk shows a court what seizing
needs, not the register: another authority's seizure is "held by another authority", without its order."""

from __future__ import annotations

import datetime as dt
import time

from playwright.sync_api import Browser, Page

from estatechain.clock import CHINA_STANDARD_TIME
from portal.portal_people import (
    IMPORTER,
    SIGN_PAGE,
    Person,
    PortalNode,
    fill_filing,
    open_filing,
    presale_flat,
    sign_here,
    submit_as,
)

COURT = "gz-court/court1"
CLERK = "icbc-gz/operator1"
SEIZED_UNIT = "440114026003GB00001F00010021"
"""Units no other portal test files on: a seizure left in effect would refuse their filings."""
QUEUE_UNIT = "440114026003GB00001F00010022"
REVIEWER = "gz-registry/reviewer1"


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
    """The court desk's row of one of its seizures: its live place in the unit's queue and its state as shown."""
    court.page.goto(court.node.portal + "/court")
    row = court.page.locator(f"[data-testid=own-seizure][data-seizure='{seizure_id}']")
    return {"queue": row.locator("[data-testid=live-place]").inner_text().strip(),
            "state": row.locator("[data-testid=seizure-state]").inner_text().strip()}


def lift(court: Person, seizure_id: str, order_no: str) -> str:
    page = court.page
    page.goto(court.node.portal + "/court")
    row = page.locator(f"[data-testid=own-seizure][data-seizure='{seizure_id}']")
    row.locator("input[name=order_no]").fill(order_no)
    row.locator("form[action$='/lift'] button").click()
    return sign_here(court)


def queue(page: Page) -> list[list[str]]:
    """The unit's seizure queue as the court desk shows it: each place's cells, a cell's lines joined by " | "."""
    return [[" | ".join(line.strip() for line in cell.split("\n") if line.strip())
             for cell in row.locator("td").all_inner_texts()]
            for row in page.locator("[data-testid=queue-place]").all()]


def bank_precheck(clerk: Person, unit: str, contract: str) -> str | None:
    """The rule code the confirmation page shows for a bank filing on ``unit`` (None: it could be signed); cancelled."""
    open_filing(clerk, unit)
    fill_filing(clerk, contract=contract)
    page = clerk.page
    page.wait_for_url(SIGN_PAGE)
    failure = page.locator("[data-testid=rule-failure]")
    code = failure.inner_text().split()[0] if failure.count() else None
    assert (page.locator("[data-testid=sign]").count() == 0) == (code is not None)
    page.click("form[action$='/sign/cancel'] button")
    return code


def test_a_court_seizure_shows_on_the_register_blocks_a_bank_filing_and_is_lifted(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    court = Person(browser, node, COURT)
    clerk = Person(browser, node, CLERK)
    reviewer = Person(browser, node, REVIEWER)
    people.extend([court, clerk, reviewer])
    court.sign_in().wait_for_url("**/portal/court")
    court.page.goto(f"{node.portal}/court?unit={SEIZED_UNIT}")
    assert court.page.locator("[data-testid=will-queue]").count() == 0
    assert queue(court.page) == []

    seizure_id = record_seizure(court, SEIZED_UNIT, "(2026)粤0106执保1号")
    assert own_row(court, seizure_id) == {"queue": "1", "state": "生效中"}
    court.page.goto(f"{node.portal}/court?unit={SEIZED_UNIT}")
    delivered = dt.datetime.now(tz=CHINA_STANDARD_TIME).date().isoformat()  # dated back: binds from delivery
    assert queue(court.page) == [["1", "生效中", "(2026)粤0106执保1号", "查封",
                                  f"生效期间：{delivered} 至 2029-12-31 | 文书所定期限：2026-01-01 至 2029-12-31"]]
    reviewer.sign_in()
    reviewer.page.goto(f"{node.portal}/register/{SEIZED_UNIT}")
    row = reviewer.page.locator("[data-testid=seizure-row]", has_text="(2026)粤0106执保1号")
    assert row.locator("[data-testid=seizure-state]").inner_text().strip() == "生效中"
    reviewer.shoot("court-seizure-register-zh-CN")

    clerk.sign_in()
    assert bank_precheck(clerk, SEIZED_UNIT, "LOAN-COURT-SEIZED") == "V13_UNIT_SEIZED"

    lift(court, seizure_id, "(2026)粤0106执保1号之一")
    assert own_row(court, seizure_id)["state"] == "已解封"
    court.page.goto(f"{node.portal}/court?unit={SEIZED_UNIT}")
    assert queue(court.page) == []  # released: no longer in effect, though still among the court's own
    assert court.page.locator("[data-testid=will-queue]").count() == 0
    reviewer.page.goto(f"{node.portal}/register/{SEIZED_UNIT}")
    row = reviewer.page.locator("[data-testid=seizure-row]", has_text="(2026)粤0106执保1号")
    assert row.locator("[data-testid=seizure-state]").inner_text().strip() == "已解封"
    open_filing(clerk, SEIZED_UNIT)
    assert "(2026)粤0106执保1号" not in clerk.page.inner_text("[data-testid=entries]")
    restricted = clerk.page.locator("[data-testid=restricted]")
    assert restricted.count() == 0 or restricted.inner_text().strip() == "否"
    assert bank_precheck(clerk, SEIZED_UNIT, "LOAN-COURT-LIFTED") is None


def test_the_court_desk_shows_another_authority_s_seizure_without_its_order_and_no_register(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    flat = presale_flat(node, buyer=min(node.owners), serial=7, bank=None)  # a unit no other test files on
    today = dt.datetime.now(tz=dt.UTC).date()
    other = "(2025)粤0105执保77号"
    imported = submit_as(node, IMPORTER, "register.import", {"seizures": [{
        "seizure_id": f"IMP-S-{flat.unit_number}-1", "unit_number": flat.unit_number,
        "authority_org": "gz-haizhu-court",
        "order_no": other, "kind": "3", "start_date": (today - dt.timedelta(days=30)).isoformat(),
        "end_date": today.replace(year=today.year + 2).isoformat(), "queue_order": 1, "queued": False,
        "delivered_ms": int(time.time() * 1000) - 30 * 86_400_000, "released_ms": None, "release_order_no": None,
        "renewals": 0}]})
    court = Person(browser, node, COURT, locale="en")
    people.append(court)
    page = court.sign_in()
    page.goto(f"{node.portal}/court?unit={flat.unit_number}")
    assert queue(page) == [["1", "In effect", "Held by another authority", "—", "—"]]
    assert other not in page.inner_text("main")
    assert "gz-haizhu-court" not in page.inner_text("main")
    assert page.inner_text("[data-testid=owner-count]") == "0"  # a pre-sale flat: a purchase notice, no owner yet
    assert page.locator("[data-testid=will-queue]").count() == 1

    mine = record_seizure(court, flat.unit_number, "(2026)粤0106执保8号")
    page.goto(f"{node.portal}/court?unit={flat.unit_number}")
    other_ends = today.replace(year=today.year + 2)  # mine takes effect the day after, for its 4-year term
    mine_starts = other_ends + dt.timedelta(days=1)
    mine_ends = mine_starts + (dt.date(2029, 12, 31) - dt.date(2026, 1, 1))
    assert queue(page) == [["1", "In effect", "Held by another authority", "—", "—"],
                           ["2", "Queued (轮候)", "(2026)粤0106执保8号", "Seizure (查封)",
                            f"Expected in effect {mine_starts} – {mine_ends} | Ordered term 2026-01-01 – 2029-12-31"]]
    assert page.locator(f"[data-testid=unit-own-seizure][data-seizure='{mine}']").count() == 1
    assert other not in page.inner_text("main")
    court.shoot("court-unit-queue-en")

    links = {str(a.get_attribute("href")) for a in page.locator("main a, header a").all()}
    assert not any("/register" in link for link in links), links
    for link in sorted(links):
        assert court.context.request.get(node.url + link).status == 200, link
    for path in (f"/register/{flat.unit_number}", "/register"):
        response = page.goto(node.portal + path)
        assert response is not None
        assert response.status == 403, path
        assert other not in page.inner_text("main")
    response = page.goto(f"{node.portal}/tx/{mine}")  # its own transaction's page, for its case file
    assert response is not None
    assert response.status == 200
    assert page.locator("[data-testid=proof-verified]").count() == 1
    response = page.goto(f"{node.portal}/tx/{imported}")  # the registry's: not the court's to read
    assert response is not None
    assert response.status == 403
    assert other not in page.inner_text("main")
    lift(court, mine, "(2026)粤0106执保8号之一")
    page.goto(f"{node.portal}/court?unit={flat.unit_number}")
    assert queue(page) == [["1", "In effect", "Held by another authority", "—", "—"]]


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
    court.page.wait_for_url(SIGN_PAGE)
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
    assert not SIGN_PAGE.match(page.url)


def test_only_court_staff_use_the_court_desk(browser: Browser, node: PortalNode, people: list[Person]) -> None:
    clerk = Person(browser, node, CLERK)
    people.append(clerk)
    clerk.sign_in()
    response = clerk.page.goto(node.portal + "/court")
    assert response is not None
    assert response.status == 403
