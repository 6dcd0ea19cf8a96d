"""docs/api.md's filing examples, one per business type, are filed through the contract and are valid.

The section "Filing: each business type's applicants, materials and details" shows a complete
``POST /v1/payloads/file`` body for every business type. Register-dependent values are written as
``<PLACEHOLDER>``s that the section's table explains; here each is replaced by the test register's
value (the mapping of each example is spelt out below), the body is checked by the API's own schema
(``FileIn``) and then filed through the contract as ``application.file`` on a register built up to
the point where that filing makes sense. Later examples build on earlier ones where the business
does (the 预抵押 rests on the documented purchase notice, the cancellation on the documented
mortgage), so the section reads as one consistent case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from conftest import (
    BANK_A_PARTY,
    BANK_C_PARTY,
    BUYER,
    DEVELOPER_PARTY,
    OWNER_A,
    OWNER_B,
    PREDICTED,
    SURVEYED,
    TITLE_A,
    UNIT_A,
    PresaleRegister,
    h,
)

from estatechain.api.schemas.workflow import FileIn
from estatechain.contract.checks.materials import MATERIAL_TYPES
from estatechain.contract.effects import JSON
from estatechain.contract.rules.business_types import BUSINESS_TYPES

DOC = Path(__file__).parents[3] / "docs" / "api.md"
SECTION = "## Filing: each business type's applicants, materials and details"
PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*>")
MATERIAL_HASH = re.compile(r"<([A-Z_]+)_SHA256>")

P1, P2 = "粤(2026)广州市不动产证明第00000001号", "粤(2026)广州市不动产证明第00000002号"
"""The first two registration certificates the test register draws (purchase notice, then 预抵押)."""
DEVELOPER_TITLE, BUYER_TITLE = "粤(2026)广州市不动产权第00000001号", "粤(2026)广州市不动产权第00000002号"
"""The surveyed unit's titles: the developer's from the first registration, then the buyer's."""


def section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start:] if end < 0 else text[start:end]


def examples() -> dict[str, str]:
    """Business type → the raw JSON text of its example (each type once)."""
    found: dict[str, str] = {}
    for match in re.finditer(r"<!-- filing: ([\w.]+) -->\n```json\n(.*?)\n```", section(), re.DOTALL):
        assert match.group(1) not in found, f"two examples for {match.group(1)}"
        found[match.group(1)] = match.group(2)
    return found


def documented_placeholders() -> frozenset[str]:
    """Placeholders the section's table explains (its first column)."""
    rows = re.findall(r"^\| (`<[^|]*) \|", section(), re.MULTILINE)
    return frozenset(p for row in rows for p in PLACEHOLDER.findall(row))


def material_hash(placeholder: str) -> str | None:
    """``<LOAN_CONTRACT_SHA256>`` → the hash conftest's ``material("LOAN_CONTRACT")`` cites."""
    match = MATERIAL_HASH.fullmatch(placeholder)
    if match is None or match.group(1) not in MATERIAL_TYPES:
        return None
    return h(f"material:{match.group(1)}:")


def body(business_type: str, values: Mapping[str, str]) -> dict[str, JSON]:
    """The documented example with every placeholder replaced (material hashes by their type)."""
    raw = examples()[business_type]

    def put(match: re.Match[str]) -> str:
        value = values.get(match.group(0)) or material_hash(match.group(0))
        assert value is not None, f"{business_type}: no test value for {match.group(0)}"
        return value

    filled: dict[str, JSON] = json.loads(PLACEHOLDER.sub(put, raw))
    assert filled["business_type"] == business_type
    return filled


def file(reg: PresaleRegister, business_type: str, values: Mapping[str, str], actor: str) -> str:
    """File the example as ``actor`` (after the API schema accepts it): the application id."""
    filing = body(business_type, values)
    assert FileIn.model_validate(filing).body() == filing
    outcome = reg.ok("application.file", filing, actor)
    return str(outcome.effects[0].value["application_id"])  # type: ignore[union-attr]


def record(reg: PresaleRegister, business_type: str, values: Mapping[str, str], actor: str) -> str:
    """File the example, have every applicant confirm and the registry record (and issue) it."""
    app = file(reg, business_type, values, actor)
    reg.accept_review(app)
    reg.ok("application.record", {"application_id": app}, "recorder")
    if reg.app(app)["certificate_number"] is not None:
        reg.ok("application.issue", {"application_id": app, "document_sha256": h(f"doc:{app}")}, "issuer")
    return app


MORTGAGE = {"<UNIT_NUMBER>": UNIT_A, "<OWNER_PARTY_ID>": OWNER_A, "<BANK_PARTY_ID>": BANK_A_PARTY,
            "<TITLE_NUMBER>": TITLE_A}
PURCHASE = {"<UNIT_NUMBER>": PREDICTED, "<BUYER_PARTY_ID>": BUYER, "<DEVELOPER_PARTY_ID>": DEVELOPER_PARTY}
NOTICE = {"<UNIT_NUMBER>": PREDICTED, "<BUYER_PARTY_ID>": BUYER, "<BANK_PARTY_ID>": BANK_A_PARTY,
          "<PURCHASE_NOTICE_CERTIFICATE_NUMBER>": P1}
ON_NOTICE = {**NOTICE, "<CERTIFICATE_NUMBER>": P2, "<OTHER_BANK_PARTY_ID>": BANK_C_PARTY}
SURVEYED_TRANSFER = {"<UNIT_NUMBER>": SURVEYED, "<BUYER_PARTY_ID>": BUYER, "<DEVELOPER_PARTY_ID>": DEVELOPER_PARTY,
                     "<TITLE_NUMBER>": DEVELOPER_TITLE, "<PURCHASE_NOTICE_CERTIFICATE_NUMBER>": P1}
CONVERSION = {"<UNIT_NUMBER>": SURVEYED, "<BUYER_PARTY_ID>": BUYER, "<BANK_PARTY_ID>": BANK_A_PARTY,
              "<CERTIFICATE_NUMBER>": P2, "<TITLE_NUMBER>": BUYER_TITLE}
SALE_WITH_LOAN = {"<UNIT_NUMBER>": UNIT_A, "<OWNER_PARTY_ID>": OWNER_A, "<BUYER_PARTY_ID>": OWNER_B,
                  "<BANK_PARTY_ID>": BANK_A_PARTY, "<TITLE_NUMBER>": TITLE_A}
"""Each example's placeholders → the test register's values ("bank_a" is ICBC, BANK_A_PARTY its party)."""


def purchase_notice(pre: PresaleRegister) -> str:
    """The documented purchase notice on the signed pre-sale contract, recorded as 第00000001号."""
    contract = pre.presale()
    return record(pre, "purchase_notice.first", {**PURCHASE, "<PRESALE_CONTRACT_ID>": contract}, "developer")


def mortgage_notice(pre: PresaleRegister) -> str:
    """The documented 预抵押 on the documented purchase notice, recorded as 第00000002号."""
    purchase_notice(pre)
    app = record(pre, "mortgage_notice.first", NOTICE, "bank_a")
    assert pre.app(app)["certificate_number"] == P2
    return app


def buyer_owns_the_surveyed_unit(pre: PresaleRegister) -> None:
    """The 预抵押, the building's first registration and the documented 预告转本 transfer to the buyer."""
    mortgage_notice(pre)
    pre.first_registration()
    app = record(pre, "ownership.transfer", SURVEYED_TRANSFER, "developer")
    assert pre.app(app)["certificate_number"] == BUYER_TITLE


def test_every_business_type_has_one_example() -> None:
    assert set(examples()) == set(BUSINESS_TYPES)


def test_every_placeholder_of_the_examples_is_explained_in_the_table() -> None:
    documented = documented_placeholders()
    for business_type, raw in examples().items():
        for placeholder in PLACEHOLDER.findall(raw):
            assert placeholder in documented or (
                material_hash(placeholder) is not None and "`<TYPE_SHA256>`" in section()), (
                f"{business_type}: {placeholder} is not in the placeholder table")


def test_the_mortgage_first_example_is_valid(pre: PresaleRegister) -> None:
    app = record(pre, "mortgage.first", MORTGAGE, "bank_a")
    assert pre.row(f"mortgage/{app}")["secured_principal"] == {"fen": 70_000_000, "currency": "CNY"}


def test_the_mortgage_cancel_example_is_valid(pre: PresaleRegister) -> None:
    mortgage = record(pre, "mortgage.first", MORTGAGE, "bank_a")
    assert pre.app(mortgage)["certificate_number"] == P1
    record(pre, "mortgage.cancel", {**MORTGAGE, "<CERTIFICATE_NUMBER>": P1}, "bank_a")
    assert pre.row(f"mortgage/{mortgage}")["status"] == "historic"


def test_the_purchase_notice_example_is_valid(pre: PresaleRegister) -> None:
    purchase = purchase_notice(pre)
    assert pre.row(f"notice/{purchase}")["kind"] == 1


def test_the_mortgage_notice_example_is_valid(pre: PresaleRegister) -> None:
    notice = mortgage_notice(pre)
    assert pre.row(f"notice/{notice}")["amount"] == {"fen": 120_000_000, "currency": "CNY"}


@pytest.mark.parametrize("business_type", ["mortgage_notice.change", "mortgage_notice.transfer",
                                           "mortgage_notice.correct", "mortgage_notice.cancel"])
def test_the_examples_acting_on_a_mortgage_notice_are_valid(pre: PresaleRegister, business_type: str) -> None:
    notice = mortgage_notice(pre)
    record(pre, business_type, ON_NOTICE, "bank_a")
    assert pre.row(f"notice/{notice}")["status"] == "historic"


def test_the_ownership_transfer_example_is_valid(pre: PresaleRegister) -> None:
    buyer_owns_the_surveyed_unit(pre)
    assert pre.row("certificate/proof/2026/00000001")["status"] == "CONVERTED"


def test_the_mortgage_convert_example_is_valid(pre: PresaleRegister) -> None:
    buyer_owns_the_surveyed_unit(pre)
    app = record(pre, "mortgage.convert", CONVERSION, "bank_a")
    assert pre.row(f"mortgage/{app}")["unit_number"] == SURVEYED


def test_the_presale_terminate_example_is_valid(pre: PresaleRegister) -> None:
    purchase = purchase_notice(pre)
    contract = str(pre.row(f"notice/{purchase}")["presale_contract"])
    record(pre, "presale.terminate", {**PURCHASE, "<PRESALE_CONTRACT_ID>": contract}, "developer")
    assert pre.row(f"notice/{purchase}")["status"] == "historic"


def test_the_transfer_with_a_new_loan_example_is_valid(pre: PresaleRegister) -> None:
    app = record(pre, "ownership.transfer_mortgage", SALE_WITH_LOAN, "bank_a")
    assert pre.row(f"mortgage/{app}")["mortgagors"] == [{"party_id": OWNER_B, "record_ref": None}]
