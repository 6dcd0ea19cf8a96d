"""The register page of a unit (登记簿) as of any height, for the registry and the regulator.

The ledger keeps every version of every state row with the height of the block that wrote it
(``state_rows``, design §3.15), so "the register of unit U as of height H" is read from that history
rather than rebuilt: the entries current at H, and those already historic at H (a cancelled mortgage,
a superseded right, a released or lapsed seizure), each with the transactions it rests on
(``source_txs``) linked to the transaction page with its RFC 9162 inclusion proof. A height form
moves back in time; the default is the head.

Who: the registry, which keeps the register, and the regulator, which audits the whole ledger
(domain.md §2). Everyone else asks through an inquiry (domain.md §7), which is logged and limited
by entitlement: banks by consent, owners to their own units, courts and other state organs to their
cases. So this page, which reads any unit at any height and records nothing, answers them 403 like
a desk that is not theirs; the court desk shows a court only what it needs to seize a unit
(``routes_court.py``).

The history is read through ``storage.asof.StateAsOf``, as the API's inquiry answers read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from fastapi import APIRouter, Response

from estatechain.canonical import JSONValue
from estatechain.contract import keys
from estatechain.contract.checks.notices import lapse_due_ms
from estatechain.contract.civil_date import iso_date, shanghai_day
from estatechain.contract.records.mortgage import Mortgage
from estatechain.contract.records.notice import Notice
from estatechain.contract.records.ownership import OwnershipRight
from estatechain.contract.records.party import Status
from estatechain.contract.records.unit import Unit
from estatechain.contract.rules.notice_end import timely_application
from estatechain.contract.view import StateView
from estatechain.contract.working_days import WorkingDays
from estatechain.ledger.block import BlockHeader
from estatechain.storage.asof import StateAsOf
from estatechain.storage.store import LedgerStore
from estatechain.web.accounts import Account
from estatechain.web.i18n import N_
from estatechain.web.pages import redirect, render
from estatechain.web.portal import CheckedForm, Member, Portal, PortalDep, PortalProblem, PortalRoute
from estatechain.web.seizurestanding import SEIZURE_STATES, SeizureEntry, seizure_states

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

READERS: Final = frozenset({"registry", "regulator"})
"""Org types that read the register page and the transaction pages behind it."""
SIGNING_AUTHORITIES: Final = frozenset({"court", "state_organ"})
"""Org types that open the transaction pages of what their own org signed, and of nothing else."""
SEIZURE_KINDS: Final = {"1": N_("Seizure (查封)"), "3": N_("Pre-seizure (预查封)")}
ENTRY_STATES: Final = {"current": N_("Current"), "historic": N_("Historic")}
MAX_ID: Final = 200
"""Longer than any notice id (imported ids carry a 28-character unit number): a longer path is no notice."""


def require_reader(parts: Portal, account: Account) -> None:
    """Refuse (403) an account whose org may not read the register page."""
    if parts.service.genesis.org(account.org).type not in READERS:
        raise PortalProblem(403, N_("This desk is not for your role."))


def require_tx_reader(parts: Portal, account: Account, signed_by: str | None) -> None:
    """Refuse (403) an account that may not open the page of a transaction its org ``signed_by`` signed.

    The registry and the regulator open every transaction's page. A court or other state organ opens
    those its own org signed (a seizure, its renewal or release, an inquiry for its case): the page's
    inclusion proof is what it keeps in the case file to show the step is on the ledger. Another org's
    transaction, or one that does not exist (``signed_by`` None), gets the same 403 as a desk that is
    not theirs, so the page tells it nothing of other orgs' transactions, not even that one exists.
    """
    org_type = parts.service.genesis.org(account.org).type
    if org_type in READERS or (org_type in SIGNING_AUTHORITIES and signed_by == account.org):
        return
    raise PortalProblem(403, N_("This desk is not for your role."))


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeClock:
    """A current notice's 90-day clock (民法典 221, 203) at the page's block time, derived, never written (§3.14).

    The registry marks a lapse with ``notice.mark_lapsed``; the recorder finds the notices due for it here.
    """

    lapses_from: str
    """The first day (ISO) the notice is lapsed, unless an application is filed in time."""
    lapsed: bool
    held_by: str | None
    """An open application for the final registration, filed in time, that keeps the notice (221)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Register:
    """A unit's register as of one block: the unit, its rights, charges, notices and seizures, current and historic."""

    unit: Unit
    header: BlockHeader
    block_hash: str
    ownerships: tuple[OwnershipRight, ...]
    mortgages: tuple[Mortgage, ...]
    notices: tuple[Notice, ...]
    notice_clocks: Mapping[str, NoticeClock]
    """By notice id, for the current notices whose clock has started."""
    seizures: tuple[SeizureEntry, ...]


def notice_clocks(view: StateView, notices: Iterable[Notice], at_ms: int) -> dict[str, NoticeClock]:
    """The 90-day clock of every current notice whose clock has started, as ``notice.mark_lapsed`` judges it."""
    days = WorkingDays(view)
    clocks: dict[str, NoticeClock] = {}
    for notice in notices:
        due = lapse_due_ms(notice, days) if notice.status is Status.CURRENT else None
        if due is None:
            continue
        timely = timely_application(view, notice, due, at_ms)
        clocks[notice.notice_id] = NoticeClock(lapses_from=iso_date(shanghai_day(due)), lapsed=at_ms >= due,
                                               held_by=None if timely is None else timely.application_id)
    return clocks


def register_as_of(
    store: LedgerStore, unit_number: str, height: int, *, clocks_at_ms: int | None = None,
) -> Register | None:
    """The unit's register after block ``height``, or None when the unit was not in the register then.

    The notices' 90-day clocks are judged at ``clocks_at_ms`` when given (the head's page passes the time
    the next block would have: what ``notice.mark_lapsed`` would be judged at, though a quiet ledger's
    head block may be days old), else at block ``height``'s time.
    """
    block = store.block_at(height)
    view = StateAsOf(store, height)
    row = view.get(keys.unit(unit_number))
    if block is None or row is None:
        return None
    header, block_hash = block

    def records(kind: str, key: Callable[[str], str]) -> list[dict[str, JSONValue]]:
        ids = dict.fromkeys(k.rsplit("/", 1)[1] for k in view.ever(keys.unit_index(unit_number, kind)))
        return [r for i in ids if (r := view.get(key(i))) is not None]

    ownerships = sorted((OwnershipRight.from_json(r) for r in records("ownership", keys.ownership)),
                        key=lambda o: (o.status.value != "current", o.title_number))
    mortgages = sorted((Mortgage.from_json(r) for r in records("mortgage", keys.mortgage)),
                       key=lambda m: (m.status.value != "current", m.rank, m.registered_ms))
    notices = sorted((Notice.from_json(r) for r in records("notice", keys.notice)),
                     key=lambda n: (n.status.value != "current", n.priority_key))
    return Register(unit=Unit.from_json(row), header=header, block_hash=block_hash, ownerships=tuple(ownerships),
                    mortgages=tuple(mortgages), notices=tuple(notices),
                    notice_clocks=notice_clocks(view, notices, max(header.time_ms, clocks_at_ms or 0)),
                    seizures=seizure_states(view, unit_number, header.time_ms))


def whole_number(text: str | None) -> int | None:
    """``text`` (spaces around it aside) as a number of 1 to 15 ASCII digits, or None.

    ``str.isdigit`` also accepts digits ``int`` refuses (``²``) and ``int`` refuses very long
    strings, so a number from an address or a field is read only through this.
    """
    value = (text or "").strip()
    return int(value) if re.fullmatch(r"[0-9]{1,15}", value) else None


def _height(text: str | None, head: int) -> int | str:
    """The height asked for (the head when none), or the message for the field."""
    if text is None or not text.strip():
        return head
    value = whole_number(text)
    if value is None or not 1 <= value <= head:
        return N_("Enter a block height between 1 and the head.")
    return value


@router.get("/register")
async def find_unit(session: Member, parts: PortalDep, unit: str = "") -> Response:
    """The unit lookup: a unit number sends the browser to that unit's register page."""
    assert session.account is not None
    require_reader(parts, session.account)
    number = unit.strip()
    if len(number) == 28 and number.isalnum():
        return redirect(f"/register/{number}", session)
    problem = N_("Enter the unit's 28-character number.") if unit else None
    return render("register_find.html", session, status=422 if problem else 200, unit=unit[:28], problem=problem)


@router.get("/register/{unit_number}")
async def register_page(unit_number: str, session: Member, parts: PortalDep, height: str | None = None) -> Response:
    """The unit's register as of ``height`` (default: the head), with the transactions behind every entry."""
    assert session.account is not None
    require_reader(parts, session.account)
    store = parts.service.store
    head = store.height
    asked = _height(height, head)
    problem = asked if isinstance(asked, str) else None
    at = head if isinstance(asked, str) else asked
    now = parts.service.clock.now_ms() if at == head else None  # the head's clocks as the next block judges them
    found = register_as_of(store, unit_number, at, clocks_at_ms=now) if len(unit_number) == 28 and at >= 1 else None
    missing = found is None and problem is None
    status = 422 if problem else 404 if missing else 200
    return render("register.html", session, status=status, unit_number=unit_number[:28], register=found,
                  height=at, head=head, asked=(height or "")[:20], problem=problem, missing=missing,
                  seizure_states=SEIZURE_STATES, seizure_kinds=SEIZURE_KINDS, entry_states=ENTRY_STATES)


@router.post("/register/{unit_number}/notices/{notice_id}/lapse")
async def mark_lapsed(unit_number: str, notice_id: str, session: Member, form: CheckedForm,
                      parts: PortalDep) -> Response:
    """Prepare ``notice.mark_lapsed`` of one of the unit's notices for the recorder's confirmation page.

    The confirmation page shows the rules' verdict at the head before anything is signed, so a notice
    that has not lapsed, or that an application filed in time keeps, is refused there with its reason.
    """
    assert session.account is not None
    assert form is not None
    account = session.account
    if account.role != "registry.recorder":
        raise PortalProblem(403, N_("Only a registry recorder marks a notice lapsed."))
    row = parts.service.store.get(keys.notice(notice_id)) if len(notice_id) <= MAX_ID else None
    notice = None if row is None else Notice.from_json(row)
    if notice is None or notice.unit_number != unit_number or notice.certificate_number is None:
        raise PortalProblem(404, N_("This unit has no advance notice with this id."))
    summary: list[list[str]] = [
        [N_("Action"), N_("Mark an advance notice lapsed (Civil Code 221)"), "t"], [N_("Unit number"), unit_number],
        [N_("Certificate"), notice.certificate_number]]
    pending = parts.custody.prepare(handle=account.handle, chain_id=parts.service.genesis.chain_id,
                                    command="notice.mark_lapsed",
                                    body={"certificate_number": notice.certificate_number},
                                    now_ms=parts.service.clock.now_ms(), summary=summary,
                                    back=f"/register/{unit_number}")
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session, query={"tx": pending.tx_id})  # this tab shows its own action
