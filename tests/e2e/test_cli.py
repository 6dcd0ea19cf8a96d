"""The estatechain command as a newcomer uses it, in a subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from estatechain.storage.store import LedgerStore
from estatechain.web.cases import org_parties

CLI = [sys.executable, "-c", "from estatechain.cli.main import main; main()"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("command", ["init", "load", "verify", "demo", "up", "backup", "restore", "bench"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert f"Example: estatechain {command}" in result.stdout


def test_init_load_and_verify_commit_and_check_a_ledger_then_say_so(tmp_path: Path) -> None:
    created = run("init", str(tmp_path / "net"), "--units", "100")
    assert created.returncode == 0, created.stderr
    assert "Development only" in created.stdout
    result = run("load", str(tmp_path / "net"), "--count", "300")
    assert result.returncode == 0, result.stderr
    assert "Committed 300 transactions (270 valid, 30 invalid" in result.stdout
    again = run("verify", str(tmp_path / "net"))
    assert again.returncode == 0
    assert "every block, transaction and state row checks out" in again.stdout
    assert "│ transactions" in again.stdout


def test_init_binds_the_developers_company_so_its_desk_works_from_the_start_but_offers_only_banks_as_lenders(
    tmp_path: Path,
) -> None:
    """The developer desk files pre-sale contracts for the company bound to its org; a bank clerk's list of banks
    (a notice's new holder) must not grow a developer because of it."""
    assert run("init", str(tmp_path / "net"), "--units", "50").returncode == 0
    store = LedgerStore.open(tmp_path / "net" / "nodes" / "gz-registry", readonly=True)
    try:
        bound = {str(row.get("org")) for _, row in store.scan("identity/orgparty/")}
        assert {"poly-developer", "icbc-gz", "ccb-gz"} <= bound
        assert set(org_parties(store)) == {"icbc-gz", "ccb-gz"}
    finally:
        store.close()


def test_init_refuses_a_directory_that_already_holds_a_consortium(tmp_path: Path) -> None:
    assert run("init", str(tmp_path / "net")).returncode == 0
    second = run("init", str(tmp_path / "net"))
    assert second.returncode == 2
    assert "already holds a consortium" in second.stderr
    assert "Traceback" not in second.stderr


def test_verify_names_a_missing_ledger_without_a_stack_trace(tmp_path: Path) -> None:
    result = run("verify", str(tmp_path))
    assert result.returncode != 0
    assert "no ledger" in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_takes_a_backup_folder_and_skips_a_node_copy_moved_aside(tmp_path: Path) -> None:
    """The runbook audits a backup, and moves a bad node's folder aside as ``<org>.bad`` before rebuilding it."""
    net = tmp_path / "net"
    assert run("init", str(net), "--units", "50").returncode == 0
    archive = tmp_path / "backup"
    assert run("backup", str(net / "nodes" / "gz-registry"), str(archive)).returncode == 0
    audited = run("verify", str(archive))
    assert audited.returncode == 0, audited.stderr
    assert f"OK{archive / 'node'}:" in "".join(audited.stdout.split())  # rich wraps long paths
    shutil.copytree(net / "nodes" / "gz-registry", net / "nodes" / "gz-registry.bad")
    (net / "nodes" / "gz-registry.bad" / "ledger.sqlite").write_bytes(b"not a ledger")
    consortium = run("verify", str(net))
    assert consortium.returncode == 0, consortium.stderr
    flat = "".join(consortium.stdout.split())
    assert f"skipped{net / 'nodes' / 'gz-registry.bad'}:" in flat
    assert f"OK{net / 'nodes' / 'gz-registry'}:" in flat
