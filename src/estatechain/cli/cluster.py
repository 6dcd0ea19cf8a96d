"""``estatechain up --cluster`` and ``estatechain node``: a development consortium with one node per org.

``up --cluster DIR`` starts, on loopback, three NATS servers (JetStream, fsync on every write, R3
streams that deny delete and purge) and one node process per org (registry, two banks, court,
identity authority; the regulator and the developer submit through any node in development). Each
node has its own ledger folder ``DIR/cluster/nodes/<org>``, its own NATS credentials and its own API
port, reads the one ordering stream and commits the same blocks. A fresh DIR gets a development
consortium whose synthetic register is published once onto the stream by the registry, so every
node's ledger holds it. Ctrl-C stops the nodes, then the servers.

``estatechain node DIR --org ORG`` runs one such node (``up --cluster`` uses it; on separate
machines an operator runs it with the org's own NATS URLs and credentials, docs/operations.md).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

import httpx
import nats
from rich.console import Console

from estatechain.clock import SystemClock
from estatechain.errors import Conflict, InputError, NotFound, Unavailable
from estatechain.identity.devca import DevConsortium, create_dev_consortium
from estatechain.identity.genesis import Genesis
from estatechain.ledger.envelope import parse_envelope
from estatechain.ordering import subjects
from estatechain.ordering.jetstream import JetStreamOrdering, NatsAccess
from estatechain.ordering.natsconfig import Credentials
from estatechain.ordering.streams import ensure_streams
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.testing.builders import TxFactory
from estatechain.testing.natscluster import NatsCluster
from estatechain.testing.register import (
    SEALED_DIR,
    RegisterImporter,
    binding_envelopes,
    choose_dev_owners,
    create_register_keys,
    write_dev_owners,
)
from estatechain.testing.synthetic import generate

NODE_ORGS: Final = ("gz-registry", "icbc-gz", "ccb-gz", "gz-court", "gz-identity")
CLUSTER_DIR: Final = "cluster"
CLUSTER_FILE: Final = "cluster.json"
BOOTSTRAP_FILE: Final = "bootstrap.txs"
BOOTSTRAP_DONE: Final = "bootstrap.done"
READY_TIMEOUT_S: Final = 60.0

console = Console()
err = Console(stderr=True)


def cluster_node_dir(directory: Path, org: str) -> Path:
    """Where org ``org``'s cluster node keeps its ledger."""
    return directory / CLUSTER_DIR / "nodes" / org


def _prepare_consortium(directory: Path, units: int, seed: int) -> DevConsortium:
    """A new dev consortium and the registry's register-import and binding txs, written for publishing."""
    clock = SystemClock()
    consortium = create_dev_consortium(directory, now_ms=clock.now_ms())
    keys = create_register_keys(directory, consortium.genesis)
    factory = TxFactory(consortium, clock)
    importer = RegisterImporter(factory, keys, cluster_node_dir(directory, "gz-registry") / SEALED_DIR)
    envelopes = [tx.envelope for tx in importer.transactions(generate(seed, units))]
    persons = dict(zip((i.handle for i in consortium.by_role("person")),
                       choose_dev_owners(importer.owners, len(consortium.by_role("person"))), strict=False))
    envelopes += binding_envelopes(factory, persons, importer.bank_parties)
    write_dev_owners(directory, persons)
    path = directory / CLUSTER_DIR / BOOTSTRAP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(base64.b64encode(e).decode("ascii") + "\n" for e in envelopes), encoding="ascii")
    console.print(f"[bold]Created[/bold] development consortium {consortium.genesis.consortium}: "
                  f"{importer.counts.units:,} units in {len(envelopes)} registry txs to publish")
    return consortium


async def _publish_bootstrap(directory: Path, cluster: NatsCluster, genesis: Genesis) -> str | None:
    """Publish the register once (as the registry); the last tx id, or None when already done."""
    base = directory / CLUSTER_DIR
    if (base / BOOTSTRAP_DONE).exists() or not (base / BOOTSTRAP_FILE).exists():
        return None
    envelopes = [base64.b64decode(line) for line in (base / BOOTSTRAP_FILE).read_text("ascii").split()]
    creds = cluster.credentials("gz-registry")
    access = NatsAccess(servers=tuple(cluster.client_urls), user=creds.user, password=creds.password,
                        org_id="gz-registry")
    transport = await JetStreamOrdering.connect(access, chain_id=genesis.chain_id, publish_timeout_s=10.0)
    suite_max = genesis.policies.max_tx_bytes
    from estatechain.crypto.suites import get_suite  # noqa: PLC0415  (only here)

    suite = get_suite(genesis.suite)
    last = ""
    try:
        for envelope in envelopes:  # one at a time: imports must keep their order on the stream
            last = parse_envelope(envelope, suite=suite, max_bytes=suite_max).tx_id
            await transport.publish_tx(last, envelope)
    finally:
        await transport.close()
    (base / BOOTSTRAP_DONE).write_text(last + "\n", encoding="ascii")
    return last


async def _create_streams(cluster: NatsCluster, tag: str) -> None:
    operator = cluster.credentials("operator")
    nc = await nats.connect(servers=cluster.client_urls, connect_timeout=5, **operator.connect_options())
    try:
        await ensure_streams(nc, tag)
    finally:
        await nc.close()


def _wait_ready(ports: dict[str, int], procs: dict[str, subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    pending = dict(ports)
    with httpx.Client(timeout=2.0) as http:
        while pending:
            for org, port in list(pending.items()):
                if procs[org].poll() is not None:
                    raise Unavailable(f"the {org} node exited with code {procs[org].returncode}; see its log "
                                      f"{cluster_node_dir(Path(), org)}/node.log")
                with contextlib.suppress(httpx.HTTPError):
                    if http.get(f"http://127.0.0.1:{port}/v1/ready").is_success:
                        del pending[org]
            if time.monotonic() > deadline:
                raise Unavailable(f"nodes not ready after {READY_TIMEOUT_S:.0f} s: {', '.join(pending)}")
            time.sleep(0.2)


def _wait_height(port: int, tx_id: str, directory: Path) -> None:
    """Wait until the registry node has committed the last bootstrap tx (read from its ledger file)."""
    deadline = time.monotonic() + 600
    path = cluster_node_dir(directory, "gz-registry")
    while time.monotonic() < deadline:
        store = LedgerStore.open(path, readonly=True)
        try:
            if store.tx_known(tx_id):
                return
        finally:
            store.close()
        time.sleep(0.5)
    raise Unavailable(f"the register did not commit on the registry node (port {port}) within 10 minutes")


def up_cluster(directory: Path, *, port: int, units: int, seed: int) -> None:
    """Run the whole development cluster in the foreground until Ctrl-C or SIGTERM."""
    if (directory / "genesis.json").exists() and not (directory / CLUSTER_DIR).exists():
        raise Conflict(f"{directory} holds a single-node consortium; run the cluster in a new directory "
                       "(e.g. estatechain up ./devnet-cluster --cluster)")
    if not (directory / "genesis.json").exists():
        _prepare_consortium(directory, units, seed)
    genesis = Genesis.from_bytes((directory / "genesis.json").read_bytes())
    tag = subjects.chain_tag(genesis.chain_id)
    cluster = NatsCluster(directory / CLUSTER_DIR / "nats", tag=tag, org_ids=[o.id for o in genesis.orgs])
    procs: dict[str, subprocess.Popen[bytes]] = {}
    stop = {"now": False}

    def request_stop(*_: object) -> None:
        stop["now"] = True

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        ports = _start(directory, cluster, genesis, procs, port)
        _announce(directory, ports, genesis.chain_id, cluster)
        while not stop["now"]:
            for org, proc in procs.items():
                if proc.poll() is not None:
                    err.print(f"[red]the {org} node exited[/red] (code {proc.returncode}); stopping the cluster")
                    stop["now"] = True
            time.sleep(0.3)
    finally:
        _stop_nodes(procs)
        cluster.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print("[bold]Stopped[/bold]: nodes and NATS servers stopped, ledgers closed.")


def _start(
    directory: Path, cluster: NatsCluster, genesis: Genesis, procs: dict[str, subprocess.Popen[bytes]], port: int
) -> dict[str, int]:
    """Servers, streams, node processes (into ``procs``), and the register on a fresh stream."""
    cluster.start()
    cluster.wait_ready()
    asyncio.run(_create_streams(cluster, subjects.chain_tag(genesis.chain_id)))
    ports = {org: port + i for i, org in enumerate(NODE_ORGS)}
    _write_cluster_file(directory, cluster, ports)
    for org, node_port in ports.items():
        procs[org] = _spawn_node(directory, org, node_port)
    _wait_ready(ports, procs)
    last = asyncio.run(_publish_bootstrap(directory, cluster, genesis))
    if last is not None:
        console.print("  publishing the synthetic register through the stream …")
        _wait_height(ports["gz-registry"], last, directory)
    return ports


def _stop_nodes(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM every node (each finishes its block and closes its ledger), then SIGKILL stragglers."""
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        if proc.poll() is None:
            proc.kill()


def _write_cluster_file(directory: Path, cluster: NatsCluster, ports: dict[str, int]) -> None:
    data = {
        "servers": cluster.client_urls,
        "monitoring": cluster.monitoring_urls,
        "credentials": {org: str(path) for org, path in cluster.files.credentials.items() if org != "operator"},
        "nodes": ports,
    }
    path = directory / CLUSTER_DIR / CLUSTER_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)


def _spawn_node(directory: Path, org: str, port: int) -> subprocess.Popen[bytes]:
    folder = cluster_node_dir(directory, org)
    folder.mkdir(parents=True, exist_ok=True)
    log = (folder / "node.log").open("ab")
    command = [sys.executable, "-m", "estatechain.cli.main", "node", str(directory), "--org", org, "--port", str(port)]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603


def _announce(directory: Path, ports: dict[str, int], chain_id: str, cluster: NatsCluster) -> None:
    lines = [f"estatechain cluster is up: chain id {chain_id}",
             f"  NATS       {', '.join(cluster.client_urls)} (JetStream R3, sync always)"]
    lines += [f"  {org:<12} http://127.0.0.1:{p}/docs   ledger {cluster_node_dir(directory, org) / LEDGER_FILE}"
              for org, p in ports.items()]
    lines.append("  Stop with Ctrl-C.")
    print("\n".join(lines), flush=True)  # noqa: T201  (plain lines a newcomer or a script can grep)


def cluster_settings(directory: Path, org: str, port: int) -> dict[str, object]:
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
    if not (folder / LEDGER_FILE).exists():
        genesis = Genesis.from_bytes((directory / "genesis.json").read_bytes())
        LedgerStore.create(folder, genesis).close()
    return {"ledger_dir": folder, "port": port, "org_id": org, "nats_servers": tuple(data["servers"]),
            "nats_credentials": Path(data["credentials"][org]), "nats_monitoring": tuple(data["monitoring"])}
