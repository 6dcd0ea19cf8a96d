"""Checks against the register's current state at block time: seizures (V13), duplicates (V16)."""

from __future__ import annotations

from estatechain.contract import keys
from estatechain.contract.command import Rejected
from estatechain.contract.records import Application, Capacity, Mortgage, effective_state
from estatechain.contract.records.application import OPEN_STATES
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.seizure_queue import in_effect
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate


def check_v13_not_seized(view: StateView, unit_number: str, time_ms: int) -> Rejected | None:
    """V13: no seizure (查封 or 预查封, a promoted queued one included) in effect at block time."""
    seizure = in_effect(view, unit_number, time_ms)
    if seizure is not None:
        return violate(RejectionCode.V13_UNIT_SEIZED, unit_number=unit_number, seizure_id=seizure.seizure_id,
                       order_no=seizure.order_no, authority_org=seizure.authority_org)
    return None


def current_mortgages(view: StateView, unit_number: str) -> tuple[Mortgage, ...]:
    """The unit's current mortgages in priority (rank) order."""
    found: list[Mortgage] = []
    for _, row in view.scan(keys.unit_index(unit_number, "mortgage")):
        record = view.get(keys.mortgage(str(row["mortgage_id"])))
        if record is not None:
            found.append(Mortgage.from_stored(record))
    return tuple(found)


def open_applications(
    view: StateView, unit_number: str, time_ms: int, *, besides: str | None = None
) -> tuple[Application, ...]:
    """Applications still open on the unit at ``time_ms`` (expired ones are not), all but ``besides``.

    A check of one application against the others (V16) names itself in ``besides``: its own record,
    2.6-3.7 KB, is then neither read nor decoded a second time.
    """
    found: list[Application] = []
    for _, row in view.scan(keys.unit_index(unit_number, "application")):
        application_id = str(row["application_id"])
        if application_id == besides:
            continue
        record = view.get(keys.application(application_id))
        if record is not None:
            application = Application.from_stored(record)
            if effective_state(application, time_ms) in OPEN_STATES:
                found.append(application)
    return tuple(found)


def _contract_numbers(application: Application) -> frozenset[str]:
    numbers = application.details.get("contract_numbers")
    if not isinstance(numbers, list):
        return frozenset()
    return frozenset(number for number in numbers if isinstance(number, str))


def check_v16_duplicate(view: StateView, application: Application, time_ms: int) -> Rejected | None:
    """V16: no current mortgage or other open filing with the same mortgagee and contract number [A]."""
    mortgagees = frozenset(a.party.party_id for a in application.parties(Capacity.MORTGAGEE))
    contracts = _contract_numbers(application)
    for mortgage in current_mortgages(view, application.unit_number):
        shared = contracts & frozenset(mortgage.contract_numbers)
        if shared and mortgagees & mortgage.mortgagee_ids():
            return violate(RejectionCode.V16_DUPLICATE_MORTGAGE, existing=f"Mortgage {mortgage.mortgage_id}",
                           contract_number=min(shared), unit_number=application.unit_number)
    for other in open_applications(view, application.unit_number, time_ms, besides=application.application_id):
        if other.business_type != application.business_type:
            continue
        other_mortgagees = frozenset(a.party.party_id for a in other.parties(Capacity.MORTGAGEE))
        shared = contracts & _contract_numbers(other)
        if shared and mortgagees & other_mortgagees:
            return violate(RejectionCode.V16_DUPLICATE_MORTGAGE, existing=f"Application {other.application_id}",
                           contract_number=min(shared), unit_number=application.unit_number)
    return None
