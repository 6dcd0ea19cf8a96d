"""Pure helpers: civil dates, money display, unit and certificate numbers, record round trips."""

from __future__ import annotations

import pytest
from conftest import Register
from hypothesis import given, settings
from hypothesis import strategies as st

from estatechain.contract.certificate_number import (
    CertificateKind,
    CertificateNumber,
    normalise,
    parse,
    proof_number,
    title_number,
)
from estatechain.contract.civil_date import civil_from_days, days_from_civil, iso_date, parse_iso_date, shanghai_year
from estatechain.contract.money import wan_yuan_text
from estatechain.contract.records import Mortgage
from estatechain.contract.unit_number import unit_number_problem


def test_civil_dates_round_trip_and_reject_impossible_dates() -> None:
    assert days_from_civil(1970, 1, 1) == 0
    assert iso_date(days_from_civil(2024, 2, 29)) == "2024-02-29"
    for day in range(-800_000, 800_000, 997):
        assert days_from_civil(*civil_from_days(day)) == day
    assert parse_iso_date("2026-02-30") is None
    assert parse_iso_date("2100-02-29") is None
    assert parse_iso_date("2000-02-29") == days_from_civil(2000, 2, 29)
    assert parse_iso_date("2026-1-01") is None


def test_certificate_year_is_the_guangzhou_calendar_year() -> None:
    new_year_utc_ms = 1_767_225_600_000  # 2026-01-01 00:00 UTC = 08:00 in Guangzhou
    assert shanghai_year(new_year_utc_ms - 8 * 3_600_000) == 2026  # 00:00 in Guangzhou
    assert shanghai_year(new_year_utc_ms - 8 * 3_600_000 - 1) == 2025


def test_wan_yuan_display_is_exact() -> None:
    assert wan_yuan_text(70_000_000) == "70"
    assert wan_yuan_text(123_456_789) == "123.456789"
    assert wan_yuan_text(1) == "0.000001"


def test_certificate_numbers() -> None:
    assert proof_number(2026, 1) == "粤(2026)广州市不动产证明第00000001号"
    assert parse("粤（2026）广州市不动产证明第00000001号", CertificateKind.PROOF, 2026) == CertificateNumber(
        kind=CertificateKind.PROOF, year=2026, serial=1)


_FULL_WIDTH = dict(zip("（）０１２３４５６７８９", "()0123456789", strict=True))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("粤广州市不动产证明权第号()（）0123456789０１２３４５６７８９９ａ〇")))
def test_normalise_maps_exactly_the_full_width_brackets_and_digits(number: str) -> None:
    assert normalise(number) == "".join(_FULL_WIDTH.get(char, char) for char in number)


@pytest.mark.parametrize(("number", "expected", "problem"), [
    (title_number(2026, 1), CertificateKind.PROOF, "it is a 不动产权 number, not a 不动产证明 number"),
    ("湘(2026)广州市不动产权第00000001号", CertificateKind.PROOF, "it is a 不动产权 number, not a 不动产证明 number"),
    ("湘(2026)广州市不动产证明第00000001号", CertificateKind.PROOF, "province 湘 is not 粤"),
    ("粤(2026)深圳市不动产证明第00000001号", CertificateKind.PROOF, "registry 深圳市 is not 广州市"),
    ("粤(2027)深圳市不动产证明第00000001号", CertificateKind.PROOF, "registry 深圳市 is not 广州市"),
    ("粤(2027)广州市不动产证明第00000001号", CertificateKind.PROOF, "year 2027 is after the current year 2026"),
    ("粤(2027)广州市不动产证明第0001号", CertificateKind.PROOF, "year 2027 is after the current year 2026"),
    ("粤(2026)广州市不动产证明第0001号", CertificateKind.PROOF, "the serial has 4 digits instead of 8"),
    ("粤(2026)广州市不动产证明第0000000一号", CertificateKind.PROOF, "it does not have the form 省(年)市县…第N号"),
    (20260001, CertificateKind.PROOF, "it must be a text"),
])
def test_a_malformed_certificate_number_is_refused_for_its_first_problem(
    number: object, expected: CertificateKind, problem: str
) -> None:
    assert parse(number, expected, 2026) == problem


@pytest.mark.parametrize("number", ["440184001016GB00009F00800039", "340121261006GB00014F00220045"])
def test_published_unit_numbers_are_well_formed(number: str) -> None:
    assert unit_number_problem(number) is None


def test_mortgage_record_round_trips(reg: Register) -> None:
    app = reg.file()
    reg.register_mortgage(app)
    row = reg.row(f"mortgage/{app}")
    assert Mortgage.from_json(row).to_json() == dict(row)


def test_a_note_key_with_a_trailing_line_break_is_malformed_not_a_second_spelling(reg: Register) -> None:
    note = reg.no("note.put", {"key": "bench-1\n", "data": {"n": 1}}, "intake")
    assert (note.code, note.detail["field"]) == ("MALFORMED_COMMAND", "key")
    reg.ok("note.put", {"key": "bench-1", "data": {"n": 1}}, "intake")
