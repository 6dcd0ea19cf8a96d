"""Cancellation (注销) of a pre-sale mortgage notice, and the registry marking a notice lapsed (domain.md §5.9).

Cancellation: the holder waives the notice or the claim is extinguished (细则 89) [S*]; the bank
alone may apply for those causes, the buyer alone only with a judgment, otherwise jointly [A, as for
§5.3]. V19 applies as for mortgages: the named certificate's notice, current, on this unit, cancelled
once. A seizure does not block it.

Lapse: a notice lapses 90 days after the final registration became possible (民法典 221). The lapse
is derived at block time from ``lapse_clock_start_ms`` and shown to the reviewer; it is never an
automatic rejection. The notice turns historic only through ``notice.mark_lapsed``, a registry tx
that is refused before the derived date, and while an application for the final registration filed
within the 90 days is open (221 needs *no application* in time) [A, domain.md §13.5 still open with
the registry].
"""

from __future__ import annotations

from typing import Final

from estatechain.contract import keys
from estatechain.contract.certificate_number import normalise
from estatechain.contract.checks.materials import check_v24_complete
from estatechain.contract.checks.notices import is_lapsed, lapse_due_ms, notice_by_number
from estatechain.contract.checks.parties import check_filer
from estatechain.contract.checks.register import open_applications
from estatechain.contract.civil_date import iso_date, shanghai_day
from estatechain.contract.command import Accepted, Command, Outcome, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Effect, Emit
from estatechain.contract.records import Application, Capacity, Notice, Status, fields
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rule import Rule
from estatechain.contract.rules import conversion, ownership_transfer
from estatechain.contract.rules.business import BusinessType
from estatechain.contract.rules.guard import guarded
from estatechain.contract.rules.mortgage_cancel import MORTGAGEE_ALONE, PROOF_OF_CAUSE
from estatechain.contract.rules.notice_entry import end, find
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate
from estatechain.contract.working_days import WorkingDays

CANCEL_NAME: Final = "mortgage_notice.cancel"


def _reason(application: Application) -> str:
    return fields.choice(application.details, "reason", frozenset(PROOF_OF_CAUSE), "details.")


def required_materials(application: Application) -> frozenset[str]:
    """The application form and the proof of the cause; the notice certificate is referenced."""
    return frozenset({"APPLICATION_FORM", PROOF_OF_CAUSE[_reason(application)]})


def check_filing(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """Cause well formed, the filer is an applicant, materials (V24)."""
    _reason(application)
    return (check_filer(view, ctx, application, (Capacity.MORTGAGEE, Capacity.MORTGAGOR))
            or check_v24_complete(application.materials, required_materials(application)))


def _applicant_problem(application: Application, notice: Notice) -> str | None:
    holders, obligors = application.party_ids(Capacity.MORTGAGEE), application.party_ids(Capacity.MORTGAGOR)
    reason = _reason(application)
    if holders - notice.holder_ids() or obligors - notice.obligor_ids():
        return "a named applicant is not a current holder or obligor of the notice"
    if holders and holders != notice.holder_ids():
        return "every current holder must apply"
    if not holders and reason != "JUDGMENT":
        return "the buyer alone may cancel only with an effective judgment"
    if not obligors and reason not in MORTGAGEE_ALONE and reason != "JUDGMENT":
        return f"cause {reason} needs a joint application with the buyers"
    return None


def target(view: StateView, ctx: BlockContext, application: Application) -> Notice | Rejected:
    """V19: the notice under the named certificate, current, on this unit, applicants entitled, not pending twice."""
    found = find(view, ctx, application.details, application.unit_number)
    number = normalise(str(application.details.get("certificate_number")))
    if isinstance(found, Rejected):
        return found
    problem = found if isinstance(found, str) else None
    if problem is not None or isinstance(found, str):
        return violate(RejectionCode.V19_CANCELLATION_TARGET_INVALID, target=number, problem=str(problem))
    if (applicants := _applicant_problem(application, found)) is not None:
        return violate(RejectionCode.V19_CANCELLATION_APPLICANT_INVALID, problem=applicants)
    for other in open_applications(view, application.unit_number, ctx.block_time_ms):
        if (other.application_id != application.application_id and other.business_type == CANCEL_NAME
                and normalise(str(other.details.get("certificate_number"))) == number):
            return violate(RejectionCode.V19_CANCELLATION_TARGET_INVALID, target=number,
                           problem=f"cancellation {other.application_id} is already pending")
    return found


def blocking(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """V19 at this block."""
    found = target(view, ctx, application)
    return found if isinstance(found, Rejected) else None


def record(
    view: StateView, ctx: BlockContext, application: Application, _certificate: str | None
) -> tuple[Effect, ...]:
    """Notice → historic with the cancellation fields; certificate CANCELLED."""
    notice = target(view, ctx, application)
    assert isinstance(notice, Notice)  # ``blocking`` ran again in this tx
    return (*end(view, ctx, notice, business_no=application.application_id, reason=_reason(application)),
            Emit(name="notice.cancelled", data={"notice_id": notice.notice_id, "unit_number": notice.unit_number}))


def result_key(view: StateView, ctx: BlockContext, application: Application) -> str:
    """The key of the notice this cancellation ends."""
    notice = target(view, ctx, application)
    return keys.notice(notice.notice_id) if isinstance(notice, Notice) else ""


CANCEL: Final = BusinessType(
    name=CANCEL_NAME, required_materials=required_materials, check_filing=check_filing, blocking=blocking,
    record=record, issues_certificate=False, result_key=result_key, filers=frozenset({"bank.operator", "person"}),
)


FINAL_REGISTRATIONS: Final = ((conversion.NAME, conversion.NOTICE_NUMBER),
                               (ownership_transfer.NAME, ownership_transfer.PURCHASE_NUMBER))
"""(business type, detail naming the notice) of the applications that carry a notice out: 预告转本 for a
预抵押, the buyer's ownership transfer for a purchase notice (domain.md §5.9)."""


def timely_application(view: StateView, notice: Notice, due_ms: int, time_ms: int) -> Application | None:
    """An open application (at ``time_ms``) for the notice's final registration filed before it lapsed, if any.

    民法典 221 lets a notice lapse only when *no application* is made within the 90 days, so a filing
    made in time keeps it while the case is open, however long review takes [A: a case that ends
    without recording no longer holds it]. Such an application is filed on the surveyed successor of
    the notice's predicted unit and cites the notice's certificate number.
    """
    unit = view.get(keys.unit(notice.unit_number))
    successor = unit.get("successor") if unit is not None else None
    if notice.certificate_number is None or not isinstance(successor, str):
        return None
    number = normalise(notice.certificate_number)
    for application in open_applications(view, successor, time_ms):
        if application.filed_ms < due_ms and any(
            application.business_type == business and normalise(str(application.details.get(field))) == number
            for business, field in FINAL_REGISTRATIONS
        ):
            return application
    return None


def mark_lapsed(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """The registry marks a current notice lapsed once its derived 90-day clock has run out (民法典 221)."""
    number = fields.text(command.body, "certificate_number", max_len=64)
    notice = notice_by_number(view, ctx, number, "certificate_number")
    if isinstance(notice, Rejected):
        return notice
    if isinstance(notice, str) or notice.status is not Status.CURRENT:
        problem = notice if isinstance(notice, str) else "it is no longer current"
        return violate(RejectionCode.NOTICE_NOT_LAPSED, notice_id=normalise(number), problem=problem)
    days = WorkingDays(view)
    due = lapse_due_ms(notice, days)
    if due is None or not is_lapsed(notice, ctx.block_time_ms, days):
        problem = ("its 90-day clock has not started" if due is None
                   else f"it lapses from {iso_date(shanghai_day(due))}")
        return violate(RejectionCode.NOTICE_NOT_LAPSED, notice_id=notice.notice_id, problem=problem)
    if (timely := timely_application(view, notice, due, ctx.block_time_ms)) is not None:
        problem = (f"application {timely.application_id} for its final registration was filed on "
                   f"{iso_date(shanghai_day(timely.filed_ms))}, within its 90 days, and is still open")
        return violate(RejectionCode.NOTICE_NOT_LAPSED, notice_id=notice.notice_id, problem=problem)
    return Accepted(effects=(
        *end(view, ctx, notice, business_no=ctx.tx_id, reason="LAPSED"),
        Emit(name="notice.lapsed", data={"notice_id": notice.notice_id, "unit_number": notice.unit_number}),
    ))


RULES: Final = {"notice.mark_lapsed": Rule(roles=frozenset({"registry.recorder"}), decide=guarded(mark_lapsed))}
