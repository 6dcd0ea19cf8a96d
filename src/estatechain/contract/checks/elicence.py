"""E-licence identifiers (GB/T 36904 as implemented in registry software; V27).

Form [S: C7]: ``1.2.156.3005.2.{type code}.{issuer USCC}.{serial}.{version}.{check}``, the check char
by ISO 7064 MOD 37,36 (hybrid) over type code + issuer + serial + version. Confirm the grammar against
the standard's text before relying on it beyond validation (domain.md §13.3).
"""

from __future__ import annotations

import re
from typing import Final

from estatechain.contract.command import Rejected
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.violation import violate

_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FORM: Final = re.compile(
    r"^1\.2\.156\.3005\.2\.([0-9A-Z]{21})\.([0-9A-Z]{18})\.([0-9A-Z]{1,32})\.(\d{3})\.([0-9A-Z])$", re.ASCII,
)
TITLE_TYPE_CODE: Final = "11100000MB03271699001"
"""中华人民共和国不动产权证 [S: C2]."""
PROOF_TYPE_CODE: Final = "11100000MB03271699022"
"""中华人民共和国不动产登记证明 [S: C2]."""
KNOWN_TYPE_CODES: Final = frozenset({TITLE_TYPE_CODE, PROOF_TYPE_CODE})


def mod37_36_check(data: str) -> str:
    """The ISO 7064 MOD 37,36 hybrid check character of ``data`` (0-9, A-Z)."""
    product = 36
    for char in data:
        total = (_ALPHABET.index(char) + product) % 36 or 36
        product = (2 * total) % 37
    return _ALPHABET[(37 - product) % 36]


def check_v27_elicence(value: str, expected_type: str = PROOF_TYPE_CODE) -> Rejected | None:
    """V27: prefix, known type code (and the expected one), 18-char issuer, 3-digit version, check char."""
    match = _FORM.fullmatch(value)
    problem = None
    if match is None:
        problem = "it does not have the form 1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>"
    else:
        type_code, issuer, serial, version, check = match.groups()
        if type_code not in KNOWN_TYPE_CODES:
            problem = f"unknown licence type code {type_code}"
        elif type_code != expected_type:
            problem = f"licence type {type_code} is not the expected {expected_type}"
        elif mod37_36_check(type_code + issuer + serial + version) != check:
            problem = "the check character is wrong"
    if problem is not None:
        return violate(RejectionCode.V27_ELICENCE_ID_INVALID, value=value, problem=problem)
    return None
