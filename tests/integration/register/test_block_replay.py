"""Replaying a ledger's blocks on a fresh node gives the same block hashes and state roots (issue 5).

A ledger is built through the real pipeline: the synthetic register imported in bulk, then
registrations valid and invalid (a first mortgage through its whole lifecycle, a filing with the
wrong title number, a step by a role that may not take it, a confirmation by a non-applicant, a
seizure and a filing it blocks). Its stored envelopes are then authenticated and executed block by
block into a fresh ledger of the same genesis, at the stored block times, and every header must come
out byte for byte the same.
"""

from __future__ import annotations

from pathlib import Path

from register_case import Register, import_register

from estatechain.ledger.admission import Authenticator
from estatechain.ledger.block import BlockHeader
from estatechain.ledger.execution import execute_block
from estatechain.storage.store import LedgerStore
from estatechain.testing.builders import label_digest as h
from estatechain.testing.builders import material_ref as material


def registrations(reg: Register) -> None:
    """A mix of valid and invalid transactions after the import."""
    owner = reg.owner(legacy_mortgages=0)
    reg.bind({"gz-identity/person1": owner})
    bank = "icbc-gz"
    app = reg.file_first_mortgage(owner, bank, "LOAN-2026-0001")
    wrong_title = reg.step(f"{bank}/operator1", "application.file", {
        "business_type": "mortgage.first", "unit_number": owner.unit_number,
        "applicants": [{"party_id": owner.party_id, "capacity": "mortgagor"},
                       {"party_id": reg.importer.bank_parties[bank], "capacity": "mortgagee"}],
        "materials": [material("APPLICATION_FORM"), material("POWER_OF_ATTORNEY"), material("LOAN_CONTRACT")],
        "details": {"method": 1, "secured_principal_fen": 1, "currency": "CNY",
                    "debt_term": {"start": "2026-01-04", "end": "2036-01-03"}, "scope": "x",
                    "contract_numbers": ["LOAN-2026-0002"], "transfer_restricted": False,
                    "title_number": "粤(2020)广州市不动产权第99999999号"}})
    assert not wrong_title.valid
    stranger = reg.step("ccb-gz/approver1", "application.confirm", {
        "application_id": app, "application_hash": app, "party_id": reg.importer.bank_parties[bank]})
    assert not stranger.valid
    reg.confirm(app, "gz-identity/person1", owner.party_id)
    reg.confirm(app, f"{bank}/approver1", reg.importer.bank_parties[bank])
    assert not reg.step("icbc-gz/operator1", "application.accept", {"application_id": app}).valid
    reg.ok("gz-registry/intake1", "application.accept", {"application_id": app})
    reg.ok("gz-registry/reviewer1", "application.review", {"application_id": app})
    assert not reg.step("gz-registry/reviewer1", "application.record", {"application_id": app}).valid
    reg.ok("gz-registry/recorder1", "application.record", {"application_id": app})
    reg.ok("gz-registry/issuer1", "application.issue", {"application_id": app, "document_sha256": h(f"pdf:{app}")})
    reg.ok("gz-court/court1", "seizure.register", {
        "unit_number": owner.unit_number, "order_no": "(2026)粤0106执1号", "kind": "1",
        "start_date": "2026-01-04", "end_date": "2029-01-03"})
    blocked = reg.step(f"{bank}/operator1", "application.file", {
        "business_type": "mortgage.first", "unit_number": owner.unit_number,
        "applicants": [{"party_id": owner.party_id, "capacity": "mortgagor"},
                       {"party_id": reg.importer.bank_parties[bank], "capacity": "mortgagee"}],
        "materials": [material("APPLICATION_FORM"), material("POWER_OF_ATTORNEY"), material("LOAN_CONTRACT")],
        "details": {"method": 1, "secured_principal_fen": 5_000_000, "currency": "CNY",
                    "debt_term": {"start": "2026-01-04", "end": "2036-01-03"}, "scope": "x",
                    "contract_numbers": ["LOAN-2026-0003"], "transfer_restricted": False,
                    "title_number": owner.title_number}})
    assert (blocked.valid, blocked.code) == (False, "V13_UNIT_SEIZED")


def replay(source: LedgerStore, directory: Path) -> LedgerStore:
    """Execute ``source``'s stored transactions block by block into a fresh ledger of the same genesis."""
    fresh = LedgerStore.create(directory, source.genesis)
    auth = Authenticator(source.genesis)
    conn = source.connection
    for height, header_bytes in conn.execute("SELECT height, header FROM blocks ORDER BY height").fetchall():
        header = BlockHeader.from_bytes(header_bytes, where=f"block {height}")
        envelopes = [row[0] for row in conn.execute(
            "SELECT envelope FROM txs WHERE height = ? ORDER BY position", (height,)).fetchall()]
        admitted = [auth.authenticate(auth.parse(envelope), fresh) for envelope in envelopes]
        executed, overlay = execute_block(fresh, admitted, chain_id=source.genesis.chain_id,
                                          policies=source.genesis.policies, height=fresh.height + 1,
                                          time_ms=header.time_ms, first_seq=fresh.next_seq())
        replayed = fresh.commit_block(time_ms=header.time_ms, executed=executed, writes=overlay.writes)
        assert replayed.to_bytes() == header_bytes, height
    return fresh


def test_replaying_the_blocks_on_a_fresh_node_gives_the_same_hashes_and_state_roots(tmp_path: Path) -> None:
    reg = import_register(tmp_path / "source", units=60)
    registrations(reg)
    source = reg.harness.store
    statuses = {row[0] for row in source.connection.execute("SELECT status FROM txs").fetchall()}
    assert len(statuses) == 2, statuses  # valid and invalid transactions both
    fresh = replay(source, tmp_path / "replayed")
    assert (fresh.height, fresh.head_hash, fresh.state_root) == (source.height, source.head_hash, source.state_root)
    hashes = "SELECT height, hash FROM blocks ORDER BY height"
    assert fresh.connection.execute(hashes).fetchall() == source.connection.execute(hashes).fetchall()
    current = "SELECT key, seq, value FROM state_current ORDER BY key"
    assert fresh.connection.execute(current).fetchall() == source.connection.execute(current).fetchall()
