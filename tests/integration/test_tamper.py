"""Changing any stored byte of a ledger makes ``verify`` fail and name the place.

One small ledger is built per module: four blocks, 65 transactions (seven of them invalid, for two
different reasons), and keys overwritten both across blocks and within one block, so state history
holds several versions of a key. Every test tampers with its own copy.
"""

from __future__ import annotations

import os
import random  # noqa: TID251  (seeded test inputs; the seed is in every failure message)
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from estatechain.errors import IntegrityFault, Unavailable
from estatechain.storage import audit
from estatechain.storage.audit import AuditReport, audit_ledger
from estatechain.storage.schema import TABLES, create_schema
from estatechain.storage.store import LEDGER_FILE
from estatechain.testing.builders import sample_stream
from estatechain.testing.harness import LedgerHarness

CLI = [sys.executable, "-c", "from estatechain.cli.main import main; main()"]
RANDOM_MUTATIONS = 500
Key = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of one ledger table, as the schema declares it."""

    table: str
    name: str
    not_null: bool
    primary_key: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.table}.{self.name}"

    @property
    def nullable(self) -> bool:
        return not self.not_null and self.name not in self.primary_key


def _schema_columns() -> list[Column]:
    """Every column of every table in ``TABLES``, read from the real DDL (new columns are covered automatically)."""
    conn = sqlite3.connect(":memory:")
    create_schema(conn)
    columns = []
    for table in TABLES:
        info = conn.execute(f"PRAGMA table_info({table})").fetchall()
        primary_key = tuple(row[1] for row in sorted(info, key=lambda row: row[5]) if row[5])
        columns += [Column(table, row[1], bool(row[3]), primary_key) for row in info]
    conn.close()
    return columns


COLUMNS = _schema_columns()

ROW_NOT_NAMED = {
    ("meta", "key"): "a renamed meta key leaves no row to name; verify lists the keys it found instead",
}
"""Mutations after which verify names the table but not the changed row (see the report of this campaign)."""


# -- the ledger ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, AuditReport]:
    """The pristine ledger directory and its passing audit."""
    harness = LedgerHarness(tmp_path_factory.mktemp("tamper"))
    factory, clock = harness.factory, harness.clock
    bank, other_bank, registry = (factory.identity(h) for h in ("icbc-gz/operator1", "ccb-gz/operator1",
                                                                 "gz-registry/intake1"))
    samples = list(sample_stream(factory, 60))  # every tenth is invalid: it would overwrite with if_absent
    harness.commit(samples[:20])
    clock.advance(1_000)
    harness.commit([*samples[20:40], factory.note(bank, "sample/0000000", {"rev": 2}),
                    factory.note(other_bank, "sample/0000001", {"rev": 2}),
                    factory.note(registry, "sample/0000001", {"rev": 3})])  # two versions in one block
    clock.advance(1_000)
    stale = factory.sign(bank, "note.put", {"data": {}, "key": "stale"}, created_at_ms=clock.now_ms() - 11 * 60_000)
    harness.commit([*samples[40:60], stale])
    clock.advance(1_000)
    harness.commit([factory.note(registry, "sample/0000000", {"rev": 3})])
    harness.store.close()
    report = audit_ledger(harness.ledger_dir)
    assert (report.blocks, report.txs, report.invalid_txs) == (4, 65, 7)
    assert report.state_versions > report.state_keys, "state history must hold superseded versions"
    return harness.ledger_dir, report


@pytest.fixture
def ledger(built: tuple[Path, AuditReport], tmp_path: Path) -> Path:
    """A private copy of the pristine ledger, free to tamper with."""
    return _copy(built[0], tmp_path / "ledger")


def _copy(source: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    return target


def _connect(directory: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(directory / LEDGER_FILE, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")  # a scratch copy: speed over durability
    return conn


def _read_only(directory: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{(directory / LEDGER_FILE).resolve().as_uri()}?mode=ro", uri=True)


def _fault(directory: Path) -> IntegrityFault | None:
    """The fault verify reports, or None if the ledger passes."""
    try:
        audit_ledger(directory)
    except IntegrityFault as fault:
        return fault
    return None


# -- column by column ---------------------------------------------------------------------------------


def _where_key(column: Column) -> str:
    return " AND ".join(f"{name} = ?" for name in column.primary_key)


def _sample_keys(conn: sqlite3.Connection, column: Column) -> list[Key]:
    """First, middle and last row (every row of meta), a NULL and a non-NULL one, and a superseded version."""
    pk = ", ".join(column.primary_key)
    keys: list[Key] = [tuple(row) for row in conn.execute(f"SELECT {pk} FROM {column.table} ORDER BY {pk}")]
    picked = keys if column.table == "meta" else [keys[0], keys[len(keys) // 2], keys[-1]]
    if column.nullable:
        for test in ("IS NULL", "IS NOT NULL"):
            row = conn.execute(f"SELECT {pk} FROM {column.table} WHERE {column.name} {test} LIMIT 1").fetchone()
            picked += [tuple(row)] if row is not None else []
    if column.table == "state_rows":
        row = conn.execute("SELECT key, MIN(seq) FROM state_rows GROUP BY key HAVING COUNT(*) > 1 LIMIT 1").fetchone()
        picked.append(tuple(row))
    return list(dict.fromkeys(picked))


_ALPHABETS = ("0123456789abcdef", "0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _other_char(char: str) -> str:
    """A different character from the same alphabet, so a hex digest stays hex and a code stays a code."""
    for alphabet in _ALPHABETS:
        if char in alphabet:
            return alphabet[(alphabet.index(char) + 1) % len(alphabet)]
    return "_" if char != "_" else "-"


def _flip(value: bytes, index: int) -> bytes:
    changed = bytearray(value)
    changed[index] ^= 0x01
    return bytes(changed)


def _mutations(column: Column, value: object, borrowed: object) -> Iterator[tuple[str, list[object]]]:
    """(description, candidate new values): the first candidate that satisfies the constraints is used."""
    if value is None:
        yield "NULL → value", [borrowed if borrowed is not None else "x"]
        return
    if isinstance(value, int):
        # A key column's neighbours are taken; the fallback moves the row past every other one instead.
        yield "+1 (else +1,000,003)", [value + 1, value + 1_000_003]
        yield "-1 (else +2,000,006)", [value - 1, value + 2_000_006]
    elif isinstance(value, str):
        middle = len(value) // 2
        yield "one character changed", [value[:middle] + _other_char(value[middle]) + value[middle + 1:]]
        yield "same text stored as a BLOB", [value.encode()]
    elif isinstance(value, bytes):
        yield "one bit flipped mid-value", [_flip(value, len(value) // 2)]
        yield "one bit flipped in the last byte", [_flip(value, len(value) - 1)]
        try:
            text: str | None = value.decode()
        except UnicodeDecodeError:
            text = None
        if text is not None:
            yield "same bytes stored as TEXT", [text]
    if column.nullable:
        yield "value → NULL", [None]


def _label(value: object) -> set[str]:
    """How verify may print a key value in ``where``."""
    return {str(value), value.hex()} if isinstance(value, bytes) else {str(value)}


def _row_named(column: Column, where: str, old: Key, new: Key) -> bool:
    """True if ``where`` names the row by its old or new key (``txs seq=3``, ``txlog_nodes level=0 idx=4`` …)."""
    for key in (old, new):
        parts = [{f"{name}={label}" for label in _label(value)} for name, value in zip(column.primary_key, key,
                                                                                          strict=True)]
        if all(any(part in where for part in options) for options in parts):
            return True
    return False


def _apply(conn: sqlite3.Connection, column: Column, key: Key, candidates: list[object]) -> object:
    """Write the first candidate the constraints accept; return it (AssertionError if none fits)."""
    for candidate in candidates:
        try:
            conn.execute(f"UPDATE {column.table} SET {column.name} = ? WHERE {_where_key(column)}",
                         (candidate, *key))
        except sqlite3.IntegrityError:
            continue
        return candidate
    msg = f"{column} row {key}: every candidate mutation violates a constraint"
    raise AssertionError(msg)


@pytest.mark.parametrize("column", COLUMNS, ids=str)
def test_changing_any_column_of_a_stored_row_fails_verify_and_names_table_and_row(
    built: tuple[Path, AuditReport], tmp_path: Path, column: Column
) -> None:
    pristine = built[0]
    source = _read_only(pristine)
    borrowed = source.execute(f"SELECT {column.name} FROM {column.table} WHERE {column.name} IS NOT NULL "
                              f"LIMIT 1").fetchone()[0]
    checked: list[str] = []
    for key in _sample_keys(source, column):
        value = source.execute(f"SELECT {column.name} FROM {column.table} WHERE {_where_key(column)}",
                               key).fetchone()[0]
        for description, candidates in _mutations(column, value, borrowed):
            copy = _copy(pristine, tmp_path / "ledger")
            conn = _connect(copy)
            new_value = _apply(conn, column, key, candidates)
            conn.close()
            new_key = tuple(new_value if name == column.name else part
                            for name, part in zip(column.primary_key, key, strict=True))
            what = f"{column} row {key!r:.90}: {description}"
            fault = _fault(copy)
            assert fault is not None, f"UNDETECTED: {what} ({value!r:.60} → {new_value!r:.60})"
            assert column.table in fault.where, f"{what}: verify blamed {fault.where!r}"
            if (column.table, column.name) not in ROW_NOT_NAMED:
                assert _row_named(column, fault.where, key, new_key), f"{what}: row not named in {fault.where!r}"
            checked.append(description)
    source.close()
    assert len(checked) >= 3


# -- random bytes -------------------------------------------------------------------------------------


def _change_one_byte(rng: random.Random, value: object) -> object:
    """``value`` with one stored byte changed (one ASCII character for TEXT, one bit for INTEGER)."""
    if isinstance(value, int):
        return value ^ (1 << rng.randrange(63))
    if isinstance(value, str):
        ascii_at = [i for i, char in enumerate(value) if char.isascii()]
        at = rng.choice(ascii_at)
        replacement = rng.choice([chr(c) for c in range(0x20, 0x7F) if chr(c) != value[at]])
        return value[:at] + replacement + value[at + 1:]
    assert isinstance(value, bytes)
    changed = bytearray(value)
    at = rng.randrange(len(changed))
    changed[at] = rng.choice([b for b in range(256) if b != changed[at]])
    return bytes(changed)


def test_500_random_byte_changes_inside_stored_records_all_fail_verify(ledger: Path) -> None:
    seed = int(os.environ.get("ESTATECHAIN_TAMPER_SEED", secrets.randbits(32)))
    rng = random.Random(seed)
    by_table = {table: [c for c in COLUMNS if c.table == table] for table in TABLES}
    conn = _connect(ledger)
    missed: list[str] = []
    done = 0
    while done < RANDOM_MUTATIONS:
        column = rng.choice(by_table[rng.choice(TABLES)])
        pk = ", ".join(column.primary_key)
        rows = conn.execute(f"SELECT {pk}, {column.name} FROM {column.table} ORDER BY {pk}").fetchall()
        *key_parts, value = rng.choice(rows)
        if value is None or (isinstance(value, str) and not any(char.isascii() for char in value)):
            continue
        key = tuple(key_parts)
        new_value = _change_one_byte(rng, value)
        try:
            conn.execute(f"UPDATE {column.table} SET {column.name} = ? WHERE {_where_key(column)}",
                         (new_value, *key))
        except sqlite3.IntegrityError:
            continue  # it would clash with another row's key: draw again
        fault = _fault(ledger)
        if fault is None or column.table not in fault.where:
            missed.append(f"{column} row {key!r:.80}: {value!r:.60} → {new_value!r:.60}: "
                          f"{'UNDETECTED' if fault is None else 'blamed ' + fault.where}")
        new_key = tuple(new_value if name == column.name else part
                        for name, part in zip(column.primary_key, key, strict=True))
        conn.execute(f"UPDATE {column.table} SET {column.name} = ? WHERE {_where_key(column)}",
                     (value, *new_key))
        done += 1
    conn.close()
    assert not missed, f"seed {seed} (rerun with ESTATECHAIN_TAMPER_SEED={seed}): " + "\n".join(missed)
    assert _fault(ledger) is None, f"seed {seed}: restoring every changed byte must give back a valid ledger"


# -- raw file bytes -----------------------------------------------------------------------------------


def _pages_of(conn: sqlite3.Connection, btree: str) -> set[int]:
    return {row[0] for row in conn.execute("SELECT pageno FROM dbstat WHERE name = ?", (btree,))}


def _offset_inside(directory: Path, btree: str, values: list[bytes]) -> int:
    """File offset of a byte inside one of ``values`` as stored on a page of ``btree`` (never the file header)."""
    data = (directory / LEDGER_FILE).read_bytes()
    conn = _read_only(directory)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = _pages_of(conn, btree)
    conn.close()
    for value in values:
        for start in range(max(0, len(value) // 2 - 8), max(1, len(value) - 15), 97):  # tried until one is unique
            probe = value[start:start + 16]
            hits = [m.start() for m in re.finditer(re.escape(probe), data) if m.start() // page_size + 1 in pages]
            if len(hits) == 1 and hits[0] >= page_size:
                return hits[0] + 8
    msg = f"no value found exactly once on the pages of {btree}"
    raise AssertionError(msg)


def _flip_file_byte(directory: Path, offset: int) -> None:
    path = directory / LEDGER_FILE
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


RECORD_VALUES = [
    ("meta", "value"), ("blocks", "header"), ("txs", "envelope"), ("txs", "tx_id"), ("state_rows", "value"),
    ("txlog_nodes", "hash"), ("smt_nodes", "node"),
]


@pytest.mark.parametrize(("table", "column"), RECORD_VALUES, ids=[f"{t}.{c}" for t, c in RECORD_VALUES])
def test_a_bit_flipped_in_the_database_file_inside_a_record_fails_verify(ledger: Path, table: str,
                                                                          column: str) -> None:
    conn = _read_only(ledger)
    rows = conn.execute(f"SELECT {column} FROM {table} ORDER BY {column}").fetchall()
    conn.close()
    values = [v.encode() if isinstance(v, str) else v for (v,) in rows[len(rows) // 2:] + rows[:len(rows) // 2]]
    _flip_file_byte(ledger, _offset_inside(ledger, table, values))
    fault = _fault(ledger)
    assert fault is not None, f"a flipped bit in a stored {table}.{column} went unnoticed"
    assert table in fault.where


def test_a_bit_flipped_in_the_tx_id_index_fails_verify_since_replay_checks_read_that_index(ledger: Path) -> None:
    conn = _read_only(ledger)
    (index,) = [name for _, name, _, origin, _ in conn.execute("PRAGMA index_list(txs)")
                if origin == "u" and [r[2] for r in conn.execute(f"PRAGMA index_info({name})")] == ["tx_id"]]
    tx_ids = [row[0].encode() for row in conn.execute("SELECT tx_id FROM txs ORDER BY seq DESC")]
    conn.close()
    _flip_file_byte(ledger, _offset_inside(ledger, index, tx_ids))
    fault = _fault(ledger)
    assert fault is not None, "a damaged tx_id index entry went unnoticed: replay protection would read it"
    assert index in fault.message


def test_a_state_current_view_redefined_to_hide_rows_fails_verify(ledger: Path) -> None:
    """Portal indexes read the current register through the view: one that skips a namespace would lie to them."""
    conn = _connect(ledger)
    conn.execute("DROP VIEW state_current")
    conn.execute("CREATE VIEW state_current(key, seq, value, chain) AS SELECT key, seq, value, chain FROM state_rows "
                 "AS newest WHERE key NOT LIKE 'sample/%' AND seq = (SELECT max(seq) FROM state_rows WHERE key = "
                 "newest.key)")
    conn.close()
    fault = _fault(ledger)
    assert fault is not None, "a state_current view that hides rows went unnoticed"
    assert "state_current view" in fault.message
    assert "NOT LIKE 'sample/%'" in fault.message


# -- the verify command -------------------------------------------------------------------------------


def _verify(directory: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "400"}  # keep rich from wrapping the place onto two lines
    return subprocess.run([*CLI, "verify", str(directory)], capture_output=True, text=True, timeout=120,
                          check=False, env=env)


def test_verify_command_exits_0_and_prints_the_counts_on_an_untouched_ledger(
    built: tuple[Path, AuditReport], ledger: Path
) -> None:
    report = built[1]
    result = _verify(ledger)
    assert result.returncode == 0, result.stderr
    for name, count in (("blocks", report.blocks), ("transactions", report.txs), ("valid", report.valid_txs),
                        ("invalid", report.invalid_txs), ("state versions", report.state_versions),
                        ("state keys", report.state_keys), ("tx-log nodes", report.txlog_nodes),
                        ("state-tree pages", report.smt_nodes)):
        assert re.search(rf"^\W*{name}\b.*\b{count}\b", result.stdout, re.MULTILINE), f"{name} {count} not printed"
    assert "OK" in result.stdout


def test_verify_command_exits_1_and_names_the_tampered_row(ledger: Path) -> None:
    conn = _connect(ledger)
    conn.execute("UPDATE txs SET status = 'invalid', code = 'NOTE_EXISTS' WHERE seq = 33")
    conn.close()
    result = _verify(ledger)
    assert result.returncode == 1
    assert "FAILED" in result.stderr
    assert "txs seq=33 column=status" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_failing_scratch_file_is_not_reported_as_a_damaged_ledger(ledger: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """verify replays into a scratch file in TMPDIR; when that fails, the fault is verify's room, not the ledger."""
    monkeypatch.setattr(audit, "_SCRATCH_SCHEMA", "CREATE TABLE current(")  # refused by SQLite, as a full disk would be
    with pytest.raises(Unavailable, match=r"scratch file .* failed .* TMPDIR .*\(the ledger was not found faulty\)"):
        audit_ledger(ledger)
    monkeypatch.undo()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-directory"))
    with pytest.raises(Unavailable, match="cannot make its scratch directory"):
        audit_ledger(ledger)
    monkeypatch.undo()
    assert audit_ledger(ledger).txs == 65
