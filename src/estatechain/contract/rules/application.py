"""The applicants' side of the lifecycle (domain.md §5.1): file, confirm, decline, withdraw.

The filer files with material references (hashes and sizes only, design §3.11) — the bank for
mortgages and 预抵押, the developer or a buyer for purchase notices, as each business type's
``filers`` says; each listed applicant then confirms or declines with their own key (条例 14; V7);
all applicants together may withdraw before recording (条例 15; 细则 13; V22). The application id
is the filing tx id, which is the hash of the exact filed payload, so a confirmation names
precisely what it approves.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from estatechain.contract import keys
from estatechain.contract.checks.materials import check_v24_material
from estatechain.contract.checks.parties import Actor, resolve_actor
from estatechain.contract.checks.unit import check_v1_unit_number
from estatechain.contract.command import Accepted, Command, Outcome, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Delete, Emit, Put
from estatechain.contract.records import (
    Applicant,
    Application,
    AppState,
    Confirmation,
    FieldError,
    Material,
    effective_state,
    fields,
)
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rule import Rule
from estatechain.contract.rules.business import CONFIRM_WINDOW_MS, advance, load_application, require_state, save
from estatechain.contract.rules.business_types import BUSINESS_TYPES
from estatechain.contract.rules.guard import guarded
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

TERMINAL_BEFORE_RECORD: Final = frozenset({AppState.DECLINED, AppState.WITHDRAWN, AppState.NOT_ACCEPTED,
                                           AppState.REFUSED, AppState.EXPIRED})
WITHDRAWABLE: Final = frozenset({AppState.FILED, AppState.CONFIRMED, AppState.ACCEPTED, AppState.APPROVED,
                                 AppState.ON_HOLD})


def file(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """File an application: V1, materials (V24), the type's detail checks, then its blocking checks."""
    body = command.body
    business_type = fields.text(body, "business_type", max_len=64)
    business = BUSINESS_TYPES.get(business_type)
    if business is None:
        return violate(RejectionCode.BUSINESS_TYPE_UNKNOWN, business_type=business_type,
                       known=", ".join(sorted(BUSINESS_TYPES)))
    if ctx.signer_role not in business.filers:
        return violate(RejectionCode.FILER_ROLE_NOT_PERMITTED, role=ctx.signer_role, business_type=business_type,
                       filers=", ".join(sorted(business.filers)))
    unit_number = body.get("unit_number")
    if rejected := check_v1_unit_number(unit_number):
        return rejected
    applicants = tuple(Applicant.from_json(item, f"applicants[{i}].")
                       for i, item in enumerate(fields.objects(body, "applicants", low=1, high=20)))
    if len({a.party.party_id for a in applicants}) != len(applicants):
        raise FieldError("applicants", "must name each party once")
    materials = tuple(Material.from_json(item, f"materials[{i}].")
                      for i, item in enumerate(fields.objects(body, "materials", high=50)))
    for index, material in enumerate(materials):
        if rejected := check_v24_material(material, index):
            return rejected
    application = Application(
        application_id=ctx.tx_id, business_type=business_type, unit_number=str(unit_number), applicants=applicants,
        materials=materials, details=fields.obj(body.get("details"), "details"), state=AppState.FILED,
        filer=ctx.signer, filer_org=ctx.signer_org, filed_ms=ctx.block_time_ms,
        confirm_deadline_ms=ctx.block_time_ms + CONFIRM_WINDOW_MS, source_txs=(ctx.tx_id,),
    )
    if rejected := business.check_filing(view, ctx, application) or business.blocking(view, ctx, application):
        return rejected
    return Accepted(effects=(
        save(application),
        Put(key=keys.unit_application(application.unit_number, application.application_id),
            value={"application_id": application.application_id}),
        Emit(name="application.filed", data={"application_id": application.application_id,
                                             "business_type": business_type, "unit_number": application.unit_number}),
    ))


def _actor(view: StateView, ctx: BlockContext, application: Application, body_party: object) -> Actor | Rejected:
    if not isinstance(body_party, str):
        raise FieldError("party_id", "must name the applicant this signature is for")
    return resolve_actor(view, ctx, application, body_party)


def _check_open_for_confirmation(application: Application, ctx: BlockContext, given: object) -> Rejected | None:
    """V25 (deadline passed), still FILED, and V7 (the confirmation covers this exact content)."""
    if effective_state(application, ctx.block_time_ms) is AppState.EXPIRED:
        return violate(RejectionCode.V25_CONFIRMATION_EXPIRED, application_id=application.application_id)
    if rejected := require_state(application, ctx, "confirm", {AppState.FILED}):
        return rejected
    if given != application.application_id:
        return violate(RejectionCode.V7_APPLICATION_HASH_MISMATCH, given=str(given),
                       application_id=application.application_id, expected=application.application_id)
    return None


def _confirmable(view: StateView, ctx: BlockContext, command: Command) -> tuple[Application, Actor] | Rejected:
    """The application and the acting applicant for a confirmation or a decline (V25, V7)."""
    application = load_application(view, command.body.get("application_id"))
    if isinstance(application, Rejected):
        return application
    if rejected := _check_open_for_confirmation(application, ctx, command.body.get("application_hash")):
        return rejected
    actor = _actor(view, ctx, application, command.body.get("party_id"))
    if isinstance(actor, Rejected):
        return actor
    if actor.party_id in application.confirmed_ids():
        return violate(RejectionCode.APPLICATION_STATE, application_id=application.application_id,
                       state="already confirmed by this party", step="confirm", expected="unconfirmed")
    return application, actor


def confirm(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """An applicant confirms the exact filed content; the last confirmation makes it CONFIRMED."""
    found = _confirmable(view, ctx, command)
    if isinstance(found, Rejected):
        return found
    application, actor = found
    confirmation = Confirmation(party_id=actor.party_id, signer=ctx.signer, tx_id=ctx.tx_id,
                                at_ms=ctx.block_time_ms, auth_ref=actor.auth_ref, by_proxy=actor.by_proxy)
    updated = replace(application, confirmations=(*application.confirmations, confirmation),
                      source_txs=(*application.source_txs, ctx.tx_id))
    if updated.confirmed_ids() == updated.applicant_ids():
        updated = replace(updated, state=AppState.CONFIRMED)
    return Accepted(effects=(save(updated),))


def decline(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """An applicant declines: the application ends as DECLINED."""
    found = _confirmable(view, ctx, command)
    if isinstance(found, Rejected):
        return found
    application, actor = found
    declined = advance(application, ctx, AppState.DECLINED, "declined", party_id=actor.party_id)
    return Accepted(effects=(save(declined), Delete(key=keys.unit_application(application.unit_number,
                                                                              application.application_id))))


def withdraw(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """One applicant's signature on the withdrawal; with every applicant's, the application is WITHDRAWN (V22)."""
    application = load_application(view, command.body.get("application_id"))
    if isinstance(application, Rejected):
        return application
    state = effective_state(application, ctx.block_time_ms)
    if state not in WITHDRAWABLE:
        return violate(RejectionCode.V22_WITHDRAWAL_NOT_ALLOWED, application_id=application.application_id,
                       state=state.value)
    actor = _actor(view, ctx, application, command.body.get("party_id"))
    if isinstance(actor, Rejected):
        return actor
    if actor.party_id in application.withdrawals:
        return violate(RejectionCode.APPLICATION_STATE, application_id=application.application_id,
                       state="already withdrawn by this party", step="withdraw", expected="not yet signed by it")
    updated = replace(application, withdrawals=(*application.withdrawals, actor.party_id),
                      source_txs=(*application.source_txs, ctx.tx_id))
    if frozenset(updated.withdrawals) != updated.applicant_ids():
        return Accepted(effects=(save(updated),))
    withdrawn = advance(updated, ctx, AppState.WITHDRAWN, "withdrawn")
    return Accepted(effects=(save(withdrawn), Delete(key=keys.unit_application(application.unit_number,
                                                                               application.application_id))))


APPLICANT_ROLES: Final = frozenset({"person", "bank.approver", "developer"})
FILER_ROLES: Final = frozenset({"bank.operator", "developer", "person"})
"""Who may file at all; each business type narrows it (``BusinessType.filers``)."""

RULES: Final = {
    "application.file": Rule(roles=FILER_ROLES, decide=guarded(file)),
    "application.confirm": Rule(roles=APPLICANT_ROLES, decide=guarded(confirm)),
    "application.decline": Rule(roles=APPLICANT_ROLES, decide=guarded(decline)),
    "application.withdraw": Rule(roles=APPLICANT_ROLES, decide=guarded(withdraw)),
}
