"""Seizures delivered by courts and other state organs: seize, queue (轮候), renew (续封), release.

A seizure on a unit that already has one in effect or queued joins the queue (查封规定 26 [S]); it
takes effect when those before it end. Lapse at the end of the term is derived when read
(``seizure_queue``), never written (design §3.14). Only the delivering authority releases or renews
its own seizure (细则 93 [A for "only"]). A new seizure determines the claims of maximum-amount
mortgages once the mortgagee knows of it (民法典 423(4)), so the mortgagees are notified by event.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from estatechain.contract import keys
from estatechain.contract.checks.register import current_mortgages
from estatechain.contract.checks.terms import check_v11_term
from estatechain.contract.checks.unit import check_v1_unit_number, load_unit
from estatechain.contract.civil_date import parse_iso_date
from estatechain.contract.command import Accepted, Command, Outcome, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Emit, Put
from estatechain.contract.records import DateRange, Method, Seizure, SeizureKind, fields
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rule import Rule
from estatechain.contract.rules.guard import guarded
from estatechain.contract.seizure_queue import pending_or_in_effect, unit_seizures, window_of
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate


def register(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """Record a delivered seizure order; it queues behind any seizure in effect or queued."""
    body = command.body
    unit_number = body.get("unit_number")
    if rejected := check_v1_unit_number(unit_number):
        return rejected
    unit = load_unit(view, str(unit_number))
    if isinstance(unit, Rejected):
        return unit
    term = DateRange(start=fields.text(body, "start_date", max_len=10), end=fields.text(body, "end_date", max_len=10))
    if rejected := check_v11_term(term, "term", filed_day=None):
        return rejected
    existing = unit_seizures(view, unit.unit_number)
    seizure = Seizure(
        seizure_id=ctx.tx_id, unit_number=unit.unit_number, authority_org=ctx.signer_org,
        order_no=fields.text(body, "order_no", max_len=100),
        kind=SeizureKind(fields.choice(body, "kind", frozenset(SeizureKind))), start_date=term.start,
        end_date=term.end, queue_order=max((s.queue_order for s in existing), default=0) + 1,
        queued=pending_or_in_effect(view, unit.unit_number, ctx.block_time_ms), delivered_ms=ctx.block_time_ms,
        source_txs=(ctx.tx_id,),
    )
    maximum = [m.mortgage_id for m in current_mortgages(view, unit.unit_number) if m.method is Method.MAXIMUM]
    affected: list[JSON] = list(maximum)
    return Accepted(effects=(
        Put(key=keys.seizure(seizure.seizure_id), value=seizure.to_json()),
        Put(key=keys.unit_seizure(seizure.unit_number, seizure.queue_order, seizure.seizure_id),
            value={"seizure_id": seizure.seizure_id}),
        Emit(name="seizure.recorded", data={"seizure_id": seizure.seizure_id, "unit_number": seizure.unit_number,
                                            "queued": seizure.queued, "maximum_mortgages": affected}),
    ))


def _own_live(view: StateView, ctx: BlockContext, command: Command) -> Seizure | Rejected:
    """The named seizure, delivered by the signer's authority and not yet ended (released or lapsed)."""
    seizure_id = fields.ident(command.body, "seizure_id")
    record = view.get(keys.seizure(seizure_id))
    if record is None:
        return violate(RejectionCode.RECORD_NOT_FOUND, field="seizure_id", kind="seizure", id=seizure_id)
    seizure = Seizure.from_json(record)
    if seizure.authority_org != ctx.signer_org:
        return violate(RejectionCode.SEIZURE_NOT_OWN, seizure_id=seizure_id, authority=seizure.authority_org)
    if seizure.released_ms is not None:
        return violate(RejectionCode.SEIZURE_ENDED, seizure_id=seizure_id, problem="released")
    window = window_of(view, seizure)
    if window is not None and window.end_ms <= ctx.block_time_ms:
        return violate(RejectionCode.SEIZURE_ENDED, seizure_id=seizure_id, problem="its term lapsed")
    return seizure


def release(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """解封: the seizure ends now; the next queued one takes effect from this moment."""
    seizure = _own_live(view, ctx, command)
    if isinstance(seizure, Rejected):
        return seizure
    released = replace(seizure, released_ms=ctx.block_time_ms,
                       release_order_no=fields.text(command.body, "order_no", max_len=100),
                       source_txs=(*seizure.source_txs, ctx.tx_id))
    return Accepted(effects=(
        Put(key=keys.seizure(seizure.seizure_id), value=released.to_json()),
        Emit(name="seizure.released", data={"seizure_id": seizure.seizure_id, "unit_number": seizure.unit_number}),
    ))


def renew(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """续封: a later end date delivered before the term lapsed (查封规定 27, recalled wording)."""
    seizure = _own_live(view, ctx, command)
    if isinstance(seizure, Rejected):
        return seizure
    end_date = fields.text(command.body, "end_date", max_len=10)
    new_end, old_end = parse_iso_date(end_date), parse_iso_date(seizure.end_date)
    if new_end is None:
        return violate(RejectionCode.V11_DATE_INVALID, field="end_date", value=end_date)
    if old_end is not None and new_end <= old_end:
        return violate(RejectionCode.V11_TERM_INVALID, field="end_date", start=seizure.start_date, end=end_date,
                       problem="a renewal must end after the current end date")
    renewed = replace(seizure, end_date=end_date, renewals=seizure.renewals + 1,
                      source_txs=(*seizure.source_txs, ctx.tx_id))
    return Accepted(effects=(Put(key=keys.seizure(seizure.seizure_id), value=renewed.to_json()),))


AUTHORITIES: Final = frozenset({"court", "state_organ"})

RULES: Final = {
    "seizure.register": Rule(roles=AUTHORITIES, decide=guarded(register)),
    "seizure.release": Rule(roles=AUTHORITIES, decide=guarded(release)),
    "seizure.renew": Rule(roles=AUTHORITIES, decide=guarded(renew)),
}
