"""What ``estatechain evidence verify`` tells a reader about each row, and about what a package leaves out.

A first mortgage is registered, then cancelled (REPAID) by a second application, and the bank's
operator who filed both is revoked afterwards. Read through a pipe, as an expert saving or grepping
the report would: the filing and the cancellation must not both read as bare ``application.file`` —
each row says its business type, application, unit and the certificate it cites; a step says which
application it belongs to; the revocation says whose key and why — and no cell is cut at 80 columns.
The mortgage's own package must say that the later cancellation on its unit is outside it, and how to
export it.
"""

from __future__ import annotations

from pathlib import Path

from evidence_case import NODE_ORG, Case, registration_case, revoke
from typer.testing import CliRunner

from estatechain.cli.main import app
from estatechain.testing.builders import material_ref as material


def cancel_first_mortgage(case: Case) -> tuple[str, str]:
    """The bank cancels the recorded mortgage alone (repaid); returns (its certificate number, cancellation id)."""
    certificate = case.harness.store.get(f"mortgage/{case.application}")
    assert certificate is not None
    number = str(certificate["certificate_number"])
    cancel = case.ok("icbc-gz/operator1", "application.file", {
        "business_type": "mortgage.cancel", "unit_number": case.owner.unit_number,
        "applicants": [{"party_id": case.bank_party, "capacity": "mortgagee"}],
        "materials": [material("APPLICATION_FORM"), material("PAYOFF_PROOF")],
        "details": {"certificate_number": number, "reason": "REPAID"},
    }).tx_id
    case.ok("icbc-gz/approver1", "application.confirm",
            {"application_id": cancel, "application_hash": cancel, "party_id": case.bank_party})
    for handle, step in (("gz-registry/intake1", "accept"), ("gz-registry/reviewer1", "review"),
                         ("gz-registry/recorder2", "record")):
        case.ok(handle, f"application.{step}", {"application_id": cancel})
    return number, cancel


def piped_report(case: Case, tmp_path: Path, *subject: str) -> str:
    """Export ``subject`` from the registry's node and verify it with stdout not a terminal (and no COLUMNS)."""
    out = tmp_path / "package.json"
    runner = CliRunner()
    exported = runner.invoke(app, ["evidence", "export", str(case.ledger_dir), *subject, "-o", str(out),
                                   "--consortium", str(case.consortium_dir), "--org", NODE_ORG])
    assert exported.exit_code == 0, exported.output
    verified = runner.invoke(app, ["evidence", "verify", str(out)], env={"COLUMNS": None})
    assert verified.exit_code == 0, verified.output
    return verified.output


def test_the_report_tells_a_filing_from_a_cancellation_names_a_revocations_reason_and_cuts_nothing(
    tmp_path: Path,
) -> None:
    case = registration_case(tmp_path)
    first, unit = case.application, case.owner.unit_number
    number, cancel = cancel_first_mortgage(case)
    revoke(case, "icbc-gz/operator1", "icbc-gz/org-admin")

    report = piped_report(case, tmp_path, "--unit", unit)
    assert f"mortgage.first {first[:12]}…" in report
    assert f"title_number: {case.owner.title_number}" in report
    assert f"mortgage.cancel {cancel[:12]}…" in report
    assert f"certificate_number: {number}" in report
    assert "reason: REPAID" in report
    assert f"of mortgage.cancel {cancel[:12]}…" in report  # the cancellation's confirmation and later steps
    assert "revokes operator1" in report
    assert "reason: key replaced" in report
    assert "later events" not in report  # a unit's package holds every transaction naming the unit
    assert "applicati…" not in report
    assert any(line.startswith("OK ") and line.endswith("with the consortium's published one")
               for line in report.splitlines())  # one line, not wrapped at 80 columns


def test_a_mortgages_own_package_says_its_later_cancellation_is_outside_it_and_how_to_export_it(
    tmp_path: Path,
) -> None:
    case = registration_case(tmp_path)
    cancel_first_mortgage(case)
    unit = case.owner.unit_number

    report = piped_report(case, tmp_path, "--application", case.application)
    assert "mortgage.cancel" not in report  # the cancellation is no step of this application
    later = next(line for line in report.splitlines() if "later events" in line)
    assert f"later transactions on unit {unit}" in later
    assert f"estatechain evidence export NODE --unit {unit}" in later

    step = piped_report(case, tmp_path, "--tx", confirmations(case)[0])
    later = next(line for line in step.splitlines() if "later events" in line)
    assert f"it is a step of application {case.application}" in later


def confirmations(case: Case) -> list[str]:
    """Tx ids of the first mortgage's confirmations, in ledger order."""
    rows = case.harness.store.connection.execute("SELECT tx_id, command, envelope FROM txs ORDER BY seq").fetchall()
    return [str(r[0]) for r in rows
            if r[1] == "application.confirm" and case.application.encode() in bytes(r[2])]
