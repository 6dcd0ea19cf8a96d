"""Authenticated inquiries per second, with their recording, on a large register, next to a signed no-op.

Run: estatechain bench inquiry [--units 500000] [--seconds 20] [--inquiry-concurrency 128]
     estatechain bench inquiry --units 1000000          (issue 6's scale; see docs/benchmarks.md)
     ... --profile /tmp/inquiry.raw     (py-spy on the node during the inquiry phase; py-spy must be installed)

1. Ledger: ``estatechain init CACHE/register-<units>-format<F> --units N`` once (cached; its wall time is kept in
   ``init-seconds`` beside it and reported).
2. Node: ``taskset -c 0 estatechain up CACHE/register-<units>-format<F> --port P`` (loopback), the process the
   README starts; its ledger as ``init`` left it, plus the inquiries of earlier runs.
3. Load generator: this process, pinned to core 1 (``sched_setaffinity``), asyncio + the SDK's signing
   (RFC 9421 on every request, the inquiry envelope signed here with the requester's own key).
4. Bound, same run: signed ``GET /v1/ping`` (authenticates and does nothing else) at ``--ping-concurrency``.
5. Inquiries: bank operators (icbc-gz, ccb-gz) ask ``intent``/``PRE_LOAN`` inquiries of random units of the
   register (LIMITED answers), each ``POST /v1/inquiries?wait=10`` — signed, admitted, ordered, executed,
   recorded in the ledger's inquiry log — then ``GET /v1/inquiries/{id}/answer``, the registry-signed answer
   built from the register as of the inquiry's height. One inquiry = both calls; its latency is the sum.
Reported: rates, p50/p95/p99 of both, the commit and answer parts, CPU seconds of node and generator per
phase (a generator at 100 % of its core would mean the figure is the generator's), and the ratio to the
no-op rate (goal: >= 40 %, p99 < 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from estatechain.sdk import Client, ClientIdentity
from estatechain.storage.schema import SCHEMA_VERSION

CLI = [sys.executable, "-m", "estatechain"]
"""The CLI of this very installation (a node is started as its own process, as an operator would)."""
BANKS = ("icbc-gz/operator1", "ccb-gz/operator1")
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Phase:
    name: str
    count: int
    seconds: float
    latencies_ms: list[float]
    parts_ms: dict[str, list[float]]
    node_cpu_s: float
    generator_cpu_s: float
    errors: int

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def line(self) -> str:
        p = percentiles(self.latencies_ms)
        parts = "; ".join(f"{k} p50/p99 {percentiles(v)[0]:.1f}/{percentiles(v)[2]:.1f} ms"
                          for k, v in self.parts_ms.items())
        return (f"{self.name}: {self.count} in {self.seconds:.1f} s = {self.rate:,.1f}/s; latency p50 {p[0]:.1f} / "
                f"p95 {p[1]:.1f} / p99 {p[2]:.1f} ms; node CPU {self.node_cpu_s:.1f} s "
                f"({100 * self.node_cpu_s / self.seconds:.0f} % of core 0), generator CPU {self.generator_cpu_s:.1f} s "
                f"({100 * self.generator_cpu_s / self.seconds:.0f} % of core 1); errors {self.errors}"
                + (f"\n    {parts}" if parts else ""))


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0],) * 3 if values else (0.0, 0.0, 0.0)
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[94], q[98]


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def cached_register(cache: Path, units: int) -> Path:
    """The cached register's folder for ``units`` units, named with the ledger format it is written in.

    A build of one format opening another's cache would upgrade it in place (an older build then
    refuses it) or refuse it: each format keeps its own.
    """
    return cache / f"register-{units}-format{SCHEMA_VERSION}"


def build_ledger(directory: Path, units: int) -> float:
    """``estatechain init`` once; the wall time it took (kept beside the folder)."""
    marker = directory.parent / f"{directory.name}.init-seconds"
    if (directory / "genesis.json").exists() and marker.exists():
        return float(marker.read_text())
    if directory.exists():
        raise SystemExit(f"{directory} exists but its init did not finish; remove it and run again")
    print(f"building {units:,} units with estatechain init (cached in {directory}) …", flush=True)
    start = time.perf_counter()
    subprocess.run([*CLI, "init", str(directory), "--units", str(units)], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    marker.write_text(f"{seconds:.1f}\n")
    return seconds


def sample_units(directory: Path, count: int) -> list[str]:
    """Random unit numbers of the register, read from the ledger file before the node opens it."""
    conn = sqlite3.connect(f"file:{directory / 'nodes' / 'gz-registry' / 'ledger.sqlite'}?mode=ro", uri=True)
    try:
        total = conn.execute("SELECT count(*) FROM state_rows WHERE key > 'unit/' AND key < 'unit0'").fetchone()[0]
        step = max(total // count, 1)
        rows = conn.execute("SELECT key FROM state_rows WHERE key > 'unit/' AND key < 'unit0' AND "
                            "abs(random()) % ? = 0 LIMIT ?", (step, count)).fetchall()
    finally:
        conn.close()
    return [str(r[0]).removeprefix("unit/") for r in rows]


def seq_index(directory: Path, *, create: bool) -> None:
    """Add (or drop) the experimental index the events' ``WHERE seq = ?`` query would use."""
    conn = sqlite3.connect(directory / "nodes" / "gz-registry" / "ledger.sqlite")
    try:
        if create:
            start = time.perf_counter()
            conn.execute("CREATE INDEX IF NOT EXISTS bench_state_rows_seq ON state_rows(seq)")
            print(f"experiment: index on state_rows(seq) ready in {time.perf_counter() - start:.0f} s", flush=True)
        else:
            conn.execute("DROP INDEX IF EXISTS bench_state_rows_seq")
        conn.commit()
    finally:
        conn.close()


def start_node(directory: Path, log: Path, core: int) -> tuple[subprocess.Popen[bytes], str]:
    with log.open("w") as out:
        process = subprocess.Popen(["taskset", "-c", str(core), *CLI, "up", str(directory), "--port", "0"],
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        found = re.search(r"(http://127\.0\.0\.1:\d+)/v1/health", log.read_text())
        if found:
            return process, found.group(1)
        if process.poll() is not None:
            raise SystemExit(f"the node exited: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the node did not start within 300 s")


def node_pid(process: subprocess.Popen[bytes]) -> int:
    """The node's python process (taskset execs it, so it is the same pid)."""
    return process.pid


def start_profiler(py_spy: Path, pid: int, seconds: float, path: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling the node (all threads, without pausing it) for ``seconds``, as collapsed stacks."""
    return subprocess.Popen([str(py_spy), "record", "--pid", str(pid), "--rate", "200",
                             "--duration", str(int(seconds)), "--format", "raw", "--output", str(path),
                             "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def transport(limit: int) -> httpx.AsyncHTTPTransport:
    return httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit))


async def run_phase(name: str, pid: int, seconds: float, concurrency: int,
                    one: Callable[[int], Awaitable[dict[str, float]]]) -> Phase:
    """``concurrency`` workers calling ``one`` until ``seconds`` have passed; completed calls are counted."""
    latencies: list[float] = []
    parts: dict[str, list[float]] = collections.defaultdict(list)
    errors = 0
    stop = time.perf_counter() + seconds
    counter = iter(range(10**12))

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            start = time.perf_counter()
            try:
                split = await one(next(counter))
            except Exception as exc:  # noqa: BLE001  (counted and shown; the run goes on)
                errors += 1
                if errors <= 3:
                    print(f"  {name} error: {exc!r}", flush=True)
                continue
            latencies.append((time.perf_counter() - start) * 1000)
            for key, value in split.items():
                parts[key].append(value)

    node0, gen0, t0 = proc_cpu_s(pid), own_cpu_s(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    return Phase(name=name, count=len(latencies), seconds=elapsed, latencies_ms=latencies, parts_ms=dict(parts),
                 node_cpu_s=proc_cpu_s(pid) - node0, generator_cpu_s=own_cpu_s() - gen0, errors=errors)


async def measure(args: argparse.Namespace, directory: Path, url: str, pid: int, units: list[str]) -> list[Phase]:
    async with Client(url, ClientIdentity.from_dev(directory, BANKS[0]), timeout_s=30.0) as probe:
        target = await probe.target()  # one health call, not one per client
    clients = [Client(url, ClientIdentity.from_dev(directory, h), chain_id=target.chain_id, node_org=target.node_org,
                      timeout_s=30.0, transport=transport(args.inquiry_concurrency + 8)) for h in BANKS]
    pinger = Client(url, ClientIdentity.from_dev(directory, BANKS[0]), chain_id=target.chain_id,
                    node_org=target.node_org, timeout_s=30.0, transport=transport(args.ping_concurrency + 8))

    async def ping(_: int) -> dict[str, float]:
        await pinger.send(pinger.build_request("GET", "/v1/ping", target=target))
        return {}

    async def inquiry(n: int) -> dict[str, float]:
        client = clients[n % len(clients)]
        unit = units[n % len(units)]
        signed = await client.sign("inquiry.request", {"unit_number": unit, "basis": "intent", "purpose": "PRE_LOAN"})
        start = time.perf_counter()
        status: dict[str, Any] = await client.send(client.build_request(
            "POST", "/v1/inquiries", params={"wait": "10"}, content=signed.envelope, target=target))
        committed = time.perf_counter()
        if status["status"] != "committed" or status["result"] != "valid":
            raise RuntimeError(f"inquiry {signed.tx_id} {status}")
        answer = await client.send(client.build_request("GET", f"/v1/inquiries/{signed.tx_id}/answer",
                                                        target=target))
        if answer["answer"]["inquiry_id"] != signed.tx_id:
            raise RuntimeError("answer of another inquiry")
        return {"commit": (committed - start) * 1000, "answer": (time.perf_counter() - committed) * 1000}

    phases = []
    try:
        await run_phase("warm-up", pid, 3, args.ping_concurrency, ping)
        await run_phase("warm-up", pid, 3, min(args.inquiry_concurrency, 32), inquiry)
        for _ in range(args.repeat):
            phases.append(await run_phase("signed GET /v1/ping (bound)", pid, args.seconds, args.ping_concurrency,
                                          ping))
            profiler = None
            if args.profile:
                profiler = start_profiler(args.py_spy, pid, args.seconds, args.profile)

            phases.append(await run_phase("inquiry: submit, commit, answer", pid, args.seconds,
                                          args.inquiry_concurrency, inquiry))
            if profiler is not None:
                profiler.wait(timeout=60)
    finally:
        for client in [*clients, pinger]:
            await client.aclose()
    return phases


def summarise_profile(path: Path, top: int = 25) -> None:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        count = int(n)
        frames = [re.sub(r" \(.*/site-packages/", " (", f) for f in stack.split(";")[1:]]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    print(f"profile: {total} samples of the node's threads")
    print("  self time:")
    for frame, count in own.most_common(top):
        print(f"    {100 * count / total:5.1f} %  {frame}")
    print("  inclusive:")
    for frame, count in inclusive.most_common(top):
        print(f"    {100 * count / total:5.1f} %  {frame}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="estatechain bench inquiry", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=500_000)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/estatechain-bench"))
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--ping-concurrency", type=int, default=32)
    parser.add_argument("--inquiry-concurrency", type=int, default=128)
    parser.add_argument("--sample", type=int, default=20_000, help="random units to inquire into")
    parser.add_argument("--profile", type=Path, help="py-spy raw profile of the node during the inquiry phase")
    parser.add_argument("--py-spy", type=Path, default=Path(sys.executable).with_name("py-spy"),
                        help="the py-spy binary")
    parser.add_argument("--seq-index", action="store_true",
                        help="experiment: add an index on state_rows(seq) to the cached ledger before the run (not "
                             "in the product: shows what the events' per-tx query costs without one)")
    args = parser.parse_args(argv)

    directory = cached_register(args.cache, args.units)
    directory.parent.mkdir(parents=True, exist_ok=True)
    init_s = build_ledger(directory, args.units)
    units = sample_units(directory, args.sample)
    seq_index(directory, create=args.seq_index)
    print(f"register: {args.units:,} units (init {init_s:,.0f} s = {args.units / init_s:,.0f} units/s); "
          f"{len(units):,} sampled units to inquire into", flush=True)
    os.sched_setaffinity(0, {1})
    process, url = start_node(directory, args.cache / f"node-{args.units}.log", core=0)
    try:
        print(f"node {url} (pid {process.pid}) on core 0; load generator (pid {os.getpid()}) on core 1; "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
        phases = asyncio.run(measure(args, directory, url, node_pid(process), units))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            print("the node did not stop within 60 s of SIGTERM (its event loop is blocked): killed", flush=True)
            process.kill()
            process.wait(timeout=30)
    for phase in phases:
        print(phase.line())
    pings = [p for p in phases if p.name.startswith("signed")]
    inquiries = [p for p in phases if p.name.startswith("inquiry")]
    bound = statistics.median(p.rate for p in pings)
    rate = statistics.median(p.rate for p in inquiries)
    p99 = max(percentiles(p.latencies_ms)[2] for p in inquiries)
    print(f"inquiries / no-op = {100 * rate / bound:.1f} % (goal >= 40 %); inquiry p99 {p99:.1f} ms (goal < 50 ms); "
          f"load average after {os.getloadavg()[0]:.2f}")
    if args.profile and args.profile.exists():
        summarise_profile(args.profile)


if __name__ == "__main__":
    main()
