"""The register page of a unit (登记簿) as of any height, for the registry, the courts and the regulator.

The ledger keeps every version of every state row with the height of the block that wrote it
(``state_rows``, design §3.15), so "the register of unit U as of height H" is read from that history
rather than rebuilt: the entries current at H, and those already historic at H (a cancelled mortgage,
a superseded right, a released or lapsed seizure), each with the transactions it rests on
(``source_txs``) linked to the transaction page with its RFC 9162 inclusion proof. A height form
moves back in time; the default is the head.

Who: the registry, the courts and the regulator (state organs and the supervisor read the register
for their cases). Banks and owners ask through an inquiry instead (domain.md §7), which is logged
and limited by consent, so this page answers them 403 like a desk that is not theirs.

``AsOf`` mirrors ``api/routes/inquiries.HistoricalView``: the layers contract keeps ``web`` below
``api``, so the portal cannot import it. Both belong in ``storage`` once a third reader appears.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

import orjson
from fastapi import APIRouter, Response

from estatechain.canonical import JSONValue
from estatechain.contract import keys
from estatechain.contract.records.mortgage import Mortgage
from estatechain.contract.records.notice import Notice
from estatechain.contract.records.ownership import OwnershipRight
from estatechain.contract.records.seizure import Seizure
from estatechain.contract.records.unit import Unit
from estatechain.contract.seizure_queue import unit_seizures, windows
from estatechain.ledger.block import BlockHeader
from estatechain.storage.store import LedgerStore
from estatechain.web.accounts import Account
from estatechain.web.i18n import N_
from estatechain.web.pages import redirect, render
from estatechain.web.portal import Member, Portal, PortalDep, PortalProblem, PortalRoute

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

READERS: Final = frozenset({"registry", "court", "regulator"})
"""Org types that read the register page and the transaction pages behind it."""
SEIZURE_STATES: Final = {"in_effect": N_("In effect"), "queued": N_("Queued (轮候)"), "released": N_("Released"),
                         "lapsed": N_("Lapsed")}
SEIZURE_KINDS: Final = {"1": N_("Seizure (查封)"), "3": N_("Pre-seizure (预查封)")}
ENTRY_STATES: Final = {"current": N_("Current"), "historic": N_("Historic")}


def require_reader(parts: Portal, account: Account) -> None:
    """Refuse (403) an account whose org may not read the register page."""
    if parts.service.genesis.org(account.org).type not in READERS:
        raise PortalProblem(403, N_("This desk is not for your role."))


class AsOf:
    """The committed state as it stood after block ``height`` (a ``StateView``), read from the row history."""

    def __init__(self, store: LedgerStore, height: int) -> None:
        self._conn = store.connection
        self.height = height

    def get(self, key: str) -> dict[str, JSONValue] | None:
        """``key`` as of the height (None when absent or deleted)."""
        row = self._conn.execute(
            "SELECT value FROM state_rows WHERE key = ? AND height <= ? ORDER BY seq DESC LIMIT 1",
            (key, self.height),
        ).fetchone()
        if row is None or row[0] is None:
            return None
        value: dict[str, JSONValue] = orjson.loads(row[0])
        return value

    def scan(self, prefix: str) -> Iterator[tuple[str, dict[str, JSONValue]]]:
        """Rows under ``prefix`` as of the height, in key order."""
        rows = self._conn.execute(
            "SELECT key, value FROM state_rows AS r WHERE key >= ? AND key < ? AND height <= ? AND seq = "
            "(SELECT MAX(seq) FROM state_rows WHERE key = r.key AND height <= ?) ORDER BY key",
            (prefix, prefix + "\U0010ffff", self.height, self.height),
        ).fetchall()
        for key, value in rows:
            if value is not None:
                yield str(key), orjson.loads(value)

    def ever(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` written at or below the height, whether deleted since or not.

        The index rows of mortgages and notices are removed when they become historic; their
        records are not, so the register's historic entries are found through these keys.
        """
        rows = self._conn.execute(
            "SELECT DISTINCT key FROM state_rows WHERE key >= ? AND key < ? AND height <= ? ORDER BY key",
            (prefix, prefix + "\U0010ffff", self.height),
        ).fetchall()
        return [str(row[0]) for row in rows]


@dataclass(frozen=True, slots=True, kw_only=True)
class SeizureEntry:
    """A seizure with what it was at the page's block time: in effect, queued, released or lapsed."""

    seizure: Seizure
    state: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Register:
    """A unit's register as of one block: the unit, its rights, charges, notices and seizures, current and historic."""

    unit: Unit
    header: BlockHeader
    block_hash: str
    ownerships: tuple[OwnershipRight, ...]
    mortgages: tuple[Mortgage, ...]
    notices: tuple[Notice, ...]
    seizures: tuple[SeizureEntry, ...]


def seizure_states(view: AsOf, unit_number: str, at_ms: int) -> tuple[SeizureEntry, ...]:
    """Every seizure of the unit with its state at ``at_ms``, in queue order (derived, never written: §3.14)."""
    found = unit_seizures(view, unit_number)
    spans = {w.seizure.seizure_id: w for w in windows(found)}
    entries = []
    for seizure in found:
        window = spans.get(seizure.seizure_id)
        if seizure.released_ms is not None and (window is None or window.end_ms <= at_ms):
            state = "released"
        elif window is None or window.end_ms <= at_ms:
            state = "lapsed"
        elif window.start_ms > at_ms:
            state = "queued"
        else:
            state = "in_effect"
        entries.append(SeizureEntry(seizure=seizure, state=state))
    return tuple(entries)


def register_as_of(store: LedgerStore, unit_number: str, height: int) -> Register | None:
    """The unit's register after block ``height``, or None when the unit was not in the register then."""
    block = store.block_at(height)
    view = AsOf(store, height)
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
                    seizures=seizure_states(view, unit_number, header.time_ms))


def _height(text: str | None, head: int) -> int | str:
    """The height asked for (the head when none), or the message for the field."""
    if text is None or not text.strip():
        return head
    value = text.strip()
    if not value.isdigit() or not 1 <= int(value) <= head:
        return N_("Enter a block height between 1 and the head.")
    return int(value)


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
    found = register_as_of(store, unit_number, at) if len(unit_number) == 28 and at >= 1 else None
    missing = found is None and problem is None
    status = 422 if problem else 404 if missing else 200
    return render("register.html", session, status=status, unit_number=unit_number[:28], register=found,
                  height=at, head=head, asked=(height or "")[:20], problem=problem, missing=missing,
                  seizure_states=SEIZURE_STATES, seizure_kinds=SEIZURE_KINDS, entry_states=ENTRY_STATES)
