"""The API's date format takes the one spelling the contract takes, so a bad date is a 422, not a recorded rejection.

pydantic checks ``pattern`` with a regex engine whose ``\\d`` matches any Unicode digit: a full-width
date passed the schema, was prepared, signed and committed, and only V11 refused it, as an invalid
transaction on the shared ledger.
"""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from estatechain.api.schemas.workflow import IsoDate
from estatechain.contract.civil_date import parse_iso_date

DATES = TypeAdapter(IsoDate)


@pytest.mark.parametrize("text", ["２０２６-01-04", "2026-01-0\u0664", "2026-01-04\n", "2026-1-04"])
def test_a_date_the_contract_would_refuse_for_its_spelling_is_refused_by_the_schema(text: str) -> None:
    assert parse_iso_date(text) is None
    with pytest.raises(ValidationError):
        DATES.validate_python(text)


def test_an_iso_date_passes() -> None:
    assert DATES.validate_python("2026-01-04") == "2026-01-04"
