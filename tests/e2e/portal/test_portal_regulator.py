"""The regulator's read-only desk: blocks and their transactions, a transaction's inclusion proof that verifies
independently, a consistency proof, inquiry statistics and the cases' time limits."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import Browser, Page

from estatechain.canonical import JSONValue
from estatechain.contract import keys
from estatechain.contract.working_days import WorkingDays
from estatechain.crypto.merkle import verify_consistency, verify_inclusion
from estatechain.crypto.suites import get_suite
from estatechain.sdk.identity import ClientIdentity
from estatechain.sdk.sync import SyncClient
from estatechain.web.timelimits import Hold, certainly_late
from portal.portal_people import Person, PortalNode, fill_filing, member_banks, open_filing, sign_here

AUDITOR = "gz-regulator/auditor1"
BANK = "icbc-gz/operator1"
UNIT = "440114026003GB00001F00010024"


def inquire(node: PortalNode, body: dict[str, str]) -> str:
    """A bank's signed inquiry through the API (the portal has no inquiry desk yet); its committed outcome."""
    identity = ClientIdentity.from_dev(node.directory, BANK)

    def submit() -> str:
        with SyncClient(node.url, identity) as client:
            signed = client.sign("inquiry.request", body)
            status = client.submit(signed.envelope, wait_s=10)
            assert status.committed, status
            assert status.valid, status
            return signed.tx_id

    with ThreadPoolExecutor(1) as pool:  # the SDK runs its own loop; sync Playwright holds this thread's
        return pool.submit(submit).result()


def stats(page: Page) -> dict[str, tuple[int, int]]:
    found = {}
    rows = page.locator("[data-testid=inquiry-purpose]")
    for i in range(rows.count()):
        row = rows.nth(i)
        found[str(row.get_attribute("data-purpose"))] = (int(row.locator("[data-testid=granted]").inner_text()),
                                                         int(row.locator("[data-testid=refused]").inner_text()))
    return found


def per_state(page: Page) -> dict[str, int]:
    return {str(row.get_attribute("data-state")): int(row.inner_text().split()[-1])
            for row in page.locator("[data-testid=sla-state]").all()}


def hexes(page: Page, selector: str) -> list[bytes]:
    return [bytes.fromhex(text.strip()) for text in page.locator(selector).all_inner_texts()]


def test_the_regulator_sees_blocks_and_a_transaction_whose_inclusion_proof_verifies(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    auditor = Person(browser, node, AUDITOR, locale="en")
    people.append(auditor)
    page = auditor.sign_in()
    page.wait_for_url("**/portal/regulator")
    first = page.locator("[data-testid=block-row]").first
    head = int(first.locator("a").inner_text())
    assert head >= 2
    first.locator("a").click()
    page.wait_for_url(f"**/portal/regulator/blocks/{head}")
    root = bytes.fromhex(page.inner_text("[data-testid=block-txlog-root]"))
    size = int(page.inner_text("[data-testid=block-txlog-size]"))
    txs = page.locator("[data-testid=block-tx]")
    assert txs.count() >= 1
    assert "Valid" in txs.first.inner_text() or "Invalid" in txs.first.inner_text()
    auditor.shoot("regulator-block-en")

    page.goto(f"{auditor.node.portal}/regulator/blocks/1")
    page.locator("[data-testid=block-tx] a").first.click()
    page.wait_for_url("**/portal/tx/*")
    assert page.inner_text("[data-testid=tx-command]") == "register.import"
    assert page.inner_text("[data-testid=tx-signer-org]") == "gz-registry"
    index = int(page.inner_text("[data-testid=proof-index]"))
    proof_size = int(page.inner_text("[data-testid=proof-size]"))
    leaf = bytes.fromhex(page.inner_text("[data-testid=proof-leaf]"))
    proof_root = bytes.fromhex(page.inner_text("[data-testid=proof-root]"))
    path = hexes(page, "[data-testid=proof-node]")
    suite = get_suite(json.loads((node.directory / "genesis.json").read_text(encoding="utf-8"))["suite"])
    assert (proof_size, proof_root) == (size, root)  # the proof is against the head block's own header
    assert verify_inclusion(suite.hash, leaf, index, proof_size, path, proof_root)
    assert not verify_inclusion(suite.hash, leaf, index + 1, proof_size, path, proof_root)
    auditor.shoot("regulator-inclusion-proof-en")

    page.goto(f"{auditor.node.portal}/regulator")
    page.fill("#old", "1")
    page.fill("#new", str(size))
    page.click("form[action$='/regulator/consistency'] button[type=submit]")
    page.wait_for_url("**/regulator/consistency?*")
    old_root = bytes.fromhex(page.inner_text("[data-testid=old-root]"))
    new_root = bytes.fromhex(page.inner_text("[data-testid=new-root]"))
    assert new_root == root
    assert verify_consistency(suite.hash, 1, size, hexes(page, "[data-testid=consistency-node]"), old_root, new_root)


def test_the_regulator_counts_inquiries_by_purpose_and_outcome_and_cases_by_state(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    auditor = Person(browser, node, AUDITOR, locale="en")
    registry = Person(browser, node, "gz-registry/admin1", locale="en")
    people.extend([auditor, registry])
    page = auditor.sign_in()
    before = stats(page)
    inquire(node, {"unit_number": UNIT, "basis": "intent", "purpose": "PRE_LOAN"})
    bank_party = member_banks(node)["icbc-gz"]
    inquire(node, {"unit_number": UNIT, "basis": "own_right", "purpose": "POST_LOAN",  # refused: the bank has no right
                   "requester_party": bank_party})
    page.goto(node.portal + "/regulator")
    after = stats(page)
    granted, refused = before.get("PRE_LOAN", (0, 0))
    assert after["PRE_LOAN"] == (granted + 1, refused)
    granted, refused = before.get("POST_LOAN", (0, 0))
    assert after["POST_LOAN"] == (granted, refused + 1)
    operator = ClientIdentity.from_dev(node.directory, BANK).fingerprint
    row = page.locator(f"[data-testid=busiest-row]:has(td[title='{operator}'])").first
    cells = row.locator("td").all_inner_texts()  # today's row of ICBC's operator: at least this unit, asked twice
    assert cells[1:3] == ["Industrial and Commercial Bank of China, Guangzhou Branch", "Bank clerk"]
    assert int(cells[4]) >= 1
    assert int(cells[5]) >= 2
    assert int(cells[6]) >= 1  # the own-right inquiry into a unit ICBC holds no right on was not granted
    auditor.shoot("regulator-desk-en")

    filed_before = per_state(page).get("FILED", 0)
    clerk = Person(browser, node, BANK)
    people.append(clerk)
    clerk.sign_in()
    open_filing(clerk, UNIT)
    fill_filing(clerk, contract="LOAN-REGULATOR-SLA")
    sign_here(clerk)
    page.goto(node.portal + "/regulator")
    states = per_state(page)
    assert states["FILED"] == filed_before + 1
    registry.sign_in()
    registry.page.goto(node.portal + "/cases")
    listed = registry.page.locator("table.cases tbody tr a").count()
    assert sum(states.values()) == listed
    assert int(page.inner_text("[data-testid=sla-overdue]")) == 0  # every case of this ledger is minutes old
    assert int(page.inner_text("[data-testid=sla-late]")) == 0


def test_a_case_is_reported_late_only_when_no_holiday_calendar_could_make_it_timely() -> None:
    def at(day: str) -> int:
        return int(dt.datetime.fromisoformat(day + "T10:00:00+08:00").timestamp() * 1000)

    accepted = at("2026-01-05")
    assert certainly_late(accepted, at("2026-03-31"), ())  # 61 weekdays: late even with 13 holidays in between
    assert not certainly_late(accepted, at("2026-02-20"), ())  # 34 weekdays: Spring Festival may fall in them
    four_weeks = (Hold(at("2026-03-02"), at("2026-03-30")),)  # 20 weekdays on hold do not count
    assert not certainly_late(accepted, at("2026-03-31"), four_weeks)


class Calendars:
    """A state view holding only the registry's recorded holiday calendars (``calendar.set`` rows)."""

    def __init__(self, rows: dict[str, dict[str, JSONValue]]) -> None:
        self.rows = rows

    def get(self, key: str) -> dict[str, JSONValue] | None:
        return self.rows.get(key)

    def scan(self, prefix: str) -> Iterator[tuple[str, dict[str, JSONValue]]]:
        return iter(sorted((k, v) for k, v in self.rows.items() if k.startswith(prefix)))


def test_with_the_year_s_calendar_on_the_ledger_its_holidays_decide() -> None:
    def at(day: str) -> int:
        return int(dt.datetime.fromisoformat(day + "T10:00:00+08:00").timestamp() * 1000)

    def recorded(holidays: list[JSONValue]) -> WorkingDays:
        return WorkingDays(Calendars({keys.work_calendar(2026): {"year": 2026, "holidays": holidays, "workdays": []}}))

    accepted, until = at("2026-01-05"), at("2026-02-20")  # 34 weekdays after the day of acceptance
    assert certainly_late(accepted, until, (), recorded([]))
    spring = [f"2026-02-{day:02d}" for day in range(9, 21) if dt.date(2026, 2, day).weekday() < 5]
    assert not certainly_late(accepted, until, (), recorded(list(spring)))


def test_banks_do_not_open_the_regulator_desk(browser: Browser, node: PortalNode, people: list[Person]) -> None:
    clerk = Person(browser, node, BANK)
    court = Person(browser, node, "gz-court/court1")
    people.extend([clerk, court])
    for person in (clerk, court):
        person.sign_in()
        for path in ("/regulator", "/regulator/blocks/1", "/regulator/consistency?old=1"):
            response = person.page.goto(node.portal + path)
            assert response is not None
            assert response.status == 403, (person.username, path)


def test_a_size_outside_the_log_is_refused_on_the_field_and_unknown_blocks_are_not_found(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    auditor = Person(browser, node, AUDITOR, locale="en")
    people.append(auditor)
    page = auditor.sign_in()
    for query, field in (("old=0", "old"), ("old=abc", "old"), ("old=3&new=2", "new"), ("old=1&new=99999999", "new"),
                         ("old=²", "old"), ("old=١", "old"), ("old=" + "9" * 5000, "old"),
                         ("old=1&new=²", "new"), ("old=1&new=" + "9" * 5000, "new")):
        response = page.goto(f"{node.portal}/regulator/consistency?{query}")
        assert response is not None
        assert response.status == 422, query
        assert page.inner_text(f"#{field}-error").startswith("Enter a tx-log size"), query
        assert page.locator("[data-testid=consistency-verified]").count() == 0
    for path in ("/regulator/blocks/0", "/regulator/blocks/abc", "/regulator/blocks/99999999", "/regulator/blocks/²",
                 "/regulator/blocks/١", "/regulator/blocks/" + "9" * 5000, "/tx/" + "0" * 64):
        response = page.goto(node.portal + path)
        assert response is not None
        assert response.status == 404, path
    for top in ("²", "9" * 5000, "0", "abc"):  # a page link's number that is not a block: the newest blocks
        response = page.goto(f"{node.portal}/regulator?top={top}")
        assert response is not None
        assert response.status == 200, top
        assert page.locator("[data-testid=block-row]").count() >= 1


def test_the_inquiry_statistics_name_refused_inquiries_as_inquiries_in_chinese(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    """An inquiry not granted is 未准予, not 不予登记 (a refusal of registration, 条例 22): another figure."""
    auditor = Person(browser, node, AUDITOR)
    people.append(auditor)
    page = auditor.sign_in()
    page.wait_for_url("**/portal/regulator")
    headers = page.locator("[data-testid=inquiry-stats] thead th").all_inner_texts()
    assert headers == ["查询目的", "准予查询", "未准予", "合计"]
