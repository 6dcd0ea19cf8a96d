"""Pre-sale commercial-housing mortgage notice, first filing (预购商品房抵押权预告登记, 预抵押; domain.md §5.5).

Applied for jointly by the buyers (obligors, the future mortgagors) and the bank (right holder),
filed by the bank [S*]. Review: "no purchase notice, no mortgage notice" — a current purchase notice
on the unit held by the mortgagors, every co-buyer among them (V15, V6) [S: L4b]; the unit still
predicted and not first-registered (V3); no seizure in effect (V13); a further 预抵押 only with the
written consent of the holders already registered (V15, 细则 85(2)); any other notice holder's
consent (V14); amounts, terms and method as for a mortgage (V9-V12), notice kind 3 (V12). Several
banks on one notice are allowed (combination loans) [A]. QDJG holds the secured principal or, for a
maximum-amount notice, the ceiling.
"""

from __future__ import annotations

from typing import Final

from estatechain.contract import keys
from estatechain.contract.certificate_number import CertificateKind, normalise, parse
from estatechain.contract.checks.materials import check_v24_complete
from estatechain.contract.checks.notices import (
    check_v14_notice_consent,
    check_v15_other_mortgage_notices,
    check_v15_purchase_notice,
)
from estatechain.contract.checks.parties import check_filer
from estatechain.contract.checks.register import check_v13_not_seized, check_v16_duplicate
from estatechain.contract.checks.unit import check_v2_housing, load_unit
from estatechain.contract.civil_date import shanghai_year
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Effect, Emit
from estatechain.contract.money import Money
from estatechain.contract.records import MORTGAGE_KINDS, Application, Capacity, FieldError, Notice, NoticeKind
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rules import mortgage
from estatechain.contract.rules.business import BusinessType
from estatechain.contract.rules.notice_entry import puts
from estatechain.contract.rules.presale import check_v3_presale_unit
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

NAME: Final = "mortgage_notice.first"
PURCHASE_NUMBER: Final = "purchase_notice_certificate_number"


def required_materials(application: Application) -> frozenset[str]:
    """As for a mortgage (细则 66, 71) plus the agreement on the notice (L4)."""
    return mortgage.required_materials(application) | {"NOTICE_AGREEMENT"}


def check_filing(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """V12 notice kind 3, V9-V12 terms, mortgagors and bank named, the bank files, V4, V24."""
    kind = application.details.get("notice_kind")
    if type(kind) is not int or kind != NoticeKind.PRESALE_MORTGAGE:
        return violate(RejectionCode.V12_NOTICE_KIND_INVALID, field="details.notice_kind", value=str(kind))
    if rejected := mortgage.check_terms(ctx, application.details):
        return rejected
    if not application.parties(Capacity.MORTGAGOR) or not application.parties(Capacity.MORTGAGEE):
        raise FieldError("applicants", "must name the buyers as mortgagors and at least one bank as mortgagee")
    if rejected := check_filer(view, ctx, application, (Capacity.MORTGAGEE,)):
        return rejected
    number = application.details.get(PURCHASE_NUMBER)
    parsed = parse(number, CertificateKind.PROOF, shanghai_year(ctx.block_time_ms))
    if isinstance(parsed, str):
        return violate(RejectionCode.V4_CERTIFICATE_NUMBER_INVALID, field=f"details.{PURCHASE_NUMBER}",
                       number=str(number), expected=CertificateKind.PROOF.value, problem=parsed)
    return check_v24_complete(application.materials, required_materials(application))


def _purchase_notice(view: StateView, application: Application) -> Notice | Rejected:
    """V15 and the cited certificate (V4); every co-buyer of the purchase notice is a mortgagor (V6 for 5.5) [A]."""
    purchase = check_v15_purchase_notice(view, application, application.unit_number)
    if isinstance(purchase, Rejected):
        return purchase
    cited = normalise(str(application.details.get(PURCHASE_NUMBER)))
    if cited != normalise(purchase.certificate_number or ""):
        return violate(RejectionCode.V4_CERTIFICATE_NUMBER_MISMATCH, field=f"details.{PURCHASE_NUMBER}",
                       number=cited, expected="certificate number of the mortgagors' purchase notice")
    if missing := purchase.holder_ids() - application.party_ids(Capacity.MORTGAGOR):
        return violate(RejectionCode.V6_CO_OWNERS_MISSING, unit_number=application.unit_number,
                       problem=f"{len(missing)} co-buyer(s) of the purchase notice not named")
    return purchase


def blocking(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """V3, V2, V15, V4, V6, V15 (other 预抵押), V14, V13, V16 at this block."""
    unit = load_unit(view, application.unit_number)
    if isinstance(unit, Rejected):
        return unit
    if rejected := check_v3_presale_unit(unit) or check_v2_housing(unit):
        return rejected
    purchase = _purchase_notice(view, application)
    if isinstance(purchase, Rejected):
        return purchase
    return (check_v15_other_mortgage_notices(view, application, unit.unit_number)
            or check_v14_notice_consent(view, application, (unit.unit_number,),
                                        exempt=lambda n: n.notice_id == purchase.notice_id or n.kind in MORTGAGE_KINDS)
            or check_v13_not_seized(view, unit.unit_number, ctx.block_time_ms)
            or check_v16_duplicate(view, application, ctx.block_time_ms))


def record(view: StateView, ctx: BlockContext, application: Application, certificate: str | None) -> tuple[Effect, ...]:
    """The kind-3 notice: banks against the buyers, linked to their purchase notice, in acceptance order."""
    terms = mortgage.terms_of(application.details)
    purchase = check_v15_purchase_notice(view, application, application.unit_number)
    assert isinstance(purchase, Notice)  # the lifecycle re-ran ``blocking`` in this same tx
    amount = terms.secured_principal or terms.max_claim
    assert isinstance(amount, Money)  # V10
    notice = Notice(
        notice_id=application.application_id, unit_number=application.unit_number,
        business_no=application.application_id, kind=NoticeKind.PRESALE_MORTGAGE,
        holders=tuple(a.party for a in application.parties(Capacity.MORTGAGEE)),
        obligors=tuple(a.party for a in application.parties(Capacity.MORTGAGOR)), amount=amount,
        priority_key=str(application.priority_key), registry=ctx.signer_org, registered_ms=ctx.block_time_ms,
        cause="LOAN", method=terms.method, debt_term=terms.debt_term, determination_period=terms.determination_period,
        scope=terms.scope, contract_numbers=terms.contract_numbers, transfer_restricted=terms.transfer_restricted,
        transfer_restriction_text=terms.transfer_restriction_text, linked_purchase_notice=purchase.notice_id,
        certificate_number=certificate, recorder=ctx.signer, source_txs=(*application.source_txs, ctx.tx_id),
    )
    return (*puts(notice), Emit(name="notice.recorded", data={"notice_id": notice.notice_id, "kind": 3,
                                                              "unit_number": notice.unit_number,
                                                              "certificate_number": certificate}))


FIRST: Final = BusinessType(
    name=NAME, required_materials=required_materials, check_filing=check_filing, blocking=blocking, record=record,
    issues_certificate=True, result_key=lambda _view, _ctx, application: keys.notice(application.application_id),
)
