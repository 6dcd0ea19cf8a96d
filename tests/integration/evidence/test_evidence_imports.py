"""A unit's report marks the register import as pre-chain data and says which of the unit's entries rest on it.

The unit's ownership right and its mortgage came onto the ledger in the registry's ``register.import``
of the synthetic register (design §3.15), which carries every unit's records. Its row shows "valid"
like any other, which proves that the registry signed it and the contract took it, not that the old
register was right (在线诉讼规则 Art. 18). A judge reading the report must see that the row is pre-chain
data, and which of the unit's entries nothing signed on the ledger has touched since: here the
imported mortgage is cancelled on the ledger by its bank, the ownership right is not. An imported
seizure released on the ledger is named later by its release, which the unit's package holds although
the release names only the seizure.
"""

from __future__ import annotations

from pathlib import Path

from evidence_case import imported_case
from test_evidence_report import piped_report

from estatechain.canonical import JSONValue
from estatechain.testing.builders import material_ref as material


def rows(report: str) -> list[list[str]]:
    """The table's rows, each as its cells (a cell's lines joined by newlines), in order."""
    found: list[list[str]] = []
    lines: list[list[str]] = []
    inside = False
    for line in report.splitlines():
        if line.startswith("┡"):
            inside = True
        elif inside and line.startswith(("├", "└")):
            found.append(["\n".join(filter(None, cell)) for cell in zip(*lines, strict=True)])
            lines = []
        elif inside and line.startswith("│"):
            lines.append([cell.strip() for cell in line.split("│")[1:-1]])
    return found


def summary_line(report: str, heading: str) -> str:
    lines = [line for line in report.splitlines() if line.startswith(f"  {heading} ")]
    assert len(lines) == 1, (heading, report)
    return lines[0]


def test_a_units_report_marks_its_import_as_pre_chain_data_and_names_the_entries_resting_on_it_alone(
    tmp_path: Path,
) -> None:
    case = imported_case(tmp_path, lambda c: len(c.mortgages) == 1 and c.mortgages[0].mortgagee_org is not None)
    unit, (legacy,) = case.owner.unit_number, case.owner.mortgages
    assert legacy.mortgagee_org is not None
    bank = legacy.mortgagee_org
    cancel = case.ok(f"{bank}/operator1", "application.file", {
        "business_type": "mortgage.cancel", "unit_number": unit,
        "applicants": [{"party_id": legacy.mortgagee_party, "capacity": "mortgagee"}],
        "materials": [material("APPLICATION_FORM"), material("PAYOFF_PROOF")],
        "details": {"certificate_number": legacy.certificate_number, "reason": "REPAID"},
    }).tx_id
    case.ok(f"{bank}/approver1", "application.confirm",
            {"application_id": cancel, "application_hash": cancel, "party_id": legacy.mortgagee_party})
    for handle, step in (("gz-registry/intake1", "accept"), ("gz-registry/reviewer1", "review"),
                         ("gz-registry/recorder2", "record")):
        case.ok(handle, f"application.{step}", {"application_id": cancel})

    report = piped_report(case, tmp_path, "--unit", unit)
    table = rows(report)
    (imported,) = [n for n, row in enumerate(table, 1) if row[2].startswith("register.import")]
    filing = next(n for n, row in enumerate(table, 1) if f"mortgage.cancel {cancel[:12]}…" in row[2])
    marked = [n for n, row in enumerate(table, 1) if "pre-chain data" in "".join(row)]
    assert marked == [imported]  # the import's row, and no step signed on the ledger
    command, result = table[imported - 1][2], table[imported - 1][5]
    assert result == "valid\npre-chain data"
    assert "pre-chain data: imported from the register kept before the ledger:\n" in command
    assert "its content rests on the registry's import, not on signed steps on this ledger" in command
    assert "carries records of 20 units" in command  # the whole import, other units' records with it
    assert f"3 of them unit {unit}'s" in command

    assert f"row {imported} (register.import at height 1, records of 20 units" in summary_line(report, "pre-chain data")
    alone = summary_line(report, "rest only on an import")
    assert f"unit {unit}'s entries that no later transaction in this package names:" in alone
    assert f"ownership right OWN-{unit} (title {case.owner.title_number}, sole, 1 holder) (row {imported})" in alone
    assert f"unit record (surveyed, residential) (row {imported})" in alone
    assert f"IMP-{unit}-1" not in alone
    assert "cannot show which entries are still current at the head" in alone
    named = summary_line(report, "named later")
    assert (f"mortgage IMP-{unit}-1 (rank 1, certificate {legacy.certificate_number}) (row {imported}): "
            f"named by row {filing}") in named
    assert "may have changed or ended the entry, or only cited it" in named


def test_an_imported_seizure_released_on_the_ledger_is_named_by_the_release_not_left_resting_on_the_import(
    tmp_path: Path,
) -> None:
    """The release names only the seizure's id, yet the unit's package holds it and the report points at it.

    Before, the release stayed out of the unit's package, and the seizure read as resting on the import
    alone: a reader would take the unit to be still seized.
    """
    case = imported_case(tmp_path)
    unit = case.owner.unit_number
    seizure: dict[str, JSONValue] = {
        "seizure_id": f"IMP-S-{unit}-1", "unit_number": unit, "authority_org": "gz-court",
        "order_no": "(2025)粤0106执保1号", "kind": "1", "start_date": "2025-06-01", "end_date": "2028-05-31",
        "queue_order": 1, "queued": False, "delivered_ms": 1_748_707_200_000, "released_ms": None,
        "release_order_no": None, "renewals": 0,
    }
    case.ok("gz-registry/admin1", "register.import", {"seizures": [seizure]})  # a second, later import
    case.ok("gz-court/court1", "seizure.release",
            {"seizure_id": f"IMP-S-{unit}-1", "order_no": "(2025)粤0106执保1号之一"})

    report = piped_report(case, tmp_path, "--unit", unit)
    table = rows(report)
    first, second = [n for n, row in enumerate(table, 1) if row[2].startswith("register.import")]
    (released,) = [n for n, row in enumerate(table, 1) if row[2].startswith("seizure.release")]
    assert first == 1
    assert table[second - 1][5] == "valid\npre-chain data"
    assert "carries records of 1 unit, 1 in all" in table[second - 1][2]
    assert table[released - 1][2] == f"seizure.release\nof seizure IMP-S-{unit}-1 (created in row {second})"
    assert table[released - 1][5] == "valid"
    alone = summary_line(report, "rest only on an import")
    assert f"ownership right OWN-{unit}" in alone  # the first import's entries with it
    assert "IMP-S-" not in alone
    assert "release" not in alone
    named = summary_line(report, "named later")
    assert (f"seizure IMP-S-{unit}-1 (gz-court, order (2025)粤0106执保1号, queue 1) (row {second}): "
            f"named by row {released}") in named
