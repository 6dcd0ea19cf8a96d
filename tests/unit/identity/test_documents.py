from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from estatechain.errors import InputError
from estatechain.identity.documents import (
    GUANGZHOU_COUNTY_CODES,
    MAINLAND_PROVINCES,
    USCC_ALPHABET,
    DocumentError,
    IdType,
    organisation_code_check_character,
    parse_unit_number,
    resident_id_check_character,
    uscc_check_character,
    validate_id,
)


def _rejects(id_type: str, number: str, reason: str, **kwargs: object) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        validate_id(id_type, number, **kwargs)  # type: ignore[arg-type]
    assert info.value.reason == reason, str(info.value)
    assert isinstance(info.value, InputError)
    return info.value


def _resident(first17: str) -> str:
    return first17 + resident_id_check_character(first17)


# --- resident IDs (GB 11643) ---


def test_the_gb11643_sample_number_with_check_character_x_is_valid() -> None:
    doc = validate_id("resident_id", "11010519491231002X")
    assert doc.id_type is IdType.RESIDENT_ID
    assert doc.number == "11010519491231002X"
    assert doc.registry_code == "1"


@pytest.mark.parametrize("spelling", [
    "11010519491231002x", " 110105 19491231 002X ", "１１０１０５１９４９１２３１００２Ｘ", "110105-19491231-002X",
])
def test_other_spellings_normalise_to_the_same_number(spelling: str) -> None:
    assert validate_id("resident_id", spelling).number == "11010519491231002X"


def test_a_legacy_15_digit_number_is_date_checked_and_upgraded_to_18_digits() -> None:
    assert validate_id("resident_id", "110105491231002").number == "11010519491231002X"
    _rejects("resident_id", "110105490230002", "birth_date")


def test_30_february_is_rejected_as_a_birth_date() -> None:
    error = _rejects("resident_id", "44010619900230123X", "birth_date")
    assert "id_number" in str(error)
    assert "1990-02-30" in str(error)


def test_one_altered_digit_fails_the_check_character() -> None:
    valid = _resident("44010619850315123")
    altered = valid[:14] + ("4" if valid[14] != "4" else "5") + valid[15:]
    error = _rejects("resident_id", altered, "check_character", field="mortgagors[0].id_number")
    assert str(error).startswith("mortgagors[0].id_number: ")
    assert altered not in str(error), "messages end up in logs: never echo the whole number"


def test_birth_date_in_the_future_is_refused_when_the_edge_passes_its_date() -> None:
    number = _resident("44010620300101123")
    validate_id("resident_id", number)
    _rejects("resident_id", number, "birth_date", today=date(2026, 1, 4))
    _rejects("resident_id", _resident("44010618000101123"), "birth_date")


@pytest.mark.parametrize(("number", "reason"), [
    ("4401061985031512", "length"),
    ("4401061985031512345", "length"),
    ("44010619850315A234", "characters"),
    (_resident("99010619850315123"), "region"),
    (_resident("71010619850315123"), "region"),
    (_resident("81000019850315123"), "region"),
    ("44010619850315123\u0664", "characters"),  # an Arabic-Indic 4 survives NFKC; as a 4 it would hash apart
])
def test_malformed_resident_ids_name_what_is_wrong(number: str, reason: str) -> None:
    _rejects("resident_id", number, reason)


def test_a_residence_permit_number_sent_as_resident_id_says_which_type_to_use() -> None:
    error = _rejects("resident_id", _resident("82000019900101123"), "region")
    assert "hmt_residence_permit" in str(error)


def test_household_register_numbers_are_checked_like_resident_ids() -> None:
    assert validate_id("household_register", _resident("44010620150601123")).registry_code == "4"
    _rejects("household_register", "44010619900230123X", "birth_date")


@given(
    province=st.sampled_from(sorted(MAINLAND_PROVINCES)),
    county=st.integers(0, 9999),
    born=st.dates(date(1900, 1, 1), date(2025, 12, 31)),
    seq=st.integers(0, 999),
    position=st.integers(0, 16),
    shift=st.integers(1, 9),
)
def test_every_generated_resident_id_validates_and_any_single_digit_change_fails(  # noqa: PLR0913, PLR0917  (hypothesis draws)
    province: str, county: int, born: date, seq: int, position: int, shift: int,
) -> None:
    number = _resident(f"{province}{county:04d}{born:%Y%m%d}{seq:03d}")
    assert validate_id("resident_id", number).number == number
    digit = str((int(number[position]) + shift) % 10)
    with pytest.raises(DocumentError):
        validate_id("resident_id", number[:position] + digit + number[position + 1:])


@given(st.text(alphabet="0123456789X", min_size=1, max_size=1))
def test_a_wrong_check_character_always_fails(check: str) -> None:
    number = _resident("44010619850315123")
    if check != number[-1]:
        _rejects("resident_id", number[:17] + check, "check_character")


# --- Hong Kong, Macau, Taiwan documents ---


def test_hmt_residence_permits_use_regions_810000_to_830000_and_the_mod_11_2_check() -> None:
    for region in ("810000", "820000", "830000"):
        doc = validate_id("hmt_residence_permit", _resident(f"{region}19900101123"))
        assert doc.registry_code == "2"
    _rejects("hmt_residence_permit", _resident("44010619900101123"), "region")
    bad = _resident("81000019900101123")
    _rejects("hmt_residence_permit", bad[:17] + ("0" if bad[17] != "0" else "1"), "check_character")


@pytest.mark.parametrize("number", ["H12345678", "M87654321", "H1234567801", "h 1234 5678"])
def test_hk_macau_permits_accept_card_and_booklet_numbers(number: str) -> None:
    assert validate_id("hk_macau_permit", number).registry_code == "2"


@pytest.mark.parametrize("number", ["K12345678", "H1234567", "H123456789", "12345678"])
def test_hk_macau_permits_reject_other_shapes(number: str) -> None:
    error = _rejects("hk_macau_permit", number, "characters")
    assert "H or M" in str(error)


@pytest.mark.parametrize("number", ["12345678", "1234567890", "1234567890(B)", "1234567890（B）"])
def test_taiwan_permits_accept_card_and_booklet_numbers(number: str) -> None:
    validate_id("taiwan_permit", number)


@pytest.mark.parametrize("number", ["1234567", "123456789", "T1234567", "12345678(BB)"])
def test_taiwan_permits_reject_other_shapes(number: str) -> None:
    _rejects("taiwan_permit", number, "characters")


# --- passports, military officer cards ---


@pytest.mark.parametrize("number", ["E12345678", "EA1234567", "PA1234567", "X1234", "123456789012345678AB"])
def test_passports_need_only_5_to_20_letters_and_digits(number: str) -> None:
    assert validate_id("passport", number).registry_code == "3"


@pytest.mark.parametrize("number", ["E123", "E1234567890123456789012", "E1234567#", "护照12345"])
def test_passports_with_other_lengths_or_characters_are_rejected(number: str) -> None:
    _rejects("passport", number, "characters")


def test_military_officer_cards_are_checked_for_length_and_characters_only() -> None:
    assert validate_id("military_officer_card", "南字第12345678号").registry_code == "5"
    _rejects("military_officer_card", "南字第号", "characters")
    _rejects("military_officer_card", "南字第1234567890123456789012号", "characters")


# --- organisation codes (GB 11714) and USCCs (GB 32100) ---


def test_organisation_codes_drop_the_hyphen_and_check_the_mod_11_character() -> None:
    assert organisation_code_check_character("D2143569") == "X"
    doc = validate_id("organisation_code", "D2143569-X")
    assert (doc.number, doc.registry_code) == ("D2143569X", "6")
    _rejects("organisation_code", "D21435695", "check_character")
    _rejects("organisation_code", "D2143569", "characters")


def test_the_gb32100_sample_uscc_is_valid() -> None:
    assert uscc_check_character("91350100M000100Y4") == "3"
    doc = validate_id("uscc", "91350100M000100Y43")
    assert (doc.number, doc.registry_code) == ("91350100M000100Y43", "7")


def test_a_one_character_altered_uscc_is_rejected() -> None:
    _rejects("uscc", "91350100M000100Y53", "check_character")


@pytest.mark.parametrize(("number", "reason"), [
    ("91350100M000100Y4", "length"),
    ("91350100I000100Y43", "characters"),
    ("9135010OM000100Y43", "characters"),
    ("913501A0M000100Y43", "region"),
])
def test_malformed_usccs_name_what_is_wrong(number: str, reason: str) -> None:
    _rejects("uscc", number, reason)


@given(body=st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17).filter(lambda s: s[2:8].isdigit()),
       position=st.integers(0, 17), shift=st.integers(1, 30))
def test_every_uscc_with_its_check_character_validates_and_any_single_change_fails(
    body: str, position: int, shift: int,
) -> None:
    number = body + uscc_check_character(body)
    validate_id("uscc", number)
    changed = USCC_ALPHABET[(USCC_ALPHABET.index(number[position]) + shift) % 31]
    with pytest.raises(DocumentError):
        validate_id("uscc", number[:position] + changed + number[position + 1:])


# --- general ---


def test_an_unknown_id_type_lists_the_known_ones() -> None:
    error = _rejects("driving_licence", "123", "type")
    assert "resident_id" in str(error)


def test_empty_and_non_string_numbers_are_rejected() -> None:
    _rejects("passport", "  ", "length")
    _rejects("passport", 12345678, "characters")  # type: ignore[arg-type]


def test_every_id_type_maps_to_a_registry_code() -> None:
    assert {validate_id(t, n).registry_code for t, n in [
        ("resident_id", "11010519491231002X"), ("hk_macau_permit", "H12345678"), ("passport", "E12345678"),
        ("household_register", "11010519491231002X"), ("military_officer_card", "南字第12345678号"),
        ("organisation_code", "D2143569X"), ("uscc", "91350100M000100Y43"),
    ]} == {"1", "2", "3", "4", "5", "6", "7"}


# --- unit numbers (GB/T 37346-2019, rule V1) ---


def test_a_real_guangzhou_unit_number_with_a_legacy_county_code_parses() -> None:
    unit = parse_unit_number("440184001016GB00009F00800039", counties=GUANGZHOU_COUNTY_CODES)
    assert (unit.county, unit.cadastral_zone, unit.cadastral_subzone) == ("440184", "001", "016")
    assert (unit.parcel_owner_type, unit.parcel_right_type, unit.parcel_serial) == ("G", "B", "00009")
    assert (unit.fixture_type, unit.fixture_unit) == ("F", "00800039")
    assert unit.display == "440184 001016 GB00009 F00800039"
    assert not unit.is_virtual


def test_the_hefei_example_is_well_formed_but_outside_guangzhou() -> None:
    parse_unit_number("340121261006GB00014F00220045")
    with pytest.raises(DocumentError) as info:
        parse_unit_number("340121261006GB00014F00220045", counties=GUANGZHOU_COUNTY_CODES)
    assert info.value.reason == "region"


@pytest.mark.parametrize(("text", "reason", "says"), [
    ("44010600100GB00123F00010203", "length", "27"),
    ("440106001001GB00123X00010203", "characters", "position 20"),
    ("440106001001gb00123F00010203", "characters", "upper case"),
    ("440106001001GA00123F00010203", "characters", "collective"),
    ("110105001001GB00123F00010203", "region", "110105"),
    ("440106001001GB00000F00010203", "characters", "00001"),
    ("440106001001GBW0123F00010203", "characters", "position 15"),
    ("440106001001GB00123W00010203", "characters", "00000000"),
    ("44010600100\uff11GB00123F00010203", "characters", "sub-zone); type it half-width (ASCII)"),
    ("440106001001GB00123F0001020\u0663", "characters", "position 28"),  # Arabic-Indic: no half-width form
])
def test_domain_v1_examples_are_rejected_with_the_position_at_fault(text: str, reason: str, says: str) -> None:
    with pytest.raises(DocumentError) as info:
        parse_unit_number(text, field="unit", counties=GUANGZHOU_COUNTY_CODES)
    assert info.value.reason == reason
    assert says in str(info.value)
    assert str(info.value).startswith("unit: ")


def test_collective_land_allows_a_and_c_and_w_needs_a_zero_fixture_unit() -> None:
    parse_unit_number("440118001001JC00123F00010001")
    assert parse_unit_number("440118000000JA00123W00000000").is_virtual
