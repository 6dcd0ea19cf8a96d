"""The regulator's desk, read-only: blocks, transactions with their proofs, inquiry statistics and time limits.

The regulator supervises the ledger rather than acting on it, so nothing here signs. Blocks,
transaction results and RFC 9162 proofs come from the same ``NodeService`` methods the API serves
(``service.block``, ``service.status``, ``service.inclusion_proof``, ``service.consistency_proof``);
the page also checks each proof with ``crypto.merkle`` and says so, while showing every number a
reader needs to check it independently. A transaction's page is shared with the registry and the
courts, who reach it from a unit's register page (``routes_register.py``).

Inquiry statistics count the inquiry log (``inquiry/`` rows: every inquiry, granted or refused, is
a transaction, domain.md §7) by purpose and outcome. SLA figures count the cases per state and
those past their legal time limit (see ``sla``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Final

from fastapi import APIRouter, Response

from estatechain.contract.civil_date import MS_PER_DAY, civil_from_days, shanghai_day
from estatechain.contract.records import Application, effective_state
from estatechain.contract.records.application import AppState
from estatechain.contract.working_days import WorkingDays
from estatechain.crypto.merkle import verify_consistency, verify_inclusion
from estatechain.errors import InputError
from estatechain.ledger.admission import cert_key
from estatechain.storage.store import LedgerStore
from estatechain.web import cases as queries
from estatechain.web.accounts import Account
from estatechain.web.i18n import N_
from estatechain.web.pages import render
from estatechain.web.portal import Member, Portal, PortalDep, PortalProblem, PortalRoute, not_found
from estatechain.web.routes_register import require_reader

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

BLOCKS_SHOWN: Final = 20
LEGAL_LIMIT_WORKING_DAYS: Final = 30
"""条例 20: a registration is finished within 30 working days of acceptance (domain.md §5.1)."""
HOLIDAYS_PER_YEAR: Final = 13
"""Statutory public holidays a year (国务院 holiday rules as amended in 2024, from 2025): the most
weekdays one span of a few months can lose to holidays. Make-up working weekends (调休) only add
working days, so weekdays minus this is a lower bound on working days [A: used for the years
whose calendar the registry has not recorded on the ledger]."""
ON_THE_CLOCK: Final = frozenset({AppState.ACCEPTED, AppState.APPROVED})
"""States between acceptance and recording or refusal: the legal time limit runs (ON_HOLD stops it)."""
FINISHED: Final = frozenset({AppState.RECORDED, AppState.CERTIFIED, AppState.REFUSED})
PURPOSE_NAMES: Final = {"PRE_LOAN": N_("Pre-loan"), "POST_LOAN": N_("Post-loan"), "TRANSACTION": N_("Transaction"),
                        "LEASE": N_("Lease"), "LITIGATION": N_("Litigation"), "CASE": N_("State organ's case"),
                        "OTHER": N_("Other"), "": N_("Own unit (no purpose)")}


def _require_regulator(parts: Portal, account: Account) -> None:
    if parts.service.genesis.org(account.org).type != "regulator":
        raise PortalProblem(403, N_("This desk is not for your role."))


@dataclass(frozen=True, slots=True, kw_only=True)
class TxRow:
    """One transaction as a block lists it: what it did, who signed, and the ledger's verdict."""

    tx_id: str
    seq: int
    command: str
    signer_org: str
    result: str
    code: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Sla:
    """Cases per state and how many are (or finished) past the legal limit."""

    per_state: dict[str, int]
    on_the_clock: int
    overdue_open: int
    finished: int
    finished_late: int


def signer_org(store: LedgerStore, fingerprint: str) -> str:
    """The org of a signer, from its certificate registered on the ledger at first valid use ("—" if never)."""
    row = store.get(cert_key(fingerprint))
    return "—" if row is None else str(row.get("org", "—"))


def tx_rows(parts: Portal, height: int) -> list[TxRow]:
    """The block's transactions in order, with command and signer's org beside the service's results."""
    block = parts.service.block(height)
    store = parts.service.store
    extra = {str(r[0]): (str(r[1]), str(r[2])) for r in store.connection.execute(
        "SELECT tx_id, command, signer FROM txs WHERE height = ?", (height,)).fetchall()}
    rows = []
    for tx in block.txs:
        command, signer = extra[tx.tx_id]
        rows.append(TxRow(tx_id=tx.tx_id, seq=tx.seq or 0, command=command, signer_org=signer_org(store, signer),
                          result=tx.result or "", code=tx.code))
    return rows


def inquiry_stats(store: LedgerStore) -> list[tuple[str, int, int]]:
    """(purpose code, granted, refused) over the whole inquiry log; "" is an owner's own-unit inquiry."""
    counts: Counter[tuple[str, str]] = Counter()
    for _, row in store.scan("inquiry/"):
        counts[str(row.get("purpose") or ""), str(row.get("outcome"))] += 1
    purposes = sorted({purpose for purpose, _ in counts})
    return [(p, counts[p, "GRANTED"], counts[p, "REFUSED"]) for p in purposes]


def _accepted_ms(application: Application) -> int | None:
    step = application.steps.get("accepted")
    return int(str(step.get("at_ms"))) if isinstance(step, dict) and step.get("at_ms") is not None else None


def _finished_ms(application: Application) -> int | None:
    for name in ("recorded", "refused"):
        step = application.steps.get(name)
        if isinstance(step, dict) and step.get("at_ms") is not None:
            return int(str(step.get("at_ms")))
    return None


def weekdays_between(start_ms: int, end_ms: int) -> int:
    """Mondays to Fridays (Guangzhou calendar) after the day of ``start_ms`` up to the day of ``end_ms``."""
    first, last = shanghai_day(start_ms) + 1, shanghai_day(end_ms)
    if last < first:
        return 0
    weeks = (last - first + 1) // 7
    extra = sum(1 for day in range(first + weeks * 7, last + 1) if (day + 3) % 7 < 5)  # day 0 was a Thursday
    return weeks * 5 + extra


def certainly_late(accepted_ms: int, until_ms: int, held_ms: int, calendar: WorkingDays | None = None) -> bool:
    """Whether more than 30 working days surely passed between acceptance and ``until_ms``, holds excluded.

    The day of acceptance is not counted (民法典 201), and the time on hold is taken off as if every
    held day were a working day. When the ledger holds the holiday calendar (``calendar.set``) of
    every year in the span, the working days are counted by it (``contract.working_days``, the
    contract's own arithmetic). Otherwise, conservatively: the weekdays lowered by a whole year's
    statutory holidays. A case reported late is then late whatever the calendar turns out to be;
    one near the limit may be late without being reported.
    """
    held_days = -(-held_ms // MS_PER_DAY)
    first, last = shanghai_day(accepted_ms), shanghai_day(until_ms)
    years = range(civil_from_days(first)[0], civil_from_days(last)[0] + 1)
    if calendar is not None and all(calendar.calendar(year) is not None for year in years):
        return last > calendar.add(first, LEGAL_LIMIT_WORKING_DAYS + held_days)
    working = weekdays_between(accepted_ms, until_ms) - HOLIDAYS_PER_YEAR - held_days
    return working > LEGAL_LIMIT_WORKING_DAYS


def sla(applications: list[Application], now_ms: int, calendar: WorkingDays | None = None) -> Sla:
    """Cases per state (as of ``now_ms``) and those surely past the 30-working-day limit of 条例 20.

    The limit runs from the ``accepted`` step to the ``recorded`` or ``refused`` step; a hold
    (``held_ms_total``, plus the running hold of an ON_HOLD case, whose clock is stopped and which
    is therefore not counted as on the clock) does not count. Lateness is decided by
    ``certainly_late``: by the ledger's holiday calendar where it covers the span, else by a lower
    bound on the working days.
    """
    per_state: Counter[str] = Counter()
    on_clock = overdue = finished = late = 0
    for application in applications:
        state = effective_state(application, now_ms)
        per_state[state.value] += 1
        accepted = _accepted_ms(application)
        if accepted is None:
            continue
        if state in ON_THE_CLOCK:
            on_clock += 1
            overdue += certainly_late(accepted, now_ms, application.held_ms_total, calendar)
        elif state in FINISHED and (done := _finished_ms(application)) is not None:
            finished += 1
            late += certainly_late(accepted, done, application.held_ms_total, calendar)
    ordered = {s.value: per_state[s.value] for s in AppState if per_state[s.value]}
    return Sla(per_state=ordered, on_the_clock=on_clock, overdue_open=overdue, finished=finished,
               finished_late=late)


@router.get("/regulator")
async def regulator_desk(session: Member, parts: PortalDep, top: str | None = None) -> Response:
    """The latest blocks (or those below ``top``), inquiry statistics and SLA figures."""
    assert session.account is not None
    _require_regulator(parts, session.account)
    store = parts.service.store
    head = store.height
    start = int(top) if top is not None and top.isdigit() and 1 <= int(top) <= head else head
    blocks = [b for h in range(start, max(start - BLOCKS_SHOWN, 0), -1) if (b := store.block_at(h)) is not None]
    applications = [Application.from_json(row) for _, row in store.scan("application/")]
    figures = sla(applications, queries.now_ms(store, parts.service.clock.now_ms()), WorkingDays(store))
    older = start - BLOCKS_SHOWN if start > BLOCKS_SHOWN else None
    return render("regulator.html", session, blocks=blocks, head=head, older=older, stats=inquiry_stats(store),
                  purposes=PURPOSE_NAMES, sla=figures, limit_days=LEGAL_LIMIT_WORKING_DAYS,
                  txlog_size=store.txlog.size())


@router.get("/regulator/blocks/{height}")
async def block_page(height: str, session: Member, parts: PortalDep) -> Response:
    """One block: its header and each transaction's command, signer org and result (404 for any other path)."""
    assert session.account is not None
    _require_regulator(parts, session.account)
    found = parts.service.store.block_at(int(height)) if height.isdigit() and len(height) < 16 else None
    if found is None:
        raise not_found()
    header, block_hash = found
    return render("regulator_block.html", session, header=header, block_hash=block_hash,
                  txs=tx_rows(parts, header.height), head=parts.service.store.height)


@router.get("/regulator/consistency")
async def consistency(session: Member, parts: PortalDep, old: str = "", new: str = "") -> Response:
    """An RFC 9162 consistency proof between two tx-log sizes (the newer defaults to the whole log)."""
    assert session.account is not None
    _require_regulator(parts, session.account)
    txlog = parts.service.store.txlog
    size = txlog.size()
    problems: dict[str, str] = {}
    first = int(old) if old.strip().isdigit() else 0
    second = int(new) if new.strip().isdigit() else size if not new.strip() else 0
    if not 1 <= first <= size:
        problems["old"] = N_("Enter a tx-log size between 1 and the log's size.")
    if not 1 <= second <= size or (not problems and second < first):
        problems["new"] = N_("Enter a tx-log size from the older size up to the log's size.")
    proof = None
    verified = False
    if not problems:
        try:
            proof = parts.service.consistency_proof(first, second)
        except InputError:
            problems["old"] = N_("Enter a tx-log size between 1 and the log's size.")
        else:
            verified = verify_consistency(parts.service.store.suite.hash, proof.old_size, proof.size,
                                          list(proof.path), proof.old_root, proof.root)
    return render("regulator_consistency.html", session, status=422 if problems else 200, proof=proof,
                  verified=verified, problems=problems, old=old[:20], new=new[:20] or str(size), size=size)


@router.get("/tx/{tx_id}")
async def tx_page(tx_id: str, session: Member, parts: PortalDep) -> Response:
    """A committed transaction, its result and its inclusion proof in the log of the head block's header."""
    assert session.account is not None
    require_reader(parts, session.account)
    service = parts.service
    status = service.status(tx_id) if len(tx_id) == 64 else None
    if status is None or status.seq is None or status.height is None:
        raise not_found()
    store = service.store
    head = store.block_at(store.height)
    assert head is not None
    header = head[0]
    proof = service.inclusion_proof(status.seq, header.txlog_size)
    verified = verify_inclusion(store.suite.hash, proof.leaf_hash, proof.seq, proof.size, list(proof.path),
                                proof.root)
    row = store.connection.execute("SELECT command, signer FROM txs WHERE tx_id = ?", (tx_id,)).fetchone()
    return render("regulator_tx.html", session, status_=status, command=str(row[0]),
                  signer_org=signer_org(store, str(row[1])), proof=proof, verified=verified, header=header,
                  regulator=parts.service.genesis.org(session.account.org).type == "regulator")
