"""A development cluster of real node processes over a loopback NATS cluster.

One implementation serves ``estatechain up --cluster``, the process-level cluster tests and the
cluster benchmark, so what the tests show is what a newcomer runs. ``DevCluster`` starts the NATS
servers (``NatsCluster``), creates the streams, writes ``DIR/cluster/cluster.json``, starts one
``estatechain node`` process per org, publishes the synthetic register once through the stream and
waits for it to commit. Fault tests use ``kill_node``/``restart_node`` (kill -9 and start again on
the same port and ledger) next to ``nats`` (the servers' own kill/pause/restart).

Every wait is bounded and names what it waited for and where the logs are. Node processes die with
the process that started them (Linux ``PR_SET_PDEATHSIG``) and are stopped at interpreter exit, so a
crashed or killed test run leaves no node behind holding ports or ledger locks.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import httpx
import nats
import nats.errors

from estatechain.clock import SystemClock
from estatechain.crypto.suites import get_suite
from estatechain.errors import Conflict, Unavailable
from estatechain.identity.devca import DevConsortium, create_dev_consortium
from estatechain.identity.genesis import Genesis
from estatechain.ledger.block import BlockHeader
from estatechain.ledger.envelope import parse_envelope
from estatechain.ordering import subjects
from estatechain.ordering.jetstream import JetStreamOrdering, NatsAccess
from estatechain.ordering.natsconfig import free_ports
from estatechain.ordering.streams import ensure_streams
from estatechain.sdk import Client, ClientIdentity
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.testing.builders import TxFactory
from estatechain.testing.natscluster import NatsCluster
from estatechain.testing.register import (
    DEV_OWNERS,
    SEALED_DIR,
    RegisterImporter,
    binding_envelopes,
    choose_dev_owners,
    create_register_keys,
    write_dev_owners,
)
from estatechain.testing.synthetic import generate

NODE_ORGS: Final = ("gz-registry", "icbc-gz", "ccb-gz", "gz-court", "gz-identity")
"""The orgs that run a node in ``up --cluster`` (the regulator and developer submit through any node)."""
CLUSTER_DIR: Final = "cluster"
CLUSTER_FILE: Final = "cluster.json"
BOOTSTRAP_FILE: Final = "bootstrap.txs"
BOOTSTRAP_DONE: Final = "bootstrap.done"
NODE_LOG: Final = "node.log"

_POLL_S: Final = 0.1
_PR_SET_PDEATHSIG: Final = 1


def cluster_node_dir(directory: Path, org: str) -> Path:
    """Where org ``org``'s cluster node keeps its ledger."""
    return directory / CLUSTER_DIR / "nodes" / org


def prepare_consortium(directory: Path, *, units: int, seed: int) -> tuple[DevConsortium, int]:
    """A new dev consortium in ``directory`` and the registry's import and binding txs, written for publishing.

    The txs go to ``DIR/cluster/bootstrap.txs`` (one base64 envelope a line): they are signed now
    and published once, by ``DevCluster.start``, so every node's ledger holds the register because
    it read it from the stream. Returns the consortium and the number of txs to publish.
    """
    clock = SystemClock()
    consortium = create_dev_consortium(directory, now_ms=clock.now_ms())
    keys = create_register_keys(directory, consortium.genesis)
    factory = TxFactory(consortium, clock)
    importer = RegisterImporter(factory, keys, cluster_node_dir(directory, "gz-registry") / SEALED_DIR)
    envelopes = [tx.envelope for tx in importer.transactions(generate(seed, units))]
    handles = [i.handle for i in consortium.by_role("person")]
    persons = dict(zip(handles, choose_dev_owners(importer.owners, len(handles)), strict=False))
    envelopes += binding_envelopes(factory, persons, importer.bank_parties)
    write_dev_owners(directory, persons)
    path = directory / CLUSTER_DIR / BOOTSTRAP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(base64.b64encode(e).decode("ascii") + "\n" for e in envelopes), encoding="ascii")
    return consortium, len(envelopes)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerHead:
    """What one node's ledger file says now: its head and the stream position it consumed to."""

    org: str
    height: int
    block_hash: str
    state_root: str
    stream_position: int

    @property
    def claim(self) -> tuple[int, str, str]:
        """(height, block hash, state root): equal on two nodes iff they hold the same chain head."""
        return self.height, self.block_hash, self.state_root


def read_head(ledger_dir: Path, org: str = "") -> LedgerHead:
    """The head of the ledger in ``ledger_dir``, read through a read-only connection (the node keeps writing)."""
    store = LedgerStore.open(ledger_dir, readonly=True)
    try:
        row = store.connection.execute("SELECT height, hash, header FROM blocks ORDER BY height DESC LIMIT 1")\
            .fetchone()
        if row is None:
            return LedgerHead(org=org, height=0, block_hash="", state_root="", stream_position=0)
        header = BlockHeader.from_bytes(bytes(row[2]), where=f"{ledger_dir} height={row[0]}")
        return LedgerHead(org=org, height=int(row[0]), block_hash=str(row[1]), state_root=header.state_root,
                          stream_position=store.stream_position)
    finally:
        store.close()


class DevCluster:
    """NATS servers and one ``estatechain node`` process per org for the consortium in ``directory``.

    ``directory`` must hold a consortium made by ``prepare_consortium`` (or be a cluster directory
    that ran before: the bootstrap is then already on the stream and is not published again).
    ``ports`` fixes each org's API port (``up --cluster`` uses PORT..PORT+4); by default free
    loopback ports are picked. ``command_prefix`` runs each node under another command (the
    benchmark uses ``taskset``). Use as a context manager, or call ``start`` and ``close``.
    """

    def __init__(  # noqa: PLR0913  (keywords only; each has a default that suits the tests)
        self,
        directory: Path,
        *,
        orgs: Sequence[str] = NODE_ORGS,
        ports: Mapping[str, int] | None = None,
        command_prefix: Sequence[str] = (),
        ready_timeout_s: float = 60.0,
        bootstrap_timeout_s: float = 120.0,
        stop_timeout_s: float = 10.0,
    ) -> None:
        if (directory / "genesis.json").exists() and not (directory / CLUSTER_DIR).exists():
            raise Conflict(f"{directory} holds a single-node consortium; run the cluster in a new directory "
                           "(e.g. estatechain up ./devnet-cluster --cluster)")
        self.directory = directory
        self.genesis = Genesis.from_bytes((directory / "genesis.json").read_bytes())
        self.chain_id = self.genesis.chain_id
        self.tag = subjects.chain_tag(self.chain_id)
        self.orgs = tuple(orgs)
        chosen = dict(ports) if ports is not None else dict(zip(self.orgs, free_ports(len(self.orgs)), strict=True))
        self.ports: dict[str, int] = {org: chosen[org] for org in self.orgs}
        self.nats = NatsCluster(directory / CLUSTER_DIR / "nats", tag=self.tag,
                                org_ids=[o.id for o in self.genesis.orgs])
        self._prefix = tuple(command_prefix)
        self._ready_timeout = ready_timeout_s
        self._bootstrap_timeout = bootstrap_timeout_s
        self._stop_timeout = stop_timeout_s
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._linux = sys.platform == "linux"

    # -- lifecycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def start(self, *, on_bootstrap: Callable[[int], None] | None = None) -> None:
        """Servers, streams, cluster.json, every node, and the register on a fresh stream (committed everywhere).

        ``on_bootstrap(count)`` is called before publishing ``count`` bootstrap txs (the CLI prints it).

        Raises:
            Unavailable: a server or node did not come up, or the register did not commit in time.

        """
        atexit.register(self.close)
        self.nats.start()
        asyncio.run(self._create_streams())
        self._write_cluster_file()
        for org in self.orgs:
            self._spawn(org)
        self.wait_ready()
        envelopes = self._pending_bootstrap()
        if envelopes:
            if on_bootstrap is not None:
                on_bootstrap(len(envelopes))
            last = asyncio.run(self._publish(envelopes))
            self.wait_tx(last, timeout_s=self._bootstrap_timeout)
            (self.directory / CLUSTER_DIR / BOOTSTRAP_DONE).write_text(last + "\n", encoding="ascii")

    def close(self) -> None:
        """SIGTERM every node (each closes its ledger), SIGKILL stragglers, stop the servers; safe twice."""
        for proc in self._procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self._stop_timeout
        for proc in self._procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=self._stop_timeout)
        self._procs.clear()
        self.nats.close()
        atexit.unregister(self.close)

    # -- nodes -------------------------------------------------------------------------------------------

    def url(self, org: str) -> str:
        """The base URL of ``org``'s node API."""
        return f"http://127.0.0.1:{self.ports[org]}"

    def ledger_dir(self, org: str) -> Path:
        """The folder of ``org``'s node ledger."""
        return cluster_node_dir(self.directory, org)

    def log_path(self, org: str) -> Path:
        """The log file of ``org``'s node process."""
        return self.ledger_dir(org) / NODE_LOG

    def running(self, org: str) -> bool:
        """True while ``org``'s node process lives."""
        proc = self._procs.get(org)
        return proc is not None and proc.poll() is None

    def exited(self) -> dict[str, int]:
        """Nodes whose process has ended, with their exit codes."""
        return {org: code for org, proc in self._procs.items() if (code := proc.poll()) is not None}

    def join_node(self, org: str, *, peer: str) -> None:
        """Start a node for ``org`` (not running before) from ``peer``'s snapshot; wait until it is ready."""
        if org in self.ports:
            raise Conflict(f"{org} already has a node in this cluster")
        self.ports[org] = free_ports(1)[0]
        self.orgs = (*self.orgs, org)
        self._spawn(org, ("--join-from", self.url(peer)))
        self.wait_ready([org])

    def _spawn(self, org: str, extra: Sequence[str] = ()) -> None:
        if self.running(org):
            raise Conflict(f"the {org} node is already running (pid {self._procs[org].pid})")
        folder = self.ledger_dir(org)
        folder.mkdir(parents=True, exist_ok=True)
        command = [*self._prefix, sys.executable, "-m", "estatechain.cli.main", "node", str(self.directory),
                   "--org", org, "--port", str(self.ports[org]), *extra]
        with (folder / NODE_LOG).open("ab") as log:
            self._procs[org] = subprocess.Popen(  # noqa: S603  (our interpreter, our arguments)
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=_die_with_parent if self._die_with_parent() else None,  # noqa: PLW1509  (prctl only)
            )

    def _die_with_parent(self) -> bool:
        """Whether a node spawned now may use ``PR_SET_PDEATHSIG``.

        Linux sends that signal when the *thread* that forked exits, not the process: a node restarted
        from a worker thread (``asyncio.to_thread``) would be killed as soon as the pool retires that
        thread. Such nodes rely on ``close`` at interpreter exit instead.
        """
        return self._linux and threading.current_thread() is threading.main_thread()

    def kill_node(self, org: str) -> None:
        """Send SIGKILL to ``org``'s node (kill -9): no block finished, no ledger closed, no goodbye to NATS."""
        proc = self._procs.get(org)
        if proc is None or proc.poll() is not None:
            raise Unavailable(f"the {org} node is not running; see {self.log_path(org)}")
        proc.kill()
        proc.wait(timeout=self._stop_timeout)

    def restart_node(self, org: str) -> None:
        """Start ``org``'s node again (killing it first if it runs) on the same port and ledger; wait until ready."""
        if self.running(org):
            self.kill_node(org)
        self._spawn(org)
        self.wait_ready([org])

    def wait_ready(self, orgs: Iterable[str] | None = None, timeout_s: float | None = None) -> None:
        """Wait until each node (or those in ``orgs``) answers ``/v1/ready`` with 200.

        Raises:
            Unavailable: a node exited (naming its log) or was not ready in time.

        """
        pending = {org: self.ports[org] for org in (self.orgs if orgs is None else orgs)}
        limit = self._ready_timeout if timeout_s is None else timeout_s
        deadline = time.monotonic() + limit
        with httpx.Client(timeout=2.0) as http:
            while pending:
                for org, port in list(pending.items()):
                    proc = self._procs.get(org)
                    if proc is None or proc.poll() is not None:
                        code = None if proc is None else proc.returncode
                        raise Unavailable(f"the {org} node exited (code {code}); see {self.log_path(org)}")
                    with contextlib.suppress(httpx.HTTPError):
                        if http.get(f"http://127.0.0.1:{port}/v1/ready").is_success:
                            del pending[org]
                if pending and time.monotonic() > deadline:
                    logs = ", ".join(str(self.log_path(o)) for o in pending)
                    raise Unavailable(f"nodes not ready after {limit:.0f} s: {', '.join(pending)}; logs: {logs}")
                if pending:
                    time.sleep(_POLL_S)

    # -- ledgers -----------------------------------------------------------------------------------------

    def head(self, org: str) -> LedgerHead:
        """``org``'s ledger head as its file says now."""
        return read_head(self.ledger_dir(org), org)

    def heads(self, orgs: Iterable[str] | None = None) -> dict[str, LedgerHead]:
        """The ledger head of every node (or of ``orgs``)."""
        return {org: self.head(org) for org in (self.orgs if orgs is None else orgs)}

    def wait_tx(self, tx_id: str, *, orgs: Iterable[str] | None = None, timeout_s: float = 60.0) -> None:
        """Wait until every node (or those in ``orgs``) has committed ``tx_id``.

        Raises:
            Unavailable: some node has not committed it in time.

        """
        pending = list(self.orgs if orgs is None else orgs)
        deadline = time.monotonic() + timeout_s
        while pending:
            pending = [org for org in pending if not self._knows(org, tx_id)]
            if pending and time.monotonic() > deadline:
                raise Unavailable(f"tx {tx_id[:16]}… not committed after {timeout_s:.0f} s on {', '.join(pending)}; "
                                  f"logs in {self.ledger_dir(pending[0]).parent}")
            if pending:
                time.sleep(_POLL_S)

    def _knows(self, org: str, tx_id: str) -> bool:
        if not (self.ledger_dir(org) / LEDGER_FILE).exists():
            return False
        store = LedgerStore.open(self.ledger_dir(org), readonly=True)
        try:
            return store.tx_known(tx_id)
        finally:
            store.close()

    def wait_converged(self, orgs: Iterable[str] | None = None, *, timeout_s: float = 60.0,
                       settle_s: float = 1.0) -> LedgerHead:
        """Wait until every node (or ``orgs``) holds the same head and it stayed unchanged for ``settle_s``.

        Returns the common head. A node that stopped on a fault never converges, so it fails here.

        Raises:
            AssertionError: the heads still differ after ``timeout_s`` (each node's head named).

        """
        wanted = list(self.orgs if orgs is None else orgs)
        deadline = time.monotonic() + timeout_s
        agreed: tuple[int, str, str] | None = None
        since = time.monotonic()
        while True:
            dead = [org for org in wanted if not self.running(org)]
            if dead:
                raise AssertionError(f"nodes not running, so they cannot converge: {', '.join(dead)}; "
                                     f"see {', '.join(str(self.log_path(o)) for o in dead)}")
            heads = self.heads(wanted)
            claims = {h.claim for h in heads.values()}
            now = time.monotonic()
            if len(claims) == 1:
                (claim,) = claims
                if claim != agreed:
                    agreed, since = claim, now
                elif now - since >= settle_s:
                    return heads[wanted[0]]
            else:
                agreed = None
            if now > deadline:
                seen = "; ".join(f"{o} h={h.height} {h.block_hash[:12]} state {h.state_root[:12]}"
                                 for o, h in heads.items())
                raise AssertionError(f"nodes did not converge within {timeout_s:.0f} s: {seen}")
            time.sleep(_POLL_S)

    # -- callers -----------------------------------------------------------------------------------------

    def identity(self, handle: str) -> ClientIdentity:
        """The dev identity ``org/user`` with its key."""
        return ClientIdentity.from_dev(self.directory, handle)

    def client(self, org: str, handle: str, *, timeout_s: float = 10.0) -> Client:
        """An SDK client of ``org``'s node acting as ``handle``."""
        return Client(self.url(org), self.identity(handle), chain_id=self.chain_id, node_org=org, timeout_s=timeout_s)

    def dev_owners(self) -> dict[str, dict[str, object]]:
        """``orgs/gz-identity/dev-owners.json``: dev person handle → the owner (unit, party, title) it acts for."""
        path = self.directory / "orgs" / "gz-identity" / DEV_OWNERS
        data: dict[str, dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
        return data

    # -- start-up parts ----------------------------------------------------------------------------------

    async def _create_streams(self) -> None:
        """Create both streams as the operator (``ensure_streams`` waits out a fresh cluster's election)."""
        operator = self.nats.credentials("operator")
        nc = await nats.connect(servers=self.nats.client_urls, connect_timeout=5, **operator.connect_options())
        try:
            await ensure_streams(nc, self.tag)
        except Unavailable as exc:
            raise Unavailable(f"{exc}; see {self.nats.log_path(0)}") from exc
        finally:
            await nc.close()

    def _write_cluster_file(self) -> None:
        """``DIR/cluster/cluster.json`` (0600): servers, credentials and API ports, read by ``estatechain node``."""
        data = {
            "servers": self.nats.client_urls,
            "monitoring": self.nats.monitoring_urls,
            "credentials": {org: str(path) for org, path in self.nats.files.credentials.items() if org != "operator"},
            "nodes": self.ports,
        }
        path = self.directory / CLUSTER_DIR / CLUSTER_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)

    def _pending_bootstrap(self) -> list[bytes]:
        base = self.directory / CLUSTER_DIR
        if (base / BOOTSTRAP_DONE).exists() or not (base / BOOTSTRAP_FILE).exists():
            return []
        return [base64.b64decode(line) for line in (base / BOOTSTRAP_FILE).read_text("ascii").split()]

    async def _publish(self, envelopes: Sequence[bytes]) -> str:
        """Publish the register as the registry, one at a time (imports keep their order); the last tx id."""
        creds = self.nats.credentials("gz-registry")
        access = NatsAccess(servers=tuple(self.nats.client_urls), user=creds.user, password=creds.password,
                            org_id="gz-registry")
        transport = await JetStreamOrdering.connect(access, chain_id=self.chain_id, publish_timeout_s=10.0)
        suite = get_suite(self.genesis.suite)
        last = ""
        try:
            for envelope in envelopes:
                last = parse_envelope(envelope, suite=suite, max_bytes=self.genesis.policies.max_tx_bytes).tx_id
                await transport.publish_tx(last, envelope)
        finally:
            await transport.close()
        return last
