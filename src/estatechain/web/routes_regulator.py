"""The regulator's desk, read-only: blocks, transactions with their proofs, inquiry statistics and time limits.

The regulator supervises the ledger rather than acting on it, so nothing here signs. Blocks,
transaction results and RFC 9162 proofs come from the same ``NodeService`` methods the API serves
(``service.block``, ``service.status``, ``service.inclusion_proof``, ``service.consistency_proof``);
the page also checks each proof with ``crypto.merkle`` and says so, while showing every number a
reader needs to check it independently. A transaction's page is shared with the registry, which
reaches it from a unit's register page (``routes_register.py``), and with the court or state organ
that signed it, for its case file (``routes_court.py`` links its own seizures' transactions).

Inquiry statistics count the inquiry log (``inquiry/`` rows: every inquiry, granted or refused, is
a transaction, domain.md §7) by purpose and outcome. SLA figures count the cases per state and
those past their legal time limit (``timelimits.py``). Both are kept as the ledger changes in a
node-local file (``deskstats.py``), so a view costs the rows written since the last one and the
cases on the clock, not a scan of every inquiry and application.

Numbers in addresses and fields are read with ``whole_number``: anything but 1 to 15 ASCII digits is
a field error (422) or, in a path, not found (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request, Response

from estatechain.contract.civil_date import shanghai_day
from estatechain.crypto.merkle import verify_consistency, verify_inclusion
from estatechain.errors import InputError
from estatechain.ledger.admission import cert_key
from estatechain.storage.follower import FirstBuild
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.web import cases as queries
from estatechain.web import deskstats
from estatechain.web.accounts import Account
from estatechain.web.deskstats import DeskStats
from estatechain.web.i18n import N_
from estatechain.web.pages import render
from estatechain.web.portal import Member, Portal, PortalDep, PortalProblem, PortalRoute, not_found
from estatechain.web.routes_owner import org_names
from estatechain.web.routes_register import require_tx_reader, whole_number
from estatechain.web.timelimits import LEGAL_LIMIT_WORKING_DAYS

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

BLOCKS_SHOWN: Final = 20
PATTERN_DAYS: Final = 30
"""The busiest inquirers are looked for over the last 30 days (domain.md §7: pattern abuse)."""
PATTERN_SHOWN: Final = 20
PATTERN_UNITS: Final = 20
"""One signer inquiring into this many distinct units in a day is flagged for the auditor to look at [A]: a
loan officer handles a few applicants a day, and each asks about one or two flats; a list of units asked
about one by one is what §7's "many units per bank officer per day" describes. A policy value, not law."""
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


def signer_org(store: LedgerStore, fingerprint: str) -> str:
    """The org of a signer, from its certificate registered on the ledger at first valid use ("—" if never)."""
    row = store.get(cert_key(fingerprint))
    return "—" if row is None else str(row.get("org", "—"))


def tx_signer_org(store: LedgerStore, tx_id: str) -> str | None:
    """The org that signed committed transaction ``tx_id`` (None when the ledger has no such transaction)."""
    row = store.connection.execute("SELECT signer FROM txs WHERE tx_id = ?", (tx_id,)).fetchone()
    return None if row is None else signer_org(store, str(row[0]))


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


async def desk_stats(request: Request, parts: PortalDep) -> DeskStats:
    """The regulator's figures beside the ledger (``deskstats.py``), opened on first use.

    The first build reads every application and inquiry (1.6 s at a million units and 84,000
    inquiries, growing with the years), so it runs in a worker thread (``FirstBuild``) while the
    event loop goes on committing blocks.
    """
    state = request.app.state
    found: FirstBuild[DeskStats] | None = getattr(state, "desk_stats", None)
    if found is None:
        found = state.desk_stats = FirstBuild(
            DeskStats(parts.service.settings.ledger_dir / deskstats.FILE, parts.service.store),
            parts.service.settings.ledger_dir / LEDGER_FILE)
    return await found.ready()


StatsDep = Annotated[DeskStats, Depends(desk_stats)]


@router.get("/regulator")
async def regulator_desk(session: Member, parts: PortalDep, stats: StatsDep, top: str | None = None) -> Response:
    """The latest blocks (or those below ``top``), inquiry statistics and SLA figures."""
    assert session.account is not None
    _require_regulator(parts, session.account)
    store = parts.service.store
    head = store.height
    asked = whole_number(top)
    start = asked if asked is not None and 1 <= asked <= head else head  # a page link: anything else is the head
    blocks = [b for h in range(start, max(start - BLOCKS_SHOWN, 0), -1) if (b := store.block_at(h)) is not None]
    now = queries.now_ms(store, parts.service.clock.now_ms())
    figures = stats.sla(now)
    older = start - BLOCKS_SHOWN if start > BLOCKS_SHOWN else None
    busiest = stats.busiest_requesters(since_day=shanghai_day(now) - PATTERN_DAYS + 1, limit=PATTERN_SHOWN)
    return render("regulator.html", session, blocks=blocks, head=head, older=older, stats=stats.inquiries(),
                  purposes=PURPOSE_NAMES, sla=figures, limit_days=LEGAL_LIMIT_WORKING_DAYS,
                  txlog_size=store.txlog.size(), busiest=busiest, pattern_days=PATTERN_DAYS,
                  pattern_units=PATTERN_UNITS, org_labels=org_names(parts.service.genesis))


@router.get("/regulator/blocks/{height}")
async def block_page(height: str, session: Member, parts: PortalDep) -> Response:
    """One block: its header and each transaction's command, signer org and result (404 for any other path)."""
    assert session.account is not None
    _require_regulator(parts, session.account)
    asked = whole_number(height)
    found = None if asked is None else parts.service.store.block_at(asked)
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
    first = whole_number(old) or 0
    second = size if not new.strip() else whole_number(new) or 0
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
    """A committed transaction, its result and its inclusion proof in the log of the head block's header.

    The registry and the regulator open any; a court or state organ only those its org signed
    (``require_tx_reader``), which is looked up first so that anything else is refused alike.
    """
    assert session.account is not None
    service = parts.service
    store = service.store
    status = service.status(tx_id) if len(tx_id) == 64 else None
    row = None if status is None else store.connection.execute(
        "SELECT command, signer FROM txs WHERE tx_id = ?", (tx_id,)).fetchone()
    require_tx_reader(parts, session.account, None if row is None else signer_org(store, str(row[1])))
    if row is None or status is None or status.seq is None or status.height is None:
        raise not_found()
    head = store.block_at(store.height)
    assert head is not None
    header = head[0]
    proof = service.inclusion_proof(status.seq, header.txlog_size)
    verified = verify_inclusion(store.suite.hash, proof.leaf_hash, proof.seq, proof.size, list(proof.path),
                                proof.root)
    return render("regulator_tx.html", session, status_=status, command=str(row[0]),
                  signer_org=signer_org(store, str(row[1])), proof=proof, verified=verified, header=header,
                  regulator=parts.service.genesis.org(session.account.org).type == "regulator")
