"""The public page verifies a certificate from its QR code's content (design §3.20), in chromium.

A mortgage goes through the desks to an issued registration certificate; anyone pastes what the
certificate's QR code holds (the verification URL with the number and the record hash,
``certificates/qr.py``) and sees the same verified report as for the uploaded file: authentic, the
current status, the number. Text that is not QR content, or content naming a record the ledger does
not hold, gets an error on the field and no report.
"""

from __future__ import annotations

from playwright.sync_api import Browser

from estatechain.certificates.qr import QrContent
from portal.portal_people import Person, PortalNode, fill_filing, open_filing, sign_here, signed_in, take

OWNER = "gz-identity/person1"
CLERK = "ccb-gz/operator1"



def issued_certificate(browser: Browser, node: PortalNode, people: list[Person]) -> str:
    """A mortgage first registration from the clerk's form to the issued certificate; its number."""
    clerk = signed_in(browser, node, people, CLERK)
    open_filing(clerk, node.unit_of(OWNER))
    fill_filing(clerk, contract="CCB-QR-0001", amount="800000")
    case_id = sign_here(clerk)
    take(signed_in(browser, node, people, OWNER), case_id, "confirm")
    take(signed_in(browser, node, people, "ccb-gz/approver1"), case_id, "confirm")
    take(signed_in(browser, node, people, "gz-registry/intake1"), case_id, "accept")
    take(signed_in(browser, node, people, "gz-registry/reviewer1"), case_id, "review")
    take(signed_in(browser, node, people, "gz-registry/recorder2"), case_id, "record")
    issuer = signed_in(browser, node, people, "gz-registry/issuer1")
    take(issuer, case_id, "issue")
    return issuer.page.inner_text("[data-testid=certificate-number]").strip()


def paste(person: Person, text: str) -> int:
    """Paste ``text`` into the QR field and verify; the HTTP status of the answer."""
    page = person.page
    with page.expect_response(lambda r: r.url.endswith("/portal/public/verify-qr")) as sent:
        page.fill("#qr", text)
        page.click("#verify-qr button[type=submit]")
    return sent.value.status


def test_pasted_qr_content_verifies_the_certificate_and_garbage_gets_a_field_error(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    number = issued_certificate(browser, node, people)
    anonymous = Person(browser, node, "")
    people.append(anonymous)
    page = anonymous.page
    page.goto(f"{node.portal}/public/certificate?number={number}")
    sha256 = page.inner_text("[data-testid=certificate-status] dd.mono").strip()
    assert len(sha256) == 64
    content = QrContent(base_url=node.url, number=number, sha256=sha256).text()

    assert paste(anonymous, content) == 200
    report = page.inner_text("[data-testid=verify-report]")
    assert "文件真实有效" in report
    assert "有效" in report
    assert "已收录于账本" in report  # the verifier's steps in Chinese, not its English names
    assert "ledger inclusion" not in report
    assert "VALID on the ledger now" not in report
    assert number in page.inner_text("main")
    assert page.locator("#qr-error").count() == 0
    anonymous.shoot("public-verify-qr-zh-CN")
    anonymous.switch("en")
    assert paste(anonymous, content) == 200
    assert "The file is authentic." in page.inner_text("[data-testid=verify-report]")
    anonymous.switch("zh-CN")

    for garbage in ("hello, this is not a QR code", "https://example.org/v1/certificates/verify?number=x",
                    "x" * 5000):
        assert paste(anonymous, garbage) == 422, garbage
        assert "这不是证书二维码的内容" in page.inner_text("#qr-error")
        assert page.get_attribute("#qr", "aria-invalid") == "true"
        assert page.locator("[data-testid=verify-report]").count() == 0

    wrong = QrContent(base_url=node.url, number=number, sha256="0" * 64).text()
    assert paste(anonymous, wrong) == 422
    assert "账本上没有此编号和记录哈希值相符的已发证书" in page.inner_text("#qr-error")
    assert page.locator("[data-testid=verify-report]").count() == 0
    anonymous.shoot("public-verify-qr-error-zh-CN")

    # a phone that scans the code opens its URL: the API sends a browser to the report page, not JSON
    opened = page.goto(content)
    assert opened is not None
    assert opened.status == 200
    assert "/portal/public/qr?" in page.url
    assert "文件真实有效" in page.inner_text("[data-testid=verify-report]")
    assert number in page.inner_text("main")
    opened = page.goto(wrong)
    assert opened is not None
    assert opened.status == 404
    assert "账本上没有此编号和记录哈希值相符的已发证书" in page.inner_text("main")
    machine = page.request.get(content, headers={"accept": "application/json"})
    assert (machine.status, machine.json()["number"]) == (200, number)  # the SDK and curl still get JSON


def test_a_certificate_without_an_electronic_record_says_so_instead_of_showing_none(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    """No signed record on the ledger: no "None" hash, and the sentence says why for the kind of number it is.

    An imported register's certificate came before the ledger; a title certificate (不动产权证书) is issued
    outside this platform, whenever it was recorded. "Not issued yet" would send either holder back to wait.
    """
    owner, mortgages = next((entry, m) for entry in node.owners.values()
                            if isinstance(m := entry.get("mortgages"), list) and m)
    legacy, title = str(mortgages[0]["certificate_number"]), str(owner["title_number"])
    anonymous = Person(browser, node, "")
    people.append(anonymous)
    page = anonymous.page
    cases = ((legacy, "zh-CN", "账本启用前登记簿所载"), (title, "zh-CN", "这是不动产权证书"),
             (legacy, "en", "comes from the register kept before the ledger"),
             (title, "en", "This is a title certificate (不动产权证书)"))
    for number, locale, words in cases:
        if locale == "en" and number == legacy:
            anonymous.switch("en")
        page.goto(f"{node.portal}/public/certificate?number={number}")
        status = page.inner_text("[data-testid=certificate-status]")
        assert number in status
        assert "None" not in status, status
        said = page.inner_text("[data-testid=no-electronic-record]")
        assert words in said, said
        assert "not issued yet" not in said
        assert "尚未签发" not in said
