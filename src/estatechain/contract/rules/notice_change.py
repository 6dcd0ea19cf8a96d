"""Change (变更, §5.6) and transfer (转移, §5.7) of a pre-sale mortgage notice.

Change, kind ``party``: a holder's or obligor's name or ID changed (a bank renamed after a merger, a
buyer's new ID), so the party id changes; the affected party may apply alone (L4). Kind ``terms``:
amount, debt term, determination period, scope or method agreed anew by buyer and bank, jointly,
with the supplementary agreement [A: mirrors 细则 68]. A change that may prejudice later-ranked
holders needs their signature (V17); an increase is blocked by a seizure in effect (V13). Kind
``rank``: the notice moves ahead of an earlier-ranked one (细则 68, 民法典 409); every holder whose
rank worsens signs it (V17), and the new priority key carries into the mortgage at conversion.

Transfer: the secured claim changes creditor (assignment, merger, judgment) and the notice follows it
(民法典 407). Jointly by the current holders and the transferee, or by the successor alone with merger
documents or a judgment (L4, L7); proof that the debtor was notified (细则 69) and a transferee who
is not already a holder (V18); a maximum-amount notice is treated as undetermined and cannot be
partly transferred unless the agreed variant is declared (民法典 421) [A]. A partial transfer makes
the transferee a co-holder [A]. A seizure does not block a transfer (§5.10).

Both write a new entry with the same priority key and a new certificate; the old entry turns
historic and its certificate SUPERSEDED.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from estatechain.contract import keys
from estatechain.contract.checks.materials import check_v24_complete
from estatechain.contract.checks.notices import check_v17_later_holders, current_notices, worsens_later_holders
from estatechain.contract.checks.parties import check_filer
from estatechain.contract.checks.register import check_v13_not_seized, current_mortgages
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Effect, Emit
from estatechain.contract.money import Money
from estatechain.contract.records import (
    MORTGAGE_KINDS,
    Application,
    Capacity,
    CertificateStatus,
    FieldError,
    Method,
    Notice,
    PartyRef,
    fields,
)
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rules import mortgage
from estatechain.contract.rules.business import BusinessType
from estatechain.contract.rules.notice_entry import find, successor_entry, supersede
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

CHANGE_NAME: Final = "mortgage_notice.change"
TRANSFER_NAME: Final = "mortgage_notice.transfer"
TERM_FIELDS: Final = frozenset({"method", "secured_principal_fen", "max_claim_fen", "debt_term",
                                "determination_period", "scope"})
TRANSFER_CAUSES: Final = {"ASSIGNMENT": "ASSIGNMENT_AGREEMENT", "MERGER": "MERGER_PROOF", "JUDGMENT": "JUDGMENT"}
"""Cause of a transfer → the document proving it [A: codes are ours]."""


def _change_kind(application: Application) -> str:
    return fields.choice(application.details, "change_kind", frozenset({"party", "terms", "rank"}), "details.")


def _target(view: StateView, ctx: BlockContext, application: Application) -> Notice | Rejected:
    found = find(view, ctx, application.details, application.unit_number)
    if isinstance(found, str):
        number = str(application.details.get("certificate_number"))
        return violate(RejectionCode.RECORD_NOT_FOUND, field="details.certificate_number",
                       kind="current mortgage notice", id=f"{number} ({found})")
    return found


def terms_details(notice: Notice, changes: JSON) -> dict[str, JSON]:
    """The notice's terms as filing details, with ``changes`` applied (restate the amount when the method changes)."""
    update = dict(fields.obj(changes, "details.changes"))
    if not update or set(update) - TERM_FIELDS:
        raise FieldError("details.changes", f"must change one or more of {', '.join(sorted(TERM_FIELDS))}")
    method = notice.method or Method.ORDINARY
    amount = "secured_principal_fen" if method is Method.ORDINARY else "max_claim_fen"
    details: dict[str, JSON] = {
        "method": int(method), "scope": notice.scope or "详见抵押合同",
        "contract_numbers": list(notice.contract_numbers), "transfer_restricted": notice.transfer_restricted,
        "transfer_restriction_text": notice.transfer_restriction_text,
        "debt_term": None if notice.debt_term is None else notice.debt_term.to_json(),
        "determination_period": None if notice.determination_period is None
        else notice.determination_period.to_json(),
    }
    if "method" not in update:
        details[amount] = notice.amount.fen
    details.update(update)
    return details


def key_before(priority_key: str) -> str:
    """A priority key that sorts just before ``priority_key`` and after every key before it.

    The last character is lowered by one and ``~`` (above every digit) appended: ``P…45`` → ``P…44~``,
    which sorts after ``P…44`` and its continuations made the same way, and before ``P…45`` [A].
    """
    return f"{priority_key[:-1]}{chr(ord(priority_key[-1]) - 1)}~"


def _rank_target(view: StateView, ctx: BlockContext, application: Application, notice: Notice) -> Notice | Rejected:
    """The earlier-ranked 预抵押 on the same unit that the notice is to move ahead of (细则 68: change of rank)."""
    found = find(view, ctx, application.details, application.unit_number, number_field="rank_before")
    if isinstance(found, str):
        return violate(RejectionCode.RECORD_NOT_FOUND, field="details.rank_before", kind="current mortgage notice",
                       id=f"{application.details.get('rank_before')} ({found})")
    if isinstance(found, Notice) and found.priority_key >= notice.priority_key:
        raise FieldError("details.rank_before", "must name a notice ranked before this one")
    return found


def check_v17_rank(view: StateView, application: Application, notice: Notice, ahead_of: Notice) -> Rejected | None:
    """V17: every holder whose rank worsens (from ``ahead_of`` up to the moved notice) signs the rank change."""
    worse: set[str] = set()
    for other in current_notices(view, notice.unit_number):
        if other.kind in MORTGAGE_KINDS and ahead_of.priority_key <= other.priority_key < notice.priority_key:
            worse |= other.holder_ids()
    for entry in current_mortgages(view, notice.unit_number):
        if ahead_of.priority_key <= entry.priority_key < notice.priority_key:
            worse |= entry.mortgagee_ids()
    if missing := ", ".join(sorted(worse - application.applicant_ids())):
        return violate(RejectionCode.V17_CONSENT_MISSING, missing=missing)
    return None


def changed_entry(notice: Notice, application: Application, ahead_of: Notice | None = None) -> Notice:
    """The notice with the filed change applied (id and certificate still the old ones)."""
    if ahead_of is not None:
        return replace(notice, priority_key=key_before(ahead_of.priority_key))
    if _change_kind(application) == "party":
        change = fields.obj(application.details.get("party"), "details.party")
        old, new = fields.hex64(change, "old", "details.party."), fields.hex64(change, "new", "details.party.")
        swap = tuple(PartyRef(party_id=new) if p.party_id == old else p for p in (*notice.holders, *notice.obligors))
        return replace(notice, holders=swap[:len(notice.holders)], obligors=swap[len(notice.holders):])
    terms = mortgage.terms_of(terms_details(notice, application.details.get("changes")))
    amount = terms.secured_principal or terms.max_claim
    assert isinstance(amount, Money)  # V10 ran on the same details
    return replace(notice, method=terms.method, amount=amount, debt_term=terms.debt_term,
                   determination_period=terms.determination_period, scope=terms.scope)


def change_materials(application: Application) -> frozenset[str]:
    """The proof of the new name or ID, or the supplementary agreement."""
    proof = "NAME_CHANGE_PROOF" if _change_kind(application) == "party" else "SUPPLEMENTARY_AGREEMENT"
    return frozenset({"APPLICATION_FORM", proof})


def change_filing(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """The filer is an applicant (bank or buyer); materials (V24)."""
    _change_kind(application)
    return (check_filer(view, ctx, application, (Capacity.MORTGAGEE, Capacity.MORTGAGOR))
            or check_v24_complete(application.materials, change_materials(application)))


def _party_blocking(notice: Notice, application: Application) -> None:
    change = fields.obj(application.details.get("party"), "details.party")
    old, new = fields.hex64(change, "old", "details.party."), fields.hex64(change, "new", "details.party.")
    if old not in notice.holder_ids() | notice.obligor_ids() or new in notice.holder_ids() | notice.obligor_ids():
        raise FieldError("details.party", "must replace a holder or obligor of the notice by a new party id")
    if new not in application.applicant_ids():
        raise FieldError("applicants", "must name the party under its new id")


def change_blocking(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """Target current (on this unit), then V9-V12 on the changed terms, V17, V13 for increases."""
    notice = _target(view, ctx, application)
    if isinstance(notice, Rejected):
        return notice
    if _change_kind(application) == "party":
        _party_blocking(notice, application)
        return None
    if (notice.holder_ids() | notice.obligor_ids()) - application.applicant_ids():
        raise FieldError("applicants", "a change of terms or rank is applied for jointly by every holder and obligor")
    if _change_kind(application) == "rank":
        ahead_of = _rank_target(view, ctx, application, notice)
        return ahead_of if isinstance(ahead_of, Rejected) else check_v17_rank(view, application, notice, ahead_of)
    return _terms_blocking(view, ctx, application, notice)


def _terms_blocking(view: StateView, ctx: BlockContext, application: Application, notice: Notice) -> Rejected | None:
    """V9-V12 on the changed terms, V17 for later holders, V13 when the change may prejudice them."""
    if rejected := mortgage.check_terms(ctx, terms_details(notice, application.details.get("changes"))):
        return rejected
    changed = changed_entry(notice, application)
    if rejected := check_v17_later_holders(view, application, notice, changed):
        return rejected
    if worsens_later_holders(notice, changed):
        return check_v13_not_seized(view, notice.unit_number, ctx.block_time_ms)
    return None


def change_record(view: StateView, ctx: BlockContext, application: Application,
                  certificate: str | None) -> tuple[Effect, ...]:
    """A new entry with the change (same priority key unless the rank changed), new certificate; old SUPERSEDED."""
    notice = _target(view, ctx, application)
    assert isinstance(notice, Notice)  # ``blocking`` ran again in this tx
    ahead_of = _rank_target(view, ctx, application, notice) if _change_kind(application) == "rank" else None
    assert not isinstance(ahead_of, Rejected)
    new = successor_entry(changed_entry(notice, application, ahead_of), application.application_id, ctx, certificate,
                          (*application.source_txs, ctx.tx_id))
    new = replace(new, registration_type="300")
    return (*supersede(view, ctx, notice, new, CertificateStatus.SUPERSEDED),
            Emit(name="notice.changed", data={"notice_id": new.notice_id, "previous": notice.notice_id,
                                              "certificate_number": certificate}))


def _cause(application: Application) -> str:
    return fields.choice(application.details, "cause", frozenset(TRANSFER_CAUSES), "details.")


def transfer_materials(application: Application) -> frozenset[str]:
    """The application form and the document of the cause; the debtor notification is V18's."""
    return frozenset({"APPLICATION_FORM", TRANSFER_CAUSES[_cause(application)]})


def transfer_filing(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """Transferees named, the filer is a holder's or transferee's bank, V18 debtor notification, V24."""
    if not application.parties(Capacity.TRANSFEREE):
        raise FieldError("applicants", "must name the transferee")
    _cause(application)
    if rejected := check_filer(view, ctx, application, (Capacity.MORTGAGEE, Capacity.TRANSFEREE)):
        return rejected
    if not any(material.type == "DEBTOR_NOTICE" for material in application.materials):
        return violate(RejectionCode.V18_TRANSFER_INVALID, field="materials",
                       problem="proof that the debtor was notified is missing (细则 69)")
    return check_v24_complete(application.materials, transfer_materials(application))


def transfer_problem(notice: Notice, application: Application) -> str | None:
    """V18 against the register: who transfers to whom, and partial transfers."""
    transferees, transferors = application.party_ids(Capacity.TRANSFEREE), application.party_ids(Capacity.MORTGAGEE)
    partial = application.details.get("partial", False) is True
    if transferees & notice.holder_ids():
        return "the transferee already holds the notice"
    if transferors - notice.holder_ids():
        return "a named transferor is not a current holder"
    if _cause(application) == "ASSIGNMENT" and notice.holder_ids() - transferors:
        return "every current holder must apply (the successor alone only with merger documents or a judgment)"
    if partial and notice.method is Method.MAXIMUM and application.details.get("agreed_variant") is None:
        return "a maximum-amount notice cannot be partly transferred before determination without an agreed variant"
    return None


def transfer_blocking(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """The target notice is current on this unit, and V18; a seizure does not block (民法典 407)."""
    found = find(view, ctx, application.details, application.unit_number)
    if isinstance(found, Rejected):
        return found
    problem = found if isinstance(found, str) else transfer_problem(found, application)
    if problem is not None:
        return violate(RejectionCode.V18_TRANSFER_INVALID, problem=problem)
    return None


def transfer_record(view: StateView, ctx: BlockContext, application: Application,
                    certificate: str | None) -> tuple[Effect, ...]:
    """New holders (co-holders for a partial transfer), same priority key, new certificate; old one SUPERSEDED."""
    notice = _target(view, ctx, application)
    assert isinstance(notice, Notice)
    transferees = tuple(a.party for a in application.parties(Capacity.TRANSFEREE))
    holders = (*notice.holders, *transferees) if application.details.get("partial") is True else transferees
    new = successor_entry(replace(notice, holders=holders), application.application_id, ctx, certificate,
                          (*application.source_txs, ctx.tx_id))
    new = replace(new, registration_type="200")
    return (*supersede(view, ctx, notice, new, CertificateStatus.SUPERSEDED),
            Emit(name="notice.transferred", data={"notice_id": new.notice_id, "previous": notice.notice_id,
                                                  "certificate_number": certificate}))


def _result(_view: StateView, _ctx: BlockContext, application: Application) -> str:
    return keys.notice(application.application_id)


CHANGE: Final = BusinessType(
    name=CHANGE_NAME, required_materials=change_materials, check_filing=change_filing, blocking=change_blocking,
    record=change_record, issues_certificate=True, result_key=_result,
    filers=frozenset({"bank.operator", "person"}),
)
TRANSFER: Final = BusinessType(
    name=TRANSFER_NAME, required_materials=transfer_materials, check_filing=transfer_filing,
    blocking=transfer_blocking, record=transfer_record, issues_certificate=True, result_key=_result,
)
