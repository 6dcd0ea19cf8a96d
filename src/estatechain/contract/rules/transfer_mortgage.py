"""带押过户 with the buyer's new loan: ownership transfer and the new owner's mortgage as one atomic case.

Registries handle a sale of a mortgaged unit financed by a new loan as one combined case (转移 +
抵押): the transfer that carries the existing mortgages along (民法典 406, ``ownership_transfer``) and
the first registration of the buyer's mortgage (§5.2) are filed, confirmed, reviewed and recorded
together (domain.md §5.10: "Model 带押过户 as one atomic combined case"; §5.2: the transfer is recorded
first in the same case) [S: local registry guides; A for the shape here].

The filing carries the transfer's details (cause, the seller's title number, the buyers' holdings)
and under ``details.mortgage`` the new mortgage's particulars as for ``mortgage.first`` plus
``mortgagees``: which applicants in capacity ``mortgagee`` lend the new money (an existing mortgagee
that must co-sign the transfer is a ``mortgagee`` applicant too, and may be the same bank). The
mortgagors of the new mortgage are the transferees. Filed by the new lender's bank.

Every check of both parts runs at filing, review and recording: the transfer's against the register,
the mortgage's against the register as the transfer would leave it (``OverlayView``), so V6 sees
the buyers as owners and V4 the title number the transfer will draw. Recording writes both parts in
one transaction or nothing: the new title (不动产权证书, the case's own certificate) and the mortgage's
registration certificate (不动产登记证明), issued separately by naming it in ``application.issue``.
The new mortgage ranks after the mortgages the unit carries (acceptance order, 细则 67).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Final

from estatechain.contract import keys
from estatechain.contract.certificate_number import CertificateKind
from estatechain.contract.certificates import new_certificate, next_number
from estatechain.contract.checks.materials import check_v24_complete
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Effect, Emit
from estatechain.contract.records import Application, AppState, Capacity, FieldError, Mortgage, fields
from estatechain.contract.rules import mortgage, ownership_transfer
from estatechain.contract.rules.business import BusinessType
from estatechain.contract.view import OverlayView, StateView

NAME: Final = "ownership.transfer_mortgage"
MORTGAGE: Final = "mortgage"
LOAN_PARTIES: Final = frozenset({Capacity.DEBTOR, Capacity.SPOUSE})
"""Capacities that belong to the new loan only (a third-party debtor, the buyer's spouse)."""
MORTGAGE_ISSUED: Final = "issued_second"
"""The step an issue of the new mortgage's certificate records (``registration.issue``); the case's
own certificate, the title, records ``issued``."""
_RECORDED: Final = frozenset({AppState.RECORDED.value, AppState.CERTIFIED.value})


def transfer_part(application: Application) -> Application:
    """The case as an ``ownership.transfer`` application: its details without the mortgage."""
    if _cause(application) == "PRESALE":
        raise FieldError("details.cause", "must be SALE, JUDGMENT or OTHER (预告转本 is ownership.transfer)")
    details = {name: value for name, value in application.details.items() if name != MORTGAGE}
    applicants = tuple(a for a in application.applicants if a.capacity not in LOAN_PARTIES)
    return replace(application, business_type=ownership_transfer.NAME, details=details, applicants=applicants)


def mortgage_part(application: Application, title_number: str) -> Application:
    """The case as a ``mortgage.first`` application by the transferees, on the title the transfer draws."""
    terms = fields.obj(application.details.get(MORTGAGE), f"details.{MORTGAGE}")
    lenders = frozenset(fields.hex64({"p": item}, "p", f"details.{MORTGAGE}.mortgagees.")
                        for item in fields.texts(terms, "mortgagees", f"details.{MORTGAGE}.", high=5))
    if not lenders or not lenders <= application.party_ids(Capacity.MORTGAGEE):
        raise FieldError(f"details.{MORTGAGE}.mortgagees", "must name one or more applicants in capacity mortgagee")
    applicants = tuple(
        replace(a, capacity=Capacity.MORTGAGOR)
        if a.capacity is Capacity.TRANSFEREE else a
        for a in application.applicants
        if a.capacity in {Capacity.TRANSFEREE, *LOAN_PARTIES}
        or (a.capacity is Capacity.MORTGAGEE and a.party.party_id in lenders))
    details = {**{name: value for name, value in terms.items() if name != "mortgagees"}, "title_number": title_number}
    return replace(application, business_type=mortgage.NAME, details=details, applicants=applicants)


def _cause(application: Application) -> str:
    return fields.choice(application.details, "cause", frozenset(ownership_transfer.CAUSE_MATERIAL), "details.")


def required_materials(application: Application) -> frozenset[str]:
    """The transfer's materials and the new mortgage's (application form, tax, sale contract, loan contract …)."""
    return (ownership_transfer.required_materials(transfer_part(application))
            | mortgage.required_materials(mortgage_part(application, "-")))


def check_filing(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """Every missing material of both parts at once (条例 17), then both parts' filing checks.

    Parties and holdings, the filer acts for an applicant and for a new lender, terms (V9-V12).
    """
    return (check_v24_complete(application.materials, required_materials(application))
            or ownership_transfer.check_filing(view, ctx, transfer_part(application))
            or mortgage.check_filing(view, ctx, mortgage_part(application, "-")))


def _after_transfer(
    view: StateView, ctx: BlockContext, application: Application, title: str, sequence: tuple[Effect, ...],
) -> tuple[tuple[Effect, ...], OverlayView, Application]:
    """The transfer's writes, the register as they leave it, and the mortgage part on the new title."""
    writes = (*ownership_transfer.record(view, ctx, transfer_part(application), title), *sequence)
    return writes, OverlayView(view, writes), mortgage_part(application, title)


def blocking(view: StateView, ctx: BlockContext, application: Application) -> Rejected | None:
    """The transfer's checks now, then the mortgage's against the register after the transfer."""
    if rejected := ownership_transfer.blocking(view, ctx, transfer_part(application)):
        return rejected
    title, sequence = next_number(view, ctx, CertificateKind.TITLE)
    _, after, loan = _after_transfer(view, ctx, application, title, sequence)
    return mortgage.blocking(after, ctx, loan)


def record(view: StateView, ctx: BlockContext, application: Application, title: str | None) -> tuple[Effect, ...]:
    """The transfer under ``title``, then the buyers' mortgage with its own registration certificate."""
    assert title is not None  # a certificate-issuing type: the lifecycle drew the new title's number
    writes, after, loan = _after_transfer(view, ctx, application, title, ())
    proof, sequence = next_number(after, ctx, CertificateKind.PROOF)
    mortgage_key = keys.mortgage(application.application_id)
    return (*writes, *mortgage.record(after, ctx, loan, proof), *sequence,
            new_certificate(proof, mortgage_key, application.application_id, ctx),
            Emit(name="transfer_mortgage.recorded", data={
                "application_id": application.application_id, "unit_number": application.unit_number,
                "right": keys.ownership(application.application_id), "title_number": title,
                "mortgage": mortgage_key, "certificate_number": proof}))


def mortgage_certificate(view: StateView, application: Application) -> str | None:
    """The number of the new mortgage's 不动产登记证明 a recorded combined case drew, else None.

    The case's own number is the buyers' title (``Application.certificate_number``); the mortgage's
    stands on its entry, keyed by the application id, which keeps it when a later change makes the
    entry historic (a change creates a new entry).
    """
    if application.business_type != NAME or application.state.value not in _RECORDED:
        return None
    row = view.get(keys.mortgage(application.application_id))
    return None if row is None else Mortgage.from_stored(row).certificate_number


def mortgage_certificate_pending(business_type: str, state: str, steps: Mapping[str, object]) -> bool:
    """Whether a recorded combined case still waits for its mortgage's certificate to be issued.

    Read from the application record alone (its type, stored state and steps), as the desks' index
    holds it: the issue of the mortgage's certificate records ``MORTGAGE_ISSUED``. The title may have
    been issued before it (state CERTIFIED); the case is finished only once the bank's is issued too.
    """
    return business_type == NAME and state in _RECORDED and MORTGAGE_ISSUED not in steps


TRANSFER_MORTGAGE: Final = BusinessType(
    name=NAME, required_materials=required_materials, check_filing=check_filing, blocking=blocking, record=record,
    issues_certificate=True, certificate_kind=CertificateKind.TITLE,
    result_key=lambda _view, _ctx, application: keys.ownership(application.application_id),
)
