"""A court node joins a running cluster late, as an operator would: `estatechain node --join-from URL`.

Real node processes and NATS servers: the joiner downloads the registry node's snapshot, audits it,
checks the quorum's attestations of its head, then reads the stream from where the snapshot ends and
reaches the same head and state root as the others while they keep committing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from estatechain.testing.devcluster import DevCluster

from .cluster_processes import dev_cluster, run

FIRST = ("gz-registry", "icbc-gz", "ccb-gz")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[DevCluster]:
    with dev_cluster(tmp_path / "net", orgs=FIRST) as started:
        yield started


async def _notes(cluster: DevCluster, org: str, tag: str, count: int) -> None:
    async with cluster.client(org, f"{org}/org-admin") as client:
        for n in range(count):
            signed = await client.sign("note.put", {"data": {"n": n}, "if_absent": False, "key": f"{tag}/{n}"})
            await client.submit(signed.envelope)


def test_a_late_node_joins_from_a_snapshot_and_keeps_up(cluster: DevCluster) -> None:
    run(_notes(cluster, "icbc-gz", "before", 20))
    cluster.wait_converged(FIRST)
    cluster.join_node("gz-court", peer="gz-registry")
    log = " ".join(cluster.log_path("gz-court").read_text(encoding="utf-8").split())
    assert "Joined from" in log
    assert "attested by ccb-gz, gz-registry, icbc-gz" in log
    run(_notes(cluster, "ccb-gz", "after", 20))
    run(_notes(cluster, "gz-court", "court", 5))
    head = cluster.wait_converged((*FIRST, "gz-court"))
    assert cluster.head("gz-court").claim == head.claim
    assert head.height > 1
