"""The ledger file's tables. Everything a block writes lives in one SQLite file, one transaction a block."""

from __future__ import annotations

import sqlite3
from typing import Final

from estatechain.storage.smt import SMT_SCHEMA
from estatechain.storage.txlog import TXLOG_SCHEMA

SCHEMA_VERSION: Final = 4
"""4: ``state_current`` is a view over ``state_rows`` (format 3 kept it as a table: ``upgrade_from_3``);
3: state-tree nodes stored a 3-level page a row (``state.commitment.PAGE_LEVELS``); 2 stored one node a row by
position (version, path) with an ``smt_roots`` table; 1 keyed nodes by hash."""
STREAM_POSITION: Final = "stream_position"
"""``meta`` key of a cluster node: the ordering-stream sequence its committed blocks consumed up to."""

EVENT_ROWS: Final = ("(key >= 'application/' AND key < 'application0' OR key >= 'certificate/' AND key < 'certificate0'"
                     " OR key >= 'seizure/' AND key < 'seizure0')")
"""The ``state_rows`` the partial index ``state_rows_events`` covers (application, certificate, seizure).

A query over ``state_rows`` by ``seq`` uses that index only if its WHERE clause contains this very
expression (SQLite matches the index's condition term by term), so every such query writes
``AND {EVENT_ROWS}`` from this constant rather than a copy of it.
"""
PARTY_ROWS: Final = ("(key >= 'consent/' AND key < 'consent0' OR key >= 'notice/' AND key < 'notice0'"
                     " OR key >= 'ownership/' AND key < 'ownership0')")
"""The ``state_rows`` the partial index ``state_rows_parties`` covers (consent, notice, ownership): as above."""
PRESALE_ROWS: Final = "(key >= 'presale/' AND key < 'presale0')"
"""The ``state_rows`` the partial index ``state_rows_presale`` covers (pre-sale contracts): as above."""

LEDGER_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS meta(
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- One row a block: its hash and the canonical header bytes that were hashed.
CREATE TABLE IF NOT EXISTS blocks(
    height INTEGER PRIMARY KEY,
    hash   TEXT NOT NULL UNIQUE,
    header BLOB NOT NULL
);

-- One row a transaction, valid or invalid. seq is its tx-log leaf index.
CREATE TABLE IF NOT EXISTS txs(
    seq      INTEGER PRIMARY KEY,
    tx_id    TEXT NOT NULL UNIQUE,
    height   INTEGER NOT NULL,
    position INTEGER NOT NULL,
    signer   TEXT NOT NULL,
    nonce    TEXT NOT NULL,
    command  TEXT NOT NULL,
    status   TEXT NOT NULL,
    code     TEXT,
    message  TEXT,
    detail   TEXT,
    envelope BLOB NOT NULL,
    UNIQUE(signer, nonce)
);
CREATE INDEX IF NOT EXISTS txs_by_height ON txs(height, position);

-- Every version of every state row (history is never overwritten) ...
CREATE TABLE IF NOT EXISTS state_rows(
    key    TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    height INTEGER NOT NULL,
    value  BLOB,
    chain  BLOB NOT NULL,
    PRIMARY KEY(key, seq)
) WITHOUT ROWID;

-- Which rows a transaction wrote, for the namespaces events are derived from (node/events.py): a
-- partial index, so the hot path pays for it only on application, certificate and seizure rows.
CREATE INDEX IF NOT EXISTS state_rows_events ON state_rows(seq) WHERE {EVENT_ROWS};

-- Which rows a transaction wrote, for the rows that name a person (web/partyindex.py: an owner's
-- units, notices and consents): a second partial index, paid for only on those three namespaces.
CREATE INDEX IF NOT EXISTS state_rows_parties ON state_rows(seq) WHERE {PARTY_ROWS};

-- ... and for the pre-sale contracts (web/presaleindex.py: a developer's contracts, a buyer's to sign).
CREATE INDEX IF NOT EXISTS state_rows_presale ON state_rows(seq) WHERE {PRESALE_ROWS};

-- ... and the current version of each key: the newest row of that key in state_rows, read through a
-- view (ledger format 4). Format 3 kept a second copy of every current value in a table, which cost
-- every write a second random B-tree insert: at a million units about 15 % of a registration's CPU.
CREATE VIEW IF NOT EXISTS state_current(key, seq, value, chain) AS
    SELECT key, seq, value, chain FROM state_rows AS newest
    WHERE seq = (SELECT max(seq) FROM state_rows WHERE key = newest.key)
"""  # noqa: S608  (an f-string of this module's constants only)

TABLES: Final = ("meta", "blocks", "txs", "state_rows", "txlog_nodes", "smt_nodes", "smt_roots")
CURRENT_VIEW: Final = LEDGER_SCHEMA[LEDGER_SCHEMA.index("CREATE VIEW IF NOT EXISTS state_current"):].split(";")[0]
"""The ``state_current`` view's definition; ``verify`` compares the file's with it (a changed view could hide rows)."""


def current_row(columns: str) -> str:
    """SQL for ``columns`` (of ``key, seq, value, chain``) of one key's current version (the key is the parameter).

    Its newest row in ``state_rows``: one seek down the primary key, however many versions the key has.
    """
    return f"SELECT {columns} FROM state_rows WHERE key = ? ORDER BY seq DESC LIMIT 1"  # noqa: S608


def current_rows(columns: str, prefix: str | None = None) -> str:
    """SQL for ``columns`` (of ``key, seq, value, chain``) of the current version of each key in one key range.

    The range is every key starting with ``prefix`` (a constant ending in ``/``), or, with none, the
    query's two parameters (first key, end key). It reads ``state_rows`` grouped by key, which SQLite
    serves as one pass over the primary key and which takes the other columns from the row with the
    greatest ``seq`` (its documented rule for a bare column beside a lone ``max()``). Reading a range
    through the ``state_current`` view costs more, the more versions its keys have, since the view runs
    its ``max(seq)`` subquery once per version: on a freshly built million-unit register 1.25–1.54 against
    1.08–1.11 s for the 822,607 ownership rights (warm cache); 2.7 s through the view on one that had run
    many registration mixes.
    Tombstones are current rows too (``value`` NULL); a caller that wants only live rows filters them.
    """
    if prefix is None:
        first, end = "?", "?"
    else:
        if not prefix.endswith("/") or "'" in prefix:
            raise ValueError(f"key prefix {prefix!r} must end in '/' and hold no quote")
        first, end = f"'{prefix}'", f"'{prefix[:-1]}0'"  # '0' follows '/' in code-point order
    return (f"SELECT {columns} FROM (SELECT key, max(seq) AS seq, value, chain FROM state_rows "  # noqa: S608
            f"WHERE key >= {first} AND key < {end} GROUP BY key)")


EVENTS_INDEX: Final = LEDGER_SCHEMA[LEDGER_SCHEMA.index("CREATE INDEX IF NOT EXISTS state_rows_events"):].split(";")[0]
"""Added to ledgers made before it existed when their writer opens them (an index, not a format change)."""
PARTIES_INDEX: Final = LEDGER_SCHEMA[
    LEDGER_SCHEMA.index("CREATE INDEX IF NOT EXISTS state_rows_parties"):].split(";")[0]
"""Likewise: added to older ledgers when their writer opens them (one pass over ``state_rows``, once)."""
PRESALE_INDEX: Final = LEDGER_SCHEMA[
    LEDGER_SCHEMA.index("CREATE INDEX IF NOT EXISTS state_rows_presale"):].split(";")[0]
"""Likewise."""


def create_schema(conn: sqlite3.Connection) -> None:
    """Create every table of a ledger file (idempotent) inside the caller's open transaction.

    Statements run one by one because ``executescript`` would commit the caller's transaction,
    and a ledger file must never exist with tables but without its genesis.
    """
    for statement in (LEDGER_SCHEMA + ";" + TXLOG_SCHEMA + ";" + SMT_SCHEMA).split(";"):
        if statement.strip():
            conn.execute(statement)


def upgrade_from_3(conn: sqlite3.Connection) -> None:
    """Turn a format-3 file into format 4 in one transaction: drop the ``state_current`` table, add the view.

    The table held only copies of the newest ``state_rows`` version of each key, so nothing is lost and no
    hash changes. ``secure_delete`` is turned off for the drop: SQLite (as Debian builds it) would otherwise
    overwrite every freed page with zeros, gigabytes at a million units, and a ledger holds no personal
    data in clear to wipe. The freed pages stay in the file and new blocks reuse them.
    """
    secure_delete = int(conn.execute("PRAGMA secure_delete").fetchone()[0])
    conn.execute("PRAGMA secure_delete=OFF")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DROP TABLE IF EXISTS state_current")
        conn.execute(CURRENT_VIEW)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION).encode(),))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute(f"PRAGMA secure_delete={secure_delete}")
