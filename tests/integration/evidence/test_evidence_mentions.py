"""Evidence selection through the exporter's mention index finds exactly what a pass over every envelope finds.

A court's package must hold every transaction that names the unit or the application, the invalid
attempts included (they wrote no state row that could lead to them). The index lets the exporter find
them without reading the whole ledger; these tests hold it to the full pass it replaced.
"""

from __future__ import annotations

import sqlite3

import orjson
import pytest
from evidence_case import Case, registration_case

from estatechain.canonical import JSONValue
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
    assert apps == [t for t in expected if t == case.application or t in apps]
    assert len(apps) == len(expected) - 1  # everything but the import that created the unit


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
    with sqlite3.connect(case.ledger_dir / MENTIONS_FILE) as conn:  # as if copied from another node's directory
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
