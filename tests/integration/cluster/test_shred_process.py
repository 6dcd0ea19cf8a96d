"""Crypto-shredding reaches every copy: a ``record.shred`` ordered by the identity authority at its own
node destroys the wrapped keys at the registry's node, and a registry node brought back with keys from
before the order (a restored backup) destroys them again at start-up. Ciphertexts and every hash stay.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from estatechain.testing.devcluster import DevCluster

from .cluster_processes import dev_cluster, run

ORGS = ("gz-registry", "icbc-gz", "gz-identity")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[DevCluster]:
    with dev_cluster(tmp_path / "net", orgs=ORGS) as started:
        yield started


def _holding(sealed: Path, record_id: str, suffix: str) -> list[Path]:
    return [p for p in sorted(sealed.glob(f"*.{suffix}.jsonl")) if record_id.encode() in p.read_bytes()]


def _until_gone(sealed: Path, record_id: str, within_s: float = 10.0) -> None:
    """The node destroys the keys right after committing the block (its event hook): wait for it, bounded."""
    deadline = time.monotonic() + within_s
    while _holding(sealed, record_id, "keys"):
        assert time.monotonic() < deadline, "the wrapped keys are still there"
        time.sleep(0.1)


def test_a_shred_order_destroys_the_keys_at_every_node_and_again_after_a_restore(
    cluster: DevCluster, tmp_path: Path,
) -> None:
    party = str(cluster.dev_owners()["gz-identity/person1"]["party_id"])
    sealed = cluster.ledger_dir("gz-registry") / "sealed"
    keys_before = _holding(sealed, party, "keys")
    assert keys_before, "the registry's node holds the owner's wrapped keys before the order"
    records_before = {p: p.read_bytes() for p in _holding(sealed, party, "records")}
    backup = tmp_path / "backup"
    shutil.copytree(sealed, backup)
    head_before = cluster.head("icbc-gz")

    async def order() -> str:
        async with cluster.client("gz-identity", "gz-identity/officer1") as officer:
            signed = await officer.sign("record.shred", {"party_id": party, "reason": "the owner's erasure request"})
            status = await officer.submit(signed.envelope, wait_s=20)
            assert status.valid, status
            return signed.tx_id

    tx_id = run(order())
    cluster.wait_tx(tx_id)
    _until_gone(sealed, party)
    assert {p: p.read_bytes() for p in _holding(sealed, party, "records")} == records_before  # ciphertext stays

    cluster.kill_node("gz-registry")
    for path in backup.glob("*.keys.jsonl"):
        shutil.copy2(path, sealed / path.name)  # an old backup's keys come back
    assert _holding(sealed, party, "keys")
    cluster.restart_node("gz-registry")
    assert _holding(sealed, party, "keys") == []  # swept at start-up from the ledger's mark
    head = cluster.wait_converged(ORGS)
    assert head.height > head_before.height
