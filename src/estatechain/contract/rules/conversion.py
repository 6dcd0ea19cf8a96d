"""预告转本: a pre-sale mortgage notice becomes a mortgage on the surveyed unit (domain.md §5.9).

After the building's first registration and the recording of the buyer's ownership, buyer and bank
apply for the mortgage's first registration citing the 预抵押 certificate [S: C2/C3]. Review (V21):
the notice is current — not marked lapsed by the registry (the derived 90-day clock is shown to the
reviewer, not enforced: ``checks.notices.lapse_due_ms``) — this unit is the recorded successor of the
notice's predicted unit, and the parties are the notice's (after any transfer). A seizure blocks the
conversion only when it predates the 预抵押 (细则 85(3); 担保制度解释 52) [S* + A]. The mortgage takes
its terms from the notice (a change of terms goes through §5.6 first) and **keeps the notice's
priority key**, so it ranks by the notice's date (担保制度解释 52); the notice turns historic with
``converted_to`` and its certificate CONVERTED; a new mortgage certificate is issued.
"""

from __future__ import annotations

from typing import Final

from estatechain.contract import keys
from estatechain.contract.certificate_number import CertificateKind, parse
from estatechain.contract.checks.materials import check_v24_complete
from estatechain.contract.checks.notices import check_v14_notice_consent, lapse_notes, notice_by_number
from estatechain.contract.checks.parties import check_filer, check_v6_mortgagors
from estatechain.contract.checks.register import current_mortgages
from estatechain.contract.checks.unit import check_v2_housing, check_v3_unit_kind, load_ownership, load_unit
from estatechain.contract.civil_date import shanghai_year
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Effect, Emit, Put
from estatechain.contract.ranking import rank_changes
from estatechain.contract.records import (
    MORTGAGE_KINDS,
    Application,
    Capacity,
    CertificateStatus,
    FieldError,
    Method,
    Mortgage,
    Notice,
    Status,
    Unit,
    UnitKind,
)
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rules.business import BusinessType
from estatechain.contract.rules.mortgage import check_v4_title
from estatechain.contract.rules.notice_entry import end
from estatechain.contract.seizure_queue import in_effect
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

NAME: Final = "mortgage.convert"
NOTICE_NUMBER: Final = "notice_certificate_number"


def required_materials(_application: Application) -> frozenset[str]:
    """The application form; notice certificate, contracts and title are already on the ledger (条例 24(2))."""
    return frozenset({"APPLICATION_FORM"})


def check_filing(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """Mortgagors and mortgagees named, the bank files, the notice number well formed (V4), materials (V24)."""
    if not application.parties(Capacity.MORTGAGOR) or not application.parties(Capacity.MORTGAGEE):
        raise FieldError("applicants", "must name the mortgagors and the mortgagees")
    if rejected := check_filer(view, ctx, application, (Capacity.MORTGAGEE,)):
        return rejected
    number = application.details.get(NOTICE_NUMBER)
    parsed = parse(number, CertificateKind.PROOF, shanghai_year(ctx.block_time_ms))
    if isinstance(parsed, str):
        return violate(RejectionCode.V4_CERTIFICATE_NUMBER_INVALID, field=f"details.{NOTICE_NUMBER}",
                       number=str(number), expected=CertificateKind.PROOF.value, problem=parsed)
    return check_v24_complete(application.materials, required_materials(application))


def _problem(notice: Notice, unit: Unit, application: Application) -> str | None:
    if notice.kind not in MORTGAGE_KINDS:
        return "the certificate is not a mortgage notice's"
    if notice.status is not Status.CURRENT:
        lapsed = notice.cancellation is not None and notice.cancellation.reason == "LAPSED"
        return "the registry marked the notice lapsed" if lapsed else "the notice is no longer current"
    if unit.predecessor != notice.unit_number:
        return f"unit {unit.unit_number} is not the recorded successor of unit {notice.unit_number}"
    if application.party_ids(Capacity.MORTGAGEE) != notice.holder_ids():
        return "the mortgagees are not the notice's holders"
    if application.party_ids(Capacity.MORTGAGOR) != notice.obligor_ids():
        return "the mortgagors are not the notice's obligors"
    return None


def converted_notice(view: StateView, ctx: BlockContext, application: Application, unit: Unit) -> Notice | Rejected:
    """V21: the notice the application cites, convertible onto ``unit`` by these parties."""
    notice = notice_by_number(view, ctx, application.details.get(NOTICE_NUMBER), f"details.{NOTICE_NUMBER}")
    if isinstance(notice, Rejected):
        return notice
    problem = notice if isinstance(notice, str) else _problem(notice, unit, application)
    if problem is not None or isinstance(notice, str):
        return violate(RejectionCode.V21_CONVERSION_INVALID, field=f"details.{NOTICE_NUMBER}", problem=str(problem))
    return notice


def check_v13_earlier_seizure(view: StateView, ctx: BlockContext, notice: Notice, unit: Unit) -> Rejected | None:
    """V13 for conversion: only a seizure in effect that was delivered before the 预抵押 was recorded blocks it."""
    for unit_number in (unit.unit_number, notice.unit_number):
        seizure = in_effect(view, unit_number, ctx.block_time_ms)
        if seizure is not None and seizure.delivered_ms < notice.registered_ms:
            return violate(RejectionCode.V13_UNIT_SEIZED, unit_number=unit_number, seizure_id=seizure.seizure_id)
    return None


def blocking(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """V3 (surveyed, owned), V2, V4, V6, V21, V13 (earlier seizure only), V14 at this block."""
    unit = load_unit(view, application.unit_number)
    if isinstance(unit, Rejected):
        return unit
    right = load_ownership(view, unit.unit_number)
    if isinstance(right, Rejected):
        return right
    if rejected := (check_v3_unit_kind(unit, UnitKind.SURVEYED) or check_v2_housing(unit)
                    or check_v4_title(application.details.get("title_number"), right, ctx)
                    or check_v6_mortgagors(right, application.party_ids(Capacity.MORTGAGOR))):
        return rejected
    notice = converted_notice(view, ctx, application, unit)
    if isinstance(notice, Rejected):
        return notice
    return (check_v13_earlier_seizure(view, ctx, notice, unit)
            or check_v14_notice_consent(view, application, (unit.unit_number,)))


def review_notes(view: StateView, ctx: BlockContext, application: Application) -> dict[str, JSON]:
    """The notice's derived 90-day lapse, shown to the reviewer and kept with the review (not enforced: V21)."""
    unit = load_unit(view, application.unit_number)
    notice = None if isinstance(unit, Rejected) else converted_notice(view, ctx, application, unit)
    return lapse_notes(view, notice, application.filed_ms)


def record(view: StateView, ctx: BlockContext, application: Application, certificate: str | None) -> tuple[Effect, ...]:
    """The mortgage with the notice's terms and priority key, its rank, and the notice converted."""
    unit = load_unit(view, application.unit_number)
    assert isinstance(unit, Unit)  # ``blocking`` ran again in this tx
    notice = converted_notice(view, ctx, application, unit)
    assert isinstance(notice, Notice)
    method = notice.method or Method.ORDINARY
    entry = Mortgage(
        mortgage_id=application.application_id, unit_number=unit.unit_number, business_no=application.application_id,
        mortgagors=notice.obligors, mortgagees=notice.holders, method=method, scope=notice.scope or "详见抵押合同",
        contract_numbers=notice.contract_numbers, transfer_restricted=notice.transfer_restricted,
        transfer_restriction_text=notice.transfer_restriction_text,
        secured_principal=notice.amount if method is Method.ORDINARY else None,
        max_claim=notice.amount if method is Method.MAXIMUM else None, debt_term=notice.debt_term,
        determination_period=notice.determination_period, rank=1, priority_key=notice.priority_key,
        county_code=unit.county_code, registry=ctx.signer_org, registered_ms=ctx.block_time_ms,
        certificate_number=certificate, recorder=ctx.signer, derived_from=notice.notice_id,
        source_txs=(*application.source_txs, ctx.tx_id),
    )
    before = current_mortgages(view, unit.unit_number)
    key = keys.mortgage(entry.mortgage_id)
    return (
        *rank_changes(before, (*before, entry), always=entry.mortgage_id),
        Put(key=keys.unit_mortgage(unit.unit_number, entry.priority_key, entry.mortgage_id),
            value={"mortgage_id": entry.mortgage_id}),
        *end(view, ctx, notice, business_no=application.application_id, reason="CONVERTED",
             status=CertificateStatus.CONVERTED, converted_to=key),
        Emit(name="mortgage.recorded", data={"mortgage_id": entry.mortgage_id, "unit_number": entry.unit_number,
                                             "certificate_number": certificate, "converted_from": notice.notice_id}),
    )


CONVERT: Final = BusinessType(
    name=NAME, required_materials=required_materials, check_filing=check_filing, blocking=blocking, record=record,
    issues_certificate=True, result_key=lambda _view, _ctx, application: keys.mortgage(application.application_id),
    review_notes=review_notes,
)
