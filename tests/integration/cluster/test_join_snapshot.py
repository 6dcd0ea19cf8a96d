"""A new org node joins late from a peer's snapshot, checked against the quorum's attestations."""

from __future__ import annotations

import asyncio

import pytest

from estatechain.api.server import NodeServer
from estatechain.clock import SystemClock
from estatechain.errors import Conflict
from estatechain.node.join import join_from_snapshot
from estatechain.node.outbox import WebhookKey
from estatechain.node.service import NodeService
from estatechain.sdk.identity import ClientIdentity
from estatechain.testing.builders import TxFactory

from .inprocess import World, until
from .nats_support import run

PEERS = ("gz-registry", "icbc-gz", "ccb-gz")



def _identity(world: World, org: str) -> ClientIdentity:
    key = WebhookKey.from_dev(world.dev.directory, f"{org}/node")
    return key.client_identity()


async def _submit(services: list[NodeService], factory: TxFactory, count: int, tag: str) -> None:
    writers = [i for i in factory.consortium.identities.values() if i.role == "org.admin"]
    futures = []
    for n in range(count):
        envelope = factory.note(writers[n % len(writers)], f"{tag}/{n}", {"n": n})
        futures.append(await services[n % len(services)].pipeline.accept(envelope))
    await asyncio.wait_for(asyncio.gather(*futures), 30)


def test_a_late_org_node_joins_from_a_snapshot_and_reaches_the_same_state(world: World) -> None:
    factory = TxFactory(world.dev, SystemClock())

    async def scenario() -> None:
        services = [world.service(org) for org in PEERS]
        server = NodeServer(services[0], log_level="warning")
        serving = asyncio.create_task(server.serve())
        for service in services[1:]:
            service.start()
        joiner: NodeService | None = None
        try:
            await until(lambda: server.started and all(s.ready for s in services), what="peers ready")
            await _submit(services, factory, 60, "before")
            head = services[0].store.height
            await until(lambda: all(_final(s) >= head for s in services), what="the peers' head final")
            report = await join_from_snapshot(
                peer_url=f"http://127.0.0.1:{server.port}", identity=_identity(world, "gz-court"),
                ledger_dir=world.node_dir("gz-court"), genesis=world.dev.genesis, access=world.access("gz-court"))
            assert report.height >= head
            assert len(report.attested_by) >= world.dev.genesis.policies.finality_quorum
            assert report.audit.blocks == report.height
            with pytest.raises(Conflict):
                await join_from_snapshot(
                    peer_url=f"http://127.0.0.1:{server.port}", identity=_identity(world, "gz-court"),
                    ledger_dir=world.node_dir("gz-court"), genesis=world.dev.genesis,
                    access=world.access("gz-court"))
            joiner = world.service("gz-court")
            joiner.start()
            await until(lambda: joiner is not None and joiner.ready, what="the joiner connected")
            await _submit([*services, joiner], factory, 40, "after")
            await until(lambda: joiner.store.height == services[0].store.height, what="the joiner at the head")
            assert joiner.store.head_hash == services[0].store.head_hash
            assert joiner.store.state_root == services[1].store.state_root
            status = joiner.cluster_status()
            assert status is not None
            assert status.alarm is None
        finally:
            server.stop()
            await serving
            for service in [*services[1:], *([joiner] if joiner else [])]:
                await service.stop()

    run(scenario(), timeout=150)


def _final(service: NodeService) -> int:
    status = service.cluster_status()
    assert status is not None, "not a cluster node"
    return status.final_height
