"""The registry's review desk on the case page: ranks before and after, every rule's result, the legal clock,
the materials viewer, and hold / resume.

A mortgage is filed by CCB on person2's unit, which already carries ICBC's mortgage: the desk ranks the new one
after it, and CCB sees ICBC's entry only as a rank.
A court seizure in the middle makes V13 fail on the desk (and the review step's verdict with it); it is lifted
again before the test ends, so later filings on the unit are not refused.
"""

from __future__ import annotations

import time

from playwright.sync_api import Browser, Page

from estatechain.certificates.parties import PartyDirectory
from estatechain.contract.records import PartyRef
from estatechain.storage.store import LedgerStore
from portal.portal_people import Person, PortalNode, fill_filing, open_filing, sign_here, signed_in, take
from portal.test_portal_court import lift, record_seizure

OWNER = "gz-identity/person2"


def sealed_identity(node: PortalNode, handle: str) -> str:
    """The dev owner's name and ID document, opened from the registry's sealed store as the court's export would."""
    owner = node.owners[handle]
    store = LedgerStore.open(node.directory / "nodes" / "gz-registry", readonly=True)
    try:
        directory = PartyDirectory.from_dev(view=store, genesis=store.genesis, consortium_dir=node.directory,
                                            ledger_dir=node.directory / "nodes" / "gz-registry", org_id="gz-registry")
        record = directory._open(PartyRef(party_id=str(owner["party_id"]), record_ref=str(owner["record_ref"])))
    finally:
        store.close()
    assert record is not None
    return f"{record['name']} ({record['id_type']} {record['id_number']})"
BANK = "ccb-gz"
"""Not the holder of the unit's current mortgage (ICBC's): the bank sees that entry as a rank only."""
COURT = "gz-court/court1"
REGISTER_CHECKS = {"V3", "V2", "V4", "V6", "V13", "V14", "V16"}



def rank_rows(page: Page) -> list[tuple[str, str, bool]]:
    """(rank now, rank after, is this case) of every row of the desk's rank table."""
    rows = page.locator("[data-testid=rank-row]")
    return [(row.locator("[data-testid=rank-before]").inner_text().strip(),
             row.locator("[data-testid=rank-after]").inner_text().strip(),
             "this-case" in (row.get_attribute("class") or "")) for row in rows.all()]


def rule_rows(page: Page) -> dict[str, str]:
    """Rule → "pass" or the failing row's text (code and message)."""
    found: dict[str, str] = {}
    for row in page.locator("[data-testid=rule-row]").all():
        rule = row.locator("td").first.inner_text().strip()
        passed = "rule-pass" in (row.get_attribute("class") or "")
        if not passed or rule not in found:  # V3 has two rows: a failing one wins
            found[rule] = "pass" if passed else row.inner_text()
    return found


def test_the_review_desk_shows_ranks_rules_materials_and_clock_and_holds_and_resumes(  # noqa: PLR0915  (one story)
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    clerk = signed_in(browser, node, people, f"{BANK}/operator1")
    open_filing(clerk, node.unit_of(OWNER))
    fill_filing(clerk, contract=f"LOAN-REVIEW-{int(time.time())}")
    case_id = sign_here(clerk)
    case_url = f"{node.portal}/cases/{case_id}"
    owner = signed_in(browser, node, people, OWNER)
    take(owner, case_id, "confirm")
    take(signed_in(browser, node, people, f"{BANK}/approver1"), case_id, "confirm")

    # Intake: the desk ranks the new mortgage after the unit's current ones, as if accepted now.
    intake = signed_in(browser, node, people, "gz-registry/intake1")
    intake.page.goto(case_url)
    rows = rank_rows(intake.page)
    others = [row for row in rows if not row[2]]
    assert len(others) >= len(node.owners[OWNER]["mortgages"])  # type: ignore[arg-type]
    assert all(before == after for before, after, _ in others)  # nothing moves for the earlier ones
    assert [row[:2] for row in rows if row[2]] == [("尚未登簿", str(len(others) + 1))]
    assert "尚未受理" in intake.page.inner_text("[data-testid=review-desk]")
    rules = rule_rows(intake.page)
    assert set(rules) >= REGISTER_CHECKS
    assert set(rules.values()) == {"pass"}
    verdict = intake.page.inner_text("[data-testid=verdict]")
    assert "受理" in verdict
    assert "规则允许" in verdict
    assert intake.page.locator("[data-testid=clock]").count() == 0  # no clock before acceptance

    # The filing bank sees the same ranks, other mortgagees' entries as ranks only; the owner sees no desk.
    clerk.page.goto(case_url)
    assert rank_rows(clerk.page) == rows
    bank_only = clerk.page.inner_text("[data-testid=ranks]")
    for row in clerk.page.locator("[data-testid=rank-row]:has([data-testid=other-mortgagee])").all():
        assert "万元" not in row.inner_text()
        assert "粤(" not in row.inner_text()
    assert "120万元" in bank_only  # its own filing in full
    legacy = node.owners[OWNER]["mortgages"]
    assert isinstance(legacy, list)
    others_held = [str(m["certificate_number"]) for m in legacy if m["mortgagee_org"] != BANK]
    assert others_held, "person2's unit carries another bank's mortgage (choose_dev_owners)"
    assert clerk.page.locator("[data-testid=other-mortgagee]").count() >= len(others_held)
    for number in others_held:
        assert number in intake.page.inner_text("[data-testid=ranks]")  # the registry sees it
        assert number not in bank_only  # the filing bank does not
    assert clerk.page.locator("[data-testid=rules], [data-testid=verdict]").count() == 0
    owner.page.goto(case_url)
    assert owner.page.locator("[data-testid=review-desk]").count() == 0
    take(intake, case_id, "accept")

    # Accepted today: 30 working days left, not flagged, on the case page and in the reviewer's queue.
    reviewer = signed_in(browser, node, people, "gz-registry/reviewer1")
    page = reviewer.page
    page.goto(f"{node.portal}/registry")
    row = page.locator(f"tr:has(a[href$='/cases/{case_id}'])").first
    assert row.locator("[data-testid=clock]").get_attribute("data-left") == "30"
    assert "剩余 30 个工作日" in row.inner_text()
    assert "due" not in (row.get_attribute("class") or "")
    for desk, person in (("bank", clerk), ("owner", owner)):  # the filing bank and the owner see the clock too
        person.page.goto(f"{node.portal}/{desk}")
        listed = person.page.locator(f"table.cases tr:has(a[href$='/cases/{case_id}'])").first
        assert listed.locator("[data-testid=clock]").get_attribute("data-left") == "30", desk
    response = page.goto(case_url)
    assert response is not None
    assert "frame-src 'self'" in response.headers["content-security-policy"]
    clock = page.locator("[data-testid=clock]")
    assert clock.get_attribute("data-left") == "30"
    # The registry's desk names the applicants from their sealed records; the filing bank's page does not.
    named = page.locator("[data-testid=applicant-name]").all_inner_texts()
    assert named[0] == sealed_identity(node, OWNER)
    assert "中国建设银行" in named[1]
    clerk.page.goto(case_url)
    assert clerk.page.locator("[data-testid=applicant-name]").count() == 0
    assert "clock-near" not in (clock.get_attribute("class") or "")
    assert "审核" in page.inner_text("[data-testid=verdict]")
    assert "规则允许" in page.inner_text("[data-testid=verdict]")

    # The materials open in the page (PDFs in a frame of the portal's own origin), for the registry, the filer and
    # the applicants only.
    viewers = page.locator("[data-testid=viewer]")
    assert viewers.count() == 3
    page.click("[data-testid=viewer] >> nth=0 >> summary")
    source = page.get_attribute("[data-testid=viewer] iframe >> nth=0", "src")
    assert source is not None
    assert source.endswith("/view")
    shown = reviewer.context.request.get(node.url + source)
    assert shown.status == 200
    assert shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-disposition"].startswith("inline")
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["x-frame-options"] == "SAMEORIGIN"
    assert shown.body().startswith(b"%PDF-1.4")
    assert page.locator("a[href*='/materials/'][download]").count() == 3  # the downloads stay
    assert clerk.context.request.get(node.url + source).status == 200  # the uploading bank
    assert owner.context.request.get(node.url + source).status == 200  # the owner, an applicant (as the download)
    stranger = signed_in(browser, node, people, "gz-identity/person1")
    assert stranger.context.request.get(node.url + source).status == 404  # another owner: no party to the case
    reviewer.shoot("review-desk-zh-CN")

    # A hold needs a written reason; without one nothing is prepared.
    page.fill("#text-hold", "   ")
    page.click(f"form[action$='/{case_id}/hold'] button")
    assert "请填写中止办理的理由" in page.inner_text("main")
    page.goto(case_url)
    assert page.inner_text("[data-testid=state]").strip() == "已受理，审核中"
    page.fill("#text-hold", "需实地查看房屋现状")
    page.click(f"form[action$='/{case_id}/hold'] button")
    assert "需实地查看房屋现状" in page.inner_text("main")
    sign_here(reviewer)
    assert page.inner_text("[data-testid=state]").strip() == "中止"
    assert page.inner_text("[data-testid=hold-reason]") == "中止理由: 需实地查看房屋现状"
    assert "计时暂停" in page.inner_text("[data-testid=clock]")
    assert page.locator(f"form[action$='/{case_id}/review']").count() == 0  # no approval while held
    page.goto(f"{node.portal}/registry")
    assert page.locator(f"[data-testid=on-hold] a[href$='/cases/{case_id}']").count() == 1
    take(reviewer, case_id, "resume")
    assert page.inner_text("[data-testid=state]").strip() == "已受理，审核中"
    page.goto(f"{node.portal}/registry")
    assert page.locator(f"[data-testid=on-hold] a[href$='/cases/{case_id}']").count() == 0

    # Held a second time: the case's history keeps both holds and both resumes, in order, with who signed each.
    page.goto(case_url)
    page.fill("#text-hold", "需补充测绘成果")
    page.click(f"form[action$='/{case_id}/hold'] button")
    sign_here(reviewer)
    take(reviewer, case_id, "resume")
    steps = page.locator("ol.timeline li[data-testid^=step-]")
    names = [steps.nth(i).get_attribute("data-testid") for i in range(steps.count())]
    assert names == ["step-accepted", "step-held", "step-resumed", "step-held", "step-resumed"]
    assert page.locator("[data-testid=hold-reason]").all_inner_texts() == [
        "中止理由: 需实地查看房屋现状", "中止理由: 需补充测绘成果"]
    assert steps.locator("[data-testid=signed-by]").all_inner_texts() == ["intake1"] + ["reviewer1"] * 4

    # A seizure arrives: the desk shows V13 failing with its text, and the approval would be refused.
    court = signed_in(browser, node, people, COURT)
    court.page.wait_for_url("**/portal/court")
    order = f"（2026）粤0106执保{int(time.time()) % 100000}号"
    seizure = record_seizure(court, node.unit_of(OWNER), order)
    try:
        page.goto(case_url)
        rules = rule_rows(page)
        assert "V13_UNIT_SEIZED" in rules["V13"]
        assert all(rules[rule] == "pass" for rule in REGISTER_CHECKS - {"V13"})
        refused = page.inner_text("[data-testid=verdict]")
        assert "规则将拒绝" in refused
        assert "V13_UNIT_SEIZED" in refused
        assert "V13_UNIT_SEIZED" in page.inner_text("[data-testid=ranks-blocked]")
        approve = page.locator(f"form[action$='/{case_id}/review'] button")
        assert approve.is_disabled()  # a step the rules would refuse cannot be started
        assert "无法签署" in page.inner_text("[data-testid=step-refused]")
        reviewer.switch("en")
        assert "No seizure in effect" in page.inner_text("[data-testid=rules]")
        assert "fails" in page.inner_text("[data-testid=rules]")
        reviewer.shoot("review-desk-seized-en")
        reviewer.switch("zh-CN")
    finally:
        lift(court, seizure, order)
    page.goto(case_url)
    assert set(rule_rows(page).values()) == {"pass"}
    assert page.locator(f"form[action$='/{case_id}/review'] button").is_enabled()
    assert page.locator("[data-testid=step-refused]").count() == 0
    take(reviewer, case_id, "review")
    assert page.inner_text("[data-testid=state]").strip() != "已受理，审核中"
