"""The developer desk and the buyer's signature: a sales office files a pre-sale contract (商品房预售合同) for a
predicted unit of its project, the buyer reads the contract document and signs it from the owner desk, and the
developer sees the contract signed. The document is served to the contract's parties and the registry only.

The developer's company is bound to its member org by the identity authority and the registry enters a new
pre-sale flat (as ``estatechain demo`` does); the buyer is named by the ID document the synthetic register
gave the dev person, which the test finds by regenerating the register of the portal's seed.
"""

from __future__ import annotations

import time
from typing import Final

from playwright.sync_api import Browser, FilePayload

from estatechain.cli.demo_world import DEV_DEVELOPER_USCC, new_flat
from estatechain.identity.parties import party_id
from estatechain.testing.register import IDENTITY_ORG, PARTY_ID_KEY
from estatechain.testing.synthetic import generate
from portal.conftest import SEED, UNITS
from portal.portal_people import IMPORTER, PDF, Person, PortalNode, sign_here, submit_as

DEVELOPER: Final = "poly-developer/developer1"
OFFICER: Final = "gz-identity/officer1"
BUYER: Final = "gz-identity/person2"
OTHER: Final = "gz-identity/person1"
CLERK: Final = "icbc-gz/operator1"
REVIEWER: Final = "gz-registry/reviewer1"


def party_key(node: PortalNode) -> bytes:
    return (node.directory / "orgs" / IDENTITY_ORG / PARTY_ID_KEY).read_bytes()


def id_document(node: PortalNode, handle: str) -> tuple[str, str]:
    """The (type, number) of the ID document behind the dev person ``handle``'s party, from the seed's register."""
    key, wanted = party_key(node), str(node.owners[handle]["party_id"])
    for batch in generate(SEED, UNITS):
        for person in batch.persons:
            if party_id(key, person.id_type.value, person.id_number) == wanted:
                return person.id_type.value, person.id_number
    raise AssertionError(f"no person of seed {SEED} has {handle}'s party")


def developer_with_a_flat(node: PortalNode) -> str:
    """The developer's party bound to its org and a new predicted flat of its project entered: the flat's number."""
    flat = new_flat(party_key(node), time.time_ns() // 1_000_000)
    developer = party_id(party_key(node), "uscc", DEV_DEVELOPER_USCC)
    submit_as(node, OFFICER, "identity.bind_party", {"org": "poly-developer", "party_id": developer})
    submit_as(node, IMPORTER, "register.import", flat.import_body())
    return flat.predicted


def file_form(developer: Person, typed: dict[str, str], upload: bytes) -> None:
    """Fill in the desk's contract form with ``typed`` (unit, buyer's document, price, contract number) and submit."""
    page = developer.page
    page.fill("#unit_number", typed["unit"])
    page.select_option("#buyer_id_type_1", typed["id_type"])
    page.fill("#buyer_id_number_1", typed["id_number"])
    page.fill("#price_yuan", typed["price"])
    page.fill("#contract_no", typed["contract_no"])
    page.fill("#filing_no", "GZYS-2026-0077")
    file: FilePayload = {"name": "contract.pdf", "mimeType": "application/pdf", "buffer": upload}
    page.set_input_files("#document", files=[file])
    page.click("#contract button[type=submit]")


def developer_files(developer: Person, unit: str, buyer: tuple[str, str], document: bytes) -> str:
    """Through the desk: find the unit in its project, get each bad field named, then file; the contract id."""
    page = developer.page
    page.fill("#parcel", unit[:19])
    page.click("#project-lookup button[type=submit]")
    row = page.locator(f"[data-testid=project-unit][data-unit='{unit}']")
    assert row.get_attribute("data-status") == "available"
    assert row.locator("[data-testid=unit-status]").inner_text().strip() == "可预售"
    page.click(f"[data-testid=project-unit][data-unit='{unit}'] a")
    assert page.input_value("#unit_number") == unit

    # bad input: each field says what is wrong, in the page's language, and nothing is filed
    file_form(developer, {"unit": unit, "id_type": buyer[0], "id_number": "12345", "price": "两百万",
                          "contract_no": "HC 0077"}, document)
    problems = {name: page.inner_text(f"[data-testid=problem-{name}]").strip()
                for name in ("buyer_id_number_1", "price_yuan", "contract_no")}
    assert problems == {"buyer_id_number_1": "该号码不符合所选证件类型的格式。",
                        "price_yuan": "请以元为单位填写价款，例如 2500000 或 2500000.50。",
                        "contract_no": "请使用 1 至 96 个 A-Z a-z 0-9 . _ : - 字符（不含空格）。"}
    assert page.locator("[data-testid=contract]").count() == 0
    assert page.locator(f"[data-testid=project-unit][data-unit='{unit}']").get_attribute("data-status") == "available"

    file_form(developer, {"unit": unit, "id_type": buyer[0], "id_number": buyer[1], "price": "2500000",
                          "contract_no": "HC-2026-0077"}, document)
    return sign_here(developer)


def buyer_reads_and_signs(buyer: Person, contract_id: str, unit: str, document: bytes) -> str:
    """From the owner desk: open the contract, read its document, sign it; the document's link."""
    node = buyer.node
    buyer.sign_in().wait_for_url("**/portal/owner")
    line = buyer.page.locator(f"[data-testid=presale-line][data-contract='{contract_id}']")
    assert line.locator("[data-testid=presale-state]").inner_text().strip() == "Awaiting your signature"
    line.locator("a").click()
    page = buyer.page
    page.wait_for_url(f"**/portal/presale/{contract_id}")
    assert page.inner_text("[data-testid=contract-unit]").strip() == unit
    assert page.inner_text("[data-testid=contract-price]").strip() == "CNY 2,500,000.00"
    assert "Poly Developments" in page.inner_text("[data-testid=contract-developer]")
    assert page.inner_text("[data-testid=buyer-signature]").strip() == "Awaiting"
    link = page.get_attribute("[data-testid=read-document]", "href")
    assert link is not None
    read = buyer.context.request.get(node.url + link)
    assert read.status == 200
    assert read.body() == document
    buyer.shoot("presale-contract-buyer-en")
    page.click("#sign-contract button[type=submit]")
    assert sign_here(buyer) != contract_id
    assert page.inner_text("[data-testid=contract-state]").strip() == "Signed by every buyer"
    assert page.inner_text("[data-testid=buyer-signature]").strip() == "Signed"
    assert page.locator("#sign-contract").count() == 0
    return link


def test_a_developer_files_a_presale_contract_and_the_buyer_reads_and_signs_it(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    unit = developer_with_a_flat(node)
    buyer_party = str(node.owners[BUYER]["party_id"])
    document = PDF + b"presale contract HC-2026-0077 " + str(time.time_ns()).encode()
    developer = Person(browser, node, DEVELOPER, locale="zh-CN")
    people.append(developer)
    developer.sign_in().wait_for_url("**/portal/developer")
    contract_id = developer_files(developer, unit, id_document(node, BUYER), document)
    page = developer.page
    contract = page.locator(f"[data-testid=contract][data-contract='{contract_id}']")
    assert contract.get_attribute("data-state") == "AWAITING_BUYERS"
    assert contract.locator("[data-testid=contract-state]").inner_text().startswith("等待买受人签名")
    assert contract.locator("[data-testid=awaited]").all_inner_texts() == [buyer_party[:12]]
    assert page.locator(f"[data-testid=project-unit][data-unit='{unit}']").get_attribute("data-status") == "awaiting"
    developer.shoot("presale-developer-desk-zh-CN")

    buyer = Person(browser, node, BUYER, locale="en")
    people.append(buyer)
    link = buyer_reads_and_signs(buyer, contract_id, unit, document)

    page.goto(node.portal + "/developer?parcel=" + unit[:19])
    contract = page.locator(f"[data-testid=contract][data-contract='{contract_id}']")
    assert contract.get_attribute("data-state") == "SIGNED"
    assert contract.locator("[data-testid=contract-state]").inner_text().strip() == "全部买受人已签名"
    assert page.locator(f"[data-testid=project-unit][data-unit='{unit}']").get_attribute("data-status") == "signed"
    assert developer.context.request.get(node.url + link).body() == document

    reviewer = Person(browser, node, REVIEWER)
    people.append(reviewer)
    reviewer.sign_in()
    assert reviewer.context.request.get(node.url + link).status == 200
    for outsider in (OTHER, CLERK):
        other = Person(browser, node, outsider, locale="en")
        people.append(other)
        other.sign_in()
        assert other.context.request.get(node.url + link).status == 404, outsider
        assert other.context.request.get(f"{node.portal}/presale/{contract_id}").status == 404, outsider
        assert other.context.request.post(f"{node.portal}/presale/{contract_id}/sign").status == 403, outsider


def test_another_person_cannot_read_a_presale_contract_document(
        browser: Browser, node: PortalNode, people: list[Person]) -> None:
    """Even with the link: a person who is not a buyer gets "not found", exactly like an unknown contract."""
    unit = developer_with_a_flat(node)
    developer = Person(browser, node, DEVELOPER, locale="en")
    people.append(developer)
    developer.sign_in().wait_for_url("**/portal/developer")
    developer.page.goto(f"{node.portal}/developer?unit={unit}")
    buyer = id_document(node, BUYER)
    file_form(developer, {"unit": unit, "id_type": buyer[0], "id_number": buyer[1], "price": "1800000.50",
                          "contract_no": "HC-2026-0078"}, PDF + str(time.time_ns()).encode())
    contract_id = sign_here(developer)
    other = Person(browser, node, OTHER, locale="en")
    people.append(other)
    other.sign_in().wait_for_url("**/portal/owner")
    assert other.page.locator(f"[data-testid=presale-line][data-contract='{contract_id}']").count() == 0
    unknown = "f" * 64
    for path in (f"/presale/{contract_id}/document", f"/presale/{contract_id}", f"/presale/{unknown}/document"):
        answer = other.context.request.get(node.portal + path)
        assert answer.status == 404, path
        assert "Not found." in answer.text()
