"""Mortgage right cancellation (抵押权注销登记, domain.md §5.3) with rank promotion (顺位升进).

Causes (细则 70): the claim was repaid, the mortgage realised or waived, a court judgment, other.
The mortgagee may apply alone when the claim is extinguished or it waives the mortgage; the
mortgagor alone only with an effective judgment (操作规范, recalled wording; 条例 14(3),(5)). A seizure does not
block a cancellation [A: lifting a burden is not the owner's disposition].
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from estatechain.contract import keys
from estatechain.contract.certificate_number import CertificateKind, CertificateNumber, normalise, parse
from estatechain.contract.checks.materials import check_v24_complete
from estatechain.contract.checks.parties import check_filer, org_acts_for
from estatechain.contract.checks.register import current_mortgages, open_applications
from estatechain.contract.civil_date import shanghai_year
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Delete, Effect, Emit, Put
from estatechain.contract.ranking import rank_changes
from estatechain.contract.records import (
    Application,
    Cancellation,
    Capacity,
    Certificate,
    CertificateStatus,
    Mortgage,
    Status,
    fields,
)
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rules.business import BusinessType
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

NAME: Final = "mortgage.cancel"

PROOF_OF_CAUSE: Final = {
    "REPAID": "PAYOFF_PROOF", "WAIVED": "WAIVER_STATEMENT", "REALISED": "REALISATION_PROOF",
    "JUDGMENT": "JUDGMENT", "OTHER": "OTHER_PROOF",
}
"""Cause of cancellation → the material that proves it (细则 70) [A: type codes are ours]."""

MORTGAGEE_ALONE: Final = frozenset({"REPAID", "WAIVED"})
"""Causes for which the mortgagee may apply alone (条例 14(3), (5))."""


def _reason(application: Application) -> str:
    return fields.choice(application.details, "reason", frozenset(PROOF_OF_CAUSE), "details.")


def required_materials(application: Application) -> frozenset[str]:
    """The application form and the proof of the cause; the certificate itself is referenced."""
    return frozenset({"APPLICATION_FORM", PROOF_OF_CAUSE[_reason(application)]})


def _number(application: Application, ctx: BlockContext) -> CertificateNumber | Rejected:
    """V4: the registration certificate number the cancellation names."""
    number = application.details.get("certificate_number")
    parsed = parse(number, CertificateKind.PROOF, shanghai_year(ctx.block_time_ms))
    if isinstance(parsed, str):
        return violate(RejectionCode.V4_CERTIFICATE_NUMBER_INVALID, field="details.certificate_number",
                       number=str(number), expected=CertificateKind.PROOF.value, problem=parsed)
    return parsed


def check_filing(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """Cause and certificate number well formed (V4), a mortgagee's bank files, materials (V24)."""
    _reason(application)
    number = _number(application, ctx)
    if isinstance(number, Rejected):
        return number
    if ctx.signer_role == "person":  # a mortgagor applying alone, e.g. with a judgment (单方申请)
        refused = check_filer(view, ctx, application, (Capacity.MORTGAGOR,))
        if refused is not None:
            return refused
    elif not any(org_acts_for(view, ctx.signer_org, a.party.party_id)
                 for a in application.parties(Capacity.MORTGAGEE)):
        # a bank files only as a mortgagee it acts for: with none named (mortgagors applying alone)
        # any bank could otherwise file the cancellation of another bank's mortgage
        return violate(RejectionCode.FILER_NOT_APPLICANT_BANK, org=ctx.signer_org)
    return check_v24_complete(application.materials, required_materials(application))


def target(view: StateView, ctx: BlockContext, application: Application) -> Mortgage | Rejected:
    """V19: the mortgage under the named certificate number, current and on this unit."""
    number = _number(application, ctx)
    if isinstance(number, Rejected):
        return number
    text = normalise(str(application.details.get("certificate_number")))
    record = view.get(keys.certificate(number.year, number.serial))
    certificate = None if record is None else Certificate.from_json(record)
    mortgage_record = None if certificate is None else view.get(certificate.right)
    if certificate is None or mortgage_record is None or not certificate.right.startswith("mortgage/"):
        return violate(RejectionCode.V19_CANCELLATION_TARGET_INVALID, target=text,
                       problem="no mortgage is registered under this certificate number")
    mortgage = Mortgage.from_stored(mortgage_record)
    problem = None
    if mortgage.unit_number != application.unit_number:
        problem = f"it is registered on unit {mortgage.unit_number}, not {application.unit_number}"
    elif mortgage.status is not Status.CURRENT or certificate.status is not CertificateStatus.VALID:
        problem = "it is already cancelled"
    if problem is not None:
        return violate(RejectionCode.V19_CANCELLATION_TARGET_INVALID, target=mortgage.mortgage_id, problem=problem)
    return mortgage


def _applicant_problem(application: Application, mortgage: Mortgage, reason: str) -> str | None:
    """Who may apply (细则 70; 条例 14): the current holder, jointly or alone, or owners with a judgment."""
    mortgagees = frozenset(a.party.party_id for a in application.parties(Capacity.MORTGAGEE))
    mortgagors = frozenset(a.party.party_id for a in application.parties(Capacity.MORTGAGOR))
    if mortgagees - mortgage.mortgagee_ids():
        return "a named mortgagee is not the current holder of the mortgage"
    if mortgagors - frozenset(party.party_id for party in mortgage.mortgagors):
        return "a named mortgagor is not a mortgagor of the mortgage"
    if not mortgagees and reason != "JUDGMENT":
        return "the mortgagor alone may cancel only with an effective judgment"
    if mortgagees and mortgagees != mortgage.mortgagee_ids():
        return "every current mortgagee must apply"
    if not mortgagors and reason not in MORTGAGEE_ALONE and reason != "JUDGMENT":
        return f"cause {reason} needs a joint application with the mortgagors"
    return None


def blocking(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """V19: target current and on this unit, applicants entitled, no other cancellation pending."""
    mortgage = target(view, ctx, application)
    if isinstance(mortgage, Rejected):
        return mortgage
    problem = _applicant_problem(application, mortgage, _reason(application))
    if problem is not None:
        return violate(RejectionCode.V19_CANCELLATION_APPLICANT_INVALID, problem=problem)
    number = str(application.details.get("certificate_number"))
    for other in open_applications(view, application.unit_number, ctx.block_time_ms):
        if (other.application_id != application.application_id and other.business_type == NAME
                and normalise(str(other.details.get("certificate_number"))) == normalise(number)):
            return violate(RejectionCode.V19_CANCELLATION_TARGET_INVALID, target=mortgage.mortgage_id,
                           problem=f"cancellation {other.application_id} is already pending")
    return None


def record(
    view: StateView, ctx: BlockContext, application: Application, _certificate: str | None
) -> tuple[Effect, ...]:
    """Entry → historic with the cancellation fields; index row ends; later ranks move up; certificate CANCELLED."""
    mortgage = target(view, ctx, application)
    if isinstance(mortgage, Rejected):  # the lifecycle re-ran ``blocking`` in this same tx
        raise TypeError("record called without a valid target")
    cancelled = replace(
        mortgage, status=Status.HISTORIC, source_txs=(*mortgage.source_txs, ctx.tx_id),
        cancellation=Cancellation(business_no=application.application_id, reason=_reason(application),
                                  time_ms=ctx.block_time_ms),
    )
    before = current_mortgages(view, mortgage.unit_number)
    remaining = tuple(m for m in before if m.mortgage_id != mortgage.mortgage_id)
    number = _number(application, ctx)
    assert isinstance(number, CertificateNumber)
    certificate_key = keys.certificate(number.year, number.serial)
    certificate = Certificate.from_json(view.get(certificate_key) or {})
    return (
        Put(key=keys.mortgage(mortgage.mortgage_id), value=cancelled.to_json()),
        Delete(key=keys.unit_mortgage(mortgage.unit_number, mortgage.priority_key, mortgage.mortgage_id)),
        *rank_changes(before, remaining),
        Put(key=certificate_key, value=replace(certificate, status=CertificateStatus.CANCELLED,
                                               source_txs=(*certificate.source_txs, ctx.tx_id)).to_json()),
        Emit(name="mortgage.cancelled", data={"mortgage_id": mortgage.mortgage_id,
                                              "unit_number": mortgage.unit_number}),
    )


def result_key(view: StateView, ctx: BlockContext, application: Application) -> str:
    """The key of the mortgage this cancellation ends."""
    mortgage = target(view, ctx, application)
    return "" if isinstance(mortgage, Rejected) else keys.mortgage(mortgage.mortgage_id)


CANCEL: Final = BusinessType(
    name=NAME, required_materials=required_materials, check_filing=check_filing, blocking=blocking, record=record,
    issues_certificate=False, result_key=result_key, filers=frozenset({"bank.operator", "person"}),
)
