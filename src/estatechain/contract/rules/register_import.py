"""``register.import``: the registry enters its existing register in bulk (design §3.15).

Many records per transaction, each row resting on that transaction: units, ownership rights,
existing mortgages and advance notices (with their legacy ranks and certificate numbers) and
seizures. Title numbers of imported ownership rights are indexed as title certificates when they are
in the Guangzhou format, so an inquiry can find a unit by its title number (§7). Every record is
validated as a filing would be (V1 unit numbers, shares adding up, V4 certificate numbers) and any
record that already exists refuses the whole transaction, so a re-run import changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from estatechain.contract import keys
from estatechain.contract.certificate_number import CertificateKind, parse
from estatechain.contract.checks.unit import check_v1_unit_number, current_ownership
from estatechain.contract.civil_date import shanghai_year
from estatechain.contract.command import Accepted, Command, Outcome, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Effect, Put, Record
from estatechain.contract.records import (
    Certificate,
    CertificateStatus,
    FieldError,
    Mortgage,
    Notice,
    OwnershipRight,
    Seizure,
    Unit,
    fields,
    shares_complete,
)
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rule import Rule
from estatechain.contract.rules.guard import guarded
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

MAX_RECORDS: Final = 2000
"""Records per import transaction [A]: large enough for bulk loads, small enough for one block."""


class _Batch:
    """The rows of one import, checked for duplicates against state and against each other."""

    def __init__(self, view: StateView, ctx: BlockContext) -> None:
        self.view, self.ctx = view, ctx
        self.effects: list[Effect] = []
        self.written: set[str] = set()
        self.owned_units: set[str] = set()

    def fresh(self, key: str, kind: str, record_id: str) -> Rejected | None:
        if key in self.written or self.view.get(key) is not None:
            return violate(RejectionCode.RECORD_EXISTS, kind=kind, id=record_id)
        return None

    def put(self, key: str, value: Record) -> None:
        self.written.add(key)
        self.effects.append(Put(key=key, value=value))

    def has_unit(self, unit_number: str) -> bool:
        key = keys.unit(unit_number)
        return key in self.written or self.view.get(key) is not None


def _stamped(item: Record, ctx: BlockContext, **extra: JSON) -> dict[str, JSON]:
    """The record as imported, with the fields the contract sets itself."""
    return {**item, **extra, "source_txs": [ctx.tx_id]}


def _unit(batch: _Batch, item: Record, field: str) -> Rejected | None:
    unit = Unit.from_json(_stamped(item, batch.ctx, registry=batch.ctx.signer_org), field)
    if rejected := check_v1_unit_number(unit.unit_number, f"{field}unit_number"):
        return rejected
    if rejected := batch.fresh(keys.unit(unit.unit_number), "unit", unit.unit_number):
        return rejected
    batch.put(keys.unit(unit.unit_number), unit.to_json())
    return None


def _known_unit(batch: _Batch, unit_number: str, field: str) -> Rejected | None:
    if not batch.has_unit(unit_number):
        return violate(RejectionCode.V3_UNIT_NOT_FOUND, field=f"{field}unit_number", unit_number=unit_number)
    return None


def _ownership(batch: _Batch, item: Record, field: str) -> Rejected | None:
    right = OwnershipRight.from_json(_stamped(item, batch.ctx, status="current"), field)
    if not shares_complete(right):
        raise FieldError(f"{field}holders", "shares must add up to exactly 1")
    if rejected := _known_unit(batch, right.unit_number, field):
        return rejected
    index = keys.unit_ownership(right.unit_number, right.right_id)
    if right.unit_number in batch.owned_units or current_ownership(batch.view, right.unit_number) is not None:
        return violate(RejectionCode.RECORD_EXISTS, kind="current ownership right of unit", id=right.unit_number)
    if rejected := batch.fresh(keys.ownership(right.right_id), "ownership right", right.right_id):
        return rejected
    batch.owned_units.add(right.unit_number)
    batch.put(keys.ownership(right.right_id), right.to_json())
    batch.put(index, {"right_id": right.right_id})
    return _certificate(batch, right.title_number, CertificateKind.TITLE, keys.ownership(right.right_id),
                        right_registered_ms(item), strict=False)


def right_registered_ms(item: Record) -> int:
    """The recording time an imported row states (``registered_ms``), 0 when the import does not say."""
    value = item.get("registered_ms")
    return value if type(value) is int and value >= 0 else 0


def _certificate(  # noqa: PLR0913  (one keyword per certificate field the import sets)
    batch: _Batch, number: str, kind: CertificateKind, right: str, recorded_ms: int, *, field: str = "",
    strict: bool = True,
) -> Rejected | None:
    """The certificate record of an imported number; a title in another registry's format is kept unindexed."""
    parsed = parse(number, kind, shanghai_year(batch.ctx.block_time_ms))
    if isinstance(parsed, str):
        if not strict:
            return None
        return violate(RejectionCode.V4_CERTIFICATE_NUMBER_INVALID, field=f"{field}certificate_number",
                       number=number, expected=kind.value, problem=parsed)
    key = (keys.certificate if kind is CertificateKind.PROOF else keys.title_certificate)(parsed.year, parsed.serial)
    if rejected := batch.fresh(key, "certificate", number):
        return rejected
    certificate = Certificate(number=number, right=right, application_id=None, status=CertificateStatus.VALID,
                              recorded_ms=recorded_ms, source_txs=(batch.ctx.tx_id,))
    batch.put(key, certificate.to_json())
    return None


def _ranked(batch: _Batch, entry: Mortgage | Notice, field: str) -> Rejected | None:
    """Store an existing mortgage or advance notice, its per-unit rank index row and its certificate."""
    if isinstance(entry, Mortgage):
        kind, entry_id = "mortgage", entry.mortgage_id
        key, index = keys.mortgage(entry_id), keys.unit_mortgage(entry.unit_number, entry.priority_key, entry_id)
    else:
        kind, entry_id = "notice", entry.notice_id
        key, index = keys.notice(entry_id), keys.unit_notice(entry.unit_number, entry.priority_key, entry_id)
    if rejected := _known_unit(batch, entry.unit_number, field):
        return rejected
    if rejected := batch.fresh(key, kind, entry_id):
        return rejected
    batch.put(key, entry.to_json())
    batch.put(index, {f"{kind}_id": entry_id})
    if entry.certificate_number is None:
        return None
    return _certificate(batch, entry.certificate_number, CertificateKind.PROOF, key, entry.registered_ms, field=field)


def _legacy_priority(item: Record, field: str) -> str:
    """Imported entries rank by the ``rank`` they had in the old register, ahead of everything filed later [A]."""
    return f"L{fields.integer(item, 'rank', field, low=1, high=999):04d}"


def _mortgage(batch: _Batch, item: Record, field: str) -> Rejected | None:
    stamped = _stamped(item, batch.ctx, status="current", priority_key=_legacy_priority(item, field))
    return _ranked(batch, Mortgage.from_json(stamped, field), field)


def _notice(batch: _Batch, item: Record, field: str) -> Rejected | None:
    """An existing advance notice (purchase or 预抵押); its ``rank`` gives its legacy priority key like a mortgage's."""
    stamped = _stamped(item, batch.ctx, status="current", priority_key=_legacy_priority(item, field))
    return _ranked(batch, Notice.from_json(stamped, field), field)


def _seizure(batch: _Batch, item: Record, field: str) -> Rejected | None:
    seizure = Seizure.from_json(_stamped(item, batch.ctx), field)
    if rejected := _known_unit(batch, seizure.unit_number, field):
        return rejected
    index = keys.unit_seizure(seizure.unit_number, seizure.queue_order, seizure.seizure_id)
    if rejected := batch.fresh(keys.seizure(seizure.seizure_id), "seizure", seizure.seizure_id):
        return rejected
    batch.put(keys.seizure(seizure.seizure_id), seizure.to_json())
    batch.put(index, {"seizure_id": seizure.seizure_id})
    return None


ImportedRecord = Unit | OwnershipRight | Mortgage | Notice | Seizure
"""What one row of an import section decodes to."""

_SECTIONS: Final[tuple[tuple[str, type[ImportedRecord], Callable[[_Batch, Record, str], Rejected | None]], ...]] = (
    ("units", Unit, _unit), ("ownerships", OwnershipRight, _ownership), ("mortgages", Mortgage, _mortgage),
    ("notices", Notice, _notice), ("seizures", Seizure, _seizure),
)
"""Sections in dependency order: a record may refer to units of the same transaction."""

RECORD_KINDS: Final[Mapping[str, type[ImportedRecord]]] = {name: record for name, record, _ in _SECTIONS}
"""The sections an import body may carry, in the order they are written, with the record each row decodes to.

Public so that what reads an import outside the contract (the evidence report, docs/formats.md's
test) follows the rule rather than a copy of its list.
"""


def import_records(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """Validate and write every record of the batch, or refuse the whole batch."""
    batch = _Batch(view, ctx)
    total = 0
    for name, _, handle in _SECTIONS:
        items = fields.objects(command.body, name, high=MAX_RECORDS) if name in command.body else ()
        total += len(items)
        if total > MAX_RECORDS:
            raise FieldError(name, f"an import carries at most {MAX_RECORDS} records")
        for index, item in enumerate(items):
            if rejected := handle(batch, item, f"{name}[{index}]."):
                return rejected
    if not batch.effects:
        raise FieldError("units", "an import must carry at least one record")
    return Accepted(effects=tuple(batch.effects))


RULES: Final = {"register.import": Rule(roles=frozenset({"registry.admin"}), decide=guarded(import_records))}
