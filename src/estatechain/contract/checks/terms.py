"""Amount, term and method checks (V9-V12): pure functions of the filed details."""

from __future__ import annotations

from estatechain.contract.civil_date import parse_iso_date
from estatechain.contract.command import Rejected
from estatechain.contract.effects import Record
from estatechain.contract.money import CURRENCY, valid_amount
from estatechain.contract.records import DateRange, Method
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.violation import violate


def check_v9_amount(details: Record, name: str) -> Rejected | None:
    """V9: integer fen, ``0 < x ≤ 10^13``, currency CNY (``1e6``, ``"1,000,000"``, ``7000000.5`` fail)."""
    if not valid_amount(details.get(name)) or details.get("currency", CURRENCY) != CURRENCY:
        return violate(RejectionCode.V9_AMOUNT_INVALID, field=name, field_name=name)
    return None


def check_v12_method(details: Record) -> Method | Rejected:
    """V12: DYFS is 1 (ordinary) or 2 (maximum amount)."""
    value = details.get("method")
    if type(value) is not int or value not in {1, 2}:
        return violate(RejectionCode.V12_METHOD_INVALID, value=str(value))
    return Method(value)


def check_v10_amount_kind(details: Record, method: Method) -> Rejected | None:
    """V10: ordinary ⇒ principal, no ceiling; maximum ⇒ ceiling, no principal (民法典 420-423)."""
    principal, ceiling = details.get("secured_principal_fen"), details.get("max_claim_fen")
    if method is Method.ORDINARY:
        needs, wrong = "secured_principal_fen and no max_claim_fen", principal is None or ceiling is not None
    else:
        needs, wrong = "max_claim_fen and no secured_principal_fen", ceiling is None or principal is not None
    if wrong:
        both = "both amounts are present" if principal is not None and ceiling is not None else "the amount is wrong"
        problem = "both amounts are absent" if principal is None and ceiling is None else both
        return violate(RejectionCode.V10_AMOUNT_KIND_MISMATCH, method=int(method), needs=needs, problem=problem)
    return None


def check_v11_term(term: DateRange, name: str, *, filed_day: int | None) -> Rejected | None:
    """V11: valid calendar dates, start ≤ end and, for a new mortgage, an end after the filing day [A]."""
    start, end = parse_iso_date(term.start), parse_iso_date(term.end)
    if start is None:
        return violate(RejectionCode.V11_DATE_INVALID, field=f"{name}.start", value=term.start)
    if end is None:
        return violate(RejectionCode.V11_DATE_INVALID, field=f"{name}.end", value=term.end)
    if end < start:
        return violate(RejectionCode.V11_TERM_INVALID, field=name, start=term.start, end=term.end,
                       problem="it ends before it starts")
    if filed_day is not None and end <= filed_day:
        return violate(RejectionCode.V11_TERM_INVALID, field=f"{name}.end", start=term.start, end=term.end,
                       problem="it ends on or before the filing date")
    return None
