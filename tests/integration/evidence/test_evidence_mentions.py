"""Evidence selection through the exporter's mention index finds exactly what a pass over every envelope finds.

A court's package must hold every transaction that names the unit or the application, the invalid
attempts included (they wrote no state row that could lead to them). The index lets the exporter find
them without reading the whole ledger; these tests hold it to the full pass it replaced.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing

import orjson
import pytest
from evidence_case import Case, registration_case

from estatechain.canonical import JSONValue
from estatechain.errors import InputError
from estatechain.evidence.mentions import MENTIONS_FILE, MentionIndex
from estatechain.evidence.package import body_of, mentions
from estatechain.evidence.select import select
from estatechain.evidence.verify import verify_package
from estatechain.storage.store import LedgerStore


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return registration_case(tmp_path_factory.mktemp("mentions"))


def full_pass(store: LedgerStore, unit: str) -> list[str]:
    """The tx ids of every transaction naming ``unit``, then every step of the applications filed for it."""
    rows = [(str(t), str(c), body_of(orjson.loads(e))) for t, c, e in
            store.connection.execute("SELECT tx_id, command, envelope FROM txs ORDER BY seq")]
    named = {t for t, _, body in rows if mentions(body, unit)}
    filings = {t for t, c, _ in rows if t in named and c == "application.file"}
    return [t for t, _, body in rows if t in named or body.get("application_id") in filings]


def whole_history(unit: str) -> dict[str, JSONValue]:
    return {"kind": "unit", "unit_number": unit, "from_ms": 0, "to_ms": 2**53 - 1}


def selected(case: Case, subject: dict[str, JSONValue]) -> tuple[list[str], int]:
    """(tx ids selected, transactions the index read to catch up) through a freshly opened index."""
    store = LedgerStore.open(case.ledger_dir, readonly=True)
    try:
        index = MentionIndex.caught_up(case.ledger_dir, store.connection)
        try:
            return [t.tx_id for t in select(store, subject, index).txs], index.last_read
        finally:
            index.close()
    finally:
        store.close()


def test_a_units_selection_is_the_full_pass_including_the_invalid_early_record(case: Case) -> None:
    store = LedgerStore.open(case.ledger_dir, readonly=True)
    try:
        expected = full_pass(store, case.owner.unit_number)
        invalid = {str(t) for (t,) in store.connection.execute("SELECT tx_id FROM txs WHERE status = 'invalid'")}
    finally:
        store.close()
    txs, _ = selected(case, whole_history(case.owner.unit_number))
    assert txs == expected
    assert invalid & set(txs), "the invalid application.record attempt names only the application"
    apps, _ = selected(case, {"kind": "application", "application_id": case.application})
    assert apps == expected[expected.index(case.application):]  # everything but the import that made the unit


def test_later_transactions_are_read_once_and_a_new_invalid_attempt_joins_the_package(case: Case) -> None:
    selected(case, whole_history(case.owner.unit_number))  # caught up
    _, read = selected(case, whole_history(case.owner.unit_number))
    assert read == 0
    attempt = case.step("icbc-gz/operator1", "application.file", {
        "business_type": "mortgage.first", "unit_number": case.owner.unit_number, "applicants": [],
        "materials": [], "details": {}})
    assert not attempt.valid
    txs, read = selected(case, whole_history(case.owner.unit_number))
    assert read == 1
    assert txs[-1] == attempt.tx_id
    package = case.export(whole_history(case.owner.unit_number), court=False)
    assert attempt.tx_id in {t.tx_id for t in verify_package(package.data).txs}


@pytest.mark.parametrize(("column", "value"), [("hash", "'0'"), ("height", "999")])
def test_an_index_built_from_another_ledger_is_rebuilt_not_trusted(case: Case, column: str, value: str) -> None:
    selected(case, whole_history(case.owner.unit_number))
    with closing(sqlite3.connect(case.ledger_dir / MENTIONS_FILE)) as conn, conn:  # as if from another node's folder
        conn.execute(f"UPDATE cursor SET {column} = {value}")
        conn.execute("DELETE FROM mentions WHERE term = ?", (case.application,))
    store = LedgerStore.open(case.ledger_dir, readonly=True)
    try:
        expected = full_pass(store, case.owner.unit_number)
        total = store.next_seq()
    finally:
        store.close()
    txs, read = selected(case, whole_history(case.owner.unit_number))
    assert txs == expected
    assert read == total  # every transaction read again


def test_two_exports_at_once_build_the_index_once_and_never_move_its_cursor_back(case: Case) -> None:
    """The second export waits for the first's build, then reads the ledger as it is after that build.

    Both start one block behind the ledger; one more block lands while they wait on the file's lock (held
    here by a third connection). Had either read the ledger before taking the lock, the one going second
    would take rows again from the old cursor and could write its older cursor over the newer one, so a
    selection would stop short.
    """
    attempt: dict[str, JSONValue] = {"business_type": "mortgage.first", "unit_number": case.owner.unit_number,
                                     "applicants": [], "materials": [], "details": {}}
    path = case.ledger_dir / MENTIONS_FILE
    store = LedgerStore.open(case.ledger_dir, readonly=True)
    MentionIndex.caught_up(case.ledger_dir, store.connection).close()
    store.close()
    case.step("icbc-gz/operator1", "application.file", attempt)  # both exports start one block behind
    reads: list[int] = []

    def export() -> None:
        ledger = LedgerStore.open(case.ledger_dir, readonly=True)
        try:
            index = MentionIndex.caught_up(case.ledger_dir, ledger.connection)
            reads.append(index.last_read)
            index.close()
        finally:
            ledger.close()

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    first = threading.Thread(target=export)
    first.start()
    time.sleep(0.3)
    step = case.step("icbc-gz/operator1", "application.file", attempt)
    second = threading.Thread(target=export)
    second.start()
    time.sleep(0.3)
    holder.execute("ROLLBACK")
    holder.close()
    first.join(timeout=60)
    second.join(timeout=60)
    assert sorted(reads) == [0, 2], "one export takes both new blocks, the other finds nothing left"
    txs, read = selected(case, whole_history(case.owner.unit_number))
    assert read == 0
    assert txs[-1] == step.tx_id


def test_a_block_committed_while_exporting_stays_out_of_the_package(case: Case) -> None:
    store = LedgerStore.open(case.ledger_dir, readonly=True)  # the package's head is fixed here
    try:
        late = case.step("gz-registry/recorder2", "application.record", {"application_id": case.application})
        index = MentionIndex.caught_up(case.ledger_dir, store.connection)  # reaches the late block too
        try:
            selection = select(store, {"kind": "application", "application_id": case.application}, index)
        finally:
            index.close()
        assert late.tx_id not in {t.tx_id for t in selection.txs}
        assert max(t.height for t in (*selection.txs, *selection.context)) <= store.height
    finally:
        store.close()
    package = case.export({"kind": "application", "application_id": case.application}, court=False)
    assert late.tx_id in {t.tx_id for t in verify_package(package.data).txs}  # the next export has it


def test_a_unit_subject_that_is_not_a_unit_number_is_refused_with_what_to_check(case: Case) -> None:
    full_width = case.owner.unit_number[:11] + chr(ord(case.owner.unit_number[11]) + 0xFEE0)
    store = LedgerStore.open(case.ledger_dir, readonly=True)
    try:
        index = MentionIndex.caught_up(case.ledger_dir, store.connection)
        try:
            with pytest.raises(InputError, match="full-width"):
                select(store, whole_history(full_width + case.owner.unit_number[12:]), index)
        finally:
            index.close()
    finally:
        store.close()
