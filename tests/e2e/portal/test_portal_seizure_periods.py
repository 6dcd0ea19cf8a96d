"""A unit's seizures as the owner, the court and an inquiry answer read them: the state now and the period in effect.

All seizures of a unit form one queue (轮候); a queued seizure's term counts from the day it takes
effect, and one whose term ran out has lapsed though nothing was written (``contract.seizure_queue``).
Each test enters a pre-sale flat no other test files on, with three seizures of the court's imported
as an existing register holds them: one lapsed, one delivered while it was in effect (so its record
says ``queued``) and now in effect itself, ending in ten days, and one queued behind that.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Browser, Locator

from estatechain.canonical import JSONValue
from portal.portal_people import IMPORTER, SIGN_PAGE, Person, PortalNode, _submit_as, presale_flat, sign_here, signed_in

COURT: Final = "gz-court/court1"
OWNER: Final = "gz-identity/person3"
CLERK: Final = "icbc-gz/operator1"
COURT_NAME: Final = "广州市中级人民法院"
DAY_MS: Final = 86_400_000
LAPSED, IN_EFFECT, QUEUED = "(2025)粤0106执保50号", "(2026)粤0106执保51号", "(2026)粤0106执保52号"
CASE_NO: Final = "(2026)粤0106执异61号"


def guangzhou_today() -> dt.date:
    """The day in Guangzhou, whose calendar the seizures' terms and windows are in."""
    return dt.datetime.now(tz=dt.timezone(dt.timedelta(hours=8))).date()


@dataclass(frozen=True, slots=True)
class SeizedFlat:
    """The flat, its three seizures' ids and the day they were entered on (Guangzhou calendar)."""

    unit_number: str
    lapsed: str
    in_effect: str
    queued: str
    import_tx: str
    today: dt.date

    def day(self, offset: int) -> str:
        return (self.today + dt.timedelta(days=offset)).isoformat()

    def period(self, words: str, start: int, end: int) -> str:
        """A period as the page words it: ``words`` is its message with ``{start}`` and ``{end}`` (day offsets)."""
        return words.format(start=self.day(start), end=self.day(end))

    def queued_period(self, locale: str) -> str:
        """How the third seizure's period reads: expected T+11..T+405, ordered term T-30..T+364."""
        if locale == "en":
            return (self.period("Expected in effect {start} – {end}", 11, 405) + " | "
                    + self.period("Ordered term {start} – {end}", -30, 364))
        return (self.period("预计生效期间：{start} 至 {end}", 11, 405) + " | "
                + self.period("文书所定期限：{start} 至 {end}", -30, 364))


def seized_flat(node: PortalNode, serial: int) -> SeizedFlat:
    """A new pre-sale flat ``OWNER`` holds the purchase notice of, with the court's three seizures imported.

    Windows by the queue: the first [T-400, T-100] lapsed; the second's term T-90..T+10 starts after it,
    so it is in effect until T+10; the third's term T-30..T+364 (395 days) counts from T+11: T+11..T+405.
    """
    flat = presale_flat(node, buyer=OWNER, serial=serial, bank=None)
    today = guangzhou_today()
    now = int(time.time() * 1000)
    ids = [f"IMP-S-{flat.unit_number}-{n}" for n in (1, 2, 3)]

    def seizure(n: int, order_no: str, start: int, end: int, *, queued: bool) -> dict[str, JSONValue]:
        return {"seizure_id": ids[n - 1], "unit_number": flat.unit_number, "authority_org": "gz-court",
                "order_no": order_no, "kind": "1", "start_date": (today + dt.timedelta(days=start)).isoformat(),
                "end_date": (today + dt.timedelta(days=end)).isoformat(), "queue_order": n, "queued": queued,
                "delivered_ms": now + start * DAY_MS, "released_ms": None, "release_order_no": None, "renewals": 0}

    tx = _submit_as(node, IMPORTER, "register.import", {"seizures": [
        seizure(1, LAPSED, -400, -100, queued=False), seizure(2, IN_EFFECT, -90, 10, queued=True),
        seizure(3, QUEUED, -30, 364, queued=True)]})
    return SeizedFlat(unit_number=flat.unit_number, lapsed=ids[0], in_effect=ids[1], queued=ids[2],
                      import_tx=tx, today=today)


def rows(table: Locator, order_cell: int = 0) -> dict[str, list[str]]:
    """A seizure table's rows by order number (cell ``order_cell``): each cell's text, its lines joined by " | "."""
    def cell(text: str) -> str:
        return " | ".join(line.strip() for line in text.split("\n") if line.strip())

    found = {}
    for row in table.locator("tbody tr").all():
        cells = [cell(text) for text in row.locator("td").all_inner_texts()]
        if len(cells) > order_cell + 1:  # not the one-cell "None" row
            found[cells[order_cell]] = cells
    return found


def check_own_proof_only(court: Person, own: str, other: str) -> None:
    """The court is on the page of its own transaction ``own``, with the proof; ``other`` (another org's) and an
    unknown id are refused alike."""
    page = court.page
    page.wait_for_url(f"**/portal/tx/{own}")
    assert page.inner_text("[data-testid=tx-command]") == "seizure.renew"
    assert page.inner_text("[data-testid=tx-signer-org]") == "gz-court"
    assert page.locator("[data-testid=proof-verified]").count() == 1
    for tx in (other, "0" * 64):
        response = page.goto(f"{court.node.portal}/tx/{tx}")
        assert response is not None
        assert response.status == 403, tx


def test_the_owner_reads_each_seizure_s_state_now_and_its_period_in_effect_not_the_lapsed_one(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    """Fixes 1 and 2 on the owner's register page: the lapsed seizure is gone, the one in effect says so, and
    the queued one gives the period it is expected in effect, with the ordered term on a second line."""
    flat = seized_flat(node, serial=41)
    owner = signed_in(browser, node, people, OWNER)
    owner.page.goto(f"{node.portal}/owner/units/{flat.unit_number}")
    shown = rows(owner.page.locator("[data-testid=seizures]"))
    assert shown == {
        IN_EFFECT: [IN_EFFECT, COURT_NAME, "生效中", flat.period("生效期间：{start} 至 {end}", -90, 10)],
        QUEUED: [QUEUED, COURT_NAME, "轮候中", flat.queued_period("zh-CN")],
    }
    assert owner.page.locator("[data-testid=queue-note]").count() == 1

    owner.switch("en")
    shown = rows(owner.page.locator("[data-testid=seizures]"))
    assert shown[IN_EFFECT][2:] == ["In effect", f"In effect {flat.day(-90)} – {flat.day(10)}"]
    assert shown[QUEUED][2:] == ["Queued (轮候)", flat.queued_period("en")]


def test_the_court_sees_live_places_renews_a_seizure_about_to_lapse_and_opens_its_proof(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    """Fixes 2, 3, 4, 5 and 14(c) on the court desk."""
    flat = seized_flat(node, serial=42)
    court = signed_in(browser, node, people, COURT, locale="en")
    page = court.page
    page.goto(f"{node.portal}/court?unit={flat.unit_number}")
    queue = rows(page.locator("[data-testid=seizure-queue]"), 2)
    assert queue == {
        IN_EFFECT: ["1", "In effect", IN_EFFECT, "Seizure (查封)", f"In effect {flat.day(-90)} – {flat.day(10)}"],
        QUEUED: ["2", "Queued (轮候)", QUEUED, "Seizure (查封)", flat.queued_period("en")],
    }
    own = page.locator("[data-testid=unit-own-seizures]")
    places = {order: cells[1] for order, cells in rows(own, 2).items()}
    assert places == {LAPSED: "—", IN_EFFECT: "1", QUEUED: "2"}  # live places, not the order of delivery
    states = {order: cells[5] for order, cells in rows(own, 2).items()}
    assert states == {LAPSED: "Lapsed", QUEUED: "Queued (轮候)",
                      IN_EFFECT: f"In effect | Lapses after {flat.day(10)} unless renewed (续封)"}
    assert page.inner_text("[data-testid=lapsing]").startswith("Seizures of yours that lapse within 30 days")
    assert own.locator(f"tr[data-seizure='{flat.lapsed}'] [data-testid=renew-form]").count() == 0
    assert own.locator(f"a[href$='/tx/{flat.import_tx}']").count() == 0  # the registry's import: no link

    row = own.locator(f"tr[data-seizure='{flat.in_effect}']")
    row.locator("input[name=end_date]").fill(flat.day(-95))
    row.locator("[data-testid=renew-form] button").click()
    row = page.locator(f"[data-testid=unit-own-seizure][data-seizure='{flat.in_effect}']")
    assert row.locator(".field-error[id$='renew-error']").inner_text() == (
        "A renewal must end after the term's current end.")
    assert not SIGN_PAGE.match(page.url)

    row.locator("input[name=end_date]").fill(flat.day(200))
    row.locator("[data-testid=renew-form] button").click()
    page.wait_for_url(SIGN_PAGE)
    summary = page.inner_text("main")
    assert "Renew a seizure (续封)" in summary
    assert flat.day(200) in summary
    renewal = sign_here(court)
    assert parse_qs(urlparse(page.url).query)["unit"] == [flat.unit_number]  # back on the unit (14c)
    queue = rows(page.locator("[data-testid=seizure-queue]"), 2)
    assert queue[IN_EFFECT][4] == f"In effect {flat.day(-90)} – {flat.day(200)}"
    assert queue[QUEUED][4].startswith(f"Expected in effect {flat.day(201)} – {flat.day(595)}")
    row = page.locator(f"[data-testid=unit-own-seizure][data-seizure='{flat.in_effect}']")
    assert row.locator("[data-testid=lapses-soon]").count() == 0
    assert row.locator(f"a[href$='/tx/{renewal}']").count() == 1

    page.click("[data-testid=done-proof] a")  # the proof of the renewal, for the case file
    check_own_proof_only(court, renewal, flat.import_tx)
    clerk = signed_in(browser, node, people, CLERK)
    assert clerk.context.request.get(f"{node.portal}/tx/{renewal}").status == 403

    page.goto(f"{node.portal}/court?unit={flat.unit_number}")
    row = page.locator(f"[data-testid=unit-own-seizure][data-seizure='{flat.in_effect}']")
    row.locator("input[name=order_no]").fill(IN_EFFECT + "之一")
    row.locator("form[action$='/lift'] button").click()
    sign_here(court)
    assert parse_qs(urlparse(page.url).query)["unit"] == [flat.unit_number]
    queue = rows(page.locator("[data-testid=seizure-queue]"), 2)
    assert list(queue) == [QUEUED]
    assert queue[QUEUED][:2] == ["1", "In effect"]
    assert queue[QUEUED][4].startswith(f"In effect {guangzhou_today().isoformat()} – ")


def test_an_inquiry_answer_shows_each_seizure_s_state_at_its_block_and_the_court_s_list_its_case_number(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    """Fixes 1 and 2 on the registry-signed answer, and 14(b): the court's own inquiries carry their 案号."""
    flat = seized_flat(node, serial=43)
    court = signed_in(browser, node, people, COURT)
    page = court.page
    page.goto(f"{node.portal}/court?unit={flat.unit_number}")
    page.fill("#case_no", CASE_NO)
    page.click("#case-inquiry button[type=submit]")
    inquiry = sign_here(court)
    shown = rows(page.locator("[data-testid=answer-seizures]"))
    assert shown == {
        LAPSED: [LAPSED, COURT_NAME, "查封", "期满失效", flat.period("曾生效：{start} 至 {end}", -400, -100)],
        IN_EFFECT: [IN_EFFECT, COURT_NAME, "查封", "生效中", flat.period("生效期间：{start} 至 {end}", -90, 10)],
        QUEUED: [QUEUED, COURT_NAME, "查封", "轮候中", flat.queued_period("zh-CN")],
    }

    page.goto(node.portal + "/inquiries")
    assert page.inner_text(f"[data-testid=own-inquiry-{inquiry}] [data-testid=inquiry-case]") == CASE_NO
    assert "案号" in page.inner_text("[data-testid=own-inquiries] thead")
