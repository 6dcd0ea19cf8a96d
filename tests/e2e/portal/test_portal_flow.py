"""End to end in chromium, each role signing in as itself: a mortgage first registration from filing to
certificate, the PDF downloaded by the clerk, the certificate's status on the public page by its number,
and the downloaded PDF verified there by upload (a tampered copy fails).

Screenshots of the main pages in zh-CN (default) and en go to docs/screenshots/.
"""

from __future__ import annotations

from playwright.sync_api import Browser, FilePayload

from portal.portal_people import SIGN_PAGE, Person, PortalNode, fill_filing, open_filing, sign_here, signed_in, take

OWNER = "gz-identity/person1"
CLERK = "icbc-gz/operator1"



def upload(data: bytes) -> FilePayload:
    return {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": data}


def both_languages(person: Person, name: str) -> None:
    person.shoot(f"{name}-zh-CN")
    person.switch("en")
    person.shoot(f"{name}-en")
    person.switch("zh-CN")


def test_a_mortgage_goes_from_the_clerks_form_to_a_certificate_anyone_can_check(  # noqa: PLR0915  (one story)
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    anonymous = Person(browser, node, "")
    people.append(anonymous)
    anonymous.page.goto(node.portal)
    both_languages(anonymous, "signin")

    clerk = signed_in(browser, node, people, CLERK)
    assert "icbc-gz" in clerk.page.inner_text("[data-testid=who]")
    assert "银行经办人" in clerk.page.inner_text("[data-testid=who]")
    open_filing(clerk, node.unit_of(OWNER))
    assert str(node.owners[OWNER]["title_number"]) in clerk.page.inner_text("main")
    both_languages(clerk, "bank-filing")
    fill_filing(clerk, contract="LOAN-PORTAL-0001")
    clerk.page.wait_for_url(SIGN_PAGE)
    assert "120万元" in clerk.page.inner_text("main")
    assert "portal-custodial-" in clerk.page.inner_text("main")
    both_languages(clerk, "sign-confirmation")
    case_id = sign_here(clerk)
    assert case_id in clerk.page.content()
    both_languages(clerk, "bank-desk")

    owner = signed_in(browser, node, people, OWNER)
    assert case_id in owner.page.content()
    assert "120万元" in owner.page.inner_text("main")
    both_languages(owner, "owner-desk")
    take(owner, case_id, "confirm")

    approver = signed_in(browser, node, people, "icbc-gz/approver1")
    take(approver, case_id, "confirm")

    intake = signed_in(browser, node, people, "gz-registry/intake1")
    assert case_id in intake.page.content()
    both_languages(intake, "registry-desk")
    take(intake, case_id, "accept")
    reviewer = signed_in(browser, node, people, "gz-registry/reviewer1")
    reviewer.page.goto(f"{node.portal}/cases/{case_id}")
    with reviewer.page.expect_download() as material:
        reviewer.page.click("a[href*='/materials/']")
    assert material.value.path().read_bytes().startswith(b"%PDF-1.4")
    material_url = reviewer.page.get_attribute("a[href*='/materials/']", "href")
    assert owner.context.request.get(f"{node.url}{material_url}").status == 200  # an applicant reads the case's files
    other_bank = signed_in(browser, node, people, "ccb-gz/operator1")
    assert other_bank.context.request.get(f"{node.url}{material_url}").status == 404  # no party to this case
    take(reviewer, case_id, "review")
    recorder = signed_in(browser, node, people, "gz-registry/recorder2")
    take(recorder, case_id, "record")
    issuer = signed_in(browser, node, people, "gz-registry/issuer1")
    take(issuer, case_id, "issue")
    number = issuer.page.inner_text("[data-testid=certificate-number]").strip()
    assert number.startswith("粤(")
    assert issuer.page.inner_text("[data-testid=state]").strip() == "已发证"
    both_languages(issuer, "case-certified")

    clerk.page.goto(f"{node.portal}/cases/{case_id}")
    status = clerk.page.inner_text("[data-testid=certificate-status]")
    assert "账本上的当前状态" in status
    assert "有效" in status  # the download link says the status beside it
    with clerk.page.expect_download() as download:
        clerk.page.click("a[href$='certificate.pdf']")
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    assert b"/ByteRange" in pdf  # PAdES-signed

    anonymous.page.goto(f"{node.portal}/public/certificate")
    anonymous.page.fill("#number", number)
    anonymous.page.click("form[action$='/public/certificate'] button")
    assert "有效" in anonymous.page.inner_text("[data-testid=certificate-status]")
    anonymous.page.set_input_files("#file", files=[upload(pdf)])
    anonymous.page.click("#verify button[type=submit]")
    report = anonymous.page.inner_text("[data-testid=verify-report]")
    assert "文件真实有效" in report
    assert "有效" in report
    assert number in anonymous.page.inner_text("main")
    anonymous.shoot("public-verify-zh-CN")
    anonymous.switch("en")
    anonymous.page.set_input_files("#file", files=[upload(pdf)])
    anonymous.page.click("#verify button[type=submit]")
    assert "The file is authentic." in anonymous.page.inner_text("[data-testid=verify-report]")
    anonymous.shoot("public-verify-en")
    anonymous.switch("zh-CN")
    tampered = pdf.replace(b"/ByteRange", b"/ByteRangf", 1)
    anonymous.page.set_input_files("#file", files=[upload(tampered)])
    anonymous.page.click("#verify button[type=submit]")
    assert "文件未通过查验" in anonymous.page.inner_text("[data-testid=verify-report]")
    anonymous.page.goto(f"{node.portal}/public/certificate?number={number}")
    both_languages(anonymous, "public-certificate")
    anonymous.switch("en")
    assert "Valid" in anonymous.page.inner_text("[data-testid=certificate-status]")
