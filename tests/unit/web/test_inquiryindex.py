"""The inquiry desk lists an org's own inquiries, newest first, as a scan of every inquiry record does.

A real ledger (SQLite file, the real pipeline) over a small imported register: two banks inquire,
interleaved, one inquiry is refused (a valid tx that still records the inquiry) and one request is
invalid (it records nothing). The index must list each org's inquiries in ledger order, newest first,
as a scan of every ``inquiry/`` row does — after the first build, after later blocks (taking only the
new ones) and after its file is deleted — and the desk must read back each listed record.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from estatechain.canonical import JSONValue
from estatechain.storage.follower import FirstBuild
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.testing.register import commit_all
from estatechain.web import inquiryindex
from estatechain.web.inquiryindex import who_looked
from estatechain.web.routes_inquiry import own_inquiries
from estatechain.web.routes_owner import inquiries
from web.registerledger import Ledger, registry_ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with registry_ledger(tmp_path) as found:
        yield found


def by_scan(store: LedgerStore, org: str) -> list[str]:
    """Every inquiry ``org`` made, newest first: each record's tx position, from a scan of the whole log."""
    found = []
    for _, row in store.scan("inquiry/"):
        if row.get("requester_org") == org:
            record = store.tx_record(str(row["inquiry_id"]))
            assert record is not None
            found.append((record.seq, str(row["inquiry_id"])))
    return [inquiry_id for _, inquiry_id in sorted(found, reverse=True)]


def inquire(ledger: Ledger, bank: str, unit: str, basis: str = "intent", **more: JSONValue) -> str:
    ledger.clock.advance(1_000)
    return ledger.commit(f"{bank}/operator1", "inquiry.request",
                         {"unit_number": unit, "basis": basis, "purpose": "PRE_LOAN", **more})


def inquire_by(ledger: Ledger, bank: str, lookup: Mapping[str, JSONValue], basis: Mapping[str, JSONValue]) -> str:
    """``bank``'s operator inquires for a loan, naming the unit by ``lookup`` (unit or certificate number)."""
    ledger.clock.advance(1_000)
    return ledger.commit(f"{bank}/operator1", "inquiry.request", {**lookup, **basis, "purpose": "PRE_LOAN"})


def test_the_index_lists_each_org_s_inquiries_newest_first(ledger: Ledger) -> None:
    units = [owner.unit_number for owner in ledger.owners[:4]]
    first = [inquire(ledger, "icbc-gz", units[0]), inquire(ledger, "ccb-gz", units[1]),
             inquire(ledger, "icbc-gz", units[2])]
    refused = inquire(ledger, "icbc-gz", units[3], basis="consent", consent_ids=[],  # REFUSED, still recorded
                      requester_party=ledger.bank_parties["icbc-gz"])
    assert ledger.store.get(f"inquiry/{refused}") is not None
    factory = ledger.factory
    invalid = factory.sign(factory.identity("icbc-gz/operator1"), "inquiry.request", {"basis": "intent"})
    (receipt,) = commit_all(ledger.store, ledger.clock, [invalid])
    assert not receipt.valid  # names no unit: an invalid tx writes no inquiry record

    index = inquiryindex.InquiryIndex(ledger.directory / inquiryindex.FILE, ledger.store.connection)
    try:
        icbc = index.ids("icbc-gz", limit=50)
        assert icbc == by_scan(ledger.store, "icbc-gz") == [refused, first[2], first[0]]
        assert index.ids("ccb-gz", limit=50) == by_scan(ledger.store, "ccb-gz") == [first[1]]
        assert index.ids("gz-court", limit=50) == []

        later = [inquire(ledger, "ccb-gz", units[0]) for _ in range(3)] + [inquire(ledger, "icbc-gz", units[1])]
        assert index.refresh() == 4  # only the new ones, not the whole log again
        assert index.ids("icbc-gz", limit=50) == by_scan(ledger.store, "icbc-gz") == [later[3], *icbc]
        assert index.ids("ccb-gz", limit=2) == by_scan(ledger.store, "ccb-gz")[:2] == [later[2], later[1]]
        assert (index.count("icbc-gz"), index.count("ccb-gz")) == (4, 4)

        listed = own_inquiries(ledger.store, index, "icbc-gz")
        assert [row["inquiry_id"] for row in listed] == [later[3], *icbc]
        assert {row["requester_org"] for row in listed} == {"icbc-gz"}
        assert [row["outcome"] for row in listed if row["inquiry_id"] == refused] == ["REFUSED"]
    finally:
        index.close()

    (ledger.directory / inquiryindex.FILE).unlink()
    rebuilt = inquiryindex.InquiryIndex(ledger.directory / inquiryindex.FILE, ledger.store.connection)
    try:
        assert not rebuilt.built()
        assert rebuilt.build(ledger.directory / LEDGER_FILE) == 8  # the desk's way: a snapshot, in a worker thread
        assert rebuilt.built()
        newest = inquire(ledger, "icbc-gz", units[2])
        assert rebuilt.refresh() == 1  # after the build, catch-ups take only what came since
        assert rebuilt.ids("icbc-gz", limit=50)[0] == newest
        assert rebuilt.ids("icbc-gz", limit=50) == by_scan(ledger.store, "icbc-gz")
        assert rebuilt.ids("ccb-gz", limit=50) == by_scan(ledger.store, "ccb-gz")
    finally:
        rebuilt.close()


def test_the_catch_up_walks_the_transactions_by_primary_key(ledger: Ledger) -> None:
    plan = " ".join(str(row[3]) for row in ledger.store.connection.execute(
        "EXPLAIN QUERY PLAN " + inquiryindex._CHANGED_ROWS, (0,)))
    assert "INTEGER PRIMARY KEY (rowid>?)" in plan, plan
    assert "PRIMARY KEY (key=? AND seq=?)" in plan, plan


def test_a_cancelled_page_view_neither_stops_nor_repeats_the_first_build(ledger: Ledger,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    inquiry = inquire(ledger, "icbc-gz", ledger.owners[0].unit_number)
    index = inquiryindex.InquiryIndex(ledger.directory / inquiryindex.FILE, ledger.store.connection)
    builds: list[Path] = []
    real_build = index.build

    def slow_build(ledger_file: Path) -> int:  # the real build, counted, and slow enough to be cancelled during
        builds.append(ledger_file)
        time.sleep(0.3)
        return real_build(ledger_file)

    monkeypatch.setattr(index, "build", slow_build)
    first = FirstBuild(index, ledger.directory / LEDGER_FILE)
    with pytest.raises(RuntimeError, match="await ready"):
        _ = first.index  # a route that forgot to await would build on the event loop: it fails instead

    async def page_views() -> None:
        leaving = asyncio.ensure_future(first.ready())
        await asyncio.sleep(0.05)
        leaving.cancel()  # the browser went away while the build ran
        with pytest.raises(asyncio.CancelledError):
            await leaving
        assert await first.ready() is index  # the next view waits for that same build
        assert await first.ready() is index  # and later ones return at once
        assert first.index is index

    try:
        asyncio.run(page_views())
        assert len(builds) == 1
        assert index.built()
        assert index.ids("icbc-gz", limit=50) == [inquiry]
    finally:
        index.close()


def test_an_owner_lists_every_inquiry_of_their_unit_in_ledger_order_from_the_index(ledger: Ledger) -> None:
    """domain.md §7: the owner sees who looked, by unit or certificate number, granted or refused, by any bank.

    An inquiry writes one state row, its log record; the owner's list comes from the node's index,
    which follows those records, and holds them all, in the order the ledger committed them.
    """
    owner, neighbour = ledger.persons["gz-identity/person1"], ledger.owners[2]
    icbc, ccb = ledger.bank_parties["icbc-gz"], ledger.bank_parties["ccb-gz"]
    consent = ledger.consent("gz-identity/person1", "icbc-gz")
    by_unit: dict[str, JSONValue] = {"unit_number": owner.unit_number}
    by_number: dict[str, JSONValue] = {"certificate_number": owner.title_number}
    asked: list[tuple[str, dict[str, JSONValue], dict[str, JSONValue], str]] = [  # bank, lookup, basis, outcome
        ("icbc-gz", by_unit, {"basis": "intent"}, "GRANTED"),
        ("ccb-gz", by_number, {"basis": "intent"}, "GRANTED"),
        ("ccb-gz", by_number, {"basis": "consent", "consent_ids": [consent], "requester_party": ccb}, "REFUSED"),
        ("icbc-gz", by_number, {"basis": "consent", "consent_ids": [consent], "requester_party": icbc}, "GRANTED"),
        ("icbc-gz", by_unit, {"basis": "own_right", "requester_party": icbc}, "REFUSED"),
    ]
    ids = []
    for bank, lookup, basis, _ in asked:  # each in a block of its own, a neighbour's inquiry between them
        ids.append(inquire_by(ledger, bank, lookup, basis))
        inquire(ledger, "ccb-gz", neighbour.unit_number)
    records = [ledger.store.get(f"inquiry/{inquiry_id}") for inquiry_id in ids]
    assert [(r["lookup"], r["outcome"]) for r in records if r is not None] == [
        (next(iter(lookup)), outcome) for _, lookup, _, outcome in asked]

    index = inquiryindex.InquiryIndex(ledger.directory / inquiryindex.FILE, ledger.store.connection)
    try:
        assert index.build(ledger.directory / LEDGER_FILE) == 2 * len(asked)  # the first build: current rows
        listed = inquiries(ledger.store, index, [owner.unit_number])  # what the owner's pages show
        assert [row["inquiry_id"] for row in listed] == ids[::-1]  # all of them, newest first
        assert [(row["requester_org"], row["outcome"]) for row in listed] == [
            (bank, outcome) for bank, _, _, outcome in reversed(asked)]

        # one block of several inquiries, read by a catch-up: within the block, in the block's order
        ledger.clock.advance(1_000)
        sign = ledger.factory.sign
        one_block = ledger.commit_envelopes([
            sign(ledger.factory.identity(f"{bank}/operator1"), "inquiry.request",
                 {**lookup, **basis, "purpose": "PRE_LOAN"})
            for bank, lookup, basis, _ in (asked[2], asked[0], asked[1])])
        heights = {record.height for tx in one_block if (record := ledger.store.tx_record(tx)) is not None}
        assert index.refresh() == 3  # only the new ones
        assert index.of_unit(owner.unit_number) == [*ids, *one_block]
        assert [r["inquiry_id"] for r in who_looked(ledger.store, index, owner.unit_number)] == [*ids, *one_block]
        assert index.of_unit(ledger.owners[3].unit_number) == []
        assert len(heights) == 1
    finally:
        index.close()


def test_an_inquiry_writes_exactly_one_state_row(ledger: Ledger) -> None:
    """The log record, which names the unit; no per-unit index row beside it (the index is the node's)."""
    owner = ledger.persons["gz-identity/person1"]
    inquire(ledger, "icbc-gz", owner.unit_number)  # the signer's certificate is registered on its first use
    current = "SELECT count(*) FROM state_current"
    before = ledger.store.connection.execute(current).fetchone()[0]
    inquiry = inquire_by(ledger, "icbc-gz", {"certificate_number": owner.title_number}, {"basis": "intent"})
    record = ledger.store.tx_record(inquiry)
    assert record is not None
    written = [str(key) for (key,) in ledger.store.connection.execute(
        "SELECT key FROM state_rows WHERE seq = ?", (record.seq,))]
    assert written == [f"inquiry/{inquiry}"]
    assert ledger.store.connection.execute(current).fetchone()[0] == before + 1
    assert list(ledger.store.scan(f"unitidx/{owner.unit_number}/inquiry/")) == []


def test_an_index_file_of_the_earlier_format_is_built_again(ledger: Ledger) -> None:
    """A file written before the index knew units (no ``unit_number``) is emptied and built again on open."""
    owner = ledger.persons["gz-identity/person1"]
    inquiry = inquire(ledger, "icbc-gz", owner.unit_number)
    path = ledger.directory / inquiryindex.FILE
    old = sqlite3.connect(path)
    head = ledger.store.connection.execute("SELECT height, hash FROM blocks ORDER BY height DESC LIMIT 1").fetchone()
    last = ledger.store.connection.execute("SELECT MAX(seq) FROM txs").fetchone()[0]
    old.executescript("CREATE TABLE inquiries(inquiry_id TEXT PRIMARY KEY, requester_org TEXT NOT NULL, "
                      "seq INTEGER NOT NULL) WITHOUT ROWID; CREATE TABLE cursor(id INTEGER PRIMARY KEY, "
                      "seq INTEGER NOT NULL, height INTEGER NOT NULL, hash TEXT NOT NULL);")
    old.execute("INSERT INTO inquiries VALUES (?, 'icbc-gz', ?)", (inquiry, last))
    old.execute("INSERT INTO cursor VALUES (1, ?, ?, ?)", (last, head[0], head[1]))
    old.commit()
    old.close()
    index = inquiryindex.InquiryIndex(path, ledger.store.connection)
    try:
        assert not index.built()  # the old cursor went with the old tables
        assert index.of_unit(owner.unit_number) == [inquiry]
        assert index.ids("icbc-gz", limit=10) == [inquiry]
    finally:
        index.close()
