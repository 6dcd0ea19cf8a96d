"""Ownership transfer (转移登记) that carries existing mortgages along (带押过户), and 预告转本 of a purchase notice.

The owner may transfer a mortgaged unit and the mortgage follows it (民法典 406) [S]: the transfer never
drops or alters a current mortgage; its 抵押人 is read through the current ownership record from then
on, and the mortgagees are notified by event [A]. A mortgage with a registered transfer restriction
(担保制度解释 43) or recorded before 2021-01-01 needs its mortgagee as co-applicant [S: 406(2); the
pre-2021 rule of 自然资发〔2021〕54号 is unverified, domain.md §13.2]. The transferors must be owners
entitled to dispose (V6, 民法典 301), no seizure may be in effect (V13) and holders of notices the
transfer would defeat must consent (V14).

With cause ``PRESALE`` the transfer converts the buyers' purchase notice on the predecessor
(predicted) unit: developer → buyers on the surveyed successor (预告转本, §5.9). The notice turns
historic with ``converted_to`` and its certificate CONVERTED; the buyers' 预抵押 on the predicted unit
start their 90-day lapse clock, since their conversion became possible with this recording (细则
78(2)). The transfer combined with the new owner's mortgage in one atomic case (带押过户 with a new
loan) is ``rules.transfer_mortgage``, which reuses this module's checks and writes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from estatechain.contract import keys
from estatechain.contract.certificate_number import CertificateKind, normalise
from estatechain.contract.certificates import set_status
from estatechain.contract.checks.materials import check_v24_complete
from estatechain.contract.checks.notices import (
    check_v14_notice_consent,
    current_notices,
    lapse_notes,
    notice_by_number,
)
from estatechain.contract.checks.parties import check_filer, check_v6_mortgagors
from estatechain.contract.checks.register import check_v13_not_seized, current_mortgages
from estatechain.contract.checks.unit import check_v2_housing, check_v3_unit_kind, load_ownership, load_unit
from estatechain.contract.civil_date import day_start_ms, days_from_civil
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Delete, Effect, Emit, Put
from estatechain.contract.records import (
    MORTGAGE_KINDS,
    PURCHASE_KINDS,
    Application,
    Capacity,
    CertificateStatus,
    CoOwner,
    CoOwnership,
    FieldError,
    Notice,
    OwnershipRight,
    Status,
    Unit,
    UnitKind,
    fields,
    shares_complete,
)
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rules.business import BusinessType
from estatechain.contract.rules.mortgage import check_v4_title
from estatechain.contract.rules.notice_entry import end
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

NAME: Final = "ownership.transfer"
CAUSE_MATERIAL: Final = {"SALE": "SALE_CONTRACT", "PRESALE": None, "JUDGMENT": "JUDGMENT", "OTHER": "OTHER_PROOF"}
"""Cause (DJYY) → the material proving it; a pre-sale conversion rests on the contract already on the ledger [A]."""
PURCHASE_NUMBER: Final = "purchase_notice_certificate_number"
MORTGAGEE_MUST_SIGN_BEFORE_MS: Final = day_start_ms(days_from_civil(2021, 1, 1))
"""Mortgages recorded before the Civil Code took effect keep the old consent rule [S*: 自然资发〔2021〕54号]."""


def _cause(application: Application) -> str:
    return fields.choice(application.details, "cause", frozenset(CAUSE_MATERIAL), "details.")


def required_materials(application: Application) -> frozenset[str]:
    """Application form, proof of tax paid (细则 15), and the cause's document."""
    material = CAUSE_MATERIAL[_cause(application)]
    return frozenset({"APPLICATION_FORM", "TAX_PROOF", *((material,) if material else ())})


def new_holders(application: Application) -> tuple[CoOwnership, tuple[CoOwner, ...]]:
    """The transferees' co-ownership form and holdings; shares must add up to exactly 1 (raises ``FieldError``)."""
    form = CoOwnership(fields.choice(application.details, "form", frozenset(CoOwnership), "details."))
    holders = tuple(CoOwner.from_json(item, f"details.holders[{i}].")
                    for i, item in enumerate(fields.objects(application.details, "holders", "details.", low=1)))
    if frozenset(h.party.party_id for h in holders) != application.party_ids(Capacity.TRANSFEREE):
        raise FieldError("details.holders", "must list exactly the transferees")
    probe = OwnershipRight(right_id="probe", unit_number=application.unit_number, title_number="-", form=form,
                           holders=holders)
    if (form is CoOwnership.SOLE and len(holders) != 1) or not shares_complete(probe):
        raise FieldError("details.holders", f"do not fit the form {form.value} (shares must add up to 1)")
    return form, holders


def check_filing(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """Transferors and transferees, their holdings, the filer is an applicant, materials (V24)."""
    if not application.parties(Capacity.TRANSFEROR) or not application.parties(Capacity.TRANSFEREE):
        raise FieldError("applicants", "must name the transferors and the transferees")
    new_holders(application)
    if _cause(application) == "PRESALE":
        fields.text(application.details, PURCHASE_NUMBER, "details.", max_len=64)
    return (check_filer(view, ctx, application, (Capacity.TRANSFEROR, Capacity.TRANSFEREE, Capacity.MORTGAGEE))
            or check_v24_complete(application.materials, required_materials(application)))


def purchase_notice(view: StateView, ctx: BlockContext, application: Application, unit: Unit) -> Notice | Rejected:
    """V21 for a purchase notice: current, on the predecessor of this unit, transferees its holders."""
    notice = notice_by_number(view, ctx, application.details.get(PURCHASE_NUMBER), f"details.{PURCHASE_NUMBER}")
    if isinstance(notice, Rejected):
        return notice
    problem = notice if isinstance(notice, str) else None
    if isinstance(notice, Notice):
        if notice.kind not in PURCHASE_KINDS or notice.status is not Status.CURRENT:
            problem = "the purchase notice is not a current purchase notice"
        elif notice.unit_number != unit.predecessor:
            problem = f"unit {unit.unit_number} is not the recorded successor of unit {notice.unit_number}"
        elif notice.holder_ids() != application.party_ids(Capacity.TRANSFEREE):
            problem = "the transferees are not the holders of the purchase notice"
    if problem is not None or not isinstance(notice, Notice):
        return violate(RejectionCode.V21_CONVERSION_INVALID, field=f"details.{PURCHASE_NUMBER}", problem=str(problem))
    return notice


def check_mortgagees(view: StateView, application: Application) -> Rejected | None:
    """带押过户: a restricted or pre-2021 mortgage needs its mortgagees among the applicants."""
    signing = application.party_ids(Capacity.MORTGAGEE)
    for mortgage in current_mortgages(view, application.unit_number):
        problem = ("has a registered transfer restriction" if mortgage.transfer_restricted
                   else "was recorded before 2021-01-01" if mortgage.registered_ms < MORTGAGEE_MUST_SIGN_BEFORE_MS
                   else None)
        if problem is not None and mortgage.mortgagee_ids() - signing:
            return violate(RejectionCode.TRANSFER_NEEDS_MORTGAGEE, mortgage_id=mortgage.mortgage_id, problem=problem)
    return None


def blocking(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """V3 (surveyed, owned), V2, V4, V6, V13, V21 (pre-sale), V14, mortgagee co-signature."""
    unit = load_unit(view, application.unit_number)
    if isinstance(unit, Rejected):
        return unit
    right = load_ownership(view, unit.unit_number)
    if isinstance(right, Rejected):
        return right
    if _cause(application) == "PRESALE" and isinstance(found := purchase_notice(view, ctx, application, unit),
                                                       Rejected):
        return found
    buyers = application.party_ids(Capacity.TRANSFEREE)

    def exempt(notice: Notice) -> bool:
        """Notices the transfer carries out: the buyers' purchase notice and their own 预抵押."""
        return (notice.kind in PURCHASE_KINDS and notice.holder_ids() <= buyers) or (
            notice.kind in MORTGAGE_KINDS and notice.obligor_ids() <= buyers)

    units = (unit.unit_number, *((unit.predecessor,) if unit.predecessor else ()))
    return (check_v3_unit_kind(unit, UnitKind.SURVEYED) or check_v2_housing(unit)
            or check_v4_title(application.details.get("title_number"), right, ctx)
            or check_v6_mortgagors(right, application.party_ids(Capacity.TRANSFEROR))
            or check_v13_not_seized(view, unit.unit_number, ctx.block_time_ms)
            or check_v14_notice_consent(view, application, units, exempt=exempt)
            or check_mortgagees(view, application))


def record(
    view: StateView, ctx: BlockContext, application: Application, title: str | None
) -> tuple[Effect, ...]:
    """Old right → historic; the transferees' right under ``title``; mortgages untouched; pre-sale notices converted.

    ``title`` is the 不动产权证书 number the recording drew (``certificate_kind`` TITLE); the lifecycle
    writes its certificate record and keeps the number on the application for 发证.
    """
    old = load_ownership(view, application.unit_number)
    unit = load_unit(view, application.unit_number)
    assert isinstance(old, OwnershipRight)  # ``blocking`` ran again in this tx
    assert isinstance(unit, Unit)
    assert title is not None  # a certificate-issuing type
    form, holders = new_holders(application)
    right = OwnershipRight(right_id=application.application_id, unit_number=unit.unit_number, title_number=title,
                           form=form, holders=holders, source_txs=(*application.source_txs, ctx.tx_id))
    key = keys.ownership(right.right_id)
    effects: list[Effect] = [
        Put(key=keys.ownership(old.right_id), value=replace(
            old, status=Status.HISTORIC, successor=key, source_txs=(*old.source_txs, ctx.tx_id)).to_json()),
        Delete(key=keys.unit_ownership(unit.unit_number, old.right_id)),
        *set_status(view, ctx, normalise(old.title_number), CertificateStatus.SUPERSEDED),
        Put(key=key, value=right.to_json()), Put(key=keys.unit_ownership(unit.unit_number, right.right_id),
                                                 value={"right_id": right.right_id}),
    ]
    if _cause(application) == "PRESALE" and isinstance(notice := purchase_notice(view, ctx, application, unit), Notice):
        effects += end(view, ctx, notice, business_no=application.application_id, reason="CONVERTED",
                       status=CertificateStatus.CONVERTED, converted_to=key)
        for yudiya in current_notices(view, notice.unit_number):
            if yudiya.kind in MORTGAGE_KINDS and yudiya.obligor_ids() <= right.holder_ids():
                effects.append(Put(key=keys.notice(yudiya.notice_id), value=replace(
                    yudiya, lapse_clock_start_ms=ctx.block_time_ms,
                    source_txs=(*yudiya.source_txs, ctx.tx_id)).to_json()))
    carried = current_mortgages(view, unit.unit_number)
    notify: list[JSON] = [*sorted({p for m in carried for p in m.mortgagee_ids()})]
    effects.append(Emit(name="ownership.transferred", data={
        "unit_number": unit.unit_number, "right": key, "title_number": title,
        "mortgages_carried": [m.mortgage_id for m in carried],
        "notify": notify,
    }))
    return tuple(effects)


def review_notes(view: StateView, ctx: BlockContext, application: Application) -> dict[str, JSON]:
    """For the buyer's transfer of a pre-sale flat: the purchase notice's derived 90-day lapse (not enforced).

    As for 预告转本 (``conversion.review_notes``): the lapse is shown to the reviewer and kept with the
    review, judged at this application's filing (民法典 221: an application in time keeps the notice).
    """
    if _cause(application) != "PRESALE":
        return {}
    unit = load_unit(view, application.unit_number)
    notice = None if isinstance(unit, Rejected) else purchase_notice(view, ctx, application, unit)
    return lapse_notes(view, notice, application.filed_ms)


TRANSFER: Final = BusinessType(
    name=NAME, required_materials=required_materials, check_filing=check_filing, blocking=blocking, record=record,
    issues_certificate=True, certificate_kind=CertificateKind.TITLE, review_notes=review_notes,
    result_key=lambda _view, _ctx, application: keys.ownership(application.application_id),
    filers=frozenset({"bank.operator", "developer", "person"}),
)
