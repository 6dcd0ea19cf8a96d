"""Unit checks: number and jurisdiction (V1), platform scope (V2), presence and ownership (V3)."""

from __future__ import annotations

from estatechain.contract import keys
from estatechain.contract.command import Rejected
from estatechain.contract.records import OwnershipRight, Status, Unit, UnitKind, UnitUse
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.unit_number import housing_problem, in_jurisdiction, unit_number_problem
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate


def check_v1_unit_number(unit_number: object, field: str = "unit_number") -> Rejected | None:
    """V1: 28 characters in the GB/T 37346 pattern, county code in the registry's list."""
    problem = unit_number_problem(unit_number)
    if problem is not None:
        return violate(RejectionCode.V1_UNIT_NUMBER_INVALID, field=field, unit_number=str(unit_number),
                       problem=problem)
    text = str(unit_number)
    if not in_jurisdiction(text):
        return violate(RejectionCode.V1_UNIT_OUT_OF_JURISDICTION, field=field, unit_number=text, county=text[:6])
    return None


def check_v2_housing(unit: Unit) -> Rejected | None:
    """V2: construction-land right type (B/S/X), building fixture F, registered residential use [A]."""
    problem = housing_problem(unit.unit_number)
    if problem is None and unit.use is not UnitUse.RESIDENTIAL:
        problem = f"its registered use is {unit.use.value}"
    if problem is not None:
        return violate(RejectionCode.V2_UNIT_NOT_HOUSING, unit_number=unit.unit_number, problem=problem)
    return None


def load_unit(view: StateView, unit_number: str) -> Unit | Rejected:
    """V3: the unit record, or the rejection for a unit the register does not hold."""
    record = view.get(keys.unit(unit_number))
    if record is None:
        return violate(RejectionCode.V3_UNIT_NOT_FOUND, unit_number=unit_number)
    return Unit.from_stored(record)


def check_v3_unit_kind(unit: Unit, expected: UnitKind) -> Rejected | None:
    """V3: the business needs a predicted (5.5) or surveyed unit."""
    if unit.kind is not expected:
        return violate(RejectionCode.V3_UNIT_KIND_MISMATCH, unit_number=unit.unit_number, kind=unit.kind.value,
                       expected=expected.value)
    return None


def current_ownership(view: StateView, unit_number: str) -> OwnershipRight | None:
    """The unit's current ownership right, if any (first in key order: there is at most one)."""
    for _, row in view.scan(keys.unit_index(unit_number, "ownership")):
        record = view.get(keys.ownership(str(row["right_id"])))
        if record is not None:
            right = OwnershipRight.from_stored(record)
            if right.status is Status.CURRENT:
                return right
    return None


def load_ownership(view: StateView, unit_number: str) -> OwnershipRight | Rejected:
    """V3 for 5.2: the current ownership right, or the rejection when there is none."""
    right = current_ownership(view, unit_number)
    if right is None:
        return violate(RejectionCode.V3_NO_CURRENT_OWNERSHIP, unit_number=unit_number)
    return right
