"""The portal refuses, on the form and before signing, a step whose transaction would exceed ``max_tx_bytes``.

A consortium may set its ``max_tx_bytes`` (genesis policies) well under the 64 KiB default; here 6 KiB,
which the synthetic register's imports fit (they are cut to it). Registry intake that ticks every item
offered and writes the longest text on each (500 Chinese characters, the most an item's text may hold)
prepares a transaction of some 7 KB. Before, the confirmation page offered to sign it and the node then refused
it (TOO_LARGE, "split it into smaller transactions"), the note lost. Now the case page says so on the
not-accept form, with the limit and what to shorten, keeps what was typed, and nothing waits for a
signature. Shortened, the same decision is signed and recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Final

import pytest
from playwright.sync_api import Browser

from estatechain.cli.main import init
from estatechain.identity import devca
from estatechain.identity.genesis import Policies
from portal.portal_people import (
    Person,
    PortalNode,
    fill_filing,
    open_filing,
    serve_node,
    sign_here,
    signed_in,
    take,
)

LIMIT: Final = 6144
OWNER: Final = "gz-identity/person1"
MISSING: Final = ("APPLICATION_FORM", "POWER_OF_ATTORNEY", "LOAN_CONTRACT", "OTHER")
NOTE: Final = ("申请书未签章，身份证明复印件不清晰，授权委托书未公证，权属证明与登记簿不符，主合同缺页。" * 25)[:500]


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalNode]:
    """A node and portal like the package's, over a consortium whose genesis sets ``max_tx_bytes`` to ``LIMIT``."""
    directory = tmp_path_factory.mktemp("tight") / "devnet"
    with pytest.MonkeyPatch.context() as patch, ThreadPoolExecutor(1) as worker:
        patch.setattr(devca, "Policies", lambda: Policies(max_tx_bytes=LIMIT))  # `init` has no option for it
        # in a thread of its own: the package's Playwright already runs an event loop in this one
        worker.submit(init, directory, units=100, seed=20260104).result()
    assert devca.load_dev_consortium(directory).genesis.policies.max_tx_bytes == LIMIT
    with serve_node(directory) as node:
        yield node


def decide_not_accepted(intake: Person, case_id: str, note: str) -> int:
    """Tick every item offered, write ``note`` on each and press "not accept"; the HTTP status of the answer."""
    page = intake.page
    page.goto(f"{intake.node.portal}/cases/{case_id}")
    for item in MISSING:
        page.check(f"input[name=missing_item][value={item}]")
        page.fill(f"#missing-text-{item}", note)
    with page.expect_response(lambda r: r.url.endswith(f"/{case_id}/not-accept")) as sent:
        page.click(f"form[action$='/{case_id}/not-accept'] button")
    return sent.value.status


def test_a_decision_too_large_to_sign_is_refused_on_its_form_with_the_limit_and_nothing_waits(
        browser: Browser, tight: PortalNode, people: list[Person]) -> None:
    clerk = signed_in(browser, tight, people, "icbc-gz/operator1")
    open_filing(clerk, tight.unit_of(OWNER))
    fill_filing(clerk, contract="LOAN-TIGHT-0001")
    case_id = sign_here(clerk)  # an ordinary filing is well under the limit
    take(signed_in(browser, tight, people, OWNER), case_id, "confirm")
    take(signed_in(browser, tight, people, "icbc-gz/approver1"), case_id, "confirm")
    intake = signed_in(browser, tight, people, "gz-registry/intake1")
    page = intake.page

    assert decide_not_accepted(intake, case_id, NOTE) == 413
    assert "/portal/sign" not in page.url
    problem = page.inner_text("[data-testid=too-large]")
    assert "6,144 字节" in problem  # the limit
    assert "缩短" in problem  # what to do
    assert "max_tx_bytes" in problem
    form = f"form[action$='/{case_id}/not-accept']"
    assert page.locator(f"{form} [data-testid=too-large]").count() == 1  # on the form it concerns
    assert all(page.input_value(f"#missing-text-{item}") == NOTE for item in MISSING)  # kept, to shorten
    assert all(page.is_checked(f"{form} input[value={item}]") for item in MISSING)
    assert page.inner_text("[data-testid=state]").strip() == "已确认，待受理"
    intake.shoot("case-too-large-zh-CN")
    page.goto(f"{tight.portal}/sign")
    assert "/portal/sign" not in page.url  # nothing waits for a signature

    intake.switch("en")
    assert decide_not_accepted(intake, case_id, NOTE) == 413
    problem = page.inner_text("[data-testid=too-large]")
    assert "limit of 6,144 bytes" in problem
    assert "shorten" in problem.lower()
    intake.switch("zh-CN")

    assert decide_not_accepted(intake, case_id, NOTE[:100]) == 303  # shortened: to the confirmation page
    sign_here(intake)
    assert page.inner_text("[data-testid=state]").strip() == "不予受理"
