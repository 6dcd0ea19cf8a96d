"""The court desk: record a seizure (查封) on a unit, queued (轮候) behind any other, and lift it (解封).

Court staff (and staff of other state organs empowered to seize, domain.md §2) look a unit up by its
number and fill in the order: its number, the kind (查封 or 预查封) and the ordered term. Whether the
seizure takes effect now or queues is the contract's decision (``contract/rules/seizure.py``,
domain.md §5.10: a seizure delivered while another is in effect or queued joins the queue), and the
form says in advance which it will be. Recording and lifting go through the confirmation page like
every signed step; a rule failure (an unknown unit, a bad term, a lift of another court's seizure)
shows there before anything is signed.

The lookup shows only what seizing needs, not the register: state organs read a unit's register
only for their cases, and every such inquiry is recorded (domain.md §2, §7), which a desk lookup is
not. To read the register the desk offers exactly that: an ``inquiry.request`` with basis ``case``,
purpose ``CASE`` and the court's case number (案号), signed through the confirmation page and
answered by the registry's signed answer (``routes_inquiry.py``); the unit's owners see it among
those who looked. So it shows that the unit exists, its location code, use and area, how many current owners it
has (not who), and the seizure queue: each seizure in effect or queued with its place and state,
another authority's as "held by another authority" without its order number or authority (theirs to
disclose), the court's own in full. The court's own seizures (current and ended) are listed below,
newest first and those not released first, through a node-local index by authority
(``seizureindex.py``); only the delivering authority may lift or renew (续封) one (细则 93).

Every period shown is the one the queue derives (``seizure_queue.windows``): a queued seizure's term
counts from the day it takes effect, so the dates on the order are a second line, not the period. A
seizure in effect whose term ends within ``RENEWAL_NOTICE_DAYS`` says so beside its renewal form:
nothing else tells the court it is about to lapse (细则 92(2)). Each of its transactions links to its
page with the inclusion proof, which the court may open for its case file (``require_tx_reader``).
After signing, the desk comes back to the unit it was on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from estatechain.canonical import JSONValue
from estatechain.contract import keys
from estatechain.contract.civil_date import iso_date, parse_iso_date, shanghai_day
from estatechain.contract.records.party import Status
from estatechain.contract.records.seizure import Seizure
from estatechain.contract.records.unit import Unit
from estatechain.contract.seizure_queue import pending_or_in_effect, unit_seizures, windows
from estatechain.storage.follower import FirstBuild
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.web import cases as queries
from estatechain.web import seizureindex
from estatechain.web.accounts import Account, Session
from estatechain.web.i18n import N_
from estatechain.web.pages import redirect, render
from estatechain.web.portal import CheckedForm, Member, Portal, PortalDep, PortalProblem, PortalRoute, not_found
from estatechain.web.routes_inquiry import prepare_inquiry
from estatechain.web.routes_register import SEIZURE_KINDS
from estatechain.web.routes_regulator import tx_signer_org
from estatechain.web.seizureindex import SeizureIndex
from estatechain.web.seizurestanding import LIVE_SEIZURE_STATES, SEIZURE_STATES, SeizureEntry, seizure_states

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

AUTHORITY_ROLES: Final = frozenset({"court", "state_organ"})
"""The roles ``seizure.register`` / ``seizure.release`` accept (the contract's ``AUTHORITIES``)."""
MAX_ORDER_NO: Final = 100
MAX_SEIZURE_ID: Final = 200
"""A seizure's id is its delivery's tx id, or an imported register's own id (``IMP-S-`` and the unit number
onwards), so a lift or renewal takes any id up to this length: one of 64 characters only left imported
seizures impossible to lift or renew on the desk."""
MAX_CASE_NO: Final = 100
"""The contract's limit on an inquiry's case number (``rules/inquiry.py``)."""
LISTED: Final = 100
"""The court's own seizures listed at once; the page says how many there are in all."""
RENEWAL_NOTICE_DAYS: Final = 30
"""A seizure in effect whose term ends within this many days is flagged for renewal (续封) on the desk: a
policy value [A], long enough for a court to issue and deliver a renewal order before the term lapses."""


@dataclass(slots=True)
class Order:
    """A seizure order as typed into the form, and what is wrong with it, by field."""

    values: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Place:
    """A seizure in effect or queued on a unit, as a court sees it: its place, and the seizure only if its own."""

    position: int
    state: str
    own: SeizureEntry | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnSeizure:
    """One of the court's seizures as its desk lists it: the entry, and how soon it lapses if it does soon."""

    entry: SeizureEntry
    lapses_on: str | None = None
    """Its last day in effect (ISO) when it is in effect and that day is within ``RENEWAL_NOTICE_DAYS``."""
    signed: frozenset[str] = frozenset()
    """Those of its transactions the court's org signed: the pages it may open (an imported seizure's
    import was signed by the registry, whose transaction page is not the court's to read)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CourtUnit:
    """What the court desk shows of a unit: what it is, how many own it, its seizure queue and the court's seizures."""

    unit: Unit
    owners: int
    queue: tuple[Place, ...]
    own: tuple[OwnSeizure, ...]


def _require_court(account: Account) -> None:
    if account.role not in AUTHORITY_ROLES:
        raise PortalProblem(403, N_("This desk is not for your role."))


async def seizure_index(request: Request, session: Member, parts: PortalDep) -> SeizureIndex:
    """The index of seizures by authority beside the ledger (``seizureindex.py``), opened on first use.

    Its first build reads every seizure row, in a worker thread (``FirstBuild``) like the other desks'
    indexes, so the event loop goes on committing blocks meanwhile; only a court or state organ's
    request opens it (another role's is answered 403 before the index is touched).
    """
    assert session.account is not None
    _require_court(session.account)
    state = request.app.state
    found: FirstBuild[SeizureIndex] | None = getattr(state, "seizure_index", None)
    if found is None:
        found = state.seizure_index = FirstBuild(
            SeizureIndex(parts.service.settings.ledger_dir / seizureindex.FILE, parts.service.store.connection),
            parts.service.settings.ledger_dir / LEDGER_FILE)
    return await found.ready()


IndexDep = Annotated[SeizureIndex, Depends(seizure_index)]


def court_unit(store: LedgerStore, unit_number: str, org: str, at_ms: int) -> CourtUnit | None:
    """The unit as ``org``'s desk shows it at ``at_ms``, or None when the register has no such unit."""
    entries = queries.unit_entries(store, unit_number, at_ms)
    if entries is None:
        return None
    owners = {holder.party.party_id for right in entries.ownerships if right.status is Status.CURRENT
              for holder in right.holders}
    states = seizure_states(store, unit_number, at_ms)
    return CourtUnit(unit=entries.unit, owners=len(owners),
                     queue=tuple(Place(position=entry.place, state=entry.state,
                                       own=entry if entry.seizure.authority_org == org else None)
                                 for entry in states if entry.place is not None),
                     own=tuple(own_seizure(entry, at_ms, signed_txs(store, entry.seizure, org))
                               for entry in states if entry.seizure.authority_org == org))


def own_seizure(entry: SeizureEntry, at_ms: int, signed: frozenset[str] = frozenset()) -> OwnSeizure:
    """``entry`` with the day it lapses when it is in effect and lapses within ``RENEWAL_NOTICE_DAYS`` of ``at_ms``."""
    if entry.state != "in_effect" or entry.window is None:
        return OwnSeizure(entry=entry, signed=signed)
    last_day = shanghai_day(entry.window.end_ms - 1)
    soon = last_day - shanghai_day(at_ms) <= RENEWAL_NOTICE_DAYS
    return OwnSeizure(entry=entry, lapses_on=iso_date(last_day) if soon else None, signed=signed)


def signed_txs(store: LedgerStore, seizure: Seizure, org: str) -> frozenset[str]:
    """The transactions behind ``seizure`` that ``org`` signed (its delivery, renewals and release, not an import)."""
    return frozenset(tx for tx in seizure.source_txs if tx_signer_org(store, tx) == org)


def own_seizures(store: LedgerStore, index: SeizureIndex, org: str, at_ms: int) -> list[OwnSeizure]:
    """Up to ``LISTED`` seizures ``org`` delivered, with their state at ``at_ms``: not released first, newest first.

    The index finds them; each is read back from the ledger and its state derived from its unit's
    queue, one unit at a time.
    """
    found = [Seizure.from_json(row) for seizure_id in index.ids(org, limit=LISTED)
             if (row := store.get(keys.seizure(seizure_id))) is not None]
    states = {entry.seizure.seizure_id: entry for unit in dict.fromkeys(s.unit_number for s in found)
              for entry in seizure_states(store, unit, at_ms)}
    return [own_seizure(states[s.seizure_id], at_ms, signed_txs(store, s, org))
            for s in found if s.seizure_id in states]


def renewed_end(store: LedgerStore, seizure: Seizure, end_date: str) -> str | None:
    """The last day ``seizure`` would be in effect with its term renewed to ``end_date``, by the queue's own rule.

    The confirmation page says it: the court types the end of the ordered term, and for a queued
    seizure that is not the day it stops holding the unit.
    """
    renewed = [replace(s, end_date=end_date) if s.seizure_id == seizure.seizure_id else s
               for s in unit_seizures(store, seizure.unit_number)]
    window = next((w for w in windows(renewed) if w.seizure.seizure_id == seizure.seizure_id), None)
    return None if window is None else iso_date(shanghai_day(window.end_ms - 1))


def unit_page(unit_number: str) -> str:
    """The desk on ``unit_number``: where a signed step on one of its seizures comes back to."""
    return "/court?" + urlencode({"unit": unit_number})


def _page(  # noqa: PLR0913  (keywords only: what the page shows besides the order)
    session: Session, parts: Portal, index: SeizureIndex, order: Order, *, status: int = 200,
    done: str | None = None, lift_problem: tuple[str, str] | None = None,
    renew_problem: tuple[str, str, str] | None = None,
) -> Response:
    """The desk with ``order`` (its unit when found) and the court's own seizures.

    ``lift_problem`` is (seizure id, message) of a lift form sent back; ``renew_problem`` (seizure id,
    message, the date as typed) of a renewal form.
    """
    assert session.account is not None
    org = session.account.org
    store = parts.service.store
    at_ms = queries.now_ms(store, parts.service.clock.now_ms())
    unit = order.values.get("unit_number", "")
    found = court_unit(store, unit, org, at_ms) if len(unit) == 28 else None
    if unit and found is None:
        order.problems.setdefault("unit_number", N_("The register has no unit with this number."))
    queues = found is not None and pending_or_in_effect(store, unit, at_ms)
    seizures = own_seizures(store, index, org, at_ms)
    return render("court.html", session, status=status, order=order, found=found, queues=queues,
                  seizures=seizures, total=index.count(org), kinds=SEIZURE_KINDS, states=SEIZURE_STATES,
                  live=LIVE_SEIZURE_STATES, lapsing=sum(s.lapses_on is not None for s in seizures),
                  notice_days=RENEWAL_NOTICE_DAYS, done=done, lift_problem=lift_problem,
                  renew_problem=renew_problem)


@router.get("/court")
async def court_desk(session: Member, parts: PortalDep, index: IndexDep, unit: str = "",
                     done: str | None = None) -> Response:
    """The unit lookup (with what seizing needs and the seizure form) and the court's own seizures."""
    assert session.account is not None
    _require_court(session.account)
    return _page(session, parts, index, Order(values={"unit_number": unit.strip()[:28]}), done=done)


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
async def seize(session: Member, form: CheckedForm, parts: PortalDep, index: IndexDep) -> Response:
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
        return _page(session, parts, index, order, status=422)
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
                                    summary=summary, back=unit_page(unit))
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session, query={"tx": pending.tx_id})  # this tab shows its own action


@router.post("/court/seizures/{seizure_id}/lift")
async def lift(seizure_id: str, session: Member, form: CheckedForm, parts: PortalDep, index: IndexDep) -> Response:
    """Prepare ``seizure.release`` (解封) of one of the court's own seizures for the confirmation page."""
    assert session.account is not None
    account = session.account
    _require_court(account)
    row = parts.service.store.get(keys.seizure(seizure_id)) if len(seizure_id) <= MAX_SEIZURE_ID else None
    if row is None or row.get("authority_org") != account.org:
        raise not_found()
    seizure = Seizure.from_json(row)
    order_no = str(form.get("order_no", "")).strip()[:MAX_ORDER_NO]
    if not order_no:
        return _page(session, parts, index, Order(values={"unit_number": seizure.unit_number}), status=422,
                     lift_problem=(seizure_id, N_("Enter the number of the order that lifts the seizure.")))
    summary = [[N_("Action"), N_("Lift a seizure (解封)"), "t"], [N_("Unit number"), seizure.unit_number],
               [N_("Seizure order"), seizure.order_no], [N_("Release order"), order_no]]
    pending = parts.custody.prepare(handle=account.handle, chain_id=parts.service.genesis.chain_id,
                                    command="seizure.release", body={"seizure_id": seizure_id, "order_no": order_no},
                                    now_ms=parts.service.clock.now_ms(), summary=summary,
                                    back=unit_page(seizure.unit_number))
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session, query={"tx": pending.tx_id})  # this tab shows its own action


def read_renewal(form: FormData, seizure: Seizure) -> tuple[str, str | None]:
    """The new end of the term as typed, and what is wrong with it (a message id), checked as the contract will."""
    end_date = str(form.get("end_date", "")).strip()[:MAX_ORDER_NO]
    new_end, old_end = parse_iso_date(end_date), parse_iso_date(seizure.end_date)
    if new_end is None:
        return end_date, N_("Enter a date as YYYY-MM-DD.")
    if old_end is not None and new_end <= old_end:
        return end_date, N_("A renewal must end after the term's current end.")
    return end_date, None


@router.post("/court/seizures/{seizure_id}/renew")
async def renew(seizure_id: str, session: Member, form: CheckedForm, parts: PortalDep, index: IndexDep) -> Response:
    """Prepare ``seizure.renew`` (续封: a later end of the term) of one of the court's own seizures for confirmation.

    Whether the seizure can still be renewed (not released, its term not lapsed) is the contract's
    decision, shown on the confirmation page; the desk offers the form only where it can.
    """
    assert session.account is not None
    account = session.account
    _require_court(account)
    store = parts.service.store
    row = store.get(keys.seizure(seizure_id)) if len(seizure_id) <= MAX_SEIZURE_ID else None
    if row is None or row.get("authority_org") != account.org:
        raise not_found()
    seizure = Seizure.from_json(row)
    end_date, problem = read_renewal(form, seizure)
    if problem is not None:
        return _page(session, parts, index, Order(values={"unit_number": seizure.unit_number}), status=422,
                     renew_problem=(seizure_id, problem, end_date))
    summary = [[N_("Action"), N_("Renew a seizure (续封)"), "t"], [N_("Unit number"), seizure.unit_number],
               [N_("Seizure order"), seizure.order_no],
               [N_("Ordered term"), f"{seizure.start_date} – {seizure.end_date}"],
               [N_("New end of the term"), end_date],
               [N_("In effect until"), renewed_end(store, seizure, end_date) or "—"]]
    pending = parts.custody.prepare(handle=account.handle, chain_id=parts.service.genesis.chain_id,
                                    command="seizure.renew", body={"seizure_id": seizure_id, "end_date": end_date},
                                    now_ms=parts.service.clock.now_ms(), summary=summary,
                                    back=unit_page(seizure.unit_number))
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session, query={"tx": pending.tx_id})  # this tab shows its own action


@router.post("/court/inquire")
async def inquire(session: Member, form: CheckedForm, parts: PortalDep, index: IndexDep) -> Response:
    """Prepare the court's recorded look at the unit's register: ``inquiry.request`` for its case (案号)."""
    assert session.account is not None
    _require_court(session.account)
    unit = str(form.get("unit_number", "")).strip()[:28]
    case_no = str(form.get("case_no", "")).strip()
    order = Order(values={"unit_number": unit, "case_no": case_no[:MAX_CASE_NO]})
    if len(unit) != 28 or parts.service.store.get(keys.unit(unit)) is None:
        order.problems["unit_number"] = N_("The register has no unit with this number.")
    if not case_no:
        order.problems["case_no"] = N_("Enter the case number (案号) the court reads the register for.")
    elif len(case_no) > MAX_CASE_NO:
        order.problems["case_no"] = N_("A case number has at most 100 characters.")
    if order.problems:
        return _page(session, parts, index, order, status=422)
    body: dict[str, JSONValue] = {"unit_number": unit, "basis": "case", "purpose": "CASE", "case_no": case_no}
    summary = [[N_("Action"), N_("Read the unit's register for a case (recorded inquiry)"), "t"],
               [N_("Unit number"), unit], [N_("Case number (案号)"), case_no],
               [N_("Purpose"), N_("Case of a court or state organ"), "t"]]
    return prepare_inquiry(parts, session, body, summary)
