"""Pure helpers: civil dates, money display, unit and certificate numbers, record round trips."""

from __future__ import annotations

import pytest
from conftest import Register

from estatechain.contract.certificate_number import CertificateKind, CertificateNumber, parse, proof_number
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
