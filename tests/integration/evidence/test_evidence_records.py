"""A unit's package holds the steps that name only a record created on the unit (docs/evidence.md §8 check 4).

A court's seizure is lifted by a ``seizure.release`` that names the seizure's id (the registering
transaction's id), and an owner withdraws a consent to a bank's inquiries by its ``consent_id``: neither
names the unit. A package that held the seizure and not its release would tell a court the unit is
still seized; one that held the consent and not its revocation, that the bank may still look.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from evidence_case import Case, imported_case
from test_evidence_imports import rows
from test_evidence_report import piped_report

from estatechain.canonical import JSONValue
from estatechain.evidence.mentions import MENTIONS_FILE
from estatechain.evidence.verify import verify_package

END = 2**53 - 1


def whole_history(case: Case) -> dict[str, JSONValue]:
    return {"kind": "unit", "unit_number": case.owner.unit_number, "from_ms": 0, "to_ms": END}


def seize_and_release(case: Case) -> tuple[str, str]:
    """gz-court seizes the owner's unit and releases it: (seizure id = the register's tx id, the release's)."""
    seizure = case.ok("gz-court/court1", "seizure.register", {
        "unit_number": case.owner.unit_number, "kind": "1", "order_no": "(2026)粤0106执保9号",
        "start_date": "2026-01-04", "end_date": "2028-12-31"}).tx_id
    release = case.ok("gz-court/court1", "seizure.release",
                      {"seizure_id": seizure, "order_no": "(2026)粤0106执保9号之一"}).tx_id
    return seizure, release


def test_a_units_report_shows_the_release_of_its_seizure_and_the_revocation_of_an_owners_consent(
    tmp_path: Path,
) -> None:
    case = imported_case(tmp_path)
    unit = case.owner.unit_number
    consent = case.ok("gz-identity/person1", "inquiry.consent", {
        "unit_number": unit, "bank_party": case.bank_party, "purpose": "PRE_LOAN", "expires_on": "2026-12-31",
    }).tx_id
    revoked = case.ok("gz-identity/person1", "inquiry.consent_revoke", {"consent_id": consent}).tx_id
    seizure, release = seize_and_release(case)

    own = [t.tx_id for t in verify_package(case.export(whole_history(case)).data).txs if not t.context]
    assert own[-4:] == [consent, revoked, seizure, release]
    table = rows(piped_report(case, tmp_path, "--unit", unit))
    commands = [row[2] for row in table]
    given = next(n for n, text in enumerate(commands, 1) if text == "inquiry.consent")
    registered = next(n for n, text in enumerate(commands, 1) if text.startswith("seizure.register"))
    assert f"inquiry.consent_revoke\nof consent {consent[:12]}… (created in row {given})" in commands
    assert commands[registered - 1] == f"seizure.register\nseizure {seizure[:12]}…\nunit {unit}"
    assert commands[-1] == f"seizure.release\nof seizure {seizure[:12]}… (created in row {registered})"


def test_an_evidence_index_file_of_the_earlier_format_is_built_again_and_finds_the_release(tmp_path: Path) -> None:
    """An index written before record ids were terms holds no ``seizure_id``: it must not be trusted as complete."""
    case = imported_case(tmp_path)
    seizure, release = seize_and_release(case)
    case.export(whole_history(case))  # builds mentions.sqlite
    with closing(sqlite3.connect(case.ledger_dir / MENTIONS_FILE)) as index, index:
        assert index.execute("DELETE FROM mentions WHERE term = ?", (seizure,)).rowcount == 1  # as the old file
        index.execute("PRAGMA user_version = 0")
    own = [t.tx_id for t in verify_package(case.export(whole_history(case)).data).txs if not t.context]
    assert own[-1] == release
