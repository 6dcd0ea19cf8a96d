"""A stopped peer shows on ``GET /v1/cluster`` and ``/metrics`` as an org whose attestations fall behind.

Before, both said only this node's height and the final height: with a quorum of orgs still attesting,
a stopped peer changed neither, and an operator learned of it only when one more node went down and
finality stalled. Runs the registry's node served over HTTP and the bank's as a bare pipeline, in the
test's event loop over a real 3-server NATS cluster on loopback.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from estatechain.api.server import NodeServer
from estatechain.clock import SystemClock
from estatechain.node.cluster import ClusterPipeline
from estatechain.node.finality import Finality
from estatechain.ordering.natsconfig import free_ports
from estatechain.sdk.client import Client
from estatechain.sdk.identity import ClientIdentity
from estatechain.testing.builders import TxFactory

from .inprocess import World, until
from .nats_support import run

REGISTRY, BANK = "gz-registry", "icbc-gz"


def _check_cluster(status: dict[str, Any], level: int) -> None:
    """The bank stopped at ``level``: behind by what the registry committed since; ccb-gz never attested."""
    by_org = {o["org"]: o for o in status["orgs"]}
    assert by_org[BANK]["last_attested_height"] == level
    assert by_org[BANK]["behind"] == status["height"] - level > 0
    assert by_org[REGISTRY]["behind"] == 0
    assert by_org["ccb-gz"] == {"org": "ccb-gz", "last_attested_height": None, "behind": status["height"]}


def _check_metrics(metrics: str, level: int, height: int) -> None:
    """The same as gauges; an org that never attested is absent from them."""
    assert f'estatechain_org_attested_height{{org="{BANK}"}} {float(level)}' in metrics
    assert f'estatechain_org_attestation_lag_blocks{{org="{BANK}"}} {float(height - level)}' in metrics
    assert f'estatechain_org_attestation_lag_blocks{{org="{REGISTRY}"}} 0.0' in metrics
    assert 'org="ccb-gz"' not in metrics


def test_a_stopped_peer_shows_as_an_org_whose_attested_height_falls_behind(world: World) -> None:
    (port,) = free_ports(1)
    base = f"http://127.0.0.1:{port}"
    factory = TxFactory(world.dev, SystemClock())
    writer = world.dev.identities[f"{REGISTRY}/org-admin"]

    async def commit(server: NodeServer, first: int, count: int) -> int:
        futures = [await server.service.pipeline.accept(factory.note(writer, f"att/{n}", {"n": n}))
                   for n in range(first, first + count)]
        receipts = await asyncio.wait_for(asyncio.gather(*futures), 30)
        return max(r.height for r in receipts)

    async def scenario() -> int:
        server = NodeServer(world.service(REGISTRY, port=port), log_level="warning")
        serving = asyncio.create_task(server.serve())
        bank = world.pipeline(BANK)
        banking = asyncio.create_task(bank.run())
        try:
            await until(lambda: server.started and server.service.ready and bank.ordering_ready, what="nodes up")
            pipeline = server.service.pipeline
            assert isinstance(pipeline, ClusterPipeline)
            level = await commit(server, 0, 5)
            await until(lambda: {REGISTRY, BANK} <= set(pipeline.finality.agreeing(level)), what="both orgs attested")
            bank.stop()
            await asyncio.wait_for(banking, 20)
            head = level
            for batch in range(3):  # a few more blocks without the bank
                head = await commit(server, 100 + 10 * batch, 3)
            assert head > level
            await until(lambda: REGISTRY in pipeline.finality.agreeing(head), what="the registry attested its head")

            async with Client(base, ClientIdentity.from_dev(world.dev.directory, f"{REGISTRY}/org-admin")) as client:
                status = await client.send(client.build_request("GET", "/v1/cluster", target=await client.target()))
            assert [o["org"] for o in status["orgs"]] == [o.id for o in world.dev.genesis.orgs]
            assert status["height"] >= head
            _check_cluster(status, level)

            async with httpx.AsyncClient(base_url=base, timeout=5) as http:
                metrics = (await http.get("/metrics")).text
            _check_metrics(metrics, level, status["height"])
            return level
        finally:
            bank.stop()
            server.stop()
            await asyncio.gather(serving, banking, return_exceptions=True)
            bank.store.close()

    level = run(scenario(), timeout=120)
    restarted = Finality(world.node_dir(REGISTRY), quorum=2, claim_of=lambda _height: None)
    try:
        assert restarted.last_attested()[BANK] == level  # a restarted node knows at once, not at the bank's next
    finally:
        restarted.close()
