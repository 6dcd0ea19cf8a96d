"""Which transactions an evidence package holds: the subject's, and the context that explains them.

Subjects (the ``subject`` of the export statement):

* ``{"kind": "tx", "tx_id"}``: one transaction.
* ``{"kind": "application", "application_id"}``: the filing (its tx id *is* the application id) and
  every later transaction whose body names that ``application_id`` — valid or invalid, since a failed
  attempt is part of the record (design §3.1).
* ``{"kind": "unit", "unit_number", "from_ms", "to_ms"}``: every transaction in a block whose time is
  in [from_ms, to_ms] that names the unit anywhere in its body, plus the later steps of applications
  filed for it in that period (confirmations name only the application) and of the records created on
  it in that period (a seizure's release names only its ``seizure_id``, a buyer's signature only the
  pre-sale ``contract_id``, an owner's revocation only the ``consent_id``).

Context transactions are added so that a court can read *who* acted without asking anyone: the
identity authority's ``identity.bind_party`` of each signer certificate (and of each organisation
party a body names, at any depth: a filing names the bank inside ``applicants``), and any
``identity.revoke`` of a signer, so the report can show that the signer was judged at the height it
signed, before the revocation.

Candidates come from the exporter's node-local index of which transactions name which unit,
application, seizure, pre-sale contract or consent (``evidence/mentions.py``, caught up before each
selection); each candidate is parsed to confirm the match, so the index only has to be complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import orjson

from estatechain.canonical import JSONValue
from estatechain.contract.keys import org_of_party, party_of_certificate
from estatechain.contract.rules.governance import revoked_key
from estatechain.errors import InputError, NotFound, Unavailable
from estatechain.evidence.mentions import MentionIndex, indexed_unit_number
from estatechain.evidence.package import body_of, created_on_unit, mentions, named_parties, names_created
from estatechain.ledger.block import BlockHeader
from estatechain.storage.store import LedgerStore

_COLUMNS = "seq, tx_id, height, position, signer, command, status, envelope"
_IN_CHUNK: Final = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredTx:
    """One committed transaction as the ledger file holds it."""

    seq: int
    tx_id: str
    height: int
    position: int
    signer: str
    command: str
    valid: bool
    envelope: bytes

    @property
    def body(self) -> dict[str, JSONValue]:
        """The payload body (envelopes in the ledger are canonical, so this cannot fail)."""
        return body_of(orjson.loads(self.envelope))


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """The subject, its transactions and the context transactions, each in ledger order."""

    subject: dict[str, JSONValue]
    txs: tuple[StoredTx, ...]
    context: tuple[StoredTx, ...]


def _rows(store: LedgerStore, where: str, params: tuple[object, ...]) -> list[StoredTx]:
    rows = store.connection.execute(f"SELECT {_COLUMNS} FROM txs WHERE {where} ORDER BY seq", params).fetchall()  # noqa: S608  (fixed column list; values are bound)
    return [StoredTx(seq=r[0], tx_id=r[1], height=r[2], position=r[3], signer=r[4], command=r[5],
                     valid=r[6] == "valid", envelope=bytes(r[7])) for r in rows]


def header_at(store: LedgerStore, height: int) -> BlockHeader:
    """The stored header of block ``height``.

    Raises:
        NotFound: no such block.

    """
    row = store.connection.execute("SELECT header FROM blocks WHERE height = ?", (height,)).fetchone()
    if row is None:
        raise NotFound(f"block {height} is not in the ledger (its height is {store.height})")
    return BlockHeader.from_bytes(bytes(row[0]), where=f"blocks height={height}")


def _first_height_at_or_after(store: LedgerStore, time_ms: int) -> int:
    """The lowest height whose block time is >= ``time_ms`` (block time never decreases)."""
    low, high = 1, store.height + 1
    while low < high:
        mid = (low + high) // 2
        if header_at(store, mid).time_ms < time_ms:
            low = mid + 1
        else:
            high = mid
    return low


def select(store: LedgerStore, subject: dict[str, JSONValue], index: MentionIndex) -> Selection:
    """The transactions of ``subject`` and their context, read from ``store`` through its caught-up ``index``.

    Raises:
        InputError: the subject is malformed.
        NotFound: nothing on the ledger matches it.

    """
    kind = subject.get("kind")
    head_seq = _head_seq(store)
    if index.cursor < head_seq:  # cannot happen after ``MentionIndex.caught_up``: never answer from a short index
        raise Unavailable(f"the evidence index reaches seq {index.cursor}, the ledger's head {head_seq}: export again")
    if kind == "tx":
        txs = _rows(store, "tx_id = ? AND seq <= ?", (subject["tx_id"], head_seq))
    elif kind == "application":
        app = str(subject["application_id"])
        filing = _rows(store, "tx_id = ? AND seq <= ?", (app, head_seq))
        txs = _merged(filing, _steps(store, index, {app}, (0, head_seq)))
        if txs and txs[0].tx_id != app:
            raise NotFound(f"application {app}: its filing transaction is not on this ledger")
    elif kind == "unit":
        unit = str(subject["unit_number"])
        if not indexed_unit_number(unit):
            raise InputError(f"subject.unit_number: {unit!r} is not a 28-character unit number of ASCII digits and "
                             "capitals (GB/T 37346); check it for a typo or full-width characters")
        txs = _unit_txs(store, index, unit, int(str(subject["from_ms"])), int(str(subject["to_ms"])))
    else:
        raise InputError(f"subject.kind: {kind!r} is not one of tx, application, unit")
    if not txs:
        raise NotFound(f"no transaction on this ledger matches {orjson.dumps(subject).decode()}")
    return Selection(subject=subject, txs=tuple(txs), context=tuple(_context(store, txs, head_seq)))


def _head_seq(store: LedgerStore) -> int:
    """The last seq in a block at or below the head the store opened at: the package's head.

    A node may commit blocks while the exporter reads; what they hold is after the package's head and
    stays out of it, whatever the reads below happen to see.
    """
    return int(store.connection.execute("SELECT COALESCE(MAX(seq), -1) FROM txs WHERE height <= ?",
                                        (store.height,)).fetchone()[0])


def _by_seqs(store: LedgerStore, seqs: list[int]) -> list[StoredTx]:
    found: list[StoredTx] = []
    for start in range(0, len(seqs), _IN_CHUNK):
        chunk = seqs[start:start + _IN_CHUNK]
        found += _rows(store, f"seq IN ({','.join('?' * len(chunk))})", tuple(chunk))
    return found


def _steps(store: LedgerStore, index: MentionIndex, apps: set[str], seqs: tuple[int, int]) -> list[StoredTx]:
    """Transactions with seqs in the closed range ``seqs`` whose body's ``application_id`` is one of ``apps``."""
    return [t for t in _by_seqs(store, index.seqs(apps, *seqs)) if t.body.get("application_id") in apps]


def _merged(*groups: list[StoredTx]) -> list[StoredTx]:
    """The transactions of every group, each once, in ledger order."""
    return sorted({t.seq: t for group in groups for t in group}.values(), key=lambda t: t.seq)


def _unit_txs(store: LedgerStore, index: MentionIndex, unit: str, from_ms: int, to_ms: int) -> list[StoredTx]:
    first, last = _first_height_at_or_after(store, from_ms), _first_height_at_or_after(store, to_ms + 1) - 1
    if first > last:
        return []
    low, high = store.connection.execute("SELECT min(seq), max(seq) FROM txs WHERE height BETWEEN ? AND ?",
                                         (first, last)).fetchone()
    if low is None:
        return []
    span = (int(low), int(high))  # heights at or below the store's head, so seqs at or below the package's head
    txs = [t for t in _by_seqs(store, index.seqs([unit], *span)) if mentions(t.body, unit)]
    filings = {t.tx_id for t in txs if t.command == "application.file"}
    created = frozenset[tuple[str, str]]().union(*(
        created_on_unit(unit, tx_id=t.tx_id, command=t.command, valid=t.valid, body=t.body) for t in txs))
    # confirmations and later steps name only the application; a seizure's release only the seizure, and so on
    record_steps = [t for t in _by_seqs(store, index.seqs({i for _, i in created}, *span))
                    if names_created(t.body, created)]
    return _merged(txs, _steps(store, index, filings, span) if filings else [], record_steps)


def _writers(store: LedgerStore, key: str, head_seq: int) -> list[int]:
    """Seqs of every transaction up to ``head_seq`` that wrote a version of ``key``."""
    return [int(r[0]) for r in store.connection.execute(
        "SELECT seq FROM state_rows WHERE key = ? AND seq <= ? ORDER BY seq", (key, head_seq))]


def _context(store: LedgerStore, txs: list[StoredTx], head_seq: int) -> list[StoredTx]:
    """Bindings of every signer and of every organisation party a body names, and revocations of every signer.

    Organisation parties are looked up wherever a body names a ``party_id``, at any depth: a filing
    names the bank as mortgagee inside ``applicants``, and without its binding the report could show
    that party only as a bare id, not as the bank. A person's party id has no organisation binding,
    so looking it up too adds nothing.
    """
    keys: set[str] = set()
    for tx in txs:
        keys |= {party_of_certificate(tx.signer), revoked_key(tx.signer)}
        keys |= {org_of_party(party) for party in named_parties(tx.body)}  # a bank nested in applicants too
    subject_seqs = {t.seq for t in txs}
    seqs = sorted({seq for key in keys for seq in _writers(store, key, head_seq)} - subject_seqs)
    return _by_seqs(store, seqs)
