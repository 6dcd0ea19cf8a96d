"""The bank's inquiry desk (查询登记结果, domain.md §7) in chromium.

An owner gives a bank a pre-loan consent; the bank's clerk asks about the unit on the desk citing it,
confirms on the signing page, and reads the registry-signed answer: the full register result as of
the inquiry's block, and the signed JSON, whose signature verifies offline. Another bank sees
neither the inquiry nor its answer. Asked with the wrong purpose, or with a consent that does not
exist, the inquiry is refused and the page shows the rule code in both languages; without consent the
bank gets the limited answer (yes/no flags, no owner). A bad form changes nothing.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import Browser

from estatechain.cli.demo_driver import verified_answer
from estatechain.cli.main import node_dir
from estatechain.sdk import ClientIdentity
from estatechain.sdk.sync import SyncClient
from estatechain.storage.store import LedgerStore
from estatechain.web.routes_inquiry import LISTED
from portal.portal_people import SIGN_PAGE, Person, PortalNode, bank_mortgages, give_consent, sign_here, signed_in

OWNER = "gz-identity/person4"
CLERK = "ccb-gz/operator1"
"""CCB, not ICBC: a consent to ICBC would widen what other tests' ICBC filing pages show."""
OTHER_BANK = "icbc-gz/operator1"
NOT_ENTITLED = "V26_INQUIRY_NOT_ENTITLED"



def inquire(  # noqa: PLR0913  (keywords only: the form's fields)
        clerk: Person, *, unit: str = "", certificate: str = "", purpose: str, basis: str, consents: str = "",
) -> None:
    """Fill in the desk's form and continue to the confirmation page."""
    page = clerk.page
    page.goto(clerk.node.portal + "/inquiries")
    page.fill("#unit_number", unit)
    page.fill("#certificate", certificate)
    page.select_option("#purpose", purpose)
    page.check(f"#basis-{basis}")
    page.fill("#consent_ids", consents)
    page.click("#inquiry button[type=submit]")


def inquiry_height(node: PortalNode, tx_id: str) -> int:
    store = LedgerStore.open(node_dir(node.directory), readonly=True)
    try:
        record = store.get(f"inquiry/{tx_id}")
        assert record is not None
        return int(str(record["as_of_height"]))
    finally:
        store.close()


def test_a_bank_inquires_with_the_owners_consent_and_reads_the_signed_answer(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    owner = signed_in(browser, node, people, OWNER)
    consent_id = give_consent(owner, owner.node.unit_of(owner.username), "ccb-gz", "PRE_LOAN")
    unit = node.unit_of(OWNER)

    clerk = signed_in(browser, node, people, CLERK)
    page = clerk.page
    page.click("header a[href$='/portal/inquiries']")
    inquire(clerk, unit=unit, purpose="PRE_LOAN", basis="consent")  # no ids typed: the consent in force is cited
    page.wait_for_url(SIGN_PAGE)
    assert consent_id in page.inner_text("main")
    assert "查询登记结果" in page.inner_text("main")
    inquiry = sign_here(clerk)
    assert page.url.split("?")[0].endswith(f"/portal/inquiries/{inquiry}")

    answer = page.locator("[data-testid=answer]")
    assert answer.get_attribute("data-answer") == "FULL"
    assert "完整登记结果" in page.inner_text("[data-testid=answer-kind]")
    height = int(page.inner_text("[data-testid=as-of-height]"))
    assert height == inquiry_height(node, inquiry)
    assert str(node.owners[OWNER]["title_number"]) in page.inner_text("[data-testid=title-number]")
    assert str(node.owners[OWNER]["party_id"]) in page.inner_text("[data-testid=answer-owners]")
    clerk.shoot("inquiry-answer-zh-CN")
    clerk.switch("en")
    assert "Full register result" in page.inner_text("[data-testid=answer-kind]")
    clerk.shoot("inquiry-answer-en")
    clerk.switch("zh-CN")

    with page.expect_download() as download:
        page.click("[data-testid=answer-download]")
    signed = json.loads(download.value.path().read_text(encoding="utf-8"))
    chain_id = str(signed["answer"]["chain_id"])
    document = verified_answer(signed, chain_id=chain_id, inquiry_id=inquiry, height=height)
    assert document["answer"] == "FULL"
    assert document["basis"] == "consent"
    assert document["requester_org"] == "ccb-gz"
    assert document["result"]["title_number"] == node.owners[OWNER]["title_number"]

    page.goto(node.portal + "/inquiries")
    row = page.locator(f"[data-testid=own-inquiry-{inquiry}]")
    assert row.get_attribute("data-outcome") == "GRANTED"
    assert unit in row.inner_text()

    other = signed_in(browser, node, people, OTHER_BANK)
    other.page.goto(node.portal + "/inquiries")
    assert other.page.locator(f"[data-testid=own-inquiry-{inquiry}]").count() == 0
    assert other.context.request.get(f"{node.portal}/inquiries/{inquiry}").status == 404
    assert other.context.request.get(f"{node.portal}/inquiries/{inquiry}/answer.json").status == 404

    owner.page.goto(node.portal + "/owner/inquiries")
    seen = owner.page.locator(f"[data-testid=inquiry-{inquiry}]")
    assert seen.get_attribute("data-org") == "ccb-gz"
    assert seen.get_attribute("data-outcome") == "GRANTED"


def test_refused_inquiries_show_their_rule_in_both_languages_and_release_nothing(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    owner = signed_in(browser, node, people, OWNER)
    consent_id = give_consent(owner, owner.node.unit_of(owner.username), "ccb-gz", "PRE_LOAN")
    unit = node.unit_of(OWNER)
    clerk = signed_in(browser, node, people, CLERK)
    page = clerk.page

    inquire(clerk, unit=unit, purpose="POST_LOAN", basis="consent", consents=consent_id)  # the consent is pre-loan
    wrong_purpose = sign_here(clerk)
    failure = page.inner_text("[data-testid=rule-failure]")
    assert NOT_ENTITLED in failure
    assert "查询人无权进行本次查询" in failure
    assert "The requester is not entitled to this inquiry" in failure
    assert "does not cover this unit, requester and purpose" in failure
    assert page.locator("[data-testid=answer]").count() == 0
    assert page.locator("[data-testid=outcome]").get_attribute("data-outcome") == "REFUSED"
    assert clerk.context.request.get(f"{node.portal}/inquiries/{wrong_purpose}/answer.json").status == 404
    clerk.shoot("inquiry-refused-zh-CN")

    inquire(clerk, unit=unit, purpose="PRE_LOAN", basis="consent", consents="ab" * 32)
    no_consent = sign_here(clerk)
    failure = page.inner_text("[data-testid=rule-failure]")
    assert NOT_ENTITLED in failure
    assert f"consent {'ab' * 32} does not exist" in failure
    assert page.locator("[data-testid=answer]").count() == 0

    page.goto(node.portal + "/inquiries")
    for refused in (wrong_purpose, no_consent):
        assert page.locator(f"[data-testid=own-inquiry-{refused}]").get_attribute("data-outcome") == "REFUSED"
    owner.page.goto(node.portal + "/owner/inquiries")  # refused, but recorded: the owner sees both
    for refused in (wrong_purpose, no_consent):
        assert owner.page.locator(f"[data-testid=inquiry-{refused}]").get_attribute("data-outcome") == "REFUSED"


def test_without_consent_a_bank_gets_the_limited_answer_only(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    clerk = signed_in(browser, node, people, CLERK, locale="en")
    page = clerk.page
    title = str(node.owners[OWNER]["title_number"])
    inquire(clerk, certificate=title, purpose="TRANSACTION", basis="intent")
    page.wait_for_url(SIGN_PAGE)
    assert title in page.inner_text("main")
    sign_here(clerk)
    assert page.locator("[data-testid=answer]").get_attribute("data-answer") == "LIMITED"
    assert "Limited answer" in page.inner_text("[data-testid=answer-kind]")
    flags = page.locator("[data-testid=answer-flags] tr")
    assert flags.count() == 6
    assert node.owners[OWNER]["mortgages"], "the seed's person4 owns a mortgaged unit"
    assert page.locator("[data-testid=answer-flags] tr[data-flag=mortgage_flag]").get_attribute("data-value") == "yes"
    assert page.locator("[data-testid=answer-flags] tr[data-flag=co_ownership]").get_attribute("data-value") == (
        "yes" if node.owners[OWNER].get("co_owners") else "no")
    main = page.inner_text("main")
    assert str(node.owners[OWNER]["party_id"]) not in main
    assert page.locator("[data-testid=answer-owners]").count() == 0
    assert node.unit_of(OWNER) in main  # the answer names the unit the certificate is of
    clerk.shoot("inquiry-limited-en")


def test_a_bad_inquiry_form_says_what_is_wrong_and_changes_nothing(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    clerk = signed_in(browser, node, people, CLERK)
    page = clerk.page
    page.goto(node.portal + "/inquiries")
    before = page.locator("[data-testid=own-inquiries] tbody tr").count()

    with page.expect_response(lambda r: r.url.endswith("/portal/inquiries") and r.request.method == "POST") as sent:
        inquire(clerk, purpose="PRE_LOAN", basis="consent", consents="not-a-consent")
    assert sent.value.status == 422
    assert page.is_visible("#unit_number-error")
    assert page.get_attribute("#unit_number", "aria-invalid") == "true"
    assert "64" in page.inner_text("#consent_ids-error")
    clerk.shoot("inquiry-desk-zh-CN")

    inquire(clerk, certificate="粤(2020)广州市不动产权第ABC号", purpose="PRE_LOAN", basis="intent")
    assert page.is_visible("#certificate-error")
    inquire(clerk, unit=node.unit_of(OWNER), purpose="PRE_LOAN", basis="intent", consents="ab" * 32)
    assert page.is_visible("#consent_ids-error")
    assert page.input_value("#unit_number") == node.unit_of(OWNER)  # what was typed is kept
    unconsented = bank_mortgages(node, "icbc-gz")[0][0]  # no dev person owns it: no consent can be in force
    inquire(clerk, unit=unconsented, purpose="PRE_LOAN", basis="consent")
    assert "没有" in page.inner_text("#consent_ids-error")

    page.goto(node.portal + "/inquiries")
    assert page.locator("[data-testid=own-inquiries] tbody tr").count() == before

    owner = signed_in(browser, node, people, OWNER)
    assert owner.context.request.get(node.portal + "/inquiries").status == 403


def test_a_long_inquiry_list_says_how_many_there_are_in_all(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    units = [unit for unit, _ in bank_mortgages(node, "icbc-gz")]  # no dev person owns them: nobody's list grows
    clerk = signed_in(browser, node, people, CLERK, locale="en")
    page = clerk.page

    def inquire_over_the_api(count: int) -> None:
        with SyncClient(node.url, ClientIdentity.from_dev(node.directory, CLERK)) as client:
            signed = [client.sign("inquiry.request", {"unit_number": units[n % len(units)], "purpose": "PRE_LOAN",
                                                      "basis": "intent"}) for n in range(count)]
            for tx in signed:
                client.submit(tx.envelope)
            assert all(client.wait_for_commit(tx.tx_id).valid for tx in signed)

    page.goto(node.portal + "/inquiries")
    shown = page.locator("[data-testid=own-inquiries] tbody tr").count()
    with ThreadPoolExecutor(max_workers=1) as pool:  # the sync SDK drives its own event loop
        pool.submit(inquire_over_the_api, LISTED + 1 - shown).result(timeout=120)

    page.goto(node.portal + "/inquiries")
    assert page.locator("[data-testid=own-inquiries] tbody tr").count() == LISTED
    ledger = LedgerStore.open(node_dir(node.directory), readonly=True)
    try:
        total = sum(1 for _, row in ledger.scan("inquiry/") if row.get("requester_org") == "ccb-gz")
    finally:
        ledger.close()
    assert total > LISTED
    assert page.inner_text("[data-testid=cut]") == (
        f"The newest {LISTED} of your organisation's {total} inquiries.")
