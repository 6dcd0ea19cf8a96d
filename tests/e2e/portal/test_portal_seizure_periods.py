"""A unit's seizures as the owner, the court and an inquiry answer read them: the state now and the period in effect.

All seizures of a unit form one queue (轮候); a queued seizure's term counts from the day it takes
effect, and one whose term ran out has lapsed though nothing was written (``contract.seizure_queue``).
Each test enters a pre-sale flat no other test files on, with three seizures of the court's imported
as an existing register holds them: one lapsed, one delivered while it was in effect (so its record
says ``queued``) and now in effect itself, ending in ten days, and one queued behind that. The
registry's register page and a bank's filing entries read an owned flat's seizures the same way, one
of them renewed (续封) and in effect past the end of its ordered term (``renewed_flat``).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Browser, Locator

from estatechain.canonical import JSONValue
from estatechain.cli.demo_world import new_flat
from estatechain.testing.register import IDENTITY_ORG, PARTY_ID_KEY
from portal.portal_people import (
    IMPORTER,
    SIGN_PAGE,
    Person,
    PortalNode,
    give_consent,
    presale_flat,
    sign_here,
    signed_in,
    submit_as,
)

COURT: Final = "gz-court/court1"
OWNER: Final = "gz-identity/person3"
CLERK: Final = "icbc-gz/operator1"
REVIEWER: Final = "gz-registry/reviewer1"
COURT_NAME: Final = "广州市中级人民法院"
DAY_MS: Final = 86_400_000
LAPSED, IN_EFFECT, QUEUED = "(2025)粤0106执保50号", "(2026)粤0106执保51号", "(2026)粤0106执保52号"
EARLIER, RENEWED, BEHIND = "(2025)粤0106执保60号", "(2025)粤0106执保61号", "(2026)粤0106执保62号"
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

    tx = submit_as(node, IMPORTER, "register.import", {"seizures": [
        seizure(1, LAPSED, -400, -100, queued=False), seizure(2, IN_EFFECT, -90, 10, queued=True),
        seizure(3, QUEUED, -30, 364, queued=True)]})
    return SeizedFlat(unit_number=flat.unit_number, lapsed=ids[0], in_effect=ids[1], queued=ids[2],
                      import_tx=tx, today=today)


@dataclass(frozen=True, slots=True)
class RenewedFlat:
    """An owned flat whose second seizure was renewed and is in effect past its ordered term, one queued behind."""

    unit_number: str
    today: dt.date

    def day(self, offset: int) -> str:
        return (self.today + dt.timedelta(days=offset)).isoformat()

    def renewed(self, locale: str) -> str:
        """The renewed seizure's period: in effect T-100..T+95; its ordered term, renewed, T-200..T-5."""
        if locale == "en":
            return f"In effect {self.day(-100)} – {self.day(95)} | Ordered term {self.day(-200)} – {self.day(-5)}"
        return f"生效期间：{self.day(-100)} 至 {self.day(95)} | 文书所定期限：{self.day(-200)} 至 {self.day(-5)}"

    def behind(self, locale: str) -> str:
        """The queued seizure's period: expected T+96..T+226; its ordered term T-30..T+100."""
        if locale == "en":
            return (f"Expected in effect {self.day(96)} – {self.day(226)} | "
                    f"Ordered term {self.day(-30)} – {self.day(100)}")
        return f"预计生效期间：{self.day(96)} 至 {self.day(226)} | 文书所定期限：{self.day(-30)} 至 {self.day(100)}"


def renewed_flat(node: PortalNode, serial: int) -> RenewedFlat:
    """A surveyed flat ``OWNER`` owns, with three of the court's seizures; the second renewed by the court.

    Imported: the first's term T-300..T-101 (lapsed); the second's T-200..T-50, delivered while the
    first was in effect, so its 151 days count from T-100; the third's T-30..T+100 queued behind it.
    The court then renews (续封) the second to T-5: its 196 days run T-100..T+95, in effect today
    though its ordered term ended five days ago, and the third's 131 days count from T+96.
    """
    key = (node.directory / "orgs" / IDENTITY_ORG / PARTY_ID_KEY).read_bytes()
    unit = new_flat(key, int(time.time()) * 100 + serial)
    number = unit.surveyed
    person = node.owners[OWNER]
    owner_ref: dict[str, JSONValue] = {"party_id": str(person["party_id"]), "record_ref": str(person["record_ref"])}
    today = guangzhou_today()
    now = int(time.time() * 1000)

    def seizure(n: int, order_no: str, start: int, end: int, *, queued: bool) -> dict[str, JSONValue]:
        return {"seizure_id": f"IMP-S-{number}-{n}", "unit_number": number, "authority_org": "gz-court",
                "order_no": order_no, "kind": "1", "start_date": (today + dt.timedelta(days=start)).isoformat(),
                "end_date": (today + dt.timedelta(days=end)).isoformat(), "queue_order": n, "queued": queued,
                "delivered_ms": now + start * DAY_MS, "released_ms": None, "release_order_no": None, "renewals": 0}

    submit_as(node, IMPORTER, "register.import", {
        "units": [{"unit_number": number, "kind": "surveyed", "use": "residential", "area_centi_m2": 8912,
                   "location_code": unit.location_code, "predecessor": None, "successor": None}],
        "ownerships": [{"right_id": f"OWN-{number}", "unit_number": number, "title_number": f"IMP-TITLE-{number}",
                        "form": "sole", "holders": [{**owner_ref, "share_numerator": 1, "share_denominator": 1}],
                        "agreed_threshold": None, "successor": None, "registered_ms": now - 400 * DAY_MS}],
        "mortgages": [], "notices": [],
        "seizures": [seizure(1, EARLIER, -300, -101, queued=False), seizure(2, RENEWED, -200, -50, queued=True),
                     seizure(3, BEHIND, -30, 100, queued=True)]})
    submit_as(node, COURT, "seizure.renew", {"seizure_id": f"IMP-S-{number}-2",
                                             "end_date": (today + dt.timedelta(days=-5)).isoformat()})
    return RenewedFlat(unit_number=number, today=today)


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


def test_the_registry_s_register_page_reads_a_renewed_seizure_in_effect_and_a_queued_one_from_the_queue(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    """The reviewer's register page of a unit gives each seizure the period the queue derives, as the court's
    desk does: the renewed one is in effect until T+95 though its ordered term ended at T-5 (it read
    "T-200 – T-5", as if lapsed), and the queued one is expected from T+96 (it read "T-30 – T+100", as
    if in force since its typed start)."""
    flat = renewed_flat(node, serial=44)
    reviewer = signed_in(browser, node, people, REVIEWER)
    page = reviewer.page
    page.goto(f"{node.portal}/register/{flat.unit_number}")
    shown = rows(page.locator("table", has=page.locator("[data-testid=seizure-row]")), 1)
    assert {order: cells[4:6] for order, cells in shown.items()} == {
        EARLIER: [f"曾生效：{flat.day(-300)} 至 {flat.day(-101)}", "期满失效"],
        RENEWED: [flat.renewed("zh-CN"), "生效中"],
        BEHIND: [flat.behind("zh-CN"), "轮候中"],
    }
    assert page.locator("[data-testid=queue-note]").count() == 1

    reviewer.switch("en")
    shown = rows(page.locator("table", has=page.locator("[data-testid=seizure-row]")), 1)
    assert shown[RENEWED][4:6] == [flat.renewed("en"), "In effect"]
    assert shown[BEHIND][4:6] == [flat.behind("en"), "Queued (轮候)"]


def test_a_bank_sees_why_a_unit_is_blocked_with_the_state_and_period_the_queue_derives(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    """A bank's filing entries, shown in full on the owner's consent, name each seizure that holds the unit with
    its state and the period it is (or is expected) in effect, not the dates typed on the order: the
    renewed one read "T-200 – T-5" (lapsed, though it blocks the unit) and the queued one "T-30 – T+100"."""
    flat = renewed_flat(node, serial=45)
    owner = signed_in(browser, node, people, OWNER)
    give_consent(owner, flat.unit_number, "icbc-gz", expires_on="2030-12-31")
    clerk = signed_in(browser, node, people, CLERK)
    page = clerk.page
    page.goto(f"{node.portal}/bank/new?unit={flat.unit_number}")
    assert page.get_attribute("[data-testid=disclosure]", "data-full") == "true"
    seizures = page.locator("[data-testid=entries] table").last
    assert rows(seizures) == {  # the lapsed one is history: not among what holds the unit
        RENEWED: [RENEWED, "gz-court", "生效中", flat.renewed("zh-CN")],
        BEHIND: [BEHIND, "gz-court", "轮候中", flat.behind("zh-CN")],
    }
    assert page.locator("[data-testid=queue-note]").count() == 1

    clerk.switch("en")
    assert rows(page.locator("[data-testid=entries] table").last) == {
        RENEWED: [RENEWED, "gz-court", "In effect", flat.renewed("en")],
        BEHIND: [BEHIND, "gz-court", "Queued (轮候)", flat.behind("en")],
    }
