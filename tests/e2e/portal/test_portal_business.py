"""The bank desk's other business types, end to end in chromium, each role signing in as itself.

A 预抵押 transfer (ICBC's notice assigned to CCB, filed by ICBC's clerk who finds the flat by the
notice's certificate number: a bank looks up only by its own registration certificates, domain.md
§7) goes from the form to a new registration certificate that CCB's clerk downloads and anyone can
verify, the old certificate then showing as superseded. A mortgage
cancellation (an imported mortgage ICBC holds, the loan repaid; ICBC applies alone) is recorded and the
certificate it named turns cancelled on the public page: a cancellation issues no certificate
(``mortgage_cancel.CANCEL``), so the recorded case is finished, never in the issuer's queue. A
maximum-amount filing and a 预抵押 first filing, once confirmed, wait in the registry's intake queue.
The pre-sale flats are entered by the registry's own ``register.import``, the way every unit
reaches the ledger.
"""

from __future__ import annotations

from playwright.sync_api import Browser, FilePayload

from portal.portal_people import (
    SIGN_PAGE,
    Person,
    PortalNode,
    attach,
    bank_mortgages,
    open_new_filing,
    presale_flat,
    sign_here,
    signed_in,
    take,
)

ICBC_CLERK = "icbc-gz/operator1"
CCB_CLERK = "ccb-gz/operator1"
ICBC_APPROVER = "icbc-gz/approver1"
CCB_APPROVER = "ccb-gz/approver1"



def public_status(person: Person, number: str) -> str:
    person.page.goto(f"{person.node.portal}/public/certificate?number={number}")
    return person.page.inner_text("[data-testid=certificate-status]")


def unit_found(clerk: Person, certificate: str) -> str:
    """The unit the bank's new-filing page finds by ``certificate`` (a page error if none)."""
    page = open_new_filing(clerk, "mortgage_notice.change", certificate=certificate)
    return page.inner_text("[data-testid=unit-number]")


def registry_records(browser: Browser, node: PortalNode, people: list[Person], case_id: str) -> Person:
    """Intake accepts, a reviewer approves, a different staff member records; the recorder's page."""
    intake = signed_in(browser, node, people, "gz-registry/intake1")
    assert case_id in intake.page.content()  # in the intake queue
    take(intake, case_id, "accept")
    take(signed_in(browser, node, people, "gz-registry/reviewer1"), case_id, "review")
    recorder = signed_in(browser, node, people, "gz-registry/recorder2")
    take(recorder, case_id, "record")
    return recorder


def test_a_presale_mortgage_notice_transfer_goes_from_the_form_to_a_certificate_anyone_can_check(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    flat = presale_flat(node, buyer=min(node.owners), serial=1, bank="icbc-gz")
    assert flat.notice_certificate is not None
    clerk = signed_in(browser, node, people, ICBC_CLERK)
    page = open_new_filing(clerk, "mortgage_notice.transfer", certificate=flat.notice_certificate)
    assert page.inner_text("[data-testid=unit-number]") == flat.unit_number  # found by its own certificate
    entries = page.inner_text("[data-testid=entries]")
    assert flat.notice_certificate in entries
    assert flat.purchase_certificate in entries
    page.select_option("#target", flat.notice_certificate)
    page.select_option("#cause", "ASSIGNMENT")
    page.select_option("#transferee", "ccb-gz")
    attach(clerk, "APPLICATION_FORM", "CAUSE_DOCUMENT", "DEBTOR_NOTICE", label="transfer")
    clerk.shoot("bank-filing-notice-transfer-zh-CN")
    page.click("#filing button[type=submit]")
    page.wait_for_url(SIGN_PAGE)
    assert "预购商品房抵押权预告转移登记" in page.inner_text("main")
    assert page.locator("[data-testid=rule-failure]").count() == 0
    case_id = sign_here(clerk)
    row = clerk.page.locator("table.cases tbody tr", has_text=case_id[:12])
    assert "预购商品房抵押权预告转移登记" in row.inner_text()

    take(signed_in(browser, node, people, ICBC_APPROVER), case_id, "confirm")  # the transferor
    take(signed_in(browser, node, people, CCB_APPROVER), case_id, "confirm")  # the transferee
    registry_records(browser, node, people, case_id)
    issuer = signed_in(browser, node, people, "gz-registry/issuer1")
    take(issuer, case_id, "issue")
    number = issuer.page.inner_text("[data-testid=certificate-number]").strip()
    assert number.startswith("粤(")
    assert "不动产证明" in number
    assert issuer.page.inner_text("[data-testid=state]").strip() == "已发证"
    assert "预购商品房抵押权预告转移登记" in issuer.page.inner_text("h1")

    ccb = signed_in(browser, node, people, CCB_CLERK)  # the new holder
    ccb.page.goto(f"{node.portal}/cases/{case_id}")
    with ccb.page.expect_download() as download:
        ccb.page.click("a[href$='certificate.pdf']")
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    assert unit_found(ccb, number) == flat.unit_number  # CCB's own certificate now

    anonymous = Person(browser, node, "")
    people.append(anonymous)
    assert "有效" in public_status(anonymous, number)
    assert "已被替代" in public_status(anonymous, flat.notice_certificate)
    anonymous.page.set_input_files("#file", files=[upload(pdf)])
    anonymous.page.click("#verify button[type=submit]")
    assert "文件真实有效" in anonymous.page.inner_text("[data-testid=verify-report]")
    anonymous.switch("en")
    anonymous.page.goto(f"{node.portal}/public/certificate?number={number}")
    assert "Valid" in anonymous.page.inner_text("[data-testid=certificate-status]")
    clerk.switch("en")
    assert case_facts(clerk, case_id) == ("Pre-sale mortgage notice transfer", flat.notice_certificate,
                                          "Assignment of the loan")


def case_facts(person: Person, case_id: str) -> tuple[str, str, str]:
    """The case page's business type (its heading without the state), the entry it concerns and the cause."""
    page = person.page
    page.goto(f"{person.node.portal}/cases/{case_id}")
    heading = page.inner_text("h1").replace(page.inner_text("[data-testid=state]"), "").strip()
    return (heading, page.inner_text("[data-testid=target-certificate]").strip(),
            page.inner_text("[data-testid=cause]").strip())


def upload(data: bytes) -> FilePayload:
    return {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": data}


def test_a_repaid_mortgage_is_cancelled_and_its_certificate_shows_cancelled(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    unit, certificate = bank_mortgages(node, "icbc-gz")[-1]
    clerk = signed_in(browser, node, people, ICBC_CLERK)
    page = open_new_filing(clerk, "mortgage.cancel", unit=unit)
    assert certificate in page.inner_text("[data-testid=entries]")
    assert page.locator(f"#target option[value='{certificate}']").count() == 1  # ICBC's own mortgage to pick
    page.select_option("#target", certificate)
    page.select_option("#reason", "REPAID")
    attach(clerk, "APPLICATION_FORM", "PROOF", label="cancel")
    clerk.shoot("bank-filing-mortgage-cancel-zh-CN")
    page.click("#filing button[type=submit]")
    page.wait_for_url(SIGN_PAGE)
    summary = page.inner_text("main")
    assert "抵押权注销登记" in summary
    assert certificate in summary
    assert "主债权已清偿" in summary
    case_id = sign_here(clerk)
    assert "抵押权注销登记" in clerk.page.locator("table.cases tbody tr", has_text=case_id[:12]).inner_text()
    assert case_facts(clerk, case_id) == ("抵押权注销登记", certificate, "主债权已清偿")  # which mortgage goes, why

    take(signed_in(browser, node, people, ICBC_APPROVER), case_id, "confirm")  # the bank alone applies
    recorder = registry_records(browser, node, people, case_id)
    assert recorder.page.inner_text("[data-testid=state]").strip() == "已登簿（办结）"  # finished: nothing to issue
    assert recorder.page.inner_text("[data-testid=certificate-number]").strip() == "—"
    assert recorder.page.inner_text("[data-testid=no-certificate]").strip() == "本类登记不颁发证明：登簿即办结。"
    issuer = signed_in(browser, node, people, "gz-registry/issuer1")
    issuer.page.goto(f"{node.portal}/registry")
    assert case_id[:12] not in issuer.page.inner_text("[data-testid=queue]")  # never in the issuer's queue
    issuer.page.goto(f"{node.portal}/cases/{case_id}")
    assert issuer.page.locator(f"form[action$='/{case_id}/issue']").count() == 0
    clerk.page.goto(f"{node.portal}/bank")
    row = clerk.page.locator("table.cases tbody tr", has_text=case_id[:12])
    assert row.locator("[data-testid=case-state]").inner_text().strip() == "已登簿（办结）"

    anonymous = Person(browser, node, "")
    people.append(anonymous)
    assert "已注销" in public_status(anonymous, certificate)
    clerk.page.goto(f"{node.portal}/bank/new?kind=mortgage.cancel&unit={unit}")
    assert clerk.page.locator(f"#target option[value='{certificate}']").count() == 0  # no longer current


def test_a_maximum_amount_filing_and_a_presale_notice_filing_reach_the_intake_queue(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    owner_handle = min(node.owners)
    flat = presale_flat(node, buyer=owner_handle, serial=2, bank=None)
    clerk = signed_in(browser, node, people, CCB_CLERK)

    page = open_new_filing(clerk, "mortgage.first.maximum", unit=node.unit_of(owner_handle))
    page.fill("#max_claim_yuan", "3000000")
    page.fill("#period_start", "2026-12-01")
    page.fill("#period_end", "2031-11-30")
    page.fill("#contract_number", "CCB-ZGE-PORTAL-1")
    attach(clerk, "APPLICATION_FORM", "POWER_OF_ATTORNEY", "MAX_MORTGAGE_CONTRACT", label="maximum")
    page.click("#filing button[type=submit]")
    page.wait_for_url(SIGN_PAGE)
    assert "300万元" in page.inner_text("main")
    maximum = sign_here(clerk)

    page = open_new_filing(clerk, "mortgage_notice.first", unit=flat.unit_number)
    page.select_option("#target", flat.purchase_certificate)
    page.fill("#principal_yuan", "1200000")
    page.fill("#term_start", "2026-12-01")
    page.fill("#term_end", "2056-11-30")
    page.fill("#contract_number", "CCB-YG-PORTAL-1")
    attach(clerk, "APPLICATION_FORM", "POWER_OF_ATTORNEY", "LOAN_CONTRACT", "NOTICE_AGREEMENT", label="notice")
    page.click("#filing button[type=submit]")
    page.wait_for_url(SIGN_PAGE)
    assert "预购商品房抵押权预告登记" in page.inner_text("main")
    notice = sign_here(clerk)

    owner = signed_in(browser, node, people, owner_handle)
    owner.page.goto(f"{node.portal}/owner")
    waiting = owner.page.locator("article.awaiting", has=owner.page.locator(f"a[href$='/cases/{maximum}']"))
    assert waiting.locator("[data-testid=filed-by]").inner_text() == "中国建设银行广州分行"  # not the org id ccb-gz
    assert waiting.locator("[data-testid=max-claim]").inner_text() == "300万元"  # what the owner is asked to bear
    approver = signed_in(browser, node, people, CCB_APPROVER)
    for case_id in (maximum, notice):
        take(owner, case_id, "confirm")
        take(approver, case_id, "confirm")
    intake = signed_in(browser, node, people, "gz-registry/intake1")
    queue = intake.page.inner_text("main")
    assert maximum[:12] in queue
    assert notice[:12] in queue
    intake.page.goto(f"{node.portal}/cases/{notice}")
    assert intake.page.inner_text("[data-testid=state]").strip() == "已确认，待受理"
    assert "预购商品房抵押权预告登记" in intake.page.inner_text("h1")


def test_form_problems_are_shown_on_their_fields_and_nothing_is_prepared(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    clerk = signed_in(browser, node, people, ICBC_CLERK)
    page = open_new_filing(clerk, "mortgage.first", certificate="粤(2099)广州市不动产权第99999999号")
    assert "登记簿中没有此编号的证书或证明" in page.inner_text("#certificate-error")
    owner = min(node.owners)
    page = open_new_filing(clerk, "mortgage.first.maximum", certificate=str(node.owners[owner]["title_number"]))
    assert page.inner_text("[data-testid=unit-number]") == node.unit_of(owner)  # found by its title number
    page.fill("#max_claim_yuan", "3百万")
    page.fill("#contract_number", "CCB-ZGE-BAD")
    attach(clerk, "APPLICATION_FORM", "POWER_OF_ATTORNEY", "MAX_MORTGAGE_CONTRACT", label="bad")
    page.click("#filing button[type=submit]")
    assert page.url.endswith("/portal/bank/new")
    assert "请以元为单位填写金额" in page.inner_text("#max_claim_yuan-error")
    assert page.get_attribute("#max_claim_yuan", "aria-invalid") == "true"
    assert page.input_value("#max_claim_yuan") == "3百万"  # the typed value is kept


def test_a_presale_notice_change_and_cancellation_pass_the_rules_and_a_correction_needs_a_recorded_document(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    flat = presale_flat(node, buyer=min(node.owners), serial=3, bank="icbc-gz")
    assert flat.notice_certificate is not None
    clerk = signed_in(browser, node, people, ICBC_CLERK)
    page = open_new_filing(clerk, "mortgage_notice.change", unit=flat.unit_number)
    page.select_option("#target", flat.notice_certificate)
    page.fill("#principal_yuan", "1500000")
    attach(clerk, "APPLICATION_FORM", "SUPPLEMENTARY_AGREEMENT", label="change")
    page.click("#filing button[type=submit]")
    page.wait_for_url(SIGN_PAGE)
    assert "150万元" in page.inner_text("main")
    assert page.locator("[data-testid=rule-failure]").count() == 0
    assert page.locator("[data-testid=sign]").count() == 1
    page.click("form[action$='/sign/cancel'] button")

    page = open_new_filing(clerk, "mortgage_notice.cancel", unit=flat.unit_number)
    page.select_option("#target", flat.notice_certificate)
    page.select_option("#reason", "WAIVED")
    attach(clerk, "APPLICATION_FORM", "PROOF", label="notice-cancel")
    page.click("#filing button[type=submit]")
    page.wait_for_url(SIGN_PAGE)
    assert "预购商品房抵押权预告注销登记" in page.inner_text("main")
    assert page.locator("[data-testid=rule-failure]").count() == 0
    page.click("form[action$='/sign/cancel'] button")

    page = open_new_filing(clerk, "mortgage_notice.correct", unit=flat.unit_number)
    assert page.locator("#evidence option[value]:not([value=''])").count() == 0  # imported: no documents on file
    assert page.locator("[data-testid=no-choice]").count() == 1

    other = signed_in(browser, node, people, CCB_CLERK)  # CCB holds nothing here: nothing to cancel
    page = open_new_filing(other, "mortgage_notice.cancel", unit=flat.unit_number)
    assert page.locator("#target option:not([value=''])").count() == 0
