"""The building's first registration (房屋所有权首次登记): predicted units become surveyed ones.

The developer applies alone (条例 14: first registration of unregistered property); the registry
records the result with one tx per building (or part of one) [A: the developer's case itself is
handled in the registry's own system, and its recorder signs this tx]. For each unit: a new surveyed
unit record with ``predecessor``, the predicted unit's ``successor`` link (never removed, domain.md
§4.1), the developer's ownership right with a title number from the registry's title sequence, and —
because final registration of the purchase has now become possible — the start of the 90-day lapse
clock of every current purchase notice on the predicted unit (民法典 221; §5.9). The predicted unit's
seizures (预查封 above all) follow onto the surveyed unit: their index rows are written there too, in
the same queue order, so V13 sees them on the successor [S*: a 预查封 turns into a 查封 when the
property is registered (查封规定); A: that a renewal or release of the same order acts on both].
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from estatechain.contract import keys
from estatechain.contract.certificate_number import CertificateKind
from estatechain.contract.certificates import new_certificate, next_numbers
from estatechain.contract.checks.notices import current_notices
from estatechain.contract.checks.unit import check_v1_unit_number, load_unit
from estatechain.contract.command import Accepted, Command, Outcome, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Effect, Emit, Put, Record
from estatechain.contract.records import (
    PURCHASE_KINDS,
    CoOwner,
    CoOwnership,
    FieldError,
    OwnershipRight,
    PartyRef,
    Seizure,
    Unit,
    UnitKind,
    fields,
)
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rule import Rule
from estatechain.contract.rules.guard import guarded
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

MAX_UNITS: Final = 2000
"""Units per first-registration tx [A]: one building fits."""


def _pair(view: StateView, ctx: BlockContext, item: Record, field: str, seen: set[str]) -> tuple[Unit, Unit] | Rejected:
    """The predicted unit and its surveyed successor described by ``item``."""
    predicted_number = fields.text(item, "predicted", field, max_len=28)
    surveyed_data = fields.obj(item.get("surveyed"), f"{field}surveyed")
    predicted = load_unit(view, predicted_number)
    if isinstance(predicted, Rejected):
        return predicted
    if predicted.kind is not UnitKind.PREDICTED or predicted.successor is not None:
        return violate(RejectionCode.V3_UNIT_KIND_MISMATCH, field=f"{field}predicted", unit_number=predicted_number,
                       kind=predicted.kind.value if predicted.successor is None else "first-registered",
                       expected="predicted, not yet first-registered")
    surveyed = Unit.from_json({**surveyed_data, "kind": UnitKind.SURVEYED.value, "registry": ctx.signer_org,
                               "predecessor": predicted_number, "successor": None, "source_txs": [ctx.tx_id]},
                              f"{field}surveyed.")
    if rejected := check_v1_unit_number(surveyed.unit_number, f"{field}surveyed.unit_number"):
        return rejected
    if surveyed.unit_number in seen or view.get(keys.unit(surveyed.unit_number)) is not None:
        return violate(RejectionCode.RECORD_EXISTS, field=f"{field}surveyed.unit_number", kind="unit",
                       id=surveyed.unit_number)
    seen.add(surveyed.unit_number)
    return predicted, surveyed


def first_registration(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """Record the surveyed units, their links, the developer's ownership and the purchase notices' lapse clocks."""
    developer = fields.hex64(command.body, "developer")
    if view.get(keys.org_of_party(developer)) is None:
        return violate(RejectionCode.ACTOR_NOT_PARTY, field="developer", org="no member org", party_id=developer)
    items = fields.objects(command.body, "units", low=1, high=MAX_UNITS)
    pairs: list[tuple[Unit, Unit]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        pair = _pair(view, ctx, item, f"units[{index}].", seen)
        if isinstance(pair, Rejected):
            return pair
        pairs.append(pair)
    if len({predicted.unit_number for predicted, _ in pairs}) != len(pairs):
        raise FieldError("units", "must name each predicted unit once")
    titles, sequence = next_numbers(view, ctx, CertificateKind.TITLE, len(pairs))
    effects: list[Effect] = []
    for (predicted, surveyed), title in zip(pairs, titles, strict=True):
        right_id = f"{ctx.tx_id}.{surveyed.unit_number}"
        right = OwnershipRight(right_id=right_id, unit_number=surveyed.unit_number, title_number=title,
                               form=CoOwnership.SOLE, holders=(CoOwner(party=PartyRef(party_id=developer)),),
                               source_txs=(ctx.tx_id,))
        effects += [
            Put(key=keys.unit(surveyed.unit_number), value=surveyed.to_json()),
            Put(key=keys.unit(predicted.unit_number), value=replace(
                predicted, successor=surveyed.unit_number, source_txs=(*predicted.source_txs, ctx.tx_id)).to_json()),
            Put(key=keys.ownership(right_id), value=right.to_json()),
            Put(key=keys.unit_ownership(surveyed.unit_number, right_id), value={"right_id": right_id}),
            new_certificate(title, keys.ownership(right_id), None, ctx),
        ]
        for _, row in view.scan(keys.unit_index(predicted.unit_number, "seizure")):
            seizure = Seizure.from_json(view.get(keys.seizure(str(row["seizure_id"]))) or {})
            effects.append(Put(key=keys.unit_seizure(surveyed.unit_number, seizure.queue_order, seizure.seizure_id),
                               value={"seizure_id": seizure.seizure_id}))
        for notice in current_notices(view, predicted.unit_number):
            if notice.kind in PURCHASE_KINDS and notice.lapse_clock_start_ms is None:
                started = replace(notice, lapse_clock_start_ms=ctx.block_time_ms,
                                  source_txs=(*notice.source_txs, ctx.tx_id))
                effects.append(Put(key=keys.notice(notice.notice_id), value=started.to_json()))
    effects += [*sequence, Emit(name="building.first_registered", data={
        "developer": developer, "units": [surveyed.unit_number for _, surveyed in pairs]})]
    return Accepted(effects=tuple(effects))


RULES: Final = {
    "building.first_registration": Rule(roles=frozenset({"registry.recorder"}), decide=guarded(first_registration)),
}
