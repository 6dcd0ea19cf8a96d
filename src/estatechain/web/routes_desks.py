"""The desks: bank clerk (cases, new filing), owner (awaiting confirmation), registry (queues).

Each desk lists only what its account may see (``cases.py``). The bank's new filing form looks the
unit up by its number or by a certificate presented to the bank, shows the register's current
entries as far as the bank may see them (domain.md §7: in full with the owners' inquiry consent,
else its own entries in full and only yes/no of the others, ``filing.Shown``) before anything is
filed, and offers the form of the business type chosen (``filing.KINDS``); the filing itself goes
through the confirmation page like every signed step, where the rules' precheck answers.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request, Response

from estatechain.contract.civil_date import shanghai_day
from estatechain.contract.records.application import AppState
from estatechain.contract.rules.notice_correct import recorded_from
from estatechain.contract.seizure_queue import pending_or_in_effect
from estatechain.contract.working_days import WorkingDays
from estatechain.web import cases as queries
from estatechain.web import review
from estatechain.web.filing import (
    DEFAULT_KIND,
    KINDS,
    MAX_TEXT,
    Filing,
    Kind,
    Register,
    build,
    kind_of,
    read_form,
    store_materials,
    summary,
)
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
from estatechain.web.routes_owner import org_names
from estatechain.web.routes_presale import STATES as PRESALE_STATES
from estatechain.web.routes_presale import IndexDep as PresaleIndexDep
from estatechain.web.routes_presale import buyer_contracts
from estatechain.web.seizurestanding import SEIZURE_STATES

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

REGISTRY_QUEUES: Final = {"registry.intake": AppState.CONFIRMED, "registry.reviewer": AppState.ACCEPTED,
                          "registry.recorder": AppState.APPROVED, "registry.issuer": AppState.RECORDED}
"""Which state's cases each registry role works on: the issuer's are the recorded cases whose
registration certificate it issues (``Case.desk_state``); a finished recorded case is in no queue."""
UNIT_NUMBER_LENGTH: Final = 28


def _require(session_role: str, prefix: str) -> None:
    if not session_role.startswith(prefix):
        raise PortalProblem(403, N_("This desk is not for your role."))


@router.get("/bank")
async def bank_desk(session: Member, parts: PortalDep, done: str | None = None, page: int = 1) -> Response:
    """The bank's cases with status and legal clock, and those waiting for the bank's own confirmation."""
    await parts.cases.ready()  # a first build reads every application: off the loop
    return _cases_desk("bank.html", "bank.", session, parts, done=done, page=page)


def _cases_desk(  # noqa: PLR0913  (the template and role, then what the request brings, by keyword)
        template: str, role_prefix: str, session: Member, parts: PortalDep, *, done: str | None, page: int,
        **extra: Any,  # noqa: ANN401  (more for the template: the owner desk's pre-sale contracts)
) -> Response:
    """The account's cases newest first, page by page, each with its clock, and those waiting for its confirmation.

    The waiting ones are read from the cases still FILED, oldest first (nearest their confirmation
    deadline); the bank and the owner desks differ only in their template and role.
    """
    assert session.account is not None
    _require(session.account.role, role_prefix)
    store = parts.service.store
    viewer = viewer_of(parts, session.account)
    now = queries.now_ms(store, parts.service.clock.now_ms())
    found = queries.paged(parts.cases.index, store, viewer, now, page=page)
    filed = queries.listed(parts.cases.index, store, viewer, now, states=[AppState.FILED], oldest_first=True)
    return render(template, session, cases=found, awaiting=queries.awaiting(store, viewer, filed), done=done,
                  clocks=review.clocks(store, found.cases, now, WorkingDays(store)),
                  org_labels=org_names(parts.service.genesis), **extra)


def _register(parts: PortalDep, entries: queries.UnitEntries, bank_party: str) -> Register:
    """The unit's entries and notices, the clerk's bank and the member banks, as the forms check them.

    ``full`` when every current owner's inquiry consent to the clerk's bank is in force as of the
    head block's Guangzhou day (consents expire by block time, design §3.14).
    """
    store = parts.service.store
    unit = entries.unit.unit_number
    notices = queries.unit_notices(store, unit)
    today = shanghai_day(queries.now_ms(store, parts.service.clock.now_ms()))
    return Register(entries=entries, notices=notices, bank_party=bank_party, banks=queries.org_parties(store),
                    evidence={n.notice_id: recorded_from(store, n) for n in notices},
                    full=queries.consent_in_force(store, parts.consents.index, unit, bank_party, today))


def _filing_page(session: Member, parts: PortalDep, kind: Kind, filing: Filing, status: int = 200) -> Response:
    """The form with the unit's entries as the clerk's bank may see them (``Register.shown``)."""
    assert session.account is not None
    store = parts.service.store
    unit = filing.values.get("unit_number", "")
    entries = queries.unit_entries(store, unit) if len(unit) == UNIT_NUMBER_LENGTH else None
    if unit and entries is None:
        filing.problems.setdefault("unit_number", N_("The register has no unit with this number."))
    bank_party = queries.org_party(store, session.account.org)
    register = None if entries is None or bank_party is None else _register(parts, entries, bank_party)
    shown = None
    if register is not None:
        now = queries.now_ms(store, parts.service.clock.now_ms())
        shown = register.shown(restricted=pending_or_in_effect(store, register.entries.unit.unit_number, now))
    return render("filing.html", session, status=status, filing=filing, kind=kind, kinds=KINDS,
                  entries=None if register is None else register.entries, shown=shown,
                  seizure_states=SEIZURE_STATES, options={} if register is None else register.options(kind))


@router.get("/bank/new")
async def new_filing(session: Member, parts: PortalDep, unit: str = "", certificate: str = "",
                     kind: str = DEFAULT_KIND) -> Response:
    """Look a unit up by its number or a certificate presented to the bank; then its entries and the form.

    A certificate that is not a Guangzhou-format number is refused on the field (no search); a
    registration certificate another bank holds answers like an unknown one
    (``cases.unit_of_certificate``).
    """
    assert session.account is not None
    _require(session.account.role, "bank.operator")
    await parts.consents.ready()  # the register shown depends on consents: their index's first build
    chosen = kind_of(kind.strip()[:64])
    filing = Filing(values={"unit_number": unit.strip()[:UNIT_NUMBER_LENGTH], "kind": chosen.key,
                            "certificate": certificate.strip()[:MAX_TEXT]})
    number = filing.values["certificate"]
    if number and not filing.values["unit_number"]:
        store = parts.service.store
        if not queries.well_formed_certificate(number):
            filing.problems["certificate"] = N_(
                "Enter a Guangzhou certificate number: 粤(YYYY)广州市不动产权第NNNNNNNN号 for a title or "
                "粤(YYYY)广州市不动产证明第NNNNNNNN号 for a registration certificate (8 digits).")
        elif (found := queries.unit_of_certificate(store, number, queries.org_party(store, session.account.org))
              ) is None:
            filing.problems["certificate"] = N_("The register has no certificate with this number.")
        else:
            filing.values["unit_number"] = found
    return _filing_page(session, parts, chosen, filing)


@router.post("/bank/new")
async def file_application(request: Request, session: Member, form: CheckedForm, parts: PortalDep) -> Response:
    """Check the chosen type's form, keep the materials, and prepare the filing for the confirmation page."""
    assert session.account is not None
    account = session.account
    _require(account.role, "bank.operator")
    await parts.consents.ready()
    kind, filing = read_form(form)
    store = parts.service.store
    entries = queries.unit_entries(store, filing.values["unit_number"])
    bank_party = queries.org_party(store, account.org)
    if entries is None or bank_party is None:
        filing.problems["unit_number"] = N_("The register has no unit with this number.")
        return _filing_page(session, parts, kind, filing, status=422)
    materials = await store_materials(form, kind, filing, material_store(request, parts), account.org)
    body = build(kind, filing, _register(parts, entries, bank_party), materials)
    if body is None:
        return _filing_page(session, parts, kind, filing, status=422)
    pending = parts.custody.prepare(handle=account.handle, chain_id=parts.service.genesis.chain_id,
                                    command="application.file", body=body, now_ms=parts.service.clock.now_ms(),
                                    summary=summary(kind, filing, body), back="/bank")
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session, query={"tx": pending.tx_id})  # this tab shows its own action


@router.get("/owner")
async def owner_desk(session: Member, parts: PortalDep, index: PresaleIndexDep, done: str | None = None,
                     page: int = 1) -> Response:
    """Applications and pre-sale contracts waiting for the owner, and all their cases with their clocks."""
    await parts.cases.ready()  # a first build reads every application: off the loop
    assert session.account is not None
    return _cases_desk("owner.html", "person", session, parts, done=done, page=page,
                       presale=buyer_contracts(parts, index, session.account), presale_states=PRESALE_STATES,
                       presale_party=viewer_of(parts, session.account).party)


@router.get("/registry")
async def registry_desk(  # noqa: PLR0913, PLR0917  (FastAPI injects each by name)
        session: Member, parts: PortalDep, done: str | None = None, page: int = 1, held_page: int = 1,
        all_page: int = 1) -> Response:
    """The queue of the account's registry role, the cases on hold, and every case, each with its legal clock.

    Each list says how many cases it holds and pages through them (``page``, ``held_page``,
    ``all_page``): the queues oldest first (nearest their time limit), every case newest first. The
    clock (``review.clock``) counts the 30 working days of 条例 20 by the ledger's calendar; a case
    past the limit or within 3 working days of it is flagged in words, not by colour alone.
    """
    assert session.account is not None
    _require(session.account.role, "registry.")
    cases = await parts.cases.ready()  # a first build reads every application: off the loop that commits blocks
    store = parts.service.store
    viewer = viewer_of(parts, session.account)
    now = queries.now_ms(store, parts.service.clock.now_ms())
    found = queries.paged(cases, store, viewer, now, page=all_page)
    wanted = REGISTRY_QUEUES.get(session.account.role)
    queue = (queries.Paged(cases=[], total=0, page=1) if wanted is None
             else queries.paged(cases, store, viewer, now, states=[wanted], oldest_first=True, page=page))
    held = queries.paged(cases, store, viewer, now, states=[AppState.ON_HOLD], oldest_first=True, page=held_page)
    calendar = WorkingDays(store)
    return render("registry.html", session, cases=found, queue=queue, held=held, done=done,
                  clocks=review.clocks(store, [*queue.cases, *held.cases, *found.cases], now, calendar))
