"""What a bank clerk's filing page discloses of a unit (domain.md §2, §7), in chromium.

Without the owners' inquiry consent a bank gets the limited answer: its own entries in full, and of
the others only that they exist (another mortgagee's mortgage and its rank, whether seized), never
another bank's amounts, certificate numbers or party ids, nor the owners' ids. Its lookup by
certificate takes titles and its own registration certificates; another bank's answers exactly like
an unknown number, and text that is no certificate number is refused on the field. Once every owner
has given the bank a consent, the page shows every entry; revoked, it is limited again. Amounts that
are not plain 元 (``1e30``, ``1,20``) are field errors (422), never a server error or a misreading.
"""

from __future__ import annotations

from playwright.sync_api import Browser, Page

from estatechain.cli.main import node_dir
from estatechain.contract.records import Mortgage
from estatechain.storage.store import LedgerStore
from estatechain.web.i18n import money
from portal.portal_people import (
    SIGN_PAGE,
    Person,
    PortalNode,
    fill_filing,
    give_consent,
    member_banks,
    open_new_filing,
    sign_here,
    signed_in,
)

OWNER = "gz-identity/person2"
"""Owns a unit with a mortgage ICBC holds (``choose_dev_owners``)."""
PLAIN_OWNER = "gz-identity/person1"
ICBC_CLERK = "icbc-gz/operator1"
CCB_CLERK = "ccb-gz/operator1"
NOT_FOUND = "登记簿中没有此编号的证书或证明"



def icbc_mortgage(node: PortalNode) -> Mortgage:
    """The owner's mortgage ICBC holds, read from the ledger (read-only)."""
    listed = node.owners[OWNER]["mortgages"]
    assert isinstance(listed, list)
    numbers = [m["certificate_number"] for m in listed if m["mortgagee_org"] == "icbc-gz"]
    store = LedgerStore.open(node_dir(node.directory), readonly=True)
    try:
        found = [Mortgage.from_json(row) for _, row in store.scan("mortgage/")
                 if row.get("certificate_number") in numbers]
    finally:
        store.close()
    assert len(found) == 1
    return found[0]


def amount_shown(mortgage: Mortgage) -> str:
    money_ = mortgage.secured_principal or mortgage.max_claim
    assert money_ is not None
    return money(money_.fen, "zh-CN")


def entries_of(page: Page) -> str:
    return page.inner_text("[data-testid=entries]")


def revoke(owner: Person, consent_id: str) -> None:
    owner.page.goto(f"{owner.node.portal}/owner/consents")
    owner.page.click(f"form[action$='/owner/consents/{consent_id}/revoke'] button")
    sign_here(owner)


def test_another_banks_mortgage_shows_only_as_a_flag_until_the_owner_consents(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    unit = node.unit_of(OWNER)
    mortgage = icbc_mortgage(node)
    icbc_party = member_banks(node)["icbc-gz"]
    owner_party = str(node.owners[OWNER]["party_id"])
    clerk = signed_in(browser, node, people, CCB_CLERK)

    page = open_new_filing(clerk, "mortgage.first", unit=unit)
    assert page.get_attribute("[data-testid=disclosure]", "data-full") == "false"
    entries = entries_of(page)
    assert f"存在其他抵押权人的抵押：是（第{mortgage.rank}顺位）" in entries
    assert str(mortgage.certificate_number) not in entries
    assert amount_shown(mortgage) not in entries
    html = page.content()
    for secret in (icbc_party[:12], owner_party[:12], str(mortgage.certificate_number)):
        assert secret not in html
    assert "1 名权利人" in entries
    assert page.inner_text("[data-testid=co-owned]") == "否"
    assert str(node.owners[OWNER]["title_number"]) in entries  # the owner presents the title

    owner = signed_in(browser, node, people, OWNER)
    given = give_consent(owner, unit, "ccb-gz", expires_on="2030-12-31")
    page = open_new_filing(clerk, "mortgage.first", unit=unit)
    assert page.get_attribute("[data-testid=disclosure]", "data-full") == "true"
    entries = entries_of(page)
    assert str(mortgage.certificate_number) in entries
    assert amount_shown(mortgage) in entries
    assert icbc_party[:12] in entries
    assert owner_party[:12] in entries
    clerk.shoot("bank-filing-consented-zh-CN")

    revoke(owner, given)
    page = open_new_filing(clerk, "mortgage.first", unit=unit)
    assert page.get_attribute("[data-testid=disclosure]", "data-full") == "false"
    assert str(mortgage.certificate_number) not in page.content()


def test_the_bank_holding_the_mortgage_sees_it_in_full(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    mortgage = icbc_mortgage(node)
    clerk = signed_in(browser, node, people, ICBC_CLERK)
    page = open_new_filing(clerk, "mortgage.cancel", certificate=str(mortgage.certificate_number))
    assert page.inner_text("[data-testid=unit-number]") == node.unit_of(OWNER)  # by its own certificate
    row = page.locator("[data-testid=mortgage]", has_text=str(mortgage.certificate_number))
    assert amount_shown(mortgage) in row.inner_text()
    assert member_banks(node)["icbc-gz"][:12] in row.inner_text()
    assert str(node.owners[OWNER]["party_id"])[:12] not in page.content()  # the owners: consent only
    clerk.shoot("bank-filing-limited-zh-CN")


def test_a_lookup_by_another_banks_certificate_answers_like_an_unknown_number(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    mortgage = icbc_mortgage(node)
    clerk = signed_in(browser, node, people, CCB_CLERK)
    page = open_new_filing(clerk, "mortgage.first", certificate=str(mortgage.certificate_number))
    assert NOT_FOUND in page.inner_text("#certificate-error")
    assert page.locator("[data-testid=entries]").count() == 0
    others = page.inner_text("main").replace(str(mortgage.certificate_number), "")
    page = open_new_filing(clerk, "mortgage.first", certificate="粤(2021)广州市不动产证明第99999999号")
    assert page.inner_text("main").replace("粤(2021)广州市不动产证明第99999999号", "") == others

    page = open_new_filing(clerk, "mortgage.first", certificate=str(node.owners[OWNER]["title_number"]))
    assert page.inner_text("[data-testid=unit-number]") == node.unit_of(OWNER)  # a title: the owner presents it

    for garbage in ("ABC-123", "粤(2021)深圳市不动产证明第00000001号", "x" * 300):
        page = open_new_filing(clerk, "mortgage.first", certificate=garbage)
        assert "粤(YYYY)广州市不动产权第NNNNNNNN号" in page.inner_text("#certificate-error"), garbage
        assert page.get_attribute("#certificate", "aria-invalid") == "true"
        assert page.locator("[data-testid=entries]").count() == 0


def test_amounts_that_are_not_plain_yuan_are_field_errors(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    clerk = signed_in(browser, node, people, CCB_CLERK)
    page = clerk.page
    for amount in ("1e30", "1,20", "12345678901234", "-5", "１２"):
        open_new_filing(clerk, "mortgage.first", unit=node.unit_of(PLAIN_OWNER))
        with page.expect_response(lambda r: r.url.endswith("/portal/bank/new") and r.request.method == "POST"
                                  ) as answer:
            fill_filing(clerk, contract="CCB-AMOUNT-BAD", amount=amount)
        assert answer.value.status == 422, amount
        assert "请以元为单位填写金额" in page.inner_text("#principal_yuan-error"), amount
        assert page.input_value("#principal_yuan") == amount  # the typed value is kept
    open_new_filing(clerk, "mortgage.first", unit=node.unit_of(PLAIN_OWNER))
    fill_filing(clerk, contract="CCB-AMOUNT-GROUPED", amount="1,200,000.50")
    page.wait_for_url(SIGN_PAGE)
    assert "1,200,000.50元" in page.inner_text("main")
    page.click("form[action$='/sign/cancel'] button")
