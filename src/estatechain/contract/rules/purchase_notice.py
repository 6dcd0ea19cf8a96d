"""Pre-sale purchase notice (预购商品房预告登记, domain.md §5.4): the buyer's claim on a predicted unit.

Applied for jointly by the buyers (right holders) and the developer (obligor) on the basis of the
signed pre-sale contract [S: L4]; filed by the developer or a buyer; the buyers alone when the
developer failed to apply as agreed, with proof of that (``developer_default``) [S: L4]. Review: a
predicted unit not yet first-registered, housing, one purchase notice at a time, no seizure in
effect, no other notice on it without its holder's consent (V14). The notice certificate (预告登记)
goes to the buyers; its 90-day lapse clock starts with the building's first registration
(``rules.building``).
"""

from __future__ import annotations

from typing import Final

from estatechain.contract import keys
from estatechain.contract.checks.materials import check_v24_complete
from estatechain.contract.checks.notices import check_v14_notice_consent, current_notices
from estatechain.contract.checks.parties import check_filer
from estatechain.contract.checks.register import check_v13_not_seized
from estatechain.contract.checks.unit import check_v2_housing, load_unit
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Effect, Emit
from estatechain.contract.records import (
    PURCHASE_KINDS,
    Application,
    Capacity,
    FieldError,
    Notice,
    NoticeKind,
    PresaleContract,
    PresaleState,
    fields,
)
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rules.business import BusinessType
from estatechain.contract.rules.notice_entry import puts
from estatechain.contract.rules.presale import check_v3_presale_unit
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

NAME: Final = "purchase_notice.first"


def developer_default(application: Application) -> bool:
    """Whether the buyers apply alone because the developer failed to apply as agreed (L4)."""
    value = application.details.get("developer_default", False)
    if not isinstance(value, bool):
        raise FieldError("details.developer_default", "must be true or false")
    return value


def required_materials(application: Application) -> frozenset[str]:
    """Application form and the agreement on the notice, plus proof of the developer's default when buyers apply alone.

    The pre-sale contract is on the ledger and never uploaded again (条例 24(2)).
    """
    default = ("DEVELOPER_DEFAULT_PROOF",) if developer_default(application) else ()
    return frozenset({"APPLICATION_FORM", "NOTICE_AGREEMENT", *default})


def presale_contract(view: StateView, application: Application) -> PresaleContract | Rejected:
    """The signed pre-sale contract the filing names, between exactly these buyers and this developer."""
    contract_id = fields.ident(application.details, "presale_contract", "details.")
    record = view.get(keys.presale_contract(contract_id))
    if record is None:
        return violate(RejectionCode.RECORD_NOT_FOUND, field="details.presale_contract", kind="pre-sale contract",
                       id=contract_id)
    contract = PresaleContract.from_json(record)
    problem = None
    if contract.state is PresaleState.TERMINATED:
        problem = "it was terminated"
    elif contract.state is not PresaleState.SIGNED:
        problem = "not every buyer has signed it"
    elif contract.unit_number != application.unit_number:
        problem = f"it sells unit {contract.unit_number}, not {application.unit_number}"
    elif contract.buyer_ids() != application.party_ids(Capacity.BUYER) or (
            not developer_default(application)
            and frozenset({contract.developer.party_id}) != application.party_ids(Capacity.DEVELOPER)):
        problem = "its buyers and developer are not the applicants"
    if problem is not None:
        return violate(RejectionCode.PRESALE_STATE, field="details.presale_contract", contract_id=contract_id,
                       problem=problem)
    return contract


def check_filing(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """Buyers and one developer, the filer is one of them, the signed contract (V7-like), materials (V24)."""
    developers = 0 if developer_default(application) else 1
    if not application.parties(Capacity.BUYER) or len(application.parties(Capacity.DEVELOPER)) != developers:
        raise FieldError("applicants", "must name the buyers and, unless it failed to apply, the developer")
    if rejected := check_filer(view, ctx, application, (Capacity.BUYER, Capacity.DEVELOPER)):
        return rejected
    contract = presale_contract(view, application)
    if isinstance(contract, Rejected):
        return contract
    return check_v24_complete(application.materials, required_materials(application))


def check_single(view: StateView, unit_number: str) -> Rejected | None:
    """A unit carries one current purchase notice at a time (§5.4 review) [A]."""
    for notice in current_notices(view, unit_number):
        if notice.kind in PURCHASE_KINDS:
            return violate(RejectionCode.RECORD_EXISTS, field="unit_number", kind="current purchase notice",
                           id=notice.notice_id)
    return None


def blocking(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """The contract still signed (it may be terminated meanwhile), V3, V2, one purchase notice, V13, V14."""
    contract = presale_contract(view, application)
    if isinstance(contract, Rejected):
        return contract
    unit = load_unit(view, application.unit_number)
    if isinstance(unit, Rejected):
        return unit
    return (check_v3_presale_unit(unit) or check_v2_housing(unit) or check_single(view, unit.unit_number)
            or check_v13_not_seized(view, unit.unit_number, ctx.block_time_ms)
            or check_v14_notice_consent(view, application, (unit.unit_number,)))


def record(view: StateView, ctx: BlockContext, application: Application, certificate: str | None) -> tuple[Effect, ...]:
    """The kind-1 notice: buyers against the developer, QDJG = the contract price."""
    contract = presale_contract(view, application)
    assert isinstance(contract, PresaleContract)  # ``blocking`` checked it again in this tx
    notice = Notice(
        notice_id=application.application_id, unit_number=application.unit_number,
        business_no=application.application_id, kind=NoticeKind.PRESALE_PURCHASE,
        holders=tuple(a.party for a in application.parties(Capacity.BUYER)), obligors=(contract.developer,),
        amount=contract.price, priority_key=str(application.priority_key), registry=ctx.signer_org,
        registered_ms=ctx.block_time_ms, presale_contract=contract.contract_id, certificate_number=certificate,
        recorder=ctx.signer, source_txs=(*application.source_txs, ctx.tx_id),
    )
    return (*puts(notice), Emit(name="notice.recorded", data={"notice_id": notice.notice_id, "kind": 1,
                                                              "unit_number": notice.unit_number,
                                                              "certificate_number": certificate}))


FIRST: Final = BusinessType(
    name=NAME, required_materials=required_materials, check_filing=check_filing, blocking=blocking, record=record,
    issues_certificate=True, result_key=lambda _view, _ctx, application: keys.notice(application.application_id),
    filers=frozenset({"developer", "person"}),
)
