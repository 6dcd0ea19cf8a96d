"""Cluster nodes inside the test's event loop, over a real NATS cluster: the shared set-up of the
in-process cluster tests (joining, divergence alarms). Each node has its own ledger folder in the
development layout ``<consortium>/cluster/nodes/<org>``, its own NATS credentials and node key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from estatechain.clock import SystemClock
from estatechain.identity.devca import DevConsortium, create_dev_consortium
from estatechain.node.bootstrap import build_node
from estatechain.node.cluster import ClusterPipeline
from estatechain.node.finality import Finality
from estatechain.node.outbox import WebhookKey
from estatechain.node.service import NodeService
from estatechain.node.settings import Settings
from estatechain.ordering import subjects
from estatechain.ordering.jetstream import NatsAccess
from estatechain.ordering.streams import ensure_streams
from estatechain.storage.store import LedgerStore
from estatechain.testing.natscluster import NatsCluster

from .nats_support import connect, run


@dataclass
class World:
    """A dev consortium and a running 3-server NATS cluster with both streams."""

    dev: DevConsortium
    cluster: NatsCluster

    def node_dir(self, org: str, copy: str = "") -> Path:
        """``org``'s ledger folder; ``copy`` names another independent ledger of the same org."""
        return self.dev.directory / "cluster" / (f"nodes-{copy}" if copy else "nodes") / org

    def access(self, org: str) -> NatsAccess:
        credentials = self.cluster.credentials(org)
        return NatsAccess(servers=tuple(self.cluster.client_urls), user=credentials.user,
                          password=credentials.password, org_id=org)

    def settings(self, org: str, port: int = 0) -> Settings:
        return Settings(ledger_dir=self.node_dir(org), port=port, org_id=org,
                        nats_servers=tuple(self.cluster.client_urls),
                        nats_credentials=self.cluster.files.credentials[org],
                        nats_monitoring=tuple(self.cluster.monitoring_urls))

    def service(self, org: str, *, port: int = 0, peers: dict[str, str] | None = None) -> NodeService:
        """A node service for ``org`` (ledger created if new), not yet started."""
        if not (self.node_dir(org) / "ledger.sqlite").exists():
            LedgerStore.create(self.node_dir(org), self.dev.genesis).close()
        return build_node(self.settings(org, port).model_copy(update={"peers": peers or {}}))

    def pipeline(
        self, org: str, kind: type[ClusterPipeline] = ClusterPipeline, *, copy: str = "", quorum: int | None = None,
    ) -> ClusterPipeline:
        """A bare cluster pipeline of ``kind`` for ``org`` (its own ledger), for tests that bend one node."""
        directory = self.node_dir(org, copy)
        exists = (directory / "ledger.sqlite").exists()
        store = LedgerStore.open(directory) if exists else LedgerStore.create(directory, self.dev.genesis)
        finality = Finality(directory, quorum=quorum or self.dev.genesis.policies.finality_quorum,
                            claim_of=store.claim)
        return kind(store, SystemClock(), access=self.access(org), monitoring=tuple(self.cluster.monitoring_urls),
                    node_key=WebhookKey.from_dev(self.dev.directory, f"{org}/node"), finality=finality)


def start_world(root: Path) -> World:
    """A fresh consortium and NATS cluster under ``root``; the caller closes ``world.cluster``."""
    dev = create_dev_consortium(root / "consortium", now_ms=SystemClock().now_ms())
    tag = subjects.chain_tag(dev.genesis.chain_id)
    cluster = NatsCluster(root / "nats", tag=tag, org_ids=[o.id for o in dev.genesis.orgs])
    try:
        cluster.start()
        cluster.wait_ready()

        async def create() -> None:
            async with connect(cluster, "operator") as operator:
                await ensure_streams(operator.nc, tag)

        run(create())
    except BaseException:
        cluster.close()
        raise
    return World(dev=dev, cluster=cluster)


async def until(
    predicate: Callable[[], bool], within_s: float = 30.0, what: str = "condition",
    why: Callable[[], object] | None = None,
) -> None:
    """Wait, bounded, for ``predicate``; fail naming ``what`` (and ``why()``, e.g. the nodes' faults)."""
    deadline = asyncio.get_running_loop().time() + within_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not reached within {within_s:.0f} s" + (f": {why()}" if why else ""))
        await asyncio.sleep(0.05)
