"""Format checks of identity documents and unit numbers, run at the edge before anything is hashed.

Rule V5 (domain.md §12) checks an ID number by its type; design §3.18 puts that check at the edge,
because on the ledger a party is only an HMAC of (type, number) and a typo would silently become
a different person. So every number is validated *and normalised* here, and ``parties.party_id``
hashes only what this module returns.

Document types (``IdType``) are finer than the registry's code list (domain.md §4.5), whose code 2
covers several Hong Kong / Macau / Taiwan documents; ``IdDocument.registry_code`` gives the code.

- ``resident_id`` (1): GB 11643 citizen number. 18 characters: 6-digit region (mainland province
  prefix), birth date ``YYYYMMDD``, 3-digit sequence, ISO 7064 MOD 11-2 check character (``0``-``9``
  or ``X``). A 15-digit legacy number is checked for its date only and normalised to its 18-digit
  form (``19`` inserted before the year, check character appended), so both spellings of one
  person give one party id.
- ``hmt_residence_permit`` (2): 港澳台居民居住证, same structure as a resident ID with region 810000
  (Hong Kong), 820000 (Macau) or 830000 (Taiwan).
- ``hk_macau_permit`` (2): 港澳居民来往内地通行证, ``H``/``M`` + 8 digits (card) or + 10 digits (older
  booklet, the last two counting re-issues).
- ``taiwan_permit`` (2): 台湾居民来往大陆通行证, 8 digits (card) or 10 digits (booklet), optionally
  followed by a one-character re-issue mark in brackets, e.g. ``1234567890(B)`` [A].
- ``passport`` (3): 5-20 letters and digits (ICAO 9303 numbers are up to 9 characters in the MRZ;
  longer national numbers exist) [A].
- ``household_register`` (4): the 公民身份号码 printed in the 户口簿 for the person, checked exactly
  like a resident ID (everyone registered there has one, children included) [A].
- ``military_officer_card`` (5): 军官证, e.g. ``南字第12345678号``: 4-24 CJK characters, letters
  and digits with at least 4 digits; length and character set only [A].
- ``organisation_code`` (6): GB 11714, 8 body characters (digits, upper-case letters) and a MOD 11
  check character (``0``-``9`` or ``X``); the display hyphen (``XXXXXXXX-X``) is dropped.
- ``uscc`` (7): GB 32100-2015 unified social credit code, 18 characters from
  ``0-9 A-H J-N P-R T U W-Y`` (no I, O, S, V, Z), positions 3-8 a region code, MOD 31 check
  character.

Normalisation (before any check): Unicode NFKC (full-width ``１２３Ｘ`` becomes ``123X``), every
whitespace character and ``-`` removed, letters upper-cased. Non-mainland documents get length and
character-set checks only: a holder is never refused for having one (domain.md §4.5).

Error messages name the field, what is wrong and how to fix it, and never echo the whole number:
they end up in logs, which must not hold personal data in clear.

The unit number (不动产单元号, domain.md §4.1, GB/T 37346-2019, rule V1) is checked exactly as
written: no normalisation, because V1 rejects lower-case letters rather than repairing them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Final, TypeAlias

from estatechain.errors import InputError


class IdType(StrEnum):
    """Kinds of identity document, with stable wire names (they are part of the party-id input)."""

    RESIDENT_ID = "resident_id"
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"
    HK_MACAU_PERMIT = "hk_macau_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    PASSPORT = "passport"
    HOUSEHOLD_REGISTER = "household_register"
    MILITARY_OFFICER_CARD = "military_officer_card"
    ORGANISATION_CODE = "organisation_code"
    USCC = "uscc"


REGISTRY_CODES: Final[Mapping[IdType, str]] = MappingProxyType({
    IdType.RESIDENT_ID: "1",
    IdType.HMT_RESIDENCE_PERMIT: "2",
    IdType.HK_MACAU_PERMIT: "2",
    IdType.TAIWAN_PERMIT: "2",
    IdType.PASSPORT: "3",
    IdType.HOUSEHOLD_REGISTER: "4",
    IdType.MILITARY_OFFICER_CARD: "5",
    IdType.ORGANISATION_CODE: "6",
    IdType.USCC: "7",
})
"""The registry's ID-type code (证件种类, domain.md §4.5) for each document type."""

MAINLAND_PROVINCES: Final = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
})
"""GB/T 2260 province prefixes that issue resident IDs (71 Taiwan, 81/82 HK/Macau do not)."""

HMT_PERMIT_REGIONS: Final = frozenset({"810000", "820000", "830000"})
EARLIEST_BIRTH_YEAR: Final = 1850
"""Lower bound for birth dates: generous, so that records of deceased owners still pass [A]."""

_RESIDENT_WEIGHTS: Final = tuple(pow(2, 17 - i, 11) for i in range(17))
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES: Final = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
_ALNUM_VALUES: Final = {c: int(c, 36) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}

_RESIDENT_18: Final = re.compile(r"\d{17}[\dX]", re.ASCII)
_DIGITS_15: Final = re.compile(r"\d{15}", re.ASCII)
_HK_MACAU: Final = re.compile(r"[HM]\d{8}(?:\d{2})?", re.ASCII)
_TAIWAN: Final = re.compile(r"\d{8}(?:\d{2})?(?:\([A-Z0-9]\))?", re.ASCII)
_PASSPORT: Final = re.compile(r"[A-Z0-9]{5,20}")
_MILITARY: Final = re.compile(r"[\u4e00-\u9fffA-Z0-9]{4,24}")
_ORG_CODE: Final = re.compile(r"[0-9A-Z]{8}[0-9X]")
_USCC: Final = re.compile(rf"[{USCC_ALPHABET}]{{18}}")
_STRIP: Final = re.compile(r"[\s\-]+")


_Check: TypeAlias = Callable[[str, str, date | None], str]


class DocumentError(InputError):
    """An ID number or unit number that fails its format rule (V5, V1).

    ``field`` is where the value came from (``mortgagors[0].id_number``); ``reason`` is a short
    stable code (``check_character``, ``birth_date``, ``length``, ``characters``, ``region``,
    ``type``) that an edge can map to a rejection code and a localised text.
    """

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class IdDocument:
    """A validated ID number in its normal form: the only input ``party_id`` accepts."""

    id_type: IdType
    number: str

    @property
    def registry_code(self) -> str:
        """The registry's ID-type code (``"1"`` resident ID … ``"7"`` USCC)."""
        return REGISTRY_CODES[self.id_type]


def resident_id_check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits of a GB 11643 number."""
    total = sum(int(c) * w for c, w in zip(first17, _RESIDENT_WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def organisation_code_check_character(body8: str) -> str:
    """GB 11714 check character for the 8 body characters of an organisation code."""
    total = sum(_ALNUM_VALUES[c] * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def uscc_check_character(first17: str) -> str:
    """GB 32100-2015 check character (MOD 31 with weights 3**i mod 31) for the first 17 characters."""
    total = sum(_USCC_VALUES[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalise_number(id_number: str) -> str:
    """NFKC, drop whitespace and hyphens, upper-case: the spelling every check and hash sees."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", id_number)).upper()


def validate_id(
    id_type: str,
    id_number: str,
    *,
    field: str = "id_number",
    today: date | None = None,
) -> IdDocument:
    """Check ``id_number`` against the format rule of ``id_type`` and return its normal form.

    ``today`` (the caller's clock, injected) additionally refuses birth dates in the future; without
    it only calendar validity and the lower bound are checked.

    Raises:
        DocumentError: unknown type, or the number breaks its type's rule; the message says which
            part is wrong and how to fix it.

    """
    try:
        kind = IdType(id_type)
    except ValueError:
        known = ", ".join(t.value for t in IdType)
        raise DocumentError(field, "type", f"unknown ID type {id_type!r}; use one of: {known}") from None
    if not isinstance(id_number, str):
        raise DocumentError(field, "characters", "the ID number must be a string; send it as text, not a number")
    number = normalise_number(id_number)
    if not number:
        raise DocumentError(field, "length", "the ID number is empty; copy it from the document")
    return IdDocument(kind, _CHECKS[kind](number, field, today))


def _birth_date(text: str, field: str, today: date | None, what: str) -> None:
    try:
        born = date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise DocumentError(
            field, "birth_date",
            f"{what} birth-date digits {text[0:4]}-{text[4:6]}-{text[6:8]} are not a calendar date; "
            "re-read them from the document",
        ) from None
    if born.year < EARLIEST_BIRTH_YEAR or (today is not None and born > today):
        raise DocumentError(
            field, "birth_date",
            f"{what} birth date {born.isoformat()} is not plausible (before {EARLIEST_BIRTH_YEAR} or in the future); "
            "re-read the date digits (positions 7-14)",
        )


def _check_char(number: str, expected: str, field: str, what: str) -> None:
    if number[-1] != expected:
        raise DocumentError(
            field, "check_character",
            f"{what} check character (last position) is {number[-1]!r} but the other characters give {expected!r}; "
            "a character is mistyped: re-read the whole number from the document",
        )


def _gb11643(number: str, field: str, today: date | None, what: str) -> str:
    if len(number) != 18:
        raise DocumentError(field, "length", f"{what} must have 18 characters, got {len(number)}")
    if not _RESIDENT_18.fullmatch(number):
        raise DocumentError(
            field, "characters", f"{what} must be 17 digits followed by a digit or X; remove other characters",
        )
    _birth_date(number[6:14], field, today, what)
    _check_char(number, resident_id_check_character(number[:17]), field, what)
    return number


def _resident_id(number: str, field: str, today: date | None) -> str:
    what = "resident ID number"
    if len(number) == 15:
        if not _DIGITS_15.fullmatch(number):
            raise DocumentError(field, "characters", f"a 15-character legacy {what} has digits only")
        _region(number, field, what)
        _birth_date("19" + number[6:12], field, today, f"legacy {what}")
        first17 = number[:6] + "19" + number[6:]
        return first17 + resident_id_check_character(first17)
    if len(number) != 18:
        raise DocumentError(
            field, "length", f"a {what} has 18 characters (15 for a legacy number), got {len(number)}",
        )
    _region(number, field, what)
    return _gb11643(number, field, today, what)


def _region(number: str, field: str, what: str) -> None:
    if number[:6] in HMT_PERMIT_REGIONS:
        raise DocumentError(
            field, "region",
            f"region code {number[:6]} belongs to a Hong Kong/Macau/Taiwan residence permit; "
            f"send id type {IdType.HMT_RESIDENCE_PERMIT.value!r}",
        )
    if not number[:6].isdigit() or number[:2] not in MAINLAND_PROVINCES:
        raise DocumentError(
            field, "region",
            f"{what} region code (first 6 digits) must start with a mainland province code (11-65), "
            f"got {number[:2]!r}; re-read the number",
        )


def _hmt_residence_permit(number: str, field: str, today: date | None) -> str:
    what = "residence permit number"
    if len(number) == 18 and number[:6] not in HMT_PERMIT_REGIONS:
        raise DocumentError(
            field, "region",
            f"a Hong Kong/Macau/Taiwan {what} starts with 810000, 820000 or 830000; "
            f"a mainland number is id type {IdType.RESIDENT_ID.value!r}",
        )
    return _gb11643(number, field, today, what)


def _shape(pattern: re.Pattern[str], rule: str) -> _Check:
    def check(number: str, field: str, _today: date | None) -> str:
        if not pattern.fullmatch(number):
            raise DocumentError(field, "characters", f"expected {rule}; re-read the number from the document")
        return number

    return check


def _military_officer_card(number: str, field: str, _today: date | None) -> str:
    if not _MILITARY.fullmatch(number) or sum(c.isdigit() for c in number) < 4:
        raise DocumentError(
            field, "characters",
            "a military officer's card number is 4 to 24 Chinese characters, letters and digits with at least "
            "4 digits (like 南字第12345678号); re-read it from the card",
        )
    return number


def _organisation_code(number: str, field: str, _today: date | None) -> str:
    what = "organisation code"
    if not _ORG_CODE.fullmatch(number):
        raise DocumentError(
            field, "characters", f"an {what} is 8 digits or capital letters and a check digit or X (XXXXXXXX-X)",
        )
    _check_char(number, organisation_code_check_character(number[:8]), field, what)
    return number


def _uscc(number: str, field: str, _today: date | None) -> str:
    what = "unified social credit code"
    if len(number) != 18:
        raise DocumentError(field, "length", f"a {what} has 18 characters, got {len(number)}")
    if not _USCC.fullmatch(number):
        bad = sorted({c for c in number if c not in _USCC_VALUES})
        raise DocumentError(
            field, "characters",
            f"a {what} uses only 0-9 and capital letters other than I, O, S, V, Z; found {''.join(bad)!r}",
        )
    if not number[2:8].isdigit():
        raise DocumentError(field, "region", f"positions 3-8 of a {what} are a region code and must be digits")
    _check_char(number, uscc_check_character(number[:17]), field, what)
    return number


_CHECKS: Final = MappingProxyType({
    IdType.RESIDENT_ID: _resident_id,
    IdType.HOUSEHOLD_REGISTER: _resident_id,
    IdType.HMT_RESIDENCE_PERMIT: _hmt_residence_permit,
    IdType.HK_MACAU_PERMIT: _shape(_HK_MACAU, "H or M followed by 8 digits (10 on an older booklet)"),
    IdType.TAIWAN_PERMIT: _shape(_TAIWAN, "8 digits (10 on an older booklet, optionally with a mark like (B))"),
    IdType.PASSPORT: _shape(_PASSPORT, "5 to 20 letters and digits"),
    IdType.MILITARY_OFFICER_CARD: _military_officer_card,
    IdType.ORGANISATION_CODE: _organisation_code,
    IdType.USCC: _uscc,
})


GUANGZHOU_DISTRICTS: Final[Mapping[str, str]] = MappingProxyType({
    "440103": "荔湾区", "440104": "越秀区", "440105": "海珠区", "440106": "天河区", "440111": "白云区",
    "440112": "黄埔区", "440113": "番禺区", "440114": "花都区", "440115": "南沙区", "440117": "从化区",
    "440118": "增城区",
})
"""Guangzhou's 11 current districts by GB/T 2260 county code."""

GUANGZHOU_LEGACY_COUNTIES: Final[Mapping[str, str]] = MappingProxyType({
    "440102": "东山区 (merged into 越秀区, 2005)", "440107": "芳村区 (merged into 荔湾区, 2005)",
    "440116": "萝岗区 (merged into 黄埔区, 2014)", "440181": "番禺市 (became 440113, 2000)",
    "440182": "花都市 (became 440114, 2000)", "440183": "增城市 (became 440118, 2014)",
    "440184": "从化市 (became 440117, 2014)",
})
"""Codes that no longer name a district but stay in older unit numbers (domain.md §4.1 cites 440184)."""

GUANGZHOU_COUNTY_CODES: Final = frozenset(GUANGZHOU_DISTRICTS) | frozenset(GUANGZHOU_LEGACY_COUNTIES)
"""What a Guangzhou registry accepts in positions 1-6 of a unit number (V1)."""

_UNIT: Final = re.compile(r"\d{12}[GJZ][ABSXCDEFHGWYLN]\d{5}[FLQW]\d{8}", re.ASCII)


@dataclass(frozen=True, slots=True)
class UnitNumber:
    """The parts of a 28-character unit number (不动产单元号, GB/T 37346-2019, domain.md §4.1)."""

    value: str

    @property
    def county(self) -> str:
        """Positions 1-6: county-level division code (GB/T 2260)."""
        return self.value[0:6]

    @property
    def cadastral_zone(self) -> str:
        """Positions 7-9: 地籍区."""
        return self.value[6:9]

    @property
    def cadastral_subzone(self) -> str:
        """Positions 10-12: 地籍子区."""
        return self.value[9:12]

    @property
    def parcel_owner_type(self) -> str:
        """Position 13: ``G`` state, ``J`` collective, ``Z`` undetermined."""
        return self.value[12]

    @property
    def parcel_right_type(self) -> str:
        """Position 14: ``B`` construction-land use right (surface), ``S`` above, ``X`` below ground …."""
        return self.value[13]

    @property
    def parcel_serial(self) -> str:
        """Positions 15-19: 宗地顺序号."""
        return self.value[14:19]

    @property
    def fixture_type(self) -> str:
        """Position 20: ``F`` building, ``L`` forest, ``Q`` other, ``W`` none."""
        return self.value[19]

    @property
    def fixture_unit(self) -> str:
        """Positions 21-28: for buildings 4-digit building (幢) and 4-digit unit (户)."""
        return self.value[20:28]

    @property
    def is_virtual(self) -> bool:
        """Positions 7-12 all zero: a virtual unit number in registry software (domain.md §4.1)."""
        return self.value[6:12] == "000000"

    @property
    def display(self) -> str:
        """The common 6-6-7-9 grouping for people to read."""
        v = self.value
        return f"{v[0:6]} {v[6:12]} {v[12:19]} {v[19:28]}"


def parse_unit_number(
    text: str,
    *,
    field: str = "unit_number",
    counties: Collection[str] | None = None,
) -> UnitNumber:
    """Check a unit number against rule V1 and return its parts.

    ``counties`` is the registry's configured list of county codes (for Guangzhou,
    ``GUANGZHOU_COUNTY_CODES``, legacy codes included); ``None`` checks the structure only.

    Raises:
        DocumentError: wrong length, a character outside the structure, an owner/right-type
            combination GB/T 37346 does not allow, a zero parcel serial, a fixture unit on a ``W``
            (no fixture) number, or a county outside ``counties``.

    """
    if not isinstance(text, str) or len(text) != 28:
        got = len(text) if isinstance(text, str) else type(text).__name__
        raise DocumentError(
            field, "length", f"a unit number has exactly 28 characters, got {got}; check for a lost or extra digit",
        )
    if not _UNIT.fullmatch(text):
        raise DocumentError(field, "characters", _unit_structure_problem(text))
    unit = UnitNumber(text)
    if unit.parcel_right_type in "AC" and unit.parcel_owner_type != "J":
        raise DocumentError(
            field, "characters",
            f"parcel right type {unit.parcel_right_type!r} (position 14) exists only on collective land (J at "
            f"position 13), not with {unit.parcel_owner_type!r}",
        )
    if unit.parcel_serial == "00000":
        raise DocumentError(
            field, "characters", "the parcel serial (positions 15-19) runs from 00001; 00000 is not used",
        )
    if unit.fixture_type == "W" and unit.fixture_unit != "00000000":
        raise DocumentError(
            field, "characters", "fixture type W (no fixture) requires positions 21-28 to be 00000000",
        )
    if counties is not None and unit.county not in counties:
        raise DocumentError(
            field, "region",
            f"county code {unit.county} (positions 1-6) is not in this registry's jurisdiction; "
            "file the application with the registry of that county",
        )
    return unit


def _unit_structure_problem(text: str) -> str:
    """Name the first position of ``text`` that breaks the GB/T 37346 structure, and what belongs there."""
    parts = (
        (0, 12, "0123456789", "digits (county, cadastral zone and sub-zone)"),
        (12, 13, "GJZ", "G, J or Z (parcel owner type)"),
        (13, 14, "ABSXCDEFHGWYLN", "a parcel right-type letter such as B, S or X"),
        (14, 19, "0123456789", "digits (parcel serial)"),
        (19, 20, "FLQW", "F, L, Q or W (fixture type)"),
        (20, 28, "0123456789", "digits (building and unit)"),
    )
    for start, end, allowed, what in parts:
        for pos in range(start, end):
            if text[pos] not in allowed:
                hint = ("; letters must be upper case" if text[pos].upper() in allowed
                        else "; type it half-width (ASCII)" if unicodedata.normalize("NFKC", text[pos]) in allowed
                        else "")
                return f"position {pos + 1} is {text[pos]!r} but must be {what}{hint}"
    return "the unit number does not follow GB/T 37346-2019"  # pragma: no cover  (the loop finds every mismatch)
