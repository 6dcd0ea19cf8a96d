"""The court desk: record a seizure (查封) on a unit, queued (轮候) behind any other, and lift it (解封).

Court staff look a unit up by its number and see its current register entries before anything is
recorded, then fill in the order: its number, the kind (查封 or 预查封) and the ordered term. Whether
the seizure takes effect now or queues is the contract's decision (``contract/rules/seizure.py``,
domain.md §5.10: a seizure delivered while another is in effect or queued joins the queue), and the
form says in advance which it will be. Recording and lifting go through the confirmation page like
every signed step; a rule failure (an unknown unit, a bad term, a lift of another court's seizure)
shows there before anything is signed.

A court sees its own seizures only (current and ended): only the delivering authority may lift or
renew one (细则 93), and other courts' orders are theirs to disclose. The register page
(``routes_register.py``) shows every seizure on a unit to the registry, the courts and the regulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from fastapi import APIRouter, Response
from starlette.datastructures import FormData

from estatechain.canonical import JSONValue
from estatechain.contract import keys
from estatechain.contract.civil_date import parse_iso_date
from estatechain.contract.records.seizure import Seizure
from estatechain.contract.seizure_queue import pending_or_in_effect
from estatechain.web import cases as queries
from estatechain.web.accounts import Account, Session
from estatechain.web.i18n import N_
from estatechain.web.pages import redirect, render
from estatechain.web.portal import CheckedForm, Member, Portal, PortalDep, PortalProblem, PortalRoute, not_found
from estatechain.web.routes_register import SEIZURE_KINDS, SEIZURE_STATES, AsOf, SeizureEntry, seizure_states

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

AUTHORITY_ROLES: Final = frozenset({"court", "state_organ"})
"""The roles ``seizure.register`` / ``seizure.release`` accept (the contract's ``AUTHORITIES``)."""
MAX_ORDER_NO: Final = 100


@dataclass(slots=True)
class Order:
    """A seizure order as typed into the form, and what is wrong with it, by field."""

    values: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)


def _require_court(account: Account) -> None:
    if account.role not in AUTHORITY_ROLES:
        raise PortalProblem(403, N_("This desk is not for your role."))


def own_seizures(parts: Portal, org: str) -> list[SeizureEntry]:
    """The seizures ``org`` delivered, each with its state at the head, newest first.

    Scans ``seizure/`` rows: fine for a development register; an index by authority comes with the
    million-unit desks (issue 9).
    """
    store = parts.service.store
    at_ms = queries.now_ms(store, parts.service.clock.now_ms())
    view = AsOf(store, store.height)
    units = sorted({str(row["unit_number"]) for _, row in store.scan("seizure/") if row.get("authority_org") == org})
    found = [entry for unit in units for entry in seizure_states(view, unit, at_ms)
             if entry.seizure.authority_org == org]
    found.sort(key=lambda entry: entry.seizure.delivered_ms, reverse=True)
    return found


def _page(  # noqa: PLR0913  (keywords only: what the page shows besides the order)
    session: Session, parts: Portal, order: Order, *, status: int = 200, done: str | None = None,
    lift_problem: tuple[str, str] | None = None,
) -> Response:
    """The desk with ``order`` (its unit's entries when found) and the court's own seizures."""
    assert session.account is not None
    store = parts.service.store
    unit = order.values.get("unit_number", "")
    entries = queries.unit_entries(store, unit) if len(unit) == 28 else None
    if unit and entries is None:
        order.problems.setdefault("unit_number", N_("The register has no unit with this number."))
    queues = entries is not None and pending_or_in_effect(
        store, unit, queries.now_ms(store, parts.service.clock.now_ms()))
    return render("court.html", session, status=status, order=order, entries=entries, queues=queues,
                  seizures=own_seizures(parts, session.account.org), kinds=SEIZURE_KINDS, states=SEIZURE_STATES,
                  done=done, lift_problem=lift_problem)


@router.get("/court")
async def court_desk(session: Member, parts: PortalDep, unit: str = "", done: str | None = None) -> Response:
    """The unit lookup (with its entries and the seizure form) and the court's own seizures."""
    assert session.account is not None
    _require_court(session.account)
    return _page(session, parts, Order(values={"unit_number": unit.strip()[:28]}), done=done)


def read_order(form: FormData) -> Order:
    """The order's fields from the form, each checked the way the contract will check it."""
    values = {name: str(form.get(name, "")).strip() for name in ("unit_number", "order_no", "kind", "start_date",
                                                                  "end_date")}
    order = Order(values={k: v[:MAX_ORDER_NO] for k, v in values.items()})
    if not order.values["order_no"]:
        order.problems["order_no"] = N_("Enter the number of the court's order (协助执行通知书).")
    if order.values["kind"] not in SEIZURE_KINDS:
        order.problems["kind"] = N_("Choose the kind of seizure.")
    start, end = parse_iso_date(order.values["start_date"]), parse_iso_date(order.values["end_date"])
    if start is None:
        order.problems["start_date"] = N_("Enter a date as YYYY-MM-DD.")
    if end is None:
        order.problems["end_date"] = N_("Enter a date as YYYY-MM-DD.")
    elif start is not None and end < start:
        order.problems["end_date"] = N_("The term must end on or after its start.")
    return order


@router.post("/court/seize")
async def seize(session: Member, form: CheckedForm, parts: PortalDep) -> Response:
    """Check the order and prepare ``seizure.register`` for the confirmation page."""
    assert session.account is not None
    account = session.account
    _require_court(account)
    order = read_order(form)
    store = parts.service.store
    unit = order.values["unit_number"]
    if len(unit) != 28 or store.get(keys.unit(unit)) is None:
        order.problems["unit_number"] = N_("The register has no unit with this number.")
    if order.problems:
        return _page(session, parts, order, status=422)
    values = order.values
    queued = pending_or_in_effect(store, unit, queries.now_ms(store, parts.service.clock.now_ms()))
    body: dict[str, JSONValue] = {"unit_number": unit, "order_no": values["order_no"], "kind": values["kind"],
                                  "start_date": values["start_date"], "end_date": values["end_date"]}
    summary = [[N_("Action"), N_("Record a queued seizure (轮候查封)") if queued else N_("Record a seizure (查封)"),
                "t"],
               [N_("Unit number"), unit], [N_("Order number"), values["order_no"]],
               [N_("Kind"), SEIZURE_KINDS[values["kind"]], "t"],
               [N_("Period"), f"{values['start_date']} – {values['end_date']}"]]
    pending = parts.custody.prepare(handle=account.handle, chain_id=parts.service.genesis.chain_id,
                                    command="seizure.register", body=body, now_ms=parts.service.clock.now_ms(),
                                    summary=summary, back="/court")
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session)


@router.post("/court/seizures/{seizure_id}/lift")
async def lift(seizure_id: str, session: Member, form: CheckedForm, parts: PortalDep) -> Response:
    """Prepare ``seizure.release`` (解封) of one of the court's own seizures for the confirmation page."""
    assert session.account is not None
    account = session.account
    _require_court(account)
    row = parts.service.store.get(keys.seizure(seizure_id)) if len(seizure_id) == 64 else None
    if row is None or row.get("authority_org") != account.org:
        raise not_found()
    seizure = Seizure.from_json(row)
    order_no = str(form.get("order_no", "")).strip()[:MAX_ORDER_NO]
    if not order_no:
        return _page(session, parts, Order(values={"unit_number": ""}), status=422,
                     lift_problem=(seizure_id, N_("Enter the number of the order that lifts the seizure.")))
    summary = [[N_("Action"), N_("Lift a seizure (解封)"), "t"], [N_("Unit number"), seizure.unit_number],
               [N_("Seizure order"), seizure.order_no], [N_("Release order"), order_no]]
    pending = parts.custody.prepare(handle=account.handle, chain_id=parts.service.genesis.chain_id,
                                    command="seizure.release", body={"seizure_id": seizure_id, "order_no": order_no},
                                    now_ms=parts.service.clock.now_ms(), summary=summary, back="/court")
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session)
