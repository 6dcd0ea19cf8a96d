"""Certificate numbers of the Guangzhou registry: parse, check the expected kind (V4), format.

Pattern [A, domain.md §4.2]: ``粤(YYYY)广州市不动产证明第NNNNNNNN号`` for registration certificates
and ``粤(YYYY)广州市不动产权第NNNNNNNN号`` for title certificates; full-width brackets are normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

PROVINCE: Final = "粤"
CITY: Final = "广州市"
SERIAL_DIGITS: Final = 8
"""Guangzhou's serials have 8 digits (domain.md §4.2, C5) [S]; a registry setting elsewhere."""

_NUMBER: Final = re.compile(r"^(.)\((\d{4})\)(.+?)(不动产证明|不动产权)第(\d+)号$", re.ASCII)


class CertificateKind(StrEnum):
    """不动产登记证明 (registration certificate) or 不动产权证书 (title certificate)."""

    PROOF = "不动产证明"
    TITLE = "不动产权"


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateNumber:
    """A parsed number."""

    kind: CertificateKind
    year: int
    serial: int


_FULL_WIDTH: Final = str.maketrans("（）０１２３４５６７８９", "()0123456789")
_ANY_FULL_WIDTH: Final = re.compile("[（）０-９]")
"""The characters ``_FULL_WIDTH`` maps (U+FF08, U+FF09 and U+FF10-U+FF19)."""


def normalise(number: str) -> str:
    """Full-width brackets and digits to ASCII, so each certificate number has one spelling.

    Both spellings occur in practice (a Chinese input method types full-width), and a number is looked
    up by its text. Other non-ASCII digits are not mapped: the pattern then refuses them (V4).
    """
    if _ANY_FULL_WIDTH.search(number) is None:  # the usual case: translate walks a non-ASCII text char by char
        return number
    return number.translate(_FULL_WIDTH)


def parse(number: object, expected: CertificateKind, current_year: int) -> CertificateNumber | str:  # noqa: PLR0911  (a return per V4 problem, in the order they are reported)
    """The parsed number, or the reason it is not a valid number of the ``expected`` kind (V4)."""
    if not isinstance(number, str):
        return "it must be a text"
    match = _NUMBER.fullmatch(normalise(number))
    if match is None:
        return "it does not have the form 省(年)市县…第N号"
    province, year_text, city, kind_text, serial = match.groups()
    year = int(year_text)
    # In this order, the first failing check names the problem; each message is built only when it fails.
    if kind_text != expected.value:
        return f"it is a {kind_text} number, not a {expected.value} number"
    if province != PROVINCE:
        return f"province {province} is not {PROVINCE}"
    if city != CITY:
        return f"registry {city} is not {CITY}"
    if year > current_year:
        return f"year {year} is after the current year {current_year}"
    if len(serial) != SERIAL_DIGITS:
        return f"the serial has {len(serial)} digits instead of {SERIAL_DIGITS}"
    return CertificateNumber(kind=CertificateKind(kind_text), year=year, serial=int(serial))


def proof_number(year: int, serial: int) -> str:
    """The registration certificate number for ``year`` and ``serial``."""
    return f"{PROVINCE}({year:04d}){CITY}{CertificateKind.PROOF.value}第{serial:0{SERIAL_DIGITS}d}号"


def title_number(year: int, serial: int) -> str:
    """The title certificate number for ``year`` and ``serial``."""
    return f"{PROVINCE}({year:04d}){CITY}{CertificateKind.TITLE.value}第{serial:0{SERIAL_DIGITS}d}号"
