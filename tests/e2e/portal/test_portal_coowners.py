"""End to end in chromium for a unit with two co-owners, each role signing in as itself.

A bank clerk files a mortgage first registration with materials for the unit ``estatechain init``
binds to two dev persons (``co_owners`` in dev-owners.json). Each co-owner confirms in their own
browser, the bank's approver confirms, and only then does the case reach the intake queue: with one
co-owner still to confirm it is not there and intake cannot accept it. Then the registry accepts,
reviews, a different staff member records, the certificate is issued, the clerk downloads its PDF,
and the public page shows its status by number and verifies the downloaded file.
"""

from __future__ import annotations

from playwright.sync_api import Browser, FilePayload, Locator

from portal.portal_people import SIGN_PAGE, Person, PortalNode, fill_filing, open_filing, sign_here, signed_in, take

CLERK = "icbc-gz/operator1"
APPROVER = "icbc-gz/approver1"



def co_owners(node: PortalNode) -> tuple[str, str, str]:
    """The co-owned unit and its two dev person handles, as ``estatechain init`` recorded them."""
    for handle, entry in sorted(node.owners.items()):
        others = entry.get("co_owners")
        if isinstance(others, list) and len(others) == 1:
            return str(entry["unit_number"]), handle, str(others[0])
    raise AssertionError("dev-owners.json names no unit with two bound co-owners")


def queue(intake: Person) -> Locator:
    """The intake desk's own queue (the page is in English for this account)."""
    intake.page.goto(f"{intake.node.portal}/registry")
    return intake.page.locator("section.card", has=intake.page.locator("h2", has_text="Your queue"))


def upload(data: bytes) -> FilePayload:
    return {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": data}


def test_both_co_owners_confirm_before_the_registry_sees_the_case_and_it_ends_certified(  # noqa: PLR0915
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    unit, first, second = co_owners(node)
    assert node.owners[first]["form"] in {"joint", "shares"}
    assert node.owners[first]["party_id"] != node.owners[second]["party_id"]

    clerk = signed_in(browser, node, people, CLERK)
    open_filing(clerk, unit)
    assert str(node.owners[first]["title_number"]) in clerk.page.inner_text("main")
    fill_filing(clerk, contract="LOAN-COOWNED-0001", amount="800000")
    clerk.page.wait_for_url(SIGN_PAGE)
    case_id = sign_here(clerk)

    owner_a = signed_in(browser, node, people, first)
    assert case_id in owner_a.page.content()
    owner_a.page.goto(f"{node.portal}/cases/{case_id}")
    parties = owner_a.page.inner_text("main")
    assert str(node.owners[first]["party_id"])[:12] in parties
    assert str(node.owners[second]["party_id"])[:12] in parties
    take(owner_a, case_id, "confirm")
    approver = signed_in(browser, node, people, APPROVER)
    take(approver, case_id, "confirm")

    intake = signed_in(browser, node, people, "gz-registry/intake1", locale="en")
    assert case_id not in queue(intake).inner_html(), "one co-owner has not confirmed yet"
    intake.page.goto(f"{node.portal}/cases/{case_id}")
    assert intake.page.locator(f"form[action$='/{case_id}/accept']").count() == 0
    owner_a.page.goto(f"{node.portal}/cases/{case_id}")
    assert owner_a.page.locator(f"form[action$='/{case_id}/confirm']").count() == 0, "A confirmed already"

    owner_b = signed_in(browser, node, people, second)
    owner_b.page.goto(f"{node.portal}/cases/{case_id}")
    assert owner_b.page.locator(f"form[action$='/{case_id}/confirm']").count() == 1
    take(owner_b, case_id, "confirm")

    assert case_id in queue(intake).inner_html()
    take(intake, case_id, "accept")
    take(signed_in(browser, node, people, "gz-registry/reviewer2"), case_id, "review")
    take(signed_in(browser, node, people, "gz-registry/recorder1"), case_id, "record")
    issuer = signed_in(browser, node, people, "gz-registry/issuer1")
    take(issuer, case_id, "issue")
    number = issuer.page.inner_text("[data-testid=certificate-number]").strip()
    assert number.startswith("粤(")

    clerk.page.goto(f"{node.portal}/cases/{case_id}")
    with clerk.page.expect_download() as download:
        clerk.page.click("a[href$='certificate.pdf']")
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    assert b"/ByteRange" in pdf

    anonymous = Person(browser, node, "")
    people.append(anonymous)
    anonymous.page.goto(f"{node.portal}/public/certificate?number={number}")
    assert "有效" in anonymous.page.inner_text("[data-testid=certificate-status]")
    anonymous.page.set_input_files("#file", files=[upload(pdf)])
    anonymous.page.click("#verify button[type=submit]")
    report = anonymous.page.inner_text("[data-testid=verify-report]")
    assert "文件真实有效" in report
    assert number in anonymous.page.inner_text("main")
