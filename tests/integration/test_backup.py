"""``estatechain backup`` / ``restore``: ledger, keystore and materials come back, and the restored node verifies."""

from __future__ import annotations

import itertools
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from estatechain.errors import Conflict, InputError, IntegrityFault
from estatechain.storage.audit import audit_ledger
from estatechain.storage.backup import MANIFEST_FILE, backup, restore, verify_archive
from estatechain.testing.builders import sample_stream
from estatechain.testing.harness import LedgerHarness

CLI = [sys.executable, "-c", "from estatechain.cli.main import main; main()"]
ORG = "gz-registry"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "COLUMNS": "200"})


def flat(text: str) -> str:
    """``text`` with the console's line wrapping undone, so a message is matched whole."""
    return " ".join(text.split())


def files_of(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` with its bytes: what "nothing changed on disk" compares."""
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("backup") / "net"
    result = run("init", str(directory), "--units", "50")
    assert result.returncode == 0, result.stderr
    return directory


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_help_has_an_example_and_the_exit_codes(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert f"Example: estatechain {command}" in result.stdout
    assert "Exit codes: 0" in flat(result.stdout)
    assert "2 bad input" in flat(result.stdout)


def test_backup_then_restore_gives_a_node_that_verifies_with_the_same_head(consortium: Path, tmp_path: Path) -> None:
    node = consortium / "nodes" / ORG
    before = audit_ledger(node)
    archive = tmp_path / "archive"
    result = run("backup", str(node), str(archive))
    assert result.returncode == 0, result.stderr
    manifest, entries = verify_archive(archive)
    assert manifest["ledger"] == {"height": before.blocks, "head_hash": before.head_hash}
    paths = {e.path for e in entries}
    assert "node/ledger.sqlite" in paths
    assert any(p.startswith("node/sealed/") for p in paths)
    assert "keys/ca.key.pem" in paths
    assert not any(p.endswith((".lock", "-wal", "-shm")) for p in paths)
    assert stat.S_IMODE((archive / "keys" / "ca.key.pem").stat().st_mode) == 0o600

    target = tmp_path / "net2" / "nodes" / ORG
    restored = run("restore", str(archive), str(target))
    assert restored.returncode == 0, restored.stderr
    assert "every block, transaction and state row checks out" in restored.stdout
    after = audit_ledger(target)
    assert (after.head_hash, after.txs, after.blocks) == (before.head_hash, before.txs, before.blocks)
    keys = tmp_path / "net2" / "orgs" / ORG
    assert stat.S_IMODE((keys / "ca.key.pem").stat().st_mode) == 0o600
    assert (keys / "ca.pem").read_bytes() == (consortium / "orgs" / ORG / "ca.pem").read_bytes()
    sealed = sorted(p.name for p in (node / "sealed").iterdir())
    assert sorted(p.name for p in (target / "sealed").iterdir()) == sealed

    again = run("restore", str(archive), str(target))
    assert again.returncode == 2  # bad input, as backup's non-empty ARCHIVE: not a failed check
    assert "not empty" in again.stderr
    assert "move the folder aside" in flat(again.stderr)


def test_restoring_one_orgs_node_into_another_orgs_folder_is_refused_naming_the_right_one(
    consortium: Path, tmp_path: Path,
) -> None:
    """A node takes its org from its folder: gz-registry's ledger in nodes/icbc-gz would run as ICBC's node."""
    archive = tmp_path / "archive"
    backup(consortium / "nodes" / ORG, archive)
    wrong = tmp_path / "net2" / "nodes" / "icbc-gz"
    result = run("restore", str(archive), str(wrong))
    assert result.returncode == 2
    assert f"restore into {tmp_path / 'net2' / 'nodes' / ORG} instead" in flat(result.stderr)
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "net2").exists()


def test_restoring_into_the_current_folder_takes_its_real_name(consortium: Path, tmp_path: Path) -> None:
    """``restore ARCHIVE .`` from inside DIR/nodes/gz-registry is that org's folder, not one named ""."""
    archive = tmp_path / "archive"
    backup(consortium / "nodes" / ORG, archive)
    here = tmp_path / "net3" / "nodes" / ORG
    here.mkdir(parents=True)
    result = subprocess.run([*CLI, "restore", str(archive), "."], capture_output=True, text=True, timeout=120,
                            check=False, cwd=here, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert audit_ledger(here).head_hash == audit_ledger(consortium / "nodes" / ORG).head_hash


def test_backup_refuses_a_non_empty_archive_dir(consortium: Path, tmp_path: Path) -> None:
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "x").write_text("x")
    with pytest.raises(Conflict, match="not empty"):
        backup(consortium / "nodes" / ORG, tmp_path / "archive")
    result = run("backup", str(consortium / "nodes" / ORG), str(tmp_path / "archive"))
    assert result.returncode == 2
    assert "not empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert files_of(tmp_path / "archive") == {"x": b"x"}


def test_restoring_a_node_in_place_beside_its_orgs_keys_names_keys_dir_and_changes_nothing(
    consortium: Path, tmp_path: Path,
) -> None:
    """The node folder moved aside, DIR/orgs/<org> still holds the keys: the way out is --keys-dir."""
    archive = tmp_path / "archive"
    backup(consortium / "nodes" / ORG, archive)
    net = tmp_path / "net"
    shutil.copytree(consortium, net)
    target = net / "nodes" / ORG
    target.rename(net / "nodes" / f"{ORG}.old")
    before = files_of(net)

    refused = run("restore", str(archive), str(target))
    assert refused.returncode == 2, refused.stderr
    message, keys_now = flat(refused.stderr), (net / "orgs" / ORG).resolve()
    assert f"{keys_now} exists and is not empty" in message
    assert f"pass --keys-dir with a new or empty directory (e.g. --keys-dir {keys_now}.restored)" in message
    assert "Traceback" not in refused.stderr
    assert files_of(net) == before
    assert not target.exists()

    keys = tmp_path / "restored-keys"
    restored = run("restore", str(archive), str(target), "--keys-dir", str(keys))
    assert restored.returncode == 0, restored.stderr
    assert files_of(keys) == files_of(net / "orgs" / ORG)
    assert audit_ledger(target).head_hash == audit_ledger(consortium / "nodes" / ORG).head_hash


def test_restoring_outside_a_consortium_folder_asks_for_keys_dir_and_writes_nothing(
    consortium: Path, tmp_path: Path,
) -> None:
    """No DIR/nodes/<org> around NODE: nothing would find keys put anywhere, so the operator names the place."""
    archive = tmp_path / "archive"
    backup(consortium / "nodes" / ORG, archive)
    target = tmp_path / "srv" / "node"

    refused = run("restore", str(archive), str(target))
    assert refused.returncode == 2, refused.stderr
    message = flat(refused.stderr)
    assert f"the archive holds the keys of {ORG}" in message
    assert "pass --keys-dir with a new or empty directory for them" in message
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "srv").exists()

    restored = run("restore", str(archive), str(target), "--keys-dir", str(tmp_path / "srv" / "keys"))
    assert restored.returncode == 0, restored.stderr
    assert (tmp_path / "srv" / "keys" / "ca.pem").read_bytes() == (consortium / "orgs" / ORG / "ca.pem").read_bytes()


def test_a_manifest_naming_no_org_for_its_keys_asks_for_keys_dir(consortium: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    backup(consortium / "nodes" / ORG, archive)
    manifest = archive / MANIFEST_FILE
    manifest.write_bytes(manifest.read_bytes().replace(f'"org":"{ORG}"'.encode(), b'"org":null'))
    target = tmp_path / "net2" / "nodes" / ORG
    with pytest.raises(InputError, match=r"names no org for the keys.*pass --keys-dir"):
        restore(archive, target)
    assert not (tmp_path / "net2").exists()


def test_bad_input_to_restore_exits_2_and_a_failed_check_exits_1(consortium: Path, tmp_path: Path) -> None:
    missing = run("restore", str(tmp_path / "no-such-archive"), str(tmp_path / "n"))
    assert missing.returncode == 2, missing.stderr
    assert f"no backup at {tmp_path / 'no-such-archive'}" in flat(missing.stderr)
    assert not (tmp_path / "n").exists()

    archive = tmp_path / "archive"
    backup(consortium / "nodes" / ORG, archive)
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "mine.pem").write_text("someone's key")
    occupied = run("restore", str(archive), str(tmp_path / "n"), "--keys-dir", str(keys))
    assert occupied.returncode == 2, occupied.stderr
    assert f"key directory (--keys-dir) {keys} exists and is not empty" in flat(occupied.stderr)
    assert files_of(keys) == {"mine.pem": b"someone's key"}
    assert not (tmp_path / "n").exists()

    (archive / MANIFEST_FILE).unlink()
    broken = run("restore", str(archive), str(tmp_path / "n"), "--keys-dir", str(tmp_path / "k"))
    assert broken.returncode == 1, broken.stderr
    assert "the archive has no manifest" in flat(broken.stderr)


def test_a_tampered_archive_is_refused_naming_the_file_and_nothing_is_written(consortium: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    backup(consortium / "nodes" / ORG, archive)
    victim = min((archive / "node" / "sealed").iterdir())
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    target = tmp_path / "net2" / "nodes" / ORG
    result = run("restore", str(archive), str(target))
    assert result.returncode == 1
    assert f"node/sealed/{victim.name}" in result.stderr
    assert not target.exists()
    assert not (tmp_path / "net2" / "orgs").exists()


def test_an_extra_or_missing_file_is_refused(consortium: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    backup(consortium / "nodes" / ORG, archive)
    (archive / "node" / "stray.txt").write_text("not mine")
    with pytest.raises(IntegrityFault, match="not in the manifest"):
        restore(archive, tmp_path / "n1", keys_dir=tmp_path / "k1")
    (archive / "node" / "stray.txt").unlink()
    (archive / "keys" / "ca.pem").unlink()
    with pytest.raises(IntegrityFault) as fault:
        restore(archive, tmp_path / "n2", keys_dir=tmp_path / "k2")
    assert fault.value.where == "keys/ca.pem"
    assert not (tmp_path / "n2").exists()
    assert not (tmp_path / "k2").exists()
    assert (archive / MANIFEST_FILE).exists()


def test_backup_while_the_pipeline_commits_yields_a_ledger_that_verifies(tmp_path: Path) -> None:
    harness = LedgerHarness(tmp_path / "live")
    stream = sample_stream(harness.factory, 600)
    harness.commit(list(itertools.islice(stream, 50)))
    done = threading.Event()
    failures: list[BaseException] = []

    def commit_rest() -> None:
        try:
            while batch := list(itertools.islice(stream, 25)):
                harness.commit(batch)
        except BaseException as exc:  # noqa: BLE001  (reported by the main thread)
            failures.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=commit_rest)
    writer.start()
    archives: list[Path] = []
    try:
        while not done.wait(0.05) and len(archives) < 40:
            archive = tmp_path / f"archive{len(archives)}"
            backup(harness.ledger_dir, archive)
            archives.append(archive)
    finally:
        writer.join(timeout=60)
    assert not failures, failures
    final = harness.snapshot()
    harness.store.close()
    archives.append(tmp_path / "archive-final")
    backup(harness.ledger_dir, archives[-1])
    by_height: dict[int, Path] = {}
    for archive in archives:  # one archive per height is enough to restore
        manifest, _ = verify_archive(archive)
        by_height.setdefault(manifest["ledger"]["height"], archive)  # type: ignore[index]
    assert len(by_height) >= 3, f"no backup was taken while blocks were committing: heights {sorted(by_height)}"
    for height, archive in sorted(by_height.items()):
        result = restore(archive, tmp_path / f"restored{height}")
        assert result.report.blocks == height
    assert max(by_height) == final.height
    assert result.report.txs == final.txs
    assert result.report.head_hash == final.head_hash


def test_a_cluster_nodes_backup_holds_its_orgs_keys_and_restores_them_beside_the_cluster(
    consortium: Path, tmp_path: Path,
) -> None:
    """A development cluster keeps nodes in DIR/cluster/nodes/<org> and keys in DIR/orgs/<org>."""
    cluster = tmp_path / "devnet"
    node = cluster / "cluster" / "nodes" / ORG
    shutil.copytree(consortium / "nodes" / ORG, node)
    shutil.copytree(consortium / "orgs" / ORG, cluster / "orgs" / ORG)
    archive = tmp_path / "archive"
    result = backup(node, archive)
    assert result.org == ORG
    assert "keys/ca.key.pem" in {e.path for e in result.files}

    target = tmp_path / "devnet2" / "cluster" / "nodes" / ORG
    restored = restore(archive, target)
    assert restored.keys_dir == tmp_path / "devnet2" / "orgs" / ORG
    assert (restored.keys_dir / "ca.pem").read_bytes() == (consortium / "orgs" / ORG / "ca.pem").read_bytes()
