"""The desks' index of cases by filing org, by party and by state: a node-local cache of the ledger.

At a million units and tens of thousands of applications a desk cannot scan every ``application/``
row to find the few a clerk or an owner may see (issue 9: each desk page under 200 ms at p95). The
index holds, per application, what the desks filter and sort on — its filing org, its applicants'
party ids, its stored state and its filing time — and nothing else: the case itself is always read
back from the ledger's current state, and visibility is still decided by ``cases.may_see``.

It is derived, never authoritative. It lives in its own file beside the ledger
(``desk-index.sqlite``) and follows the ledger through ``state_rows``: every version of an
``application/`` row written after the index's cursor (the ``seq`` of the last row it took) is applied
in ``seq`` order, in one SQLite transaction with the new cursor, so a crash leaves it either before
or after a whole catch-up. Deleting the file is always safe: the next page view rebuilds it. The
cursor also names the block it was taken at (height and hash); a ledger that no longer has that
block (restored from an older backup, or replaced) makes the index start again.

The catch-up reads through the ledger's partial index ``state_rows_events`` (``storage/schema.py``),
so its cost is proportional to the application rows written since the last page view, not to the
size of the register.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

import orjson

from estatechain.certificates.record import awaits_issuer
from estatechain.contract.records.application import AppState
from estatechain.storage.follower import Follower
from estatechain.storage.schema import EVENT_ROWS, current_rows

FILE: Final = "desk-index.sqlite"
RECORDED: Final = "RECORDED"
COMPLETE: Final = "RECORDED_COMPLETE"
"""The desks' name of a RECORDED case with no certificate for the issuer (``desk_state``): finished."""
DESK_STATES: Final = tuple(name for state in AppState
                           for name in ((RECORDED, COMPLETE) if state is AppState.RECORDED else (state.value,)))
"""Every state ``desk_state`` names, in lifecycle order: a finished recorded case after one awaiting its certificate."""

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS cases(
    application_id TEXT PRIMARY KEY,
    filer_org      TEXT NOT NULL,
    state          TEXT NOT NULL,
    filed_ms       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cases_by_time  ON cases(filed_ms DESC, application_id);
CREATE INDEX IF NOT EXISTS cases_by_org   ON cases(filer_org, filed_ms DESC);
CREATE INDEX IF NOT EXISTS cases_by_state ON cases(state, filed_ms DESC);
CREATE TABLE IF NOT EXISTS parties(
    party_id       TEXT NOT NULL,
    application_id TEXT NOT NULL,
    PRIMARY KEY(party_id, application_id)
) WITHOUT ROWID;
"""

_CHANGED_ROWS: Final = (
    f"SELECT seq, value FROM state_rows WHERE seq > ? AND {EVENT_ROWS} "  # noqa: S608  (a constant of schema.py)
    "AND key >= 'application/' AND key < 'application0' ORDER BY seq"
)
"""Application rows written after a cursor. ``EVENT_ROWS``, the partial index's own condition, lets
SQLite's planner use that index; the last two terms then keep only the applications."""

_CURRENT_ROWS: Final = current_rows("seq, value", "application/")
"""Every application's current version, for the first build (a range of the primary key)."""


def desk_state(state: str, certificate_number: str | None, *, business_type: str,
               steps: Mapping[str, object]) -> str:
    """The state as the desks show and queue a case: the ledger's, but RECORDED splits in two.

    A recorded case with a 不动产登记证明 still for the issuer's desk (``certificates.record.awaits_issuer``)
    waits for it (RECORDED); any other recorded case is finished (RECORDED_COMPLETE): a cancellation
    draws no certificate, and a title certificate (不动产权证书) is not issued by this system. A
    transfer with the buyers' new mortgage waits (RECORDED) until the mortgage's certificate is issued,
    even when its title was issued first (CERTIFIED on the ledger): the bank has nothing before that.
    So every caller passes the case's type and steps: the number alone cannot say.
    """
    if awaits_issuer(state, certificate_number, business_type=business_type, steps=steps):
        return RECORDED
    return COMPLETE if state == RECORDED else state


@dataclass(frozen=True, slots=True, kw_only=True)
class Who:
    """What a desk may list: everything (the registry), or the cases filed by ``org`` or naming one of ``parties``."""

    everything: bool = False
    org: str | None = None
    parties: tuple[str, ...] = ()


class CaseIndex(Follower):
    """The index file beside one ledger, caught up from the ledger's connection on every query."""

    SCHEMA = _SCHEMA
    TABLES = ("cases", "parties")
    VERSION = 2
    """1: ``state`` holds the desk state (``desk_state``), so a finished recorded case leaves the issuer's queue.
    2: a transfer with a new mortgage waits in the issuer's queue for the mortgage's certificate."""
    CURRENT_ROWS = _CURRENT_ROWS
    CHANGED_ROWS = _CHANGED_ROWS

    def take(self, cursor: int) -> int:
        """Apply the application rows written after ``cursor``; -1: every current application (first build)."""
        rows = self.rows_after(cursor)
        for _, value in rows:
            if value is not None:
                self._apply(orjson.loads(bytes(value)))
        return len(rows)

    def _apply(self, row: dict[str, object]) -> None:
        application_id = str(row["application_id"])
        self._db.execute(
            "INSERT INTO cases(application_id, filer_org, state, filed_ms) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(application_id) DO UPDATE SET state = excluded.state",
            (application_id, str(row["filer_org"]), _desk_state(row), int(str(row["filed_ms"]))),
        )
        applicants = row.get("applicants")
        parties = {str(a["party_id"]) for a in applicants if isinstance(a, dict) and "party_id" in a} \
            if isinstance(applicants, list) else set()
        self._db.executemany("INSERT OR IGNORE INTO parties(party_id, application_id) VALUES (?, ?)",
                             [(party, application_id) for party in sorted(parties)])

    def ids(self, who: Who, *, states: Iterable[str] = (), limit: int = 100, offset: int = 0,
            oldest_first: bool = False) -> list[str]:
        """``limit`` application ids ``who`` may list (in ``states`` when given) after the first ``offset``.

        Newest first, or oldest first for work queues: those are the cases nearest their time limit.
        Each way of being entitled is read up to ``offset + limit`` before they are merged, so a page
        is the same slice of the whole list whichever branch its cases came from.
        """
        self.refresh()
        found: dict[str, int] = {}
        order = 2 if oldest_first else 0
        enough = offset + limit
        for sql, params in self._branches(who):
            for state in sorted(set(states)):
                found.update(self._rows(sql[order + 1], (*params, state, enough)))
            if not states:
                found.update(self._rows(sql[order], (*params, enough)))
        sign = 1 if oldest_first else -1
        ordered = sorted(found, key=lambda application_id: (sign * found[application_id], application_id))
        return ordered[offset:enough]

    def _rows(self, sql: str, params: tuple[object, ...]) -> Iterator[tuple[str, int]]:
        return ((str(a), int(f)) for a, f in self._db.execute(sql, params))

    def count(self, who: Who, *, states: Iterable[str] = ()) -> int:
        """How many cases ``who`` may list in all (in ``states`` when given): a desk says it beside its page."""
        self.refresh()
        wanted: list[str | None] = [*sorted(set(states))] or [None]
        total = 0
        for state in wanted:
            filtered = state is not None
            if who.everything:
                total += self._one(_COUNT[filtered], (state,) if filtered else ())
                continue
            if who.org is not None:
                total += self._one(_COUNT_BY_ORG[filtered], (who.org, state) if filtered else (who.org,))
            named: set[str] = set()
            for party in who.parties:
                params = (party, who.org or "", state) if filtered else (party, who.org or "")
                named.update(str(r[0]) for r in self._db.execute(_NAMED_ELSEWHERE[filtered], params))
            total += len(named)
        return total

    def _one(self, sql: str, params: tuple[object, ...]) -> int:
        return int(self._db.execute(sql, params).fetchone()[0])

    @staticmethod
    def _branches(who: Who) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """Fixed statements (without, with a state filter) and their parameters, one per way of being entitled."""
        if who.everything:
            return [(_BY_TIME, ())]
        branches: list[tuple[tuple[str, ...], tuple[str, ...]]] = [] if who.org is None else [(_BY_ORG, (who.org,))]
        return branches + [(_BY_PARTY, (party,)) for party in who.parties]


def _both_orders(newest: str, newest_in_state: str) -> tuple[str, str, str, str]:
    """A branch's statements: without and with a state filter, newest first, then the same oldest first."""
    return (newest, newest_in_state, newest.replace("filed_ms DESC", "filed_ms ASC"),
            newest_in_state.replace("filed_ms DESC", "filed_ms ASC"))


_JOINED: Final = ("SELECT c.application_id, c.filed_ms FROM parties p "
                  "JOIN cases c ON c.application_id = p.application_id")
_BY_TIME: Final = _both_orders(
    "SELECT application_id, filed_ms FROM cases ORDER BY filed_ms DESC, application_id LIMIT ?",
    "SELECT application_id, filed_ms FROM cases WHERE state = ? ORDER BY filed_ms DESC, application_id LIMIT ?",
)
_BY_ORG: Final = _both_orders(
    "SELECT application_id, filed_ms FROM cases WHERE filer_org = ? ORDER BY filed_ms DESC LIMIT ?",
    "SELECT application_id, filed_ms FROM cases WHERE filer_org = ? AND state = ? ORDER BY filed_ms DESC LIMIT ?",
)
_BY_PARTY: Final = _both_orders(
    _JOINED + " WHERE p.party_id = ? ORDER BY c.filed_ms DESC LIMIT ?",
    _JOINED + " WHERE p.party_id = ? AND c.state = ? ORDER BY c.filed_ms DESC LIMIT ?",
)
"""Fixed statements per way of being entitled, each cut at the limit before the branches are merged."""

_NAMED: Final = ("SELECT c.application_id FROM parties p JOIN cases c ON c.application_id = p.application_id "
                 "WHERE p.party_id = ? AND c.filer_org != ?")
_NAMED_ELSEWHERE: Final = (_NAMED, _NAMED + " AND c.state = ?")
_COUNT: Final = ("SELECT count(*) FROM cases", "SELECT count(*) FROM cases WHERE state = ?")
_COUNT_BY_ORG: Final = ("SELECT count(*) FROM cases WHERE filer_org = ?",
                        "SELECT count(*) FROM cases WHERE filer_org = ? AND state = ?")
"""Counting statements, without and with a state filter (indexed by whether one is given)."""


def _desk_state(row: Mapping[str, object]) -> str:
    """``desk_state`` of a stored application row."""
    steps = row.get("steps")
    return desk_state(str(row["state"]), _text(row.get("certificate_number")), business_type=str(row["business_type"]),
                      steps=steps if isinstance(steps, dict) else {})


def _text(value: object) -> str | None:
    return None if value is None else str(value)
