"""Which records a transaction creates on a unit, and which steps name them (docs/evidence.md §8 check 4, rule 3).

The exporter, the product's verifier and the report read this one definition; the independent verifier
implements it again from the document's text.
"""

from __future__ import annotations

from estatechain.canonical import JSONValue
from estatechain.evidence.package import STEP_FIELDS, created_on_unit, names_created
from estatechain.evidence.report import RECORD_KINDS

UNIT = "440106001001GB00001F00010101"
OTHER = "440106001001GB00001F00010102"
TX = "ab" * 32


def test_a_valid_registration_on_the_unit_creates_a_seizure_named_by_its_release_only() -> None:
    created = created_on_unit(UNIT, tx_id=TX, command="seizure.register", valid=True, body={"unit_number": UNIT})
    assert created == {("seizure_id", TX)}
    assert names_created({"seizure_id": TX, "order_no": "x"}, created)
    assert not names_created({"contract_id": TX}, created)  # another kind of record under the same id
    assert not names_created({"details": {"seizure_id": TX}}, created)  # top level only
    assert not created_on_unit(OTHER, tx_id=TX, command="seizure.register", valid=True, body={"unit_number": UNIT})


def test_an_invalid_transaction_creates_nothing_and_an_import_creates_only_the_units_seizures() -> None:
    assert not created_on_unit(UNIT, tx_id=TX, command="inquiry.consent", valid=False, body={"unit_number": UNIT})
    body: dict[str, JSONValue] = {"seizures": [
        {"seizure_id": "IMP-S-1", "unit_number": UNIT}, {"seizure_id": "IMP-S-2", "unit_number": OTHER},
        {"seizure_id": 3, "unit_number": UNIT}]}
    def imported(unit: str | None) -> frozenset[tuple[str, str]]:
        return created_on_unit(unit, tx_id=TX, command="register.import", valid=True, body=body)

    assert imported(UNIT) == {("seizure_id", "IMP-S-1")}
    assert imported(None) == {("seizure_id", "IMP-S-1"), ("seizure_id", "IMP-S-2")}


def test_the_report_names_the_kind_of_record_of_each_step_field() -> None:
    assert set(RECORD_KINDS) == STEP_FIELDS
