"""Process-level faults under load (issue 7): NATS servers and node processes die or hang mid-stream.

One cluster of four real node processes (registry, two banks, court) over three real NATS servers is
shared by the tests of this module; each test puts back what it broke (restarts the server or node)
before it checks, so the next starts from a whole cluster. Load is a steady stream of client-signed
transactions through several nodes (``SteadyLoad``); "acknowledged" means the node answered 200/202,
i.e. the stream stored the tx on a quorum. Every test ends with the same checks: nothing
acknowledged is missing from any ledger, no tx id twice, heights contiguous, and every node holds
the same chain and state root.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from estatechain.ordering import subjects
from estatechain.testing.clusterload import LoadReport, SteadyLoad, ledger_facts
from estatechain.testing.devcluster import DevCluster

from .cluster_processes import dev_cluster, run

ORGS = ("gz-registry", "icbc-gz", "ccb-gz", "gz-court")
BANK = "ccb-gz"
TXS = 300
RATE = 60.0
FAULT_AT = 90
"""The fault strikes after this many submissions, with the stream busy."""
ELECTION_PAUSE_S = 10.0
"""Longer than JetStream's Raft election timeout (4-9 s), so the followers elect a new leader."""
FAIL_FAST_S = 5.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevCluster]:
    with dev_cluster(tmp_path_factory.mktemp("faults"), ORGS) as started:
        yield started


def stream_leader(cluster: DevCluster) -> int:
    return cluster.nats.stream_leader(subjects.tx_stream(cluster.tag))


async def reached(load: SteadyLoad, count: int, within_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while load.submitted < count:
        assert asyncio.get_running_loop().time() < deadline, f"only {load.submitted} submitted in {within_s} s"
        await asyncio.sleep(0.05)


def assert_nothing_lost(cluster: DevCluster, report: LoadReport) -> None:
    """Every node converged on one chain holding every acknowledged tx once, heights without gaps."""
    assert report.acknowledged, "the load got no acknowledgement at all"
    deadline = time.monotonic() + 60  # acknowledged = on the stream: every node must commit it, bounded
    while set(report.acknowledged) - set(ledger_facts(cluster.ledger_dir(ORGS[0])).tx_ids):
        if time.monotonic() > deadline:
            break  # the assertion below names what is missing
        time.sleep(0.5)
    head = cluster.wait_converged(timeout_s=60)
    reference = ledger_facts(cluster.ledger_dir(ORGS[0]))
    assert reference.contiguous
    assert reference.repeated == []
    assert reference.blocks[-1] == (head.height, head.block_hash)
    missing = set(report.acknowledged) - set(reference.tx_ids)
    assert missing == set(), f"{len(missing)} acknowledged txs are not in the ledger"
    for org in ORGS[1:]:
        assert ledger_facts(cluster.ledger_dir(org)) == reference, f"{org}'s chain differs from {ORGS[0]}'s"


def test_killing_the_stream_leader_mid_stream_loses_no_acknowledged_tx(cluster: DevCluster) -> None:
    load = SteadyLoad(cluster, ORGS, total=TXS, rate_per_s=RATE, label="kill-leader")

    async def scenario() -> tuple[LoadReport, int]:
        running = asyncio.create_task(load.run())
        await reached(load, FAULT_AT)
        leader = await asyncio.to_thread(stream_leader, cluster)
        await asyncio.to_thread(cluster.nats.kill, leader)
        return await running, leader

    report, leader = run(scenario())
    new_leader = stream_leader(cluster)
    cluster.nats.restart(leader)
    assert new_leader != leader
    assert report.given_up == []
    assert len(report.acknowledged) == TXS
    assert_nothing_lost(cluster, report)


def test_pausing_the_stream_leader_past_the_election_timeout_loses_and_repeats_nothing(cluster: DevCluster) -> None:
    load = SteadyLoad(cluster, ORGS, total=TXS, rate_per_s=RATE, label="pause-leader")

    async def scenario() -> tuple[LoadReport, int]:
        running = asyncio.create_task(load.run())
        await reached(load, FAULT_AT)
        leader = await asyncio.to_thread(stream_leader, cluster)
        cluster.nats.pause(leader)
        try:
            await asyncio.sleep(ELECTION_PAUSE_S)
        finally:
            cluster.nats.resume(leader)
        return await running, leader

    report, leader = run(scenario())
    assert stream_leader(cluster) != leader or report.failures, "the pause went unnoticed"
    assert report.given_up == []
    assert_nothing_lost(cluster, report)


def test_without_a_quorum_submissions_fail_fast_with_a_retriable_503_and_nothing_acknowledged_is_lost(
    cluster: DevCluster,
) -> None:
    before = SteadyLoad(cluster, ORGS, total=40, rate_per_s=RATE, label="quorum-before")
    acknowledged = run(before.run())
    leader = stream_leader(cluster)
    down = [leader, next(i for i in range(cluster.nats.size) if i != leader)]

    async def refused() -> list[bytes]:
        envelopes = []
        async with httpx.AsyncClient(timeout=30) as http:
            for n, org in enumerate(ORGS * 2):
                async with cluster.client(org, f"{org}/org-admin") as client:
                    signed = await client.sign("note.put", {"data": {"n": n}, "if_absent": False,
                                                            "key": f"no-quorum/{n}"})
                    request = client.build_request("POST", "/v1/transactions", content=signed.envelope,
                                                   target=await client.target())
                begun = time.monotonic()
                response = await http.send(request)
                took = time.monotonic() - begun
                assert response.status_code == 503, (org, response.status_code, response.text)
                assert took < FAIL_FAST_S, f"{org} answered after {took:.1f} s"
                body = response.json()
                assert body["error"] == "UNAVAILABLE"
                assert "submit it again" in body["message"]
                assert response.headers["retry-after"] == "1"
                envelopes.append(signed.envelope)
        return envelopes

    for index in down:
        cluster.nats.kill(index)
    try:
        envelopes = run(refused())
    finally:
        for index in down:
            cluster.nats.restart(index)

    async def resubmit() -> set[str]:
        ids = set()
        for n, envelope in enumerate(envelopes):
            org = ORGS[n % len(ORGS)]
            async with cluster.client(org, f"{org}/org-admin") as client:
                for _ in range(100):  # bounded: the new leader is elected within a few seconds
                    try:
                        ids.add((await client.submit(envelope)).tx_id)
                        break
                    except Exception:  # noqa: BLE001  (503 or a reconnecting node: retry the same envelope)
                        await asyncio.sleep(0.2)
        return ids

    resubmitted = run(resubmit())
    assert len(resubmitted) == len(envelopes)
    report = LoadReport(acknowledged={**acknowledged.acknowledged, **dict.fromkeys(resubmitted, "resubmit")})
    assert_nothing_lost(cluster, report)


def test_a_bank_node_killed_mid_stream_catches_up_after_restart_while_the_others_kept_committing(
    cluster: DevCluster,
) -> None:
    load = SteadyLoad(cluster, ORGS, total=TXS, rate_per_s=RATE, label="kill-bank")
    others = [org for org in ORGS if org != BANK]

    async def scenario() -> tuple[LoadReport, dict[str, int], dict[str, int]]:
        running = asyncio.create_task(load.run())
        await reached(load, FAULT_AT)
        cluster.kill_node(BANK)
        at_kill = {org: h.height for org, h in (await asyncio.to_thread(cluster.heads, others)).items()}
        await reached(load, FAULT_AT + 90)
        while_down = {org: h.height for org, h in (await asyncio.to_thread(cluster.heads, others)).items()}
        assert not cluster.running(BANK)
        await asyncio.to_thread(cluster.restart_node, BANK)
        return await running, at_kill, while_down

    report, at_kill, while_down = run(scenario())
    assert all(while_down[org] > at_kill[org] for org in others), (at_kill, while_down)
    assert report.given_up == []
    assert report.failures["unreachable"] > 0
    assert_nothing_lost(cluster, report)
