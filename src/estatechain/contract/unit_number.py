"""The 28-character unit number (不动产单元号) of GB/T 37346-2019 and the registry's jurisdiction (V1, V2)."""

from __future__ import annotations

import re
from typing import Final

UNIT_NUMBER_LENGTH: Final = 28
"""Characters of a unit number (GB/T 37346-2019)."""
PARCEL_CODE_LENGTH: Final = 19
"""Its leading 宗地代码: county (6), cadastral zone and sub-zone (6), land right type (2), parcel serial (5)."""
_SHAPE: Final = re.compile(r"^\d{12}[GJZ][ABSXCDEFHGWYLN]\d{5}[FLQW]\d{8}$", re.ASCII)
"""domain.md §4.1 / V1: county 6 + zone 3 + sub-zone 3 + owner type + right type + serial 5 + fixture + 8."""

GUANGZHOU_COUNTIES: Final = frozenset({
    "440103", "440104", "440105", "440106", "440111", "440112", "440113", "440114", "440115", "440117", "440118",
    # legacy codes that still appear in unit numbers: 东山, 芳村, 萝岗, 增城市, 从化市
    "440102", "440107", "440116", "440183", "440184",
})
"""The registry's configured county list (V1) [A: Guangzhou's districts with legacy codes, GB/T 2260].

A later version may read the list from a governance record; today it is part of the rule version.
"""

HOUSING_RIGHT_TYPES: Final = frozenset("BSX")
"""Construction-land use right: surface, above ground, below ground (V2) [A]."""


def unit_number_problem(unit_number: object) -> str | None:
    """Why ``unit_number`` is not a well-formed unit number, or None (V1, shape only)."""
    if not isinstance(unit_number, str):
        return "it must be a text"
    if len(unit_number) != UNIT_NUMBER_LENGTH:
        return f"it has {len(unit_number)} characters instead of 28"  # the phrase as translated (messages)
    if _SHAPE.fullmatch(unit_number) is None:
        return "its letters or digits are not in the GB/T 37346 pattern (half-width digits, upper case, known codes)"
    owner_type, right_type = unit_number[12], unit_number[13]
    if right_type in "AC" and owner_type != "J":
        return f"right type {right_type} exists only on collective (J) land"
    return None


def in_jurisdiction(unit_number: str) -> bool:
    """Whether the unit's county code is in the registry's configured list (V1)."""
    return unit_number[:6] in GUANGZHOU_COUNTIES


def housing_problem(unit_number: str) -> str | None:
    """Why the unit number cannot be a housing unit of the platform, or None (V2, number part)."""
    if unit_number[13] not in HOUSING_RIGHT_TYPES:
        return f"parcel right type {unit_number[13]} is not a construction-land use right"
    if unit_number[19] != "F":
        return f"fixture type {unit_number[19]} is not a building"
    return None
