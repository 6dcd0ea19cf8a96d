"""What a resident meets on a case and when signing, in chromium (a review from a resident's seat).

On a node of its own, since its filings, a recorded mortgage and its cancellation on person1's flat
would change what other tests count on the shared node. ICBC files mortgages on person1's flat
through its form, with real PDF materials; person1 (the owner, a named mortgagor) then:

- reads the loan contract they are asked to confirm, as a download and in the page, while another
  owner and another bank get 404 for the same address;
- is told on the confirmation page and in the footer that the identity authority keeps their key
  (a resident has no organisation);
- is told what the confirmation deadline means, and is warned before a decline is signed that it
  ends the case for everyone;
- tells the cases waiting for them apart by loan contract number and short case id;
- reads the case page with the bank by name, their own party marked, and every signed step (a
  confirmation, a decline) naming its signer and the applicant it acted for the same way;
- sees on their mortgage's case that ICBC cancelled the mortgage alone (the loan repaid), and by
  which case, though that case does not open for them; their desk's list of cases, ICBC's and the
  registry's say so beside the case's state (issued), with the same time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest
from playwright.sync_api import Browser

from estatechain.cli.main import init
from portal.portal_people import (
    PDF,
    SIGN_PAGE,
    Person,
    PortalNode,
    attach,
    fill_filing,
    open_filing,
    open_new_filing,
    serve_node,
    sign_here,
    signed_in,
    take,
)

OWNER: Final = "gz-identity/person1"  # owns a flat with no mortgage (choose_dev_owners)
STRANGER: Final = "gz-identity/person2"  # another owner: no party to these cases
CLERK: Final = "icbc-gz/operator1"
APPROVER: Final = "icbc-gz/approver1"
OTHER_BANK: Final = "ccb-gz/operator1"
ICBC_NAME: Final = "中国工商银行广州分行"
IDENTITY_NAME: Final = "广州市数字身份认证中心"


@dataclass(frozen=True, slots=True)
class Filed:
    """The node and the cases ICBC filed on the owner's flat before any test: by loan contract number."""

    node: PortalNode
    cases: dict[str, str]

    def url(self, contract: str) -> str:
        return f"{self.node.portal}/cases/{self.cases[contract]}"


CONTRACTS: Final = ("LOAN-RESIDENT-READ", "LOAN-RESIDENT-CONFIRM", "LOAN-RESIDENT-DECLINE")


@pytest.fixture(scope="module")
def filed(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Filed]:
    """A node of its own, and three mortgages ICBC filed on the owner's flat through its form (still FILED)."""
    directory: Path = tmp_path_factory.mktemp("resident") / "devnet"
    with ThreadPoolExecutor(max_workers=1) as pool:  # ``init`` runs its own event loop: not in Playwright's thread
        pool.submit(init, directory, units=100, seed=20260107).result(timeout=120)
    with serve_node(directory) as node:
        clerk = Person(browser, node, CLERK)
        try:
            clerk.sign_in()
            cases = {}
            for contract in CONTRACTS:
                open_filing(clerk, node.unit_of(OWNER))
                fill_filing(clerk, contract=contract)
                cases[contract] = sign_here(clerk)
        finally:
            clerk.close()
        yield Filed(node=node, cases=cases)


def material_url(filed: Filed, contract: str, kind: str) -> str:
    """The case page's address of the material ``kind`` that ``fill_filing`` uploaded for ``contract``."""
    sha = hashlib.sha256(PDF + contract.encode() + kind.encode()).hexdigest()
    return f"{filed.url(contract)}/materials/{sha}"


def test_the_owner_reads_the_loan_contract_they_confirm_and_nobody_else_can(
        browser: Browser, filed: Filed, people: list[Person]) -> None:
    contract = CONTRACTS[0]
    owner = signed_in(browser, filed.node, people, OWNER)
    owner.page.goto(filed.url(contract))
    loan = material_url(filed, contract, "LOAN_CONTRACT")
    link = owner.page.locator(f"a[href='{loan.removeprefix(filed.node.url)}']")
    assert link.inner_text() == "借款合同"
    with owner.page.expect_download() as download:
        link.click()
    assert download.value.path().read_bytes() == PDF + contract.encode() + b"LOAN_CONTRACT"  # the very file
    assert owner.page.locator("a[href*='/materials/']").count() == 3  # every material of the case opens
    assert owner.page.locator("[data-testid=viewer]").count() == 3  # and shows in the page
    assert owner.page.locator("[data-testid=materials-elsewhere]").count() == 0
    assert owner.context.request.get(f"{loan}/view").status == 200

    stranger = signed_in(browser, filed.node, people, STRANGER)
    other_bank = signed_in(browser, filed.node, people, OTHER_BANK)
    for outsider in (stranger, other_bank):
        assert outsider.context.request.get(loan).status == 404
        assert outsider.context.request.get(f"{loan}/view").status == 404


def test_signing_names_the_identity_authority_that_keeps_a_residents_key(
        browser: Browser, filed: Filed, people: list[Person]) -> None:
    owner = signed_in(browser, filed.node, people, OWNER)
    case_id = filed.cases[CONTRACTS[0]]
    owner.page.goto(filed.url(CONTRACTS[0]))
    owner.page.click(f"form[action$='/{case_id}/confirm'] button")
    owner.page.wait_for_url(SIGN_PAGE)
    custody = owner.page.inner_text("[data-testid=custody]")
    assert f"{IDENTITY_NAME}（身份认证机构）为您保管密钥" in custody
    assert "贵机构" not in custody
    footer = owner.page.inner_text("footer")
    assert "身份认证机构（gz-identity）为您保管的密钥" in footer
    assert "贵机构" not in footer
    owner.switch("en")
    assert "Guangzhou Digital Identity Authority (the identity authority) keeps your key" in owner.page.inner_text(
        "[data-testid=custody]")
    assert "the identity authority (gz-identity) keeps for you" in owner.page.inner_text("footer")
    owner.switch("zh-CN")
    owner.page.click("form[action$='/sign/cancel'] button")  # nothing signed

    clerk = signed_in(browser, filed.node, people, CLERK)  # staff: their org does keep their key
    assert "贵机构为您保管的密钥" in clerk.page.inner_text("footer")


def test_the_deadline_and_a_decline_say_what_they_mean_before_anything_is_signed(
        browser: Browser, filed: Filed, people: list[Person]) -> None:
    owner = signed_in(browser, filed.node, people, OWNER)
    owner.page.goto(f"{filed.node.portal}/owner")
    assert "失效，须重新提交" in owner.page.inner_text("[data-testid=deadline-meaning]")
    case_id = filed.cases[CONTRACTS[0]]
    owner.page.goto(filed.url(CONTRACTS[0]))
    assert "下列每一位申请人都须在此之前确认" in owner.page.inner_text("[data-testid=deadline-meaning]")
    assert "拒绝将立即终止此申请" in owner.page.inner_text("[data-testid=decline-warning]")
    owner.page.click(f"form[action$='/{case_id}/decline'] button")
    owner.page.wait_for_url(SIGN_PAGE)
    warning = owner.page.inner_text("[data-testid=decline-warning]")
    assert "拒绝将立即终止此申请，对所有申请人均不可撤回" in warning
    assert "拒绝不记录理由" in warning
    owner.switch("en")
    assert "Declining ends this application for every applicant" in owner.page.inner_text(
        "[data-testid=decline-warning]")
    owner.switch("zh-CN")
    owner.page.click("form[action$='/sign/cancel'] button")
    owner.page.wait_for_url(f"**/cases/{case_id}")
    assert owner.page.inner_text("[data-testid=state]").strip() == "已提交，待确认"  # nothing was signed


def test_the_cases_waiting_for_the_owner_name_their_loan_contract_and_case(
        browser: Browser, filed: Filed, people: list[Person]) -> None:
    owner = signed_in(browser, filed.node, people, OWNER)
    owner.page.goto(f"{filed.node.portal}/owner")
    waiting = owner.page.locator("article.awaiting", has_text=CONTRACTS[0])
    assert waiting.count() == 1  # told apart from the other mortgages of the same flat, bank and amount
    assert waiting.locator("[data-testid=contract-numbers]").inner_text() == CONTRACTS[0]
    assert waiting.locator("[data-testid=case-id]").inner_text() == filed.cases[CONTRACTS[0]][:12]
    assert "借款合同" in waiting.inner_text()


def timeline_line(person: Person, selector: str) -> list[str]:
    """A timeline entry's parts after its step name and time, before its tx id."""
    return person.page.inner_text(selector).split(" · ")[2:-1]


def test_the_case_page_names_the_bank_the_owner_and_every_signer_alike(
        browser: Browser, filed: Filed, people: list[Person]) -> None:
    owner = signed_in(browser, filed.node, people, OWNER)
    take(owner, filed.cases[CONTRACTS[1]], "confirm")
    assert owner.page.inner_text("[data-testid=filed-by]") == ICBC_NAME  # not icbc-gz
    applicants = owner.page.locator("[data-testid=applicant]").all_inner_texts()
    assert [a for a in applicants if "(本人)" in a] == [applicants[0]]  # the owner, the first applicant
    assert ICBC_NAME in applicants[-1]  # the mortgagee, by its name
    confirmed = timeline_line(owner, "[data-testid=confirmation]")
    assert confirmed[0] == IDENTITY_NAME
    assert confirmed[1].startswith("person-")
    assert confirmed[1].endswith("(本人)")
    assert confirmed[2].startswith("代表申请人 ")
    assert confirmed[2].endswith("(本人)")

    take(owner, filed.cases[CONTRACTS[2]], "decline")
    assert owner.page.inner_text("[data-testid=state]").strip() == "已拒绝"
    assert timeline_line(owner, "[data-testid=step-declined]") == confirmed  # the same signer, said the same way
    owner.switch("en")
    declined = timeline_line(owner, "[data-testid=step-declined]")
    assert declined[0] == "Guangzhou Digital Identity Authority"
    assert declined[2].startswith("for the applicant ")
    assert declined[2].endswith("(you)")
    owner.switch("zh-CN")


def listed_state(person: Person, desk: str, case_id: str) -> str:
    """The state cell of case ``case_id`` in the first of ``desk``'s case lists that shows it."""
    page = person.page
    page.goto(f"{person.node.portal}/{desk}")
    row = page.locator("table.cases tbody tr", has=page.locator(f"a[href$='/cases/{case_id}']")).first
    return " ".join(row.locator("td").nth(4).inner_text().split())


def registry_records(browser: Browser, node: PortalNode, people: list[Person], case_id: str) -> None:
    """Intake accepts, a reviewer approves, a different staff member records."""
    take(signed_in(browser, node, people, "gz-registry/intake1"), case_id, "accept")
    take(signed_in(browser, node, people, "gz-registry/reviewer1"), case_id, "review")
    take(signed_in(browser, node, people, "gz-registry/recorder2"), case_id, "record")


def test_an_owner_sees_on_their_mortgage_case_that_the_bank_cancelled_it_alone(
        browser: Browser, filed: Filed, people: list[Person]) -> None:
    node = filed.node
    clerk = signed_in(browser, node, people, CLERK)
    open_filing(clerk, node.unit_of(OWNER))
    fill_filing(clerk, contract="LOAN-RESIDENT-REPAID")
    mortgage_case = sign_here(clerk)
    owner = signed_in(browser, node, people, OWNER)
    take(owner, mortgage_case, "confirm")
    approver = signed_in(browser, node, people, APPROVER)
    take(approver, mortgage_case, "confirm")
    registry_records(browser, node, people, mortgage_case)
    take(signed_in(browser, node, people, "gz-registry/issuer1"), mortgage_case, "issue")  # 已发证
    clerk.page.goto(f"{node.portal}/cases/{mortgage_case}")
    certificate = clerk.page.inner_text("[data-testid=certificate-number]").strip()

    page = open_new_filing(clerk, "mortgage.cancel", unit=node.unit_of(OWNER))
    page.select_option("#target", certificate)
    page.select_option("#reason", "REPAID")  # the bank applies alone: the owner is no applicant
    attach(clerk, "APPLICATION_FORM", "PROOF", label="repaid")
    page.click("#filing button[type=submit]")
    cancellation = sign_here(clerk)
    take(approver, cancellation, "confirm")
    registry_records(browser, node, people, cancellation)

    owner.page.goto(f"{node.portal}/cases/{mortgage_case}")
    assert owner.page.inner_text("[data-testid=entry-cancelled]") == "抵押权已注销"
    notice = owner.page.inner_text("[data-testid=mortgage-cancelled]")
    cancelled_at = re.search(r"已于 (\d{4}-\d\d-\d\d \d\d:\d\d) 注销", notice)
    assert cancelled_at is not None, notice
    assert "本案登记的抵押权已于" in notice
    assert "原因：主债权已清偿" in notice
    assert cancellation in notice  # which case, in full, to quote to the bank or the registry
    assert "您不是该案件的申请人" in notice
    assert owner.page.locator("a[data-testid=cancelled-by]").count() == 0  # no link that would answer 404
    assert owner.context.request.get(f"{node.portal}/cases/{cancellation}").status == 404
    owner.switch("en")
    assert "was cancelled on" in owner.page.inner_text("[data-testid=mortgage-cancelled]")
    assert "The loan is repaid" in owner.page.inner_text("[data-testid=mortgage-cancelled]")
    owner.switch("zh-CN")

    # The lists say it too (the case stays CERTIFIED on the ledger), at the time the case page gives, in CST.
    at = cancelled_at.group(1)
    assert listed_state(owner, "owner", mortgage_case) == f"已发证 · 抵押权已于 {at} 注销"
    owner.switch("en")
    assert listed_state(owner, "owner", mortgage_case) == f"Certified · mortgage cancelled on {at}"
    owner.switch("zh-CN")
    assert listed_state(clerk, "bank", mortgage_case) == f"已发证 · 抵押权已于 {at} 注销"
    registry = signed_in(browser, node, people, "gz-registry/reviewer1")
    assert listed_state(registry, "registry", mortgage_case) == f"已发证 · 抵押权已于 {at} 注销"
    assert listed_state(clerk, "bank", cancellation) == "已登簿（办结）"  # the cancellation itself: nothing beside

    clerk.page.goto(f"{node.portal}/cases/{mortgage_case}")  # the bank applied: it follows the link
    clerk.page.click("a[data-testid=cancelled-by]")
    clerk.page.wait_for_url(f"**/cases/{cancellation}")
    assert clerk.page.inner_text("[data-testid=state]").strip() == "已登簿（办结）"
