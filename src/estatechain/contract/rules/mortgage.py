"""Mortgage right first registration (抵押权首次登记), ordinary and maximum-amount (domain.md §5.2).

Applied for jointly by the mortgagors (the owners who may burden the unit) and the mortgagee bank
(条例 14, 细则 66), filed by the mortgagee's bank. The mortgage comes into existence when recorded
(民法典 402), so every blocking check runs again at recording height.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from estatechain.contract import keys
from estatechain.contract.certificate_number import CertificateKind, normalise, parse
from estatechain.contract.checks.materials import check_v24_complete
from estatechain.contract.checks.notices import check_v14_notice_consent
from estatechain.contract.checks.parties import check_v6_mortgagors, org_acts_for
from estatechain.contract.checks.register import check_v13_not_seized, check_v16_duplicate, current_mortgages
from estatechain.contract.checks.terms import check_v9_amount, check_v10_amount_kind, check_v11_term, check_v12_method
from estatechain.contract.checks.unit import check_v2_housing, load_ownership, load_unit
from estatechain.contract.civil_date import shanghai_day, shanghai_year
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Effect, Emit, Put, Record
from estatechain.contract.money import Money
from estatechain.contract.ranking import rank_changes
from estatechain.contract.records import (
    Application,
    Capacity,
    DateRange,
    FieldError,
    Method,
    Mortgage,
    OwnershipRight,
    fields,
)
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rules.business import BusinessType, first_rejection
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

NAME: Final = "mortgage.first"


@dataclass(frozen=True, slots=True, kw_only=True)
class Terms:
    """The filed mortgage particulars (domain.md §5.2 "Data")."""

    method: Method
    secured_principal: Money | None
    max_claim: Money | None
    debt_term: DateRange | None
    determination_period: DateRange | None
    scope: str
    contract_numbers: tuple[str, ...]
    transfer_restricted: bool
    transfer_restriction_text: str | None
    title_number: str | None
    max_claim_basis: str | None


def terms_of(details: Record) -> Terms:
    """Decode the details of a filing already checked by ``check_filing`` (raises ``FieldError``)."""
    method = Method(fields.integer(details, "method", low=1, high=2))
    principal, ceiling = details.get("secured_principal_fen"), details.get("max_claim_fen")
    return Terms(
        method=method,
        secured_principal=Money(fen=principal) if type(principal) is int else None,
        max_claim=Money(fen=ceiling) if type(ceiling) is int else None,
        debt_term=DateRange.from_json(details.get("debt_term"), "debt_term"),
        determination_period=DateRange.from_json(details.get("determination_period"), "determination_period"),
        scope=fields.text(details, "scope"),
        contract_numbers=tuple(fields.ident({"n": n}, "n", "contract_numbers.")
                               for n in fields.texts(details, "contract_numbers", high=10)),
        transfer_restricted=fields.boolean(details, "transfer_restricted"),
        transfer_restriction_text=fields.opt_text(details, "transfer_restriction_text"),
        title_number=fields.opt_text(details, "title_number", max_len=64),
        max_claim_basis=fields.opt_text(details, "max_claim_basis"),
    )


def required_materials(application: Application) -> frozenset[str]:
    """Application form, the filing bank's power of attorney, and the contracts (细则 66, 71).

    The mortgage clause may sit in the loan contract (细则 66), so a separate mortgage contract is not
    required for an ordinary mortgage; the title certificate is referenced, never uploaded (条例 24(2)).
    """
    base = {"APPLICATION_FORM", "POWER_OF_ATTORNEY"}
    method = application.details.get("method")
    base.add("MAX_MORTGAGE_CONTRACT" if method == Method.MAXIMUM else "LOAN_CONTRACT")
    if any(a.proxy_notarial_sha256 for a in application.applicants):
        base.add("NOTARIAL_CERTIFICATE")
    return frozenset(base)


def check_terms(ctx: BlockContext, details: Record) -> Rejected | None:
    """V12, V9, V10, V11 on the filed details, in that order."""
    method = check_v12_method(details)
    if isinstance(method, Rejected):
        return method
    for name in ("secured_principal_fen", "max_claim_fen"):
        if details.get(name) is not None and (rejected := check_v9_amount(details, name)):
            return rejected
    if rejected := check_v10_amount_kind(details, method):
        return rejected
    terms = terms_of(details)
    if method is Method.ORDINARY and terms.debt_term is None:
        raise FieldError("debt_term", "is required for an ordinary mortgage")
    if method is Method.ORDINARY and terms.determination_period is not None:
        raise FieldError("determination_period", "applies to maximum-amount mortgages only")
    if terms.transfer_restricted and terms.transfer_restriction_text is None:
        raise FieldError("transfer_restriction_text", "must state the agreed restriction")
    filed_day = shanghai_day(ctx.block_time_ms)
    return first_rejection(
        check_v11_term(term, name, filed_day=filed_day)
        for name, term in (("debt_term", terms.debt_term), ("determination_period", terms.determination_period))
        if term is not None
    )


def check_filing(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """Details (V9-V12), applicants' capacities, the filer is the mortgagee's bank, materials (V24)."""
    if rejected := check_terms(ctx, application.details):
        return rejected
    if not application.parties(Capacity.MORTGAGOR) or not application.parties(Capacity.MORTGAGEE):
        raise FieldError("applicants", "must name at least one mortgagor and one mortgagee")
    if not any(org_acts_for(view, ctx.signer_org, a.party.party_id) for a in application.parties(Capacity.MORTGAGEE)):
        return violate(RejectionCode.FILER_NOT_APPLICANT_BANK, org=ctx.signer_org)
    notarised = {m.sha256 for m in application.materials if m.type == "NOTARIAL_CERTIFICATE"}
    for applicant in application.applicants:
        if applicant.proxy_notarial_sha256 and applicant.proxy_notarial_sha256 not in notarised:
            return violate(RejectionCode.V24_MATERIAL_MISSING, missing="NOTARIAL_CERTIFICATE")
    return check_v24_complete(application.materials, required_materials(application))


def check_v4_title(title: object, right: OwnershipRight, ctx: BlockContext) -> Rejected | None:
    """V4: a valid Guangzhou title number, the one of the unit's current ownership right."""
    parsed = parse(title, CertificateKind.TITLE, shanghai_year(ctx.block_time_ms))
    if isinstance(parsed, str):
        return violate(RejectionCode.V4_CERTIFICATE_NUMBER_INVALID, field="details.title_number",
                       number=str(title), expected=CertificateKind.TITLE.value, problem=parsed)
    if normalise(str(title)) != normalise(right.title_number):
        return violate(RejectionCode.V4_CERTIFICATE_NUMBER_MISMATCH, field="details.title_number",
                       number=str(title), expected="title number of the current ownership right")
    return None


def blocking(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """Checks against the register at this block: V3, V2, V4, V6, V13, V14, V16 (domain.md §5.2 review)."""
    unit = load_unit(view, application.unit_number)
    if isinstance(unit, Rejected):
        return unit
    if rejected := check_v2_housing(unit):
        return rejected
    right = load_ownership(view, unit.unit_number)
    if isinstance(right, Rejected):
        return right
    mortgagors = frozenset(a.party.party_id for a in application.parties(Capacity.MORTGAGOR))
    return (check_v4_title(application.details.get("title_number"), right, ctx)
            or check_v6_mortgagors(right, mortgagors)
            or check_v13_not_seized(view, unit.unit_number, ctx.block_time_ms)
            or check_v14_notice_consent(view, application, (unit.unit_number, *filter(None, (unit.predecessor,))))
            or check_v16_duplicate(view, application, ctx.block_time_ms))


def record(view: StateView, ctx: BlockContext, application: Application, certificate: str | None) -> tuple[Effect, ...]:
    """The new entry (现势), its index row, and the ranks of the unit's mortgages after it."""
    terms = terms_of(application.details)
    debtors = application.parties(Capacity.DEBTOR)
    entry = Mortgage(
        mortgage_id=application.application_id, unit_number=application.unit_number,
        business_no=application.application_id,
        mortgagors=tuple(a.party for a in application.parties(Capacity.MORTGAGOR)),
        mortgagees=tuple(a.party for a in application.parties(Capacity.MORTGAGEE)),
        debtor=debtors[0].party if debtors else None, method=terms.method, scope=terms.scope,
        contract_numbers=terms.contract_numbers, transfer_restricted=terms.transfer_restricted,
        transfer_restriction_text=terms.transfer_restriction_text, secured_principal=terms.secured_principal,
        max_claim=terms.max_claim, max_claim_basis=terms.max_claim_basis, debt_term=terms.debt_term,
        determination_period=terms.determination_period, rank=1, priority_key=str(application.priority_key),
        county_code=application.unit_number[:6], registry=ctx.signer_org, registered_ms=ctx.block_time_ms,
        certificate_number=certificate, recorder=ctx.signer, source_txs=(*application.source_txs, ctx.tx_id),
    )
    before = current_mortgages(view, application.unit_number)
    index = Put(key=keys.unit_mortgage(entry.unit_number, entry.priority_key, entry.mortgage_id),
                value={"mortgage_id": entry.mortgage_id})
    ranks = rank_changes(before, (*before, entry), always=entry.mortgage_id)
    event = Emit(name="mortgage.recorded", data={"mortgage_id": entry.mortgage_id, "unit_number": entry.unit_number,
                                                 "certificate_number": certificate})
    return (*ranks, index, event)


FIRST: Final = BusinessType(
    name=NAME, required_materials=required_materials, check_filing=check_filing, blocking=blocking, record=record,
    issues_certificate=True, result_key=lambda _view, _ctx, application: keys.mortgage(application.application_id),
)
