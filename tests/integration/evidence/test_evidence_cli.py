"""``estatechain evidence export`` and ``verify`` on a node directory, as an operator and a court run them."""

from __future__ import annotations

from pathlib import Path

from evidence_case import NODE_ORG, registration_case
from typer.testing import CliRunner

from estatechain.cli.main import app


def test_export_with_court_openings_then_verify_prints_the_report_and_a_changed_file_fails(tmp_path: Path) -> None:
    case = registration_case(tmp_path)
    out = tmp_path / "case.json"
    runner = CliRunner()
    exported = runner.invoke(app, ["evidence", "export", str(case.ledger_dir), "--application", case.application,
                                   "-o", str(out), "--consortium", str(case.consortium_dir), "--org", NODE_ORG,
                                   "--court"])
    assert exported.exit_code == 0, exported.output
    assert "Exported" in exported.output
    verified = runner.invoke(app, ["evidence", "verify", str(out)], env={"COLUMNS": "220"})
    assert verified.exit_code == 0, verified.output
    assert "application.confirm" in verified.output
    assert "OK" in verified.output

    data = out.read_bytes()
    out.write_bytes(data.replace(b'"status":"valid"', b'"status":"VALID"', 1))
    failed = runner.invoke(app, ["evidence", "verify", str(out)])
    assert failed.exit_code == 1
    assert "FAILED" in failed.output
    assert "transactions[0].result" in failed.output


def test_export_needs_exactly_one_subject(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["evidence", "export", str(tmp_path), "-o", str(tmp_path / "x.json")])
    assert result.exit_code != 0
    assert "exactly one of --tx, --application or --unit" in result.output


def test_a_units_whole_history_exports_and_verifies_with_its_period_in_words(tmp_path: Path) -> None:
    case = registration_case(tmp_path)
    out = tmp_path / "unit.json"
    runner = CliRunner()
    unit = case.owner.unit_number
    exported = runner.invoke(app, ["evidence", "export", str(case.ledger_dir), "--unit", unit, "-o", str(out),
                                   "--consortium", str(case.consortium_dir), "--org", NODE_ORG])  # no --from, no --to
    assert exported.exit_code == 0, exported.output
    verified = runner.invoke(app, ["evidence", "verify", str(out)], env={"COLUMNS": "220"})
    assert verified.exit_code == 0, verified.output
    assert f"unit {unit} from the first block to the head at export" in verified.output
    assert "application.record" in verified.output
    assert "OK" in verified.output

    dated = tmp_path / "dated.json"
    exported = runner.invoke(app, ["evidence", "export", str(case.ledger_dir), "--unit", unit, "-o", str(dated),
                                   "--consortium", str(case.consortium_dir), "--org", NODE_ORG,
                                   "--from", "2020-01-01", "--to", "2099-12-31"])
    assert exported.exit_code == 0, exported.output
    verified = runner.invoke(app, ["evidence", "verify", str(dated)], env={"COLUMNS": "220"})
    assert verified.exit_code == 0, verified.output
    assert f"unit {unit} from 2020-01-01 00:00:00 CST to 2099-12-31 23:59:59 CST" in verified.output


def test_require_final_fails_a_package_whose_head_only_the_exporter_attested(tmp_path: Path) -> None:
    """A single node attests its own head: the package verifies, but not as the consortium's final word."""
    case = registration_case(tmp_path)
    out = tmp_path / "case.json"
    runner = CliRunner()
    exported = runner.invoke(app, ["evidence", "export", str(case.ledger_dir), "--application", case.application,
                                   "-o", str(out), "--consortium", str(case.consortium_dir), "--org", NODE_ORG])
    assert exported.exit_code == 0, exported.output
    assert runner.invoke(app, ["evidence", "verify", str(out)]).exit_code == 0
    final = runner.invoke(app, ["evidence", "verify", str(out), "--require-final"], env={"COLUMNS": "400"})
    assert final.exit_code == 1
    assert "attestations" in final.output
    assert f"attested by 1 member org(s) ({NODE_ORG}), fewer than the" in " ".join(final.output.split())
