"""Advance-notice checks against the register: V14, V15, V17, the notice a certificate names, and lapse.

Consent is given on the ledger, never as an uploaded letter: a holder whose consent the case needs is
named as an applicant (capacity ``consenter``) and signs by confirming the application with its own
key (V7), so intake cannot accept it before the consent is there [A]. A holder who is an applicant in
any capacity signs the case anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from estatechain.contract import keys
from estatechain.contract.certificate_number import CertificateKind, normalise, parse
from estatechain.contract.certificates import load
from estatechain.contract.checks.register import current_mortgages
from estatechain.contract.civil_date import day_start_ms, parse_iso_date, shanghai_day, shanghai_year
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON
from estatechain.contract.records import (
    MORTGAGE_KINDS,
    PURCHASE_KINDS,
    Application,
    Capacity,
    DateRange,
    Notice,
    Status,
)
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate
from estatechain.contract.working_days import WorkingDays

LAPSE_DAYS: Final = 90
"""An advance notice lapses 90 days after the final registration became possible (民法典 221) [S*];
a last day the registry does not work moves to its next working day (民法典 203)."""


def current_notices(view: StateView, unit_number: str) -> tuple[Notice, ...]:
    """The unit's current advance notices in priority-key order."""
    found: list[Notice] = []
    for _, row in view.scan(keys.unit_index(unit_number, "notice")):
        record = view.get(keys.notice(str(row["notice_id"])))
        if record is not None:
            found.append(Notice.from_json(record))
    return tuple(found)


def notice_by_number(view: StateView, ctx: BlockContext, number: object, field: str) -> Notice | str | Rejected:
    """The notice a registration certificate number names; V4 when the number is malformed, else a problem text."""
    parsed = parse(number, CertificateKind.PROOF, shanghai_year(ctx.block_time_ms))
    if isinstance(parsed, str):
        return violate(RejectionCode.V4_CERTIFICATE_NUMBER_INVALID, field=field, number=str(number),
                       expected=CertificateKind.PROOF.value, problem=parsed)
    certificate = load(view, normalise(str(number)))
    record = None if certificate is None or not certificate.right.startswith("notice/") else view.get(certificate.right)
    if record is None:
        return "no advance notice is registered under this certificate number"
    return Notice.from_json(record)


def lapse_due_ms(notice: Notice, days: WorkingDays) -> int | None:
    """When the notice lapses, or None while its clock has not started (domain.md §5.9).

    The clock starts with the tx that made the final registration possible (the building's first
    registration for a purchase notice, the recording of the buyer's ownership for a mortgage notice);
    the day of that event is not counted (民法典 201). The 90th day is the last day, unless the
    registry does not work that day: then the last day is the next working day by the on-ledger
    calendar (民法典 203: a period whose last day is a statutory rest day ends on the day after the
    rest; weekends count as rest days and an adjusted working day (调休) as a working day, as the
    calendar has them). The notice lapses at the start of the day after the last day, Guangzhou time [A].
    Derived when read and shown to the reviewer, never enforced by itself (V21); only a registry tx
    marks a notice lapsed.
    """
    if notice.lapse_clock_start_ms is None:
        return None
    last = shanghai_day(notice.lapse_clock_start_ms) + LAPSE_DAYS
    while not days.is_working_day(last):  # bounded: every year has more than 200 working days
        last += 1
    return day_start_ms(last + 1)


def is_lapsed(notice: Notice, time_ms: int, days: WorkingDays) -> bool:
    """Whether the derived 90-day clock has run out at ``time_ms``."""
    due = lapse_due_ms(notice, days)
    return due is not None and time_ms >= due


def lapse_notes(view: StateView, notice: object, filed_ms: int) -> dict[str, JSON]:
    """What a case carrying ``notice`` out keeps with its review: the derived lapse, judged at the filing.

    民法典 221 lets a notice lapse only when no application is made within the 90 days, so a case filed
    in time is not late however long review takes, and one filed after the last day was filed on a
    lapsed notice. Empty unless ``notice`` is a ``Notice`` (the case names none, or a malformed one).
    """
    if not isinstance(notice, Notice):
        return {}
    days = WorkingDays(view)
    return {"notice_lapse_due_ms": lapse_due_ms(notice, days), "notice_lapsed": is_lapsed(notice, filed_ms, days)}


def _missing(holders: Iterable[str], application: Application) -> str:
    return ", ".join(sorted(frozenset(holders) - application.applicant_ids()))


def check_v14_notice_consent(
    view: StateView, application: Application, units: Iterable[str],
    exempt: Callable[[Notice], bool] = lambda _notice: False,
) -> Rejected | None:
    """V14: every current notice on ``units`` held by a non-applicant needs that holder as consenter.

    ``exempt`` names notices the case carries out rather than defeats (the buyer's mortgage notice when
    the buyer's ownership is recorded) [A].
    """
    for unit_number in units:
        for notice in current_notices(view, unit_number):
            if exempt(notice) or notice.status is not Status.CURRENT:
                continue
            if missing := _missing(notice.holder_ids(), application):
                return violate(RejectionCode.V14_NOTICE_HOLDER_CONSENT_MISSING, unit_number=unit_number,
                               notice_id=notice.notice_id, missing=missing)
    return None


def check_v15_purchase_notice(view: StateView, application: Application, unit_number: str) -> Notice | Rejected:
    """V15: a current purchase notice on the unit held by the mortgagors (L4b: no purchase notice, no 预抵押)."""
    mortgagors = application.party_ids(Capacity.MORTGAGOR)
    for notice in current_notices(view, unit_number):
        if notice.kind in PURCHASE_KINDS and mortgagors and mortgagors <= notice.holder_ids():
            return notice
    return violate(RejectionCode.V15_NO_PURCHASE_NOTICE, unit_number=unit_number)


def check_v15_other_mortgage_notices(view: StateView, application: Application, unit_number: str) -> Rejected | None:
    """V15: a further 预抵押 needs the written consent of the holders of those already current (细则 85(2))."""
    for notice in current_notices(view, unit_number):
        if notice.kind in MORTGAGE_KINDS and (missing := _missing(notice.holder_ids(), application)):
            return violate(RejectionCode.V15_NOTICE_HOLDER_CONSENT_MISSING, unit_number=unit_number,
                           notice_id=notice.notice_id, missing=missing)
    return None


def _later_end(old: DateRange | None, new: DateRange | None) -> bool:
    old_end = None if old is None else parse_iso_date(old.end)
    new_end = None if new is None else parse_iso_date(new.end)
    return new_end is not None and (old_end is None or new_end > old_end)


def worsens_later_holders(old: Notice, new: Notice) -> bool:
    """V17: an increase of amount, a longer term or determination period, a new scope or method.

    Any change of scope or method counts [A]: the register cannot tell a narrower scope from a wider one.
    """
    return (new.amount.fen > old.amount.fen or _later_end(old.debt_term, new.debt_term)
            or _later_end(old.determination_period, new.determination_period)
            or new.scope != old.scope or new.method != old.method)


def check_v17_later_holders(view: StateView, application: Application, old: Notice, new: Notice) -> Rejected | None:
    """V17: a change that may prejudice later-ranked holders (预抵押 and mortgages alike) needs their signature."""
    if not worsens_later_holders(old, new):
        return None
    later: set[str] = set()
    for notice in current_notices(view, old.unit_number):
        if notice.kind in MORTGAGE_KINDS and notice.priority_key > old.priority_key:
            later |= notice.holder_ids()
    for mortgage in current_mortgages(view, old.unit_number):
        if mortgage.priority_key > old.priority_key:
            later |= mortgage.mortgagee_ids()
    if missing := _missing(later, application):
        return violate(RejectionCode.V17_CONSENT_MISSING, missing=missing)
    return None
