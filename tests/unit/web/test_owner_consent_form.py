"""The new-consent form names every field that is wrong, so the owner can fix them all at once."""

from __future__ import annotations

from estatechain.contract.civil_date import parse_iso_date
from estatechain.web.routes_owner import read_consent

UNIT = "440114026003GB00001F00010015"
TODAY = parse_iso_date("2026-11-26")


def check(**values: str) -> dict[str, str]:
    assert TODAY is not None
    form = {"unit_number": UNIT, "bank": "icbc-gz", "purpose": "PRE_LOAN", "expires_on": "2027-01-31", **values}
    return read_consent(form, units={UNIT}, banks={"icbc-gz", "ccb-gz"}, today=TODAY)


def test_a_complete_form_has_no_problem() -> None:
    assert check() == {}
    assert check(expires_on="2026-11-26") == {}, "a consent may end on the day it is given"


def test_each_wrong_field_is_named() -> None:
    problems = check(unit_number="440114026003GB00001F00010099", bank="gz-court", purpose="CURIOSITY",
                     expires_on="2026-11-25")
    assert set(problems) == {"unit_number", "bank", "purpose", "expires_on"}
    assert set(check(expires_on="2026-02-30")) == {"expires_on"}
    assert set(check(expires_on="")) == {"expires_on"}


def test_a_court_cases_purpose_is_not_offered_to_a_bank() -> None:
    """A court or state organ reads a unit by its case, never by an owner's consent: that consent helps no one."""
    assert set(check(purpose="CASE")) == {"purpose"}
    assert check(purpose="LITIGATION") == {}  # a bank suing or being sued may still ask, with consent
