"""The desks: bank clerk (cases, new filing), owner (awaiting confirmation), registry (queues).

Each desk lists only what its account may see (``cases.py``). The bank's new filing form looks the
unit up by its number and shows the register's current entries before anything is filed; the filing
itself goes through the confirmation page like every signed step.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request, Response

from estatechain.contract.records.application import AppState
from estatechain.web import cases as queries
from estatechain.web.filing import MATERIALS, Filing, filing_body, read_form, store_materials
from estatechain.web.i18n import N_
from estatechain.web.pages import redirect, render
from estatechain.web.portal import (
    CheckedForm,
    Member,
    PortalDep,
    PortalProblem,
    PortalRoute,
    material_store,
    viewer_of,
)

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

REGISTRY_QUEUES: Final = {"registry.intake": AppState.CONFIRMED, "registry.reviewer": AppState.ACCEPTED,
                          "registry.recorder": AppState.APPROVED, "registry.issuer": AppState.RECORDED}
"""Which state's cases each registry role works on."""


def _require(session_role: str, prefix: str) -> None:
    if not session_role.startswith(prefix):
        raise PortalProblem(403, N_("This desk is not for your role."))


@router.get("/bank")
async def bank_desk(session: Member, parts: PortalDep, done: str | None = None) -> Response:
    """The bank's cases with status, and those waiting for the bank's own confirmation."""
    assert session.account is not None
    _require(session.account.role, "bank.")
    store = parts.service.store
    viewer = viewer_of(parts, session.account)
    found = queries.cases(store, viewer, queries.now_ms(store, parts.service.clock.now_ms()))
    return render("bank.html", session, cases=found, awaiting=queries.awaiting(store, viewer, found), done=done)


def _filing_page(session: Member, parts: PortalDep, filing: Filing, status: int = 200) -> Response:
    unit = filing.values.get("unit_number", "")
    entries = queries.unit_entries(parts.service.store, unit) if len(unit) == 28 else None
    if unit and entries is None:
        filing.problems.setdefault("unit_number", N_("The register has no unit with this number."))
    return render("filing.html", session, status=status, filing=filing, entries=entries, materials=MATERIALS)


@router.get("/bank/new")
async def new_filing(session: Member, parts: PortalDep, unit: str = "") -> Response:
    """Look a unit up; with a unit found, its register entries and the filing form."""
    assert session.account is not None
    _require(session.account.role, "bank.operator")
    return _filing_page(session, parts, Filing(values={"unit_number": unit.strip()[:28]}))


@router.post("/bank/new")
async def file_mortgage(request: Request, session: Member, form: CheckedForm, parts: PortalDep) -> Response:
    """Check the form, keep the materials, and prepare the filing for the confirmation page."""
    assert session.account is not None
    account = session.account
    _require(account.role, "bank.operator")
    filing = read_form(form)
    store = parts.service.store
    entries = queries.unit_entries(store, filing.values["unit_number"])
    bank_party = queries.org_party(store, account.org)
    if entries is None or bank_party is None:
        filing.problems["unit_number"] = N_("The register has no unit with this number.")
        return _filing_page(session, parts, filing, status=422)
    materials = await store_materials(form, filing, material_store(request, parts), account.org)
    body = filing_body(filing, entries, bank_party, materials)
    if body is None:
        return _filing_page(session, parts, filing, status=422)
    details = body["details"]
    assert isinstance(details, dict)
    summary = [[N_("Action"), N_("File a mortgage first registration"), "t"],
               [N_("Unit number"), entries.unit.unit_number],
               [N_("Secured principal"), str(details["secured_principal_fen"]), "money"],
               [N_("Debt term"), f"{filing.values['term_start']} – {filing.values['term_end']}"],
               [N_("Loan contract"), filing.values["contract_number"]],
               [N_("Mortgagors"), str(len(body["applicants"]) - 1 if isinstance(body["applicants"], list) else 0)]]
    pending = parts.custody.prepare(handle=account.handle, chain_id=parts.service.genesis.chain_id,
                                    command="application.file", body=body, now_ms=parts.service.clock.now_ms(),
                                    summary=summary, back="/bank")
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session)


@router.get("/owner")
async def owner_desk(session: Member, parts: PortalDep, done: str | None = None) -> Response:
    """Applications naming the owner that wait for their confirmation, and all their cases."""
    assert session.account is not None
    _require(session.account.role, "person")
    store = parts.service.store
    viewer = viewer_of(parts, session.account)
    found = queries.cases(store, viewer, queries.now_ms(store, parts.service.clock.now_ms()))
    return render("owner.html", session, cases=found, awaiting=queries.awaiting(store, viewer, found), done=done)


@router.get("/registry")
async def registry_desk(session: Member, parts: PortalDep, done: str | None = None) -> Response:
    """The queue of the account's registry role, and every open case."""
    assert session.account is not None
    _require(session.account.role, "registry.")
    store = parts.service.store
    found = queries.cases(store, viewer_of(parts, session.account),
                          queries.now_ms(store, parts.service.clock.now_ms()))
    wanted = REGISTRY_QUEUES.get(session.account.role)
    queue = [c for c in found if c.state is wanted]
    return render("registry.html", session, cases=found, queue=queue, done=done)
