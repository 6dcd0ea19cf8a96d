"""``estatechain up --cluster`` and ``estatechain node``: a development consortium with one node per org.

``up --cluster DIR`` starts, on loopback, three NATS servers (JetStream, fsync on every write, R3
streams that deny delete and purge) and one node process per org (registry, two banks, court,
identity authority; the regulator and the developer submit through any node in development). Each
node has its own ledger folder ``DIR/cluster/nodes/<org>``, its own NATS credentials and its own API
port, reads the one ordering stream and commits the same blocks. A fresh DIR gets a development
consortium whose synthetic register is published once onto the stream by the registry, so every
node's ledger holds it. A node that exits is reported and the others keep running; Ctrl-C stops
the nodes, then the servers.

The work is done by ``estatechain.testing.devcluster.DevCluster``, which the process-level cluster
tests and the cluster benchmark use too, so what they show is what this command runs.

``estatechain node DIR --org ORG`` runs one such node (``up --cluster`` uses it; on separate
machines an operator runs it with the org's own NATS URLs and credentials, docs/operations.md).
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from rich.console import Console

from estatechain.errors import InputError, NotFound
from estatechain.identity.genesis import Genesis
from estatechain.node.join import JoinReport, join_from_snapshot
from estatechain.node.outbox import WebhookKey
from estatechain.ordering.jetstream import NatsAccess
from estatechain.ordering.natsconfig import Credentials
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.testing.devcluster import (
    CLUSTER_DIR,
    CLUSTER_FILE,
    NODE_ORGS,
    DevCluster,
    cluster_node_dir,
    prepare_consortium,
)

BOOTSTRAP_TIMEOUT_S: Final = 600.0
"""The default register (tens of thousands of units) takes minutes to commit on five nodes sharing cores."""

console = Console()
err = Console(stderr=True)

__all__ = ["cluster_node_dir", "cluster_settings", "join_cluster", "up_cluster"]


def up_cluster(directory: Path, *, port: int, units: int, seed: int) -> None:
    """Run the whole development cluster in the foreground until Ctrl-C or SIGTERM."""
    if not (directory / "genesis.json").exists():
        consortium, count = prepare_consortium(directory, units=units, seed=seed)
        console.print(f"[bold]Created[/bold] development consortium {consortium.genesis.consortium}: "
                      f"{units:,} units in {count} registry txs to publish")
    ports = None if port == 0 else {org: port + i for i, org in enumerate(NODE_ORGS)}  # 0: any free ports
    cluster = DevCluster(directory, ports=ports, bootstrap_timeout_s=BOOTSTRAP_TIMEOUT_S, stop_timeout_s=20.0)
    stop = {"now": False}

    def request_stop(*_: object) -> None:
        stop["now"] = True

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        cluster.start(on_bootstrap=lambda _: console.print("  publishing the synthetic register through the stream …"))
        _announce(cluster)
        _watch(cluster, directory, lambda: stop["now"])
    finally:
        cluster.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print("[bold]Stopped[/bold]: nodes and NATS servers stopped, ledgers closed.")


def _watch(cluster: DevCluster, directory: Path, stopping: Callable[[], bool]) -> None:
    """Keep the cluster up while at least one node runs: one org's node going down is what a consortium survives.

    Stopping every node when one exits would hide exactly what a development cluster is for showing
    (the other orgs keep committing while the quorum holds, and a node restarted later catches up),
    and would throw away the state a developer wants to inspect. Each exit is reported once, with
    the node's log and the command that starts it again on the same ledger and port.
    """
    reported: set[str] = set()
    while not stopping():
        for org, code in cluster.exited().items():
            if org in reported:
                continue
            reported.add(org)
            err.print(f"[red]the {org} node exited[/red] (code {code}); the other nodes keep running.\n"
                      f"  its log: {cluster.log_path(org)}\n"
                      f"  start it again: estatechain node {directory} --org {org} --port {cluster.ports[org]}")
        if len(reported) == len(cluster.orgs):
            err.print("[red]every node has exited[/red]; stopping the NATS servers")
            return
        time.sleep(0.3)


def _announce(cluster: DevCluster) -> None:
    lines = [f"estatechain cluster is up: chain id {cluster.chain_id}",
             f"  NATS       {', '.join(cluster.nats.client_urls)} (JetStream R3, sync always)"]
    lines += [f"  {org:<12} {cluster.url(org)}/docs   ledger {cluster.ledger_dir(org) / LEDGER_FILE}"
              for org in cluster.orgs]
    lines.append("  Stop with Ctrl-C.")
    print("\n".join(lines), flush=True)  # noqa: T201  (plain lines a newcomer or a script can grep)


def join_cluster(directory: Path, org: str, peer_url: str) -> JoinReport:
    """Give ``org`` a ledger from the peer at ``peer_url``'s snapshot, checked against the quorum's attestations.

    Raises:
        Conflict: the org's node already has a ledger.
        IntegrityFault: the snapshot fails its audit or its head is not the quorum's.
        Unavailable: the peer or NATS cannot be reached, or the head is not final yet.

    """
    settings = cluster_settings(directory, org, 0, create=False)
    genesis = Genesis.from_bytes((directory / "genesis.json").read_bytes())
    key = WebhookKey.from_dev(directory, f"{org}/node")
    credentials = Credentials.load(Path(str(settings["nats_credentials"])))
    servers = settings["nats_servers"]
    assert isinstance(servers, tuple)
    access = NatsAccess(servers=servers, user=credentials.user, password=credentials.password, org_id=org)
    return asyncio.run(join_from_snapshot(peer_url=peer_url, identity=key.client_identity(),
                                          ledger_dir=cluster_node_dir(directory, org), genesis=genesis,
                                          access=access))


def cluster_settings(directory: Path, org: str, port: int, *, create: bool = True) -> dict[str, object]:
    """The node Settings of ``org`` in a cluster started by ``up --cluster`` (from cluster.json).

    Raises:
        NotFound: DIR has no running cluster description.
        InputError: ``org`` has no node in it.

    """
    path = directory / CLUSTER_DIR / CLUSTER_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NotFound(f"{path}: no cluster description; start the cluster with `estatechain up DIR --cluster`") \
            from None
    if org not in data["credentials"]:
        raise InputError(f"--org {org}: not a member with NATS credentials; known: {', '.join(data['credentials'])}")
    Credentials.load(Path(data["credentials"][org]))  # fail early on a broken file
    folder = cluster_node_dir(directory, org)
    if create and not (folder / LEDGER_FILE).exists():
        genesis = Genesis.from_bytes((directory / "genesis.json").read_bytes())
        LedgerStore.create(folder, genesis).close()
    peers = {str(other): f"http://127.0.0.1:{int(at)}" for other, at in data.get("nodes", {}).items() if other != org}
    return {"ledger_dir": folder, "port": port, "org_id": org, "nats_servers": tuple(data["servers"]),
            "nats_credentials": Path(data["credentials"][org]), "nats_monitoring": tuple(data["monitoring"]),
            "peers": peers}  # where the registry's node fetches a material uploaded at a bank's node
