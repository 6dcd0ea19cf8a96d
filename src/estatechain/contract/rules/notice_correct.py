"""Correction (更正) of a pre-sale mortgage notice, on application and ex officio (domain.md §5.8; 细则 79-81).

A correction fixes an entry that does not match what it was recorded from (wrong ID digits, a
mistyped amount, a wrong contract number); it is not a way to change an agreement (that is §5.6).
V20: the correction names each field with its old (as registered) and new value; its evidence is a
document the entry was recorded from — the cited hash must be a material of the application behind
the entry, so an agreed term cannot be "corrected" with a new agreement [A: the registry's check of
the document's content happens off the ledger]; and nothing may have been registered on the unit
after the entry (a disposition, notice or seizure), since third parties rely on it.

On application: by the holder (right holder) or an interested party with proof of interest, filed
through the lifecycle. Ex officio (``mortgage_notice.correct_ex_officio``): the registry notified
the parties to apply within 30 working days, then published the correction for 15 working days; the
recorder states those dates. The contract counts both spans in working days by the holiday calendar in
force at the block (``working_days``: Monday-Friday, minus holidays, plus adjusted working days; the
notification day itself not counted): publication begins after the 30th working day following the
notification and covers at least 15 working days, and it has ended before the block's day.
Either way a new entry with a ``corrects`` link is written (never an overwrite), a new certificate is
issued and the old one verifies as CORRECTED.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from estatechain.contract import keys
from estatechain.contract.certificate_number import CertificateKind
from estatechain.contract.certificates import new_certificate, next_number
from estatechain.contract.checks.materials import check_v24_complete
from estatechain.contract.checks.notices import current_notices
from estatechain.contract.checks.parties import check_filer
from estatechain.contract.checks.register import current_mortgages
from estatechain.contract.checks.terms import check_v11_term
from estatechain.contract.civil_date import iso_date, parse_iso_date, shanghai_day
from estatechain.contract.command import Accepted, Command, Outcome, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Effect, Emit, Record
from estatechain.contract.money import valid_amount
from estatechain.contract.records import Application, Capacity, CertificateStatus, FieldError, Notice, fields
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rule import Rule
from estatechain.contract.rules.business import BusinessType
from estatechain.contract.rules.guard import guarded
from estatechain.contract.rules.notice_entry import find, successor_entry, supersede
from estatechain.contract.seizure_queue import unit_seizures
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate
from estatechain.contract.working_days import WorkingDays

NAME: Final = "mortgage_notice.correct"
CORRECTABLE: Final = frozenset({"amount", "debt_term", "determination_period", "contract_numbers", "scope",
                                "holders", "obligors"})
NOTIFY_WORKING_DAYS: Final = 30
"""Working days the notified parties have to apply before the registry may publish (细则 81)."""
PUBLISH_WORKING_DAYS: Final = 15
"""Working days the correction is published before the registry corrects (细则 81)."""
MAX_HISTORY: Final = 50
"""Versions of an entry searched for the documents it was recorded from (a bound, not a legal limit)."""


def _v20(problem: str, field: str = "details.corrections") -> Rejected:
    return violate(RejectionCode.V20_CORRECTION_INVALID, field=field, problem=problem)


def _later_registration(view: StateView, notice: Notice) -> str | None:
    """What was registered on the unit after the entry, if anything (a seizure, notice or mortgage)."""
    after = notice.registered_ms
    for seizure in unit_seizures(view, notice.unit_number):
        if seizure.delivered_ms > after:
            return f"seizure {seizure.seizure_id}"
    for other in current_notices(view, notice.unit_number):
        if other.notice_id != notice.notice_id and other.registered_ms > after:
            return f"notice {other.notice_id}"
    for mortgage in current_mortgages(view, notice.unit_number):
        if mortgage.registered_ms > after:
            return f"mortgage {mortgage.mortgage_id}"
    return None


def recorded_from(view: StateView, notice: Notice) -> frozenset[str]:
    """Hashes of the materials of every application the entry and its earlier versions were recorded from."""
    hashes: set[str] = set()
    entry: Notice | None = notice
    for _ in range(MAX_HISTORY):
        if entry is None:
            break
        record = view.get(keys.application(entry.business_no))
        materials = record.get("materials") if record is not None else None
        if isinstance(materials, list):
            hashes |= {str(m.get("sha256")) for m in materials if isinstance(m, dict)}
        previous = None if entry.previous is None else view.get(entry.previous)
        entry = None if previous is None else Notice.from_json(previous)
    return frozenset(hashes)


def _evidence_problem(view: StateView, notice: Notice, evidence: str) -> str | None:
    if evidence not in recorded_from(view, notice):
        return ("no evidence of an entry error: the cited document is not one the entry was recorded from "
                "(to change an agreed term, apply for a change)")
    return None


def _apply(notice: Notice, body: Record, field: str) -> dict[str, JSON] | Rejected:
    """The stored form with each named field's old value checked and replaced by the new one."""
    data = dict(notice.to_json())
    for index, item in enumerate(fields.objects(body, "corrections", field, low=1, high=len(CORRECTABLE))):
        name = fields.text(item, "field", f"{field}corrections[{index}].", max_len=32)
        problem = None
        if name not in CORRECTABLE:
            problem = f"field {name} cannot be corrected"
        elif item.get("old") != data.get(name):
            problem = f"the register does not show the stated old value of {name}"
        elif item.get("new") == item.get("old"):
            problem = f"the new value of {name} equals the old one"
        if problem is not None:
            return _v20(problem, f"{field}corrections[{index}]")
        data[name] = item.get("new")
    return data


def _decode(data: Record, field: str) -> Notice | Rejected:
    """The corrected entry, with V9 and V11 on its new values."""
    try:
        fixed = Notice.from_json(data)
    except FieldError as error:
        return _v20(f"{error.field} {error.problem}")
    if not valid_amount(fixed.amount.fen):
        return violate(RejectionCode.V9_AMOUNT_INVALID, field=f"{field}corrections", field_name="amount")
    for name, term in (("debt_term", fixed.debt_term), ("determination_period", fixed.determination_period)):
        if term is not None and (rejected := check_v11_term(term, name, filed_day=None)):
            return rejected
    return fixed


def corrected(view: StateView, notice: Notice, body: Record, field: str) -> Notice | Rejected:
    """V20 (and V9/V11 on new values): the notice with the corrections applied, same id."""
    data = _apply(notice, body, field)
    if isinstance(data, Rejected):
        return data
    evidence = fields.hex64(body, "error_evidence_sha256", field)
    if problem := _evidence_problem(view, notice, evidence):
        return _v20(problem, f"{field}error_evidence_sha256")
    if later := _later_registration(view, notice):
        return _v20(f"{later} was registered on the unit after the entry")
    return _decode(data, field)


def required_materials(application: Application) -> frozenset[str]:
    """Application form and proof of the error; an interested party adds proof of its interest (细则 79)."""
    interest = ("INTEREST_PROOF",) if application.parties(Capacity.INTERESTED) else ()
    return frozenset({"APPLICATION_FORM", "ERROR_PROOF", *interest})


def check_filing(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """The filer is an applicant; materials (V24)."""
    return (check_filer(view, ctx, application, (Capacity.MORTGAGEE, Capacity.MORTGAGOR, Capacity.INTERESTED))
            or check_v24_complete(application.materials, required_materials(application)))


def _target(view: StateView, ctx: BlockContext, application: Application) -> tuple[Notice, Notice] | Rejected:
    found = find(view, ctx, application.details, application.unit_number)
    if isinstance(found, (str, Rejected)):
        return found if isinstance(found, Rejected) else _v20(found, "details.certificate_number")
    holders = application.party_ids(Capacity.MORTGAGEE)
    if holders != found.holder_ids() and not application.parties(Capacity.INTERESTED):
        return _v20("the holders (or an interested party with proof) must apply", "applicants")
    fixed = corrected(view, found, application.details, "details.")
    return fixed if isinstance(fixed, Rejected) else (found, fixed)


def blocking(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """V20 at this block."""
    found = _target(view, ctx, application)
    return found if isinstance(found, Rejected) else None


def _effects(  # noqa: PLR0913  (the new entry's id, certificate and sources differ by path)
    view: StateView, ctx: BlockContext, pair: tuple[Notice, Notice], *, new_id: str, certificate: str,
    source_txs: tuple[str, ...],
) -> tuple[Effect, ...]:
    old, fixed = pair
    new = replace(successor_entry(fixed, new_id, ctx, certificate, source_txs), registration_type="500",
                  corrects=keys.notice(old.notice_id))
    return (*supersede(view, ctx, old, new, CertificateStatus.CORRECTED),
            Emit(name="notice.corrected", data={"notice_id": new.notice_id, "corrects": old.notice_id,
                                                "certificate_number": certificate}))


def record(view: StateView, ctx: BlockContext, application: Application, certificate: str | None) -> tuple[Effect, ...]:
    """The corrected entry (``corrects`` → the wrong one), a new certificate; the old one CORRECTED."""
    pair = _target(view, ctx, application)
    assert isinstance(pair, tuple)  # ``blocking`` ran again in this tx
    assert certificate is not None
    return _effects(view, ctx, pair, new_id=application.application_id, certificate=certificate,
                    source_txs=(*application.source_txs, ctx.tx_id))


FILERS: Final = frozenset({"bank.operator", "developer", "person"})
"""Who may file a correction: whoever acts for an applicant ``check_filing`` admits (细则 79: the right holder,
or an interested party with proof of interest). The mortgagee's bank, the buyer (the mortgagor, or an
interested person) with their own key, and a developer or another bank applying as an interested party; a
filer acting for none of the applicants is still ``FILER_NOT_APPLICANT``."""

CORRECT: Final = BusinessType(
    name=NAME, required_materials=required_materials, check_filing=check_filing, blocking=blocking, record=record,
    issues_certificate=True, result_key=lambda _view, _ctx, application: keys.notice(application.application_id),
    filers=FILERS,
)


def _procedure_problem(view: StateView, body: Record, today: int) -> str | None:
    """The ex-officio notification and publication dates, in order and long enough, publication over."""
    days = [parse_iso_date(body.get(name)) for name in ("notified_on", "published_from", "published_to")]
    notified, start, stop = days
    if notified is None or start is None or stop is None:
        return "notified_on, published_from and published_to must be valid dates"
    if start > stop:
        return "published_from is after published_to"
    if stop >= today:
        return "the publication has not ended"
    working = WorkingDays(view)
    if start <= (last_to_apply := working.add(notified, NOTIFY_WORKING_DAYS)):
        return (f"the parties' 30 working days to apply ran until {iso_date(last_to_apply)}; "
                "publication may begin only after that")
    if stop < (last_published := working.last_of_span(start, PUBLISH_WORKING_DAYS)):
        return f"the publication did not last 15 working days (they end on {iso_date(last_published)})"
    return None


def correct_ex_officio(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """依职权更正 after notification and publication (细则 81): V20, a new entry and certificate."""
    body = command.body
    if (problem := _procedure_problem(view, body, shanghai_day(ctx.block_time_ms))) is not None:
        return _v20(problem, "published_to")
    found = find(view, ctx, body, fields.text(body, "unit_number", max_len=28), prefix="")
    if isinstance(found, (str, Rejected)):
        return found if isinstance(found, Rejected) else _v20(found, "certificate_number")
    fixed = corrected(view, found, body, "")
    if isinstance(fixed, Rejected):
        return fixed
    number, sequence = next_number(view, ctx, CertificateKind.PROOF)
    return Accepted(effects=(*_effects(view, ctx, (found, fixed), new_id=ctx.tx_id, certificate=number,
                                       source_txs=(ctx.tx_id,)), *sequence,
                             new_certificate(number, keys.notice(ctx.tx_id), None, ctx)))


RULES: Final = {
    "mortgage_notice.correct_ex_officio": Rule(roles=frozenset({"registry.recorder"}),
                                               decide=guarded(correct_ex_officio)),
}
