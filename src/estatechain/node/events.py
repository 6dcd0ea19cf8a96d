"""Events for bank systems, derived from committed blocks alone (issue 6 item 4).

Nothing here is stored on the ledger and nothing depends on the contract's ``Emit`` effects: an
event is a function of one committed block's transactions and the state rows they wrote, read
back from the ledger file. So the same block always yields the same events with the same ids, and
a node that crashed between a commit and a delivery re-derives exactly what it had not delivered.

For each block, transactions in position order, each transaction's events in this order:

* ``tx.committed`` (every tx, valid or invalid) for the signer's org: command, result, code;
* then per state row the tx wrote, in key order:

  - ``application.status_changed`` for the filing bank (``filer_org``) when an application is new or
    its state differs from its previous version;
  - ``certificate.issued`` (an application's certificate record gets its issue: the registry's issuer
    signed the document) and ``certificate.status_changed`` for the application's filing bank and,
    for a mortgage certificate, the mortgagee banks;
  - ``seizure.recorded`` / ``seizure.released`` / ``seizure.renewed`` for the banks holding a current
    mortgage on the seized unit as of that transaction.

Entitlement is resolved *as of the transaction* from the state history (``state_rows``), never from
the current state, so re-derivation after later blocks gives the same recipients. Payloads carry ids,
unit numbers, states and codes only: no party ids, names or amounts. Imported records (no
application) yield no certificate events: a bulk import would otherwise flood every bank.

An event's place is its cursor ``(height, index)``: ``index`` counts every event of the block, for all
orgs, so an org's stream has gaps and a client resumes with ``after=<height>.<index>``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

import orjson

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.errors import EstatechainError, InputError
from estatechain.identity.genesis import Genesis
from estatechain.identity.membership import SignerCache
from estatechain.ledger.admission import cert_key
from estatechain.ledger.block import BlockHeader
from estatechain.node.pipeline import CommittedBlock
from estatechain.storage.schema import EVENT_ROWS, current_row

EVENT_TYPE: Final = "estatechain.event.v1"
EVENT_ID_TYPE: Final = "estatechain.event-id.v1"

TX_COMMITTED: Final = "tx.committed"
APPLICATION_STATUS: Final = "application.status_changed"
CERTIFICATE_ISSUED: Final = "certificate.issued"
CERTIFICATE_STATUS: Final = "certificate.status_changed"
SEIZURE_RECORDED: Final = "seizure.recorded"
SEIZURE_RELEASED: Final = "seizure.released"
SEIZURE_RENEWED: Final = "seizure.renewed"

KINDS: Final = (TX_COMMITTED, APPLICATION_STATUS, CERTIFICATE_ISSUED, CERTIFICATE_STATUS, SEIZURE_RECORDED,
                SEIZURE_RELEASED, SEIZURE_RENEWED)

_CURSOR: Final = re.compile(r"^(0|[1-9][0-9]{0,11})\.(0|[1-9][0-9]{0,8})$")
_SIGNER_CERTIFICATE: Final = current_row("value")
"""A signer's certificate row, for the org it belongs to."""

Row = dict[str, JSONValue]


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """An event's place: block height and index among that block's events. ``0.0``-before-all is ``START``."""

    height: int
    index: int

    def __str__(self) -> str:
        return f"{self.height}.{self.index}"

    @staticmethod
    def parse(text: str) -> Cursor:
        """``<height>.<index>``, as the ``id:`` of an SSE event and the ``cursor`` of an event.

        Raises:
            InputError: ``text`` is not of that form.

        """
        match = _CURSOR.fullmatch(text)
        if match is None:
            raise InputError(f"cursor {text[:40]!r} must be <height>.<index>, e.g. 12.3 (the cursor of the last "
                             "event received)")
        return Cursor(int(match[1]), int(match[2]))


START: Final = Cursor(0, -1)
"""Before the first event: ``after=START`` replays everything (``after`` omitted means "from now")."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One derived event. ``orgs`` (who may see it) is not part of the delivered payload."""

    event_id: str
    chain_id: str
    height: int
    index: int
    seq: int
    tx_id: str
    time_ms: int
    kind: str
    subject: str
    data: Mapping[str, JSONValue]
    orgs: frozenset[str] = field(default_factory=frozenset)

    @property
    def cursor(self) -> Cursor:
        """Where the event stands in the ledger's event order."""
        return Cursor(self.height, self.index)

    def to_json(self) -> dict[str, JSONValue]:
        """The event as clients receive it (SSE ``data`` and webhook ``event``)."""
        return {
            "type": EVENT_TYPE, "chain_id": self.chain_id, "event_id": self.event_id, "cursor": str(self.cursor),
            "height": self.height, "index": self.index, "seq": self.seq, "tx_id": self.tx_id,
            "time_ms": self.time_ms, "kind": self.kind, "subject": self.subject, "data": dict(self.data),
        }


def event_id(chain_id: str, height: int, seq: int, kind: str, subject: str) -> str:
    """Hex SHA-256 of the canonical ``{type, chain_id, height, seq, kind, subject}``: the same on every derivation."""
    material = canonical.encode({"type": EVENT_ID_TYPE, "chain_id": chain_id, "height": height, "seq": seq,
                                 "kind": kind, "subject": subject})
    return hashlib.sha256(material).hexdigest()


@dataclass(slots=True)
class _Draft:
    seq: int
    tx_id: str
    kind: str
    subject: str
    data: Row
    orgs: frozenset[str]


class EventSource:
    """Derives events from a ledger file's committed blocks through its (reader or writer) connection."""

    def __init__(self, conn: sqlite3.Connection, genesis: Genesis) -> None:
        self._conn = conn
        self.chain_id = genesis.chain_id
        self._signers = SignerCache(genesis)
        self._orgs_by_signer: dict[str, str | None] = {}

    def height(self) -> int:
        """The last committed height."""
        row = self._conn.execute("SELECT MAX(height) FROM blocks").fetchone()
        return 0 if row is None or row[0] is None else int(row[0])

    def block_events(self, height: int) -> list[Event]:
        """Every event of the block at ``height`` (empty when there is no such block)."""
        header = self._conn.execute("SELECT header FROM blocks WHERE height = ?", (height,)).fetchone()
        if header is None:
            return []
        time_ms = BlockHeader.from_bytes(bytes(header[0]), where=f"blocks height={height}").time_ms
        txs = self._conn.execute(
            "SELECT seq, tx_id, signer, command, status, code, envelope FROM txs WHERE height = ? ORDER BY position",
            (height,),
        ).fetchall()
        drafts: list[_Draft] = []
        for seq, tx_id, signer, command, status, code, envelope in txs:
            org = self._org_of_signer(str(signer), bytes(envelope))
            drafts.append(_Draft(int(seq), str(tx_id), TX_COMMITTED, str(tx_id),
                                 {"command": str(command), "result": str(status),
                                  "code": None if code is None else str(code)},
                                 frozenset({org}) if org else frozenset()))
            if status == "valid":
                drafts.extend(self._row_events(int(seq), str(tx_id)))
        return [
            Event(event_id=event_id(self.chain_id, height, d.seq, d.kind, d.subject), chain_id=self.chain_id,
                  height=height, index=index, seq=d.seq, tx_id=d.tx_id, time_ms=time_ms, kind=d.kind,
                  subject=d.subject, data=d.data, orgs=d.orgs)
            for index, d in enumerate(drafts)
        ]

    def events_after(self, cursor: Cursor, *, org: str | None = None, upto: int | None = None) -> Iterator[Event]:
        """Events after ``cursor`` up to height ``upto`` (default: the head), only ``org``'s when given."""
        last = self.height() if upto is None else upto
        for height in range(max(cursor.height, 1), last + 1):
            for event in self.block_events(height):
                if event.cursor > cursor and (org is None or org in event.orgs):
                    yield event

    # -- entitlement and history ---------------------------------------------------------------------------

    def _org_of_signer(self, signer: str, envelope: bytes) -> str | None:
        if signer in self._orgs_by_signer:
            return self._orgs_by_signer[signer]
        org: str | None = None
        row = self._conn.execute(_SIGNER_CERTIFICATE, (cert_key(signer),)).fetchone()
        if row is not None and row[0] is not None:
            org = str(orjson.loads(bytes(row[0])).get("org") or "") or None
        if org is None:  # never registered (its txs were all invalid): the envelope carries the certificate
            try:
                certificate = orjson.loads(envelope).get("certificate")
                if isinstance(certificate, str):
                    org = self._signers.resolve(base64.b64decode(certificate)).org_id
            except (ValueError, EstatechainError):
                org = None
        self._orgs_by_signer[signer] = org
        return org

    def _as_of(self, key: str, seq: int) -> Row | None:
        """``key``'s value as of (and including) tx ``seq``; None when absent or deleted."""
        row = self._conn.execute(
            "SELECT value FROM state_rows WHERE key = ? AND seq <= ? ORDER BY seq DESC LIMIT 1", (key, seq)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        value: Row = orjson.loads(bytes(row[0]))
        return value

    def _org_of_party(self, party_id: str, seq: int) -> str | None:
        bound = self._as_of(f"identity/orgparty/{party_id}", seq)
        org = None if bound is None else bound.get("org")
        return org if isinstance(org, str) else None

    def _mortgagee_orgs(self, mortgage: Row, seq: int) -> set[str]:
        orgs: set[str] = set()
        mortgagees = mortgage.get("mortgagees")
        for party in mortgagees if isinstance(mortgagees, list) else []:
            if isinstance(party, dict) and isinstance(party.get("party_id"), str):
                org = self._org_of_party(str(party["party_id"]), seq)
                if org is not None:
                    orgs.add(org)
        return orgs

    def _unit_mortgagee_orgs(self, unit_number: str, seq: int) -> frozenset[str]:
        """Orgs of the mortgagees of every current mortgage on the unit as of tx ``seq``."""
        prefix = f"unitidx/{unit_number}/mortgage/"
        rows = self._conn.execute(
            "SELECT key, value FROM state_rows WHERE key >= ? AND key < ? AND seq <= ? ORDER BY key, seq",
            (prefix, prefix + "\U0010ffff", seq),
        ).fetchall()
        latest: dict[str, bytes | None] = {}
        for key, value in rows:
            latest[str(key)] = None if value is None else bytes(value)
        orgs: set[str] = set()
        for key, value in latest.items():
            if value is None:
                continue
            mortgage = self._as_of(f"mortgage/{key.rsplit('/', 1)[-1]}", seq)
            if mortgage is not None and mortgage.get("status") == "current":
                orgs |= self._mortgagee_orgs(mortgage, seq)
        return frozenset(orgs)

    def _row_events(self, seq: int, tx_id: str) -> list[_Draft]:
        rows = self._conn.execute(
            f"SELECT key, value FROM state_rows WHERE seq = ? AND {EVENT_ROWS} "  # noqa: S608  (a constant of schema.py)
            "ORDER BY key",
            (seq,),
        ).fetchall()
        drafts: list[_Draft] = []
        for key, value in rows:
            if value is None:
                continue
            new: Row = orjson.loads(bytes(value))
            key_text = str(key)
            if key_text.startswith("application/"):
                drafts.extend(self._application(seq, tx_id, key_text, new))
            elif key_text.startswith("certificate/"):
                drafts.extend(self._certificate(seq, tx_id, key_text, new))
            else:
                drafts.extend(self._seizure(seq, tx_id, key_text, new))
        return drafts

    def _application(self, seq: int, tx_id: str, key: str, new: Row) -> list[_Draft]:
        old = self._as_of(key, seq - 1)
        if old is not None and old.get("state") == new.get("state"):
            return []
        org = new.get("filer_org")
        if not isinstance(org, str):
            return []
        data: Row = {"application_id": new.get("application_id"), "business_type": new.get("business_type"),
                     "unit_number": new.get("unit_number"), "state": new.get("state"),
                     "previous_state": None if old is None else old.get("state"),
                     "certificate_number": new.get("certificate_number")}
        return [_Draft(seq, tx_id, APPLICATION_STATUS, key, data, frozenset({org}))]

    def _certificate(self, seq: int, tx_id: str, key: str, new: Row) -> list[_Draft]:
        application_id = new.get("application_id")
        if not isinstance(application_id, str):
            return []
        old = self._as_of(key, seq - 1)
        if new.get("issued_ms") is not None and (old is None or old.get("issued_ms") is None):
            kind = CERTIFICATE_ISSUED
        elif old is not None and old.get("status") != new.get("status"):
            kind = CERTIFICATE_STATUS
        else:
            return []
        orgs: set[str] = set()
        application = self._as_of(f"application/{application_id}", seq)
        if application is not None and isinstance(application.get("filer_org"), str):
            orgs.add(str(application["filer_org"]))
        right = new.get("right")
        if isinstance(right, str) and right.startswith("mortgage/"):
            mortgage = self._as_of(right, seq)
            if mortgage is not None:
                orgs |= self._mortgagee_orgs(mortgage, seq)
        if not orgs:
            return []
        data: Row = {"number": new.get("number"), "right": right, "application_id": application_id,
                     "status": new.get("status"), "previous_status": None if old is None else old.get("status"),
                     "document_sha256": new.get("document_sha256")}
        return [_Draft(seq, tx_id, kind, key, data, frozenset(orgs))]

    def _seizure(self, seq: int, tx_id: str, key: str, new: Row) -> list[_Draft]:
        old = self._as_of(key, seq - 1)
        if old is None:
            kind = SEIZURE_RECORDED
        elif old.get("released_ms") is None and new.get("released_ms") is not None:
            kind = SEIZURE_RELEASED
        elif old.get("end_date") != new.get("end_date"):
            kind = SEIZURE_RENEWED
        else:
            return []
        unit_number = new.get("unit_number")
        if not isinstance(unit_number, str):
            return []
        orgs = self._unit_mortgagee_orgs(unit_number, seq)
        if not orgs:
            return []
        data: Row = {"seizure_id": new.get("seizure_id"), "unit_number": unit_number, "kind": new.get("kind"),
                     "queued": new.get("queued"), "start_date": new.get("start_date"),
                     "end_date": new.get("end_date"), "released": new.get("released_ms") is not None}
        return [_Draft(seq, tx_id, kind, key, data, orgs)]


class EventHub:
    """Derives each committed block's events once, in height order, for the outbox and live streams.

    It follows the pipeline's committed blocks; a block it did not see (it subscribed late) is
    derived from the ledger, because it always continues from the last height it handled.
    """

    def __init__(self, source: EventSource, *, start_height: int, queue_size: int = 1000) -> None:
        self.source = source
        self.last_height = start_height
        self._queue_size = queue_size
        self._listeners: set[asyncio.Queue[list[Event] | None]] = set()
        self._hooks: list[Callable[[int, list[Event]], object]] = []

    def add_hook(self, hook: Callable[[int, list[Event]], object]) -> None:
        """Call ``hook(height, events)`` for every block, before live listeners hear of it."""
        self._hooks.append(hook)

    @contextlib.contextmanager
    def listen(self) -> Iterator[asyncio.Queue[list[Event] | None]]:
        """A queue of each new block's events; None means "you fell behind: reconnect with your cursor"."""
        queue: asyncio.Queue[list[Event] | None] = asyncio.Queue(self._queue_size)
        self._listeners.add(queue)
        try:
            yield queue
        finally:
            self._listeners.discard(queue)

    def advance(self, upto: int) -> None:
        """Handle every block after the last one handled up to height ``upto``."""
        for height in range(self.last_height + 1, upto + 1):
            events = self.source.block_events(height)
            for hook in self._hooks:
                hook(height, events)
            for queue in list(self._listeners):
                try:
                    queue.put_nowait(events)
                except asyncio.QueueFull:
                    self._listeners.discard(queue)
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                    queue.put_nowait(None)
            self.last_height = height

    async def follow(self, blocks: AsyncIterator[CommittedBlock]) -> None:
        """Advance on every committed block of ``blocks`` (the pipeline's ``subscribe()``) until cancelled."""
        async for block in blocks:
            self.advance(block.header.height)
