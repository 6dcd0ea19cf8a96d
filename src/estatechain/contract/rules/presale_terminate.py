"""Termination of a pre-sale contract (预售合同解除/注销) and of the purchase notice resting on it.

The purchase notice (§5.4) protects the buyers' claim under the filed pre-sale contract; when the
contract is terminated that claim is extinguished, so the notice is cancelled with it (细则 89: a
notice is cancelled when the claim is extinguished) [S*]. Applicants, as for the notice itself
(§5.4): the developer and every buyer jointly on their termination agreement; one side alone only
with an effective judgment or arbitral award (cause ``JUDGMENT``) [A, as for §5.3 and §5.9]. The
case runs through the registry's lifecycle because the registry records the notice's cancellation.

Refused [A, domain.md does not say more]:
* while a pre-sale mortgage notice (预抵押) is current on the unit: it rests on the purchase notice
  ("no purchase notice, no mortgage notice", V15, 细则 85) and its holder did not consent to losing
  that basis, so the bank must cancel it first (``mortgage_notice.cancel``) —
  ``PRESALE_TERMINATION_BLOCKED``;
* once the buyers' ownership of the surveyed unit was recorded (the notice converted, §5.9): the
  contract has been performed, and undoing it is an ownership transfer, not a termination;
* a contract already terminated, or one on another unit.
A seizure in effect does not block it [A: open point; confirm with the registry whether a 预查封 against
the buyer's expected right should].

Effects: the contract → ``TERMINATED`` with its termination (business no, cause, time) and leaves the
unit's index, so the developer may pre-sell the unit again; the purchase notice from this contract,
if current, → historic with cause ``CONTRACT_TERMINATED`` and its certificate ``CANCELLED``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from estatechain.contract import keys
from estatechain.contract.checks.materials import check_v24_complete
from estatechain.contract.checks.notices import current_notices
from estatechain.contract.checks.parties import check_filer
from estatechain.contract.checks.unit import current_ownership, load_unit
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Delete, Effect, Emit, Put
from estatechain.contract.records import (
    MORTGAGE_KINDS,
    PURCHASE_KINDS,
    Application,
    Capacity,
    Notice,
    PresaleContract,
    PresaleState,
    fields,
)
from estatechain.contract.records.mortgage import Cancellation
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rules.business import BusinessType
from estatechain.contract.rules.notice_entry import end
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

NAME: Final = "presale.terminate"
CAUSES: Final = {"AGREED": "TERMINATION_AGREEMENT", "JUDGMENT": "JUDGMENT"}
"""Cause of termination → the material that proves it."""
NOTICE_CAUSE: Final = "CONTRACT_TERMINATED"
"""The cancellation cause written on the purchase notice (ZXYGYY)."""


def _cause(application: Application) -> str:
    return fields.choice(application.details, "cause", frozenset(CAUSES), "details.")


def required_materials(application: Application) -> frozenset[str]:
    """The application form and the termination agreement (or the judgment); the contract is on the ledger."""
    return frozenset({"APPLICATION_FORM", CAUSES[_cause(application)]})


def _state_problem(contract_id: str, problem: str, field: str = "details.presale_contract") -> Rejected:
    return violate(RejectionCode.PRESALE_STATE, field=field, contract_id=contract_id, problem=problem)


def _contract(view: StateView, application: Application) -> PresaleContract | Rejected:
    """The named contract, on this unit, not terminated, with applicants entitled to terminate it."""
    contract_id = fields.ident(application.details, "presale_contract", "details.")
    record = view.get(keys.presale_contract(contract_id))
    if record is None:
        return violate(RejectionCode.RECORD_NOT_FOUND, field="details.presale_contract", kind="pre-sale contract",
                       id=contract_id)
    contract = PresaleContract.from_json(record)
    if contract.unit_number != application.unit_number:
        return _state_problem(contract_id, f"it sells unit {contract.unit_number}, not {application.unit_number}")
    if contract.state is PresaleState.TERMINATED:
        return _state_problem(contract_id, "it is already terminated")
    buyers, developers = application.party_ids(Capacity.BUYER), application.party_ids(Capacity.DEVELOPER)
    parties = contract.buyer_ids() | {contract.developer.party_id}
    problem = None
    if (buyers | developers) - parties or len(application.applicants) != len(buyers | developers):
        problem = "the applicants must be its buyers and its developer, in those capacities"
    elif _cause(application) == "AGREED" and (buyers != contract.buyer_ids() or not developers):
        problem = "an agreed termination needs every buyer and the developer"
    elif buyers and buyers != contract.buyer_ids():
        problem = "every buyer must apply (one side alone only with a judgment)"
    if problem is not None:
        return _state_problem(contract_id, problem, "applicants")
    return contract


def _purchase_notice(view: StateView, contract: PresaleContract) -> Notice | None:
    """The current purchase notice recorded on the basis of ``contract``, if any."""
    for notice in current_notices(view, contract.unit_number):
        if notice.kind in PURCHASE_KINDS and notice.presale_contract == contract.contract_id:
            return notice
    return None


def _performed(view: StateView, contract: PresaleContract) -> bool:
    """Whether a buyer already owns the surveyed successor of the unit (the notice converted, §5.9)."""
    unit = load_unit(view, contract.unit_number)
    if isinstance(unit, Rejected) or unit.successor is None:
        return False
    right = current_ownership(view, unit.successor)
    return right is not None and bool(right.holder_ids() & contract.buyer_ids())


def target(view: StateView, application: Application) -> tuple[PresaleContract, Notice | None] | Rejected:
    """The contract and its current purchase notice, or why the termination cannot be recorded now."""
    contract = _contract(view, application)
    if isinstance(contract, Rejected):
        return contract
    if _performed(view, contract):
        return _state_problem(contract.contract_id, "the buyers' ownership of the surveyed unit is recorded; "
                                                    "the contract was performed (apply for an ownership transfer)")
    for notice in current_notices(view, contract.unit_number):
        if notice.kind in MORTGAGE_KINDS:
            return violate(RejectionCode.PRESALE_TERMINATION_BLOCKED, contract_id=contract.contract_id,
                           certificate_number=str(notice.certificate_number))
    return contract, _purchase_notice(view, contract)


def check_filing(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """Cause well formed, the filer is an applicant, materials (V24)."""
    _cause(application)
    return (check_filer(view, ctx, application, (Capacity.BUYER, Capacity.DEVELOPER))
            or check_v24_complete(application.materials, required_materials(application)))


def blocking(view: StateView, _ctx: BlockContext, application: Application) -> Rejected | None:
    """The contract can be terminated at this block (not performed, no 预抵押 resting on its notice)."""
    found = target(view, application)
    return found if isinstance(found, Rejected) else None


def record(
    view: StateView, ctx: BlockContext, application: Application, _certificate: str | None
) -> tuple[Effect, ...]:
    """Contract → TERMINATED and out of the unit's index; its purchase notice → historic, certificate CANCELLED."""
    found = target(view, application)
    assert isinstance(found, tuple)  # ``blocking`` ran again in this tx
    contract, notice = found
    ended = replace(contract, state=PresaleState.TERMINATED, source_txs=(*contract.source_txs, ctx.tx_id),
                    termination=Cancellation(business_no=application.application_id, reason=_cause(application),
                                             time_ms=ctx.block_time_ms))
    effects: list[Effect] = [Put(key=keys.presale_contract(contract.contract_id), value=ended.to_json()),
                             Delete(key=keys.unit_presale(contract.unit_number, contract.contract_id))]
    if notice is not None:
        effects.extend(end(view, ctx, notice, business_no=application.application_id, reason=NOTICE_CAUSE))
    data: dict[str, JSON] = {"contract_id": contract.contract_id, "unit_number": contract.unit_number,
                             "purchase_notice": None if notice is None else notice.notice_id}
    effects.append(Emit(name="presale.terminated", data=data))
    return tuple(effects)


TERMINATE: Final = BusinessType(
    name=NAME, required_materials=required_materials, check_filing=check_filing, blocking=blocking, record=record,
    issues_certificate=False, filers=frozenset({"developer", "person"}),
    result_key=lambda _view, _ctx, application: keys.presale_contract(
        fields.ident(application.details, "presale_contract", "details.")),
)
