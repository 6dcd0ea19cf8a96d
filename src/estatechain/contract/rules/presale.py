"""Pre-sale contracts (商品房预售合同): filed by the developer, signed by each buyer (domain.md §5.4).

The contract is the basis of the purchase notice: the notice needs the filed pre-sale contract (细则
86, L4). The developer's filing tx is its signature; each buyer signs the exact document hash with
their own key, the same way an applicant confirms an application (V7). Only a predicted unit of the
developer's project, not yet first-registered and not seized, can be pre-sold, and only once at a time;
a terminated contract (``rules.presale_terminate``) leaves the unit's index, so the unit can be sold again,
and can no longer be signed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from estatechain.contract import keys
from estatechain.contract.checks.parties import org_acts_for, party_of_signer
from estatechain.contract.checks.register import check_v13_not_seized
from estatechain.contract.checks.terms import check_v9_amount
from estatechain.contract.checks.unit import check_v1_unit_number, check_v2_housing, load_unit
from estatechain.contract.command import Accepted, Command, Outcome, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Emit, Put, Record
from estatechain.contract.money import Money
from estatechain.contract.records import FieldError, PartyRef, PresaleContract, PresaleState, Unit, UnitKind, fields
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rule import Rule
from estatechain.contract.rules.guard import guarded
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate


def check_v3_presale_unit(unit: Unit) -> Rejected | None:
    """V3 for §5.4/§5.5: a predicted unit whose building has not had its first registration."""
    if unit.kind is not UnitKind.PREDICTED or unit.successor is not None:
        kind = "surveyed" if unit.kind is UnitKind.SURVEYED else "first-registered predicted"
        return violate(RejectionCode.V3_UNIT_KIND_MISMATCH, unit_number=unit.unit_number, kind=kind,
                       expected="predicted, not yet first-registered")
    return None


def unit_contracts(view: StateView, unit_number: str) -> tuple[PresaleContract, ...]:
    """Every pre-sale contract filed on the unit."""
    found: list[PresaleContract] = []
    for _, row in view.scan(keys.unit_index(unit_number, "presale")):
        record = view.get(keys.presale_contract(str(row["contract_id"])))
        if record is not None:
            found.append(PresaleContract.from_json(record))
    return tuple(found)


def _unit_for_sale(view: StateView, ctx: BlockContext, body: Record) -> Unit | Rejected:
    """V1, V3 (a predicted unit not yet first-registered), V2, V9 on the price, V13 (no seizure)."""
    if rejected := check_v1_unit_number(body.get("unit_number")):
        return rejected
    unit = load_unit(view, str(body["unit_number"]))
    if isinstance(unit, Rejected):
        return unit
    return (check_v3_presale_unit(unit) or check_v2_housing(unit) or check_v9_amount(body, "price_fen")
            or check_v13_not_seized(view, unit.unit_number, ctx.block_time_ms) or unit)


def file_contract(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """The developer files a pre-sale contract on one predicted unit (V1, V3, V2, V9, V13)."""
    body = command.body
    unit = _unit_for_sale(view, ctx, body)
    if isinstance(unit, Rejected):
        return unit
    developer = fields.hex64(body, "developer")
    if not org_acts_for(view, ctx.signer_org, developer):
        return violate(RejectionCode.ACTOR_NOT_PARTY, org=ctx.signer_org, party_id=developer)
    buyers = tuple(PartyRef(party_id=fields.hex64({"p": item}, "p", "buyers."))
                   for item in fields.texts(body, "buyers"))
    if not buyers or len({b.party_id for b in buyers}) != len(buyers) or developer in {b.party_id for b in buyers}:
        raise FieldError("buyers", "must name one or more distinct buyers other than the developer")
    for other in unit_contracts(view, unit.unit_number):
        return violate(RejectionCode.PRESALE_STATE, contract_id=other.contract_id,
                       problem=f"unit {unit.unit_number} is already pre-sold under it")
    contract = PresaleContract(
        contract_id=ctx.tx_id, unit_number=unit.unit_number, developer=PartyRef(party_id=developer), buyers=buyers,
        price=Money(fen=fields.integer(body, "price_fen", low=1)), contract_no=fields.ident(body, "contract_no"),
        filing_no=fields.ident(body, "filing_no"), document_sha256=fields.hex64(body, "document_sha256"),
        filed_ms=ctx.block_time_ms, source_txs=(ctx.tx_id,),
    )
    return Accepted(effects=(
        Put(key=keys.presale_contract(contract.contract_id), value=contract.to_json()),
        Put(key=keys.unit_presale(unit.unit_number, contract.contract_id), value={"contract_id": contract.contract_id}),
    ))


def sign_contract(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """A buyer signs the exact contract document with their own key; the last signature makes it SIGNED."""
    contract_id = fields.ident(command.body, "contract_id")
    record = view.get(keys.presale_contract(contract_id))
    if record is None:
        return violate(RejectionCode.RECORD_NOT_FOUND, field="contract_id", kind="pre-sale contract", id=contract_id)
    contract = PresaleContract.from_json(record)
    bound = party_of_signer(view, ctx.signer)
    if bound is None:
        return violate(RejectionCode.V7_SIGNER_NOT_BOUND, signer=ctx.signer)
    if bound[0] not in contract.buyer_ids():
        return violate(RejectionCode.V7_NOT_AN_APPLICANT, party_id=bound[0], application_id=contract_id)
    given = fields.hex64(command.body, "document_sha256")
    if given != contract.document_sha256:
        return violate(RejectionCode.V7_APPLICATION_HASH_MISMATCH, field="document_sha256", given=given,
                       application_id=contract_id, expected=contract.document_sha256)
    if contract.state is PresaleState.TERMINATED or bound[0] in contract.signed_by:
        problem = "it was terminated" if contract.state is PresaleState.TERMINATED else "this buyer has already signed"
        return violate(RejectionCode.PRESALE_STATE, contract_id=contract_id, problem=problem)
    signed = replace(contract, signed_by=(*contract.signed_by, bound[0]), source_txs=(*contract.source_txs, ctx.tx_id))
    if frozenset(signed.signed_by) == contract.buyer_ids():
        signed = replace(signed, state=PresaleState.SIGNED)
    effects: tuple[Put | Emit, ...] = (Put(key=keys.presale_contract(contract_id), value=signed.to_json()),)
    if signed.state is PresaleState.SIGNED:
        effects = (*effects, Emit(name="presale.signed", data={"contract_id": contract_id,
                                                               "unit_number": contract.unit_number}))
    return Accepted(effects=effects)


RULES: Final = {
    "presale.contract": Rule(roles=frozenset({"developer"}), decide=guarded(file_contract)),
    "presale.sign": Rule(roles=frozenset({"person"}), decide=guarded(sign_contract)),
}
