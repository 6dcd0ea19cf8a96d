"""Committed tx/s and submit-to-final latency of a 4-node cluster, next to one node pinned to one core.

Run: estatechain bench cluster [--txs 3000] [--window 64] [--half-txs 1500]

Every node verifies every transaction, and the four cluster nodes (registry, two banks, court) share
this machine's cores with the three NATS servers and the load driver. The bound measured in the same
run is R1: the committed tx/s of one single-node ``estatechain up`` pinned to core 0 (``taskset -c
0``), fed by the same driver. The ideal for the cluster is R1 x cores / 4; the goal is at least
min(R1/4, 0.8 x raw stream rate), and p99 submit-to-final under 500 ms at half the cluster's peak.

The driver (this process) pre-signs ``note.put`` txs, each by the org admin of the node it goes to,
and pipelines signed HTTP submissions (at most ``--window`` in flight; ``wait=0``: answered once the
stream stored the tx). "Final" is consortium finality: it watches the attestation subjects on NATS
(as the operator) and a height is final when ``finality_quorum`` orgs attested the same block and
state hashes. For the single node, "final" is the commit (read from its ledger file). The raw stream
rate comes from ``bench/bench_nats_stream.py`` in the same run. Prints readable lines, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import httpx
import nats
import orjson
from nats.aio.msg import Msg

from estatechain.ordering import subjects
from estatechain.sdk import Client, ClientIdentity
from estatechain.testing.devcluster import DevCluster, prepare_consortium

ORGS = ("gz-registry", "icbc-gz", "ccb-gz", "gz-court")
UNITS, SEED = 50, 20260104
P99_GOAL_MS = 500


def pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000


async def presign(clients: list[Client], count: int, label: str) -> list[tuple[Client, bytes, str]]:
    txs = []
    for n in range(count):
        client = clients[n % len(clients)]
        signed = await client.sign("note.put", {"data": {"n": n}, "if_absent": False, "key": f"{label}/{n:07d}"})
        txs.append((client, signed.envelope, signed.tx_id))
    return txs


async def drive(txs: list[tuple[Client, bytes, str]], window: int, rate: float | None) -> dict[str, float]:
    """Submit every tx (paced at ``rate`` when given); tx id -> monotonic submit time."""
    sent: dict[str, float] = {}
    slots = asyncio.Semaphore(window)
    start = time.monotonic()

    async def one(client: Client, envelope: bytes, tx_id: str) -> None:
        try:
            for _ in range(50):
                try:
                    await client.submit(envelope)
                except Exception:  # noqa: BLE001  (a 503 under overload: resubmit the same envelope)
                    await asyncio.sleep(0.1)
                else:
                    return
            raise RuntimeError(f"tx {tx_id} never acknowledged")
        finally:
            slots.release()

    tasks = []
    for n, (client, envelope, tx_id) in enumerate(txs):
        if rate is not None:
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await slots.acquire()
        sent[tx_id] = time.monotonic()
        tasks.append(asyncio.create_task(one(client, envelope, tx_id)))
    await asyncio.gather(*tasks)
    return sent


def tx_heights(ledger: Path, tx_ids: set[str]) -> dict[str, int]:
    with sqlite3.connect(f"{(ledger / 'ledger.sqlite').resolve().as_uri()}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT tx_id, height FROM txs").fetchall()
    return {str(t): int(h) for t, h in rows if t in tx_ids}


class FinalityWatch:
    """Per height: when the quorum-th matching attestation arrived on NATS."""

    def __init__(self, quorum: int) -> None:
        self.quorum = quorum
        self.final_at: dict[int, float] = {}
        self._seen: dict[tuple[int, str, str], set[str]] = defaultdict(set)

    async def on_msg(self, msg: Msg) -> None:
        payload = orjson.loads(msg.data)["payload"]
        claim = (int(payload["height"]), str(payload["block_hash"]), str(payload["state_root"]))
        orgs = self._seen[claim]
        orgs.add(str(payload["org"]))
        if len(orgs) >= self.quorum and claim[0] not in self.final_at:
            self.final_at[claim[0]] = time.monotonic()


async def cluster_run(cluster: DevCluster, count: int, window: int, rate: float | None,
                      label: str) -> tuple[float, list[float]]:
    watch = FinalityWatch(cluster.genesis.policies.finality_quorum)
    nc = await nats.connect(servers=cluster.nats.client_urls, **cluster.nats.credentials("operator").connect_options())
    await nc.subscribe(subjects.att_subjects(cluster.tag), cb=watch.on_msg)
    clients = [cluster.client(org, f"{org}/org-admin", timeout_s=30) for org in ORGS]
    try:
        txs = await presign(clients, count, label)
        sent = await drive(txs, window, rate)
        heights = tx_heights(cluster.ledger_dir(ORGS[0]), set(sent))
        deadline = time.monotonic() + 120
        while (len(heights) < count or max(heights.values()) not in watch.final_at) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            heights = tx_heights(cluster.ledger_dir(ORGS[0]), set(sent))
        assert len(heights) == count, f"only {len(heights)} of {count} committed"
        latencies = [watch.final_at[heights[t]] - s for t, s in sent.items()]
        elapsed = max(watch.final_at[h] for h in heights.values()) - min(sent.values())
        return count / elapsed, latencies
    finally:
        for client in clients:
            await client.aclose()
        await nc.close()


async def single_run(url: str, directory: Path, count: int, window: int) -> tuple[float, list[float]]:
    clients = [Client(url, ClientIdentity.from_dev(directory, f"{org}/org-admin"), timeout_s=30) for org in ORGS]
    ledger = directory / "nodes" / "gz-registry"
    try:
        txs = await presign(clients, count, "single")
        committed_at: dict[int, float] = {}

        async def watch() -> None:
            last = 0
            while True:
                with sqlite3.connect(f"{(ledger / 'ledger.sqlite').resolve().as_uri()}?mode=ro", uri=True) as conn:
                    rows = conn.execute("SELECT height FROM blocks WHERE height > ?", (last,)).fetchall()
                now = time.monotonic()
                for (height,) in rows:
                    committed_at[int(height)] = now
                    last = max(last, int(height))
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        sent = await drive(txs, window, None)
        deadline = time.monotonic() + 120
        heights = tx_heights(ledger, set(sent))
        while (len(heights) < count or max(heights.values()) not in committed_at) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            heights = tx_heights(ledger, set(sent))
        watcher.cancel()
        latencies = [committed_at[heights[t]] - s for t, s in sent.items()]
        elapsed = max(committed_at[h] for h in heights.values()) - min(sent.values())
        return count / elapsed, latencies
    finally:
        for client in clients:
            await client.aclose()


def single_node(tmp: Path, count: int, window: int) -> tuple[float, list[float]]:
    directory = tmp / "single"
    port = 18790
    log = (tmp / "single.log").open("wb")
    proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "estatechain.cli.main", "up",
                             str(directory), "--units", str(UNITS), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/ready", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, f"the single node exited; see {tmp / 'single.log'}"
            assert time.monotonic() < deadline, "the single node was not ready within 120 s"
            time.sleep(0.2)
        return asyncio.run(single_run(f"http://127.0.0.1:{port}", directory, count, window))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        log.close()


def raw_stream_rate(messages: int) -> float:
    out = subprocess.run([sys.executable, "-m", "estatechain.bench.nats_stream", "--messages", str(messages)],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    return float(json.loads(out.strip().splitlines()[-1])["publishes_per_s"])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="estatechain bench cluster", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--txs", type=int, default=3000, help="txs of each peak run")
    parser.add_argument("--half-txs", type=int, default=1500, help="txs of the half-load latency run")
    parser.add_argument("--window", type=int, default=64, help="submissions in flight at most")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    raw = raw_stream_rate(10_000)
    print(f"raw R3 stream, sync always, acknowledged publishes/s      {raw:8.0f}")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        r1, single_lat = single_node(tmp, args.txs, args.window)
        print(f"R1: one node pinned to core 0, committed tx/s             {r1:8.0f}"
              f"   commit latency ms p50 {pct(single_lat, 50):.0f} p95 {pct(single_lat, 95):.0f} "
              f"p99 {pct(single_lat, 99):.0f}")
        prepare_consortium(tmp / "cluster", units=UNITS, seed=SEED)
        with DevCluster(tmp / "cluster", orgs=ORGS, stop_timeout_s=10) as cluster:
            peak, peak_lat = asyncio.run(cluster_run(cluster, args.txs, args.window, None, "peak"))
            half, half_lat = asyncio.run(cluster_run(cluster, args.half_txs, args.window, peak / 2, "half"))
    ideal, goal = r1 * cores / 4, min(r1 / 4, 0.8 * raw)
    print(f"4-node cluster, committed+final tx/s at peak             {peak:8.0f}"
          f"   ratio to R1 {peak / r1:.2f}, to ideal R1*{cores}/4 {peak / ideal:.2f}; goal {goal:.0f}: "
          f"{'met' if peak >= goal else 'MISSED'}")
    print(f"    submit->final ms at peak: p50 {pct(peak_lat, 50):.0f} p95 {pct(peak_lat, 95):.0f} "
          f"p99 {pct(peak_lat, 99):.0f}")
    print(f"    at half peak ({peak / 2:.0f} tx/s offered, {half:.0f} tx/s done): p50 {pct(half_lat, 50):.0f} "
          f"p95 {pct(half_lat, 95):.0f} p99 {pct(half_lat, 99):.0f}  goal p99 < 500: "
          f"{'met' if pct(half_lat, 99) < P99_GOAL_MS else 'MISSED'}")
    print(json.dumps({
        "bench": "cluster", "cores": cores, "txs": args.txs, "window": args.window, "raw_stream_per_s": round(raw),
        "r1_per_s": round(r1), "cluster_peak_per_s": round(peak), "goal_per_s": round(goal),
        "single_p99_ms": round(pct(single_lat, 99), 1), "peak_p50_ms": round(pct(peak_lat, 50), 1),
        "peak_p99_ms": round(pct(peak_lat, 99), 1), "half_rate_per_s": round(peak / 2),
        "half_p50_ms": round(pct(half_lat, 50), 1), "half_p95_ms": round(pct(half_lat, 95), 1),
        "half_p99_ms": round(pct(half_lat, 99), 1),
    }))


if __name__ == "__main__":
    main()
