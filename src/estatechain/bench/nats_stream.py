"""Acknowledged publishes per second into the R3 transaction stream, next to the disk's fsync bound.

Run: estatechain bench nats-stream [--messages 20000] [--window 256] [--size 1024] [--servers 3]

Starts a fresh loopback cluster (sync_interval: always, the ledger's stream settings), connects as a
bank with its own credentials and pipelines JetStream publishes on its tx subject: at most
``--window`` unacknowledged at a time, each with its own ``Nats-Msg-Id`` (as tx ids will be). The
rate is from the first publish to the last ack; latency is publish → ack per message. The bound,
measured in the same run on the same file system, is how many 1 KiB append+fsync pairs one thread
does per second: with every write fsynced the stream is limited by fsyncs (group commit lets one
fsync carry several messages). Prints readable lines, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import nats
from nats.js.api import PubAck

from estatechain.ordering import subjects
from estatechain.ordering.streams import ensure_streams
from estatechain.testing.natscluster import NatsCluster

TAG = "be4c000000000001"
ORG = "icbc-gz"


def fsync_bound(directory: Path, seconds: float = 2.0) -> float:
    """1 KiB append + fsync pairs per second, one thread, in ``directory``."""
    path = directory / "fsync-probe"
    block = b"x" * 1024
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            os.write(fd, block)
            os.fsync(fd)
            n += 1
        return n / (time.perf_counter() - start)
    finally:
        os.close(fd)
        path.unlink()


def _record(latencies: list[float], begun: float, _future: asyncio.Future[PubAck]) -> None:
    latencies.append(time.perf_counter() - begun)


async def _publish(cluster: NatsCluster, messages: int, window: int, size: int) -> tuple[float, list[float]]:
    operator = await nats.connect(servers=cluster.client_urls, **cluster.credentials("operator").connect_options())
    await ensure_streams(operator, TAG, replicas=cluster.size)
    await operator.close()
    nc = await nats.connect(servers=cluster.client_urls, **cluster.credentials(ORG).connect_options())
    js = nc.jetstream(timeout=10, publish_async_max_pending=window)
    subject, payload = subjects.tx_subject(TAG, ORG), os.urandom(size // 2).hex().encode()
    latencies: list[float] = []
    futures = []
    start = time.perf_counter()
    for n in range(messages):
        future = await js.publish_async(subject, payload, wait_stall=30, headers={"Nats-Msg-Id": f"bench-{n:08d}"})
        future.add_done_callback(functools.partial(_record, latencies, time.perf_counter()))
        futures.append(future)
    acks = await asyncio.wait_for(asyncio.gather(*futures), 120)
    elapsed = time.perf_counter() - start
    assert len({ack.seq for ack in acks}) == messages, "every publish must be stored once"
    await nc.close()
    return elapsed, latencies


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="estatechain bench nats-stream", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000, help="messages to publish")
    parser.add_argument("--window", type=int, default=256, help="publishes in flight (unacknowledged) at most")
    parser.add_argument("--size", type=int, default=1024, help="payload bytes per message")
    parser.add_argument("--servers", type=int, default=3, choices=(3, 5), help="cluster size = stream replicas")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        bound = fsync_bound(Path(tmp))
        print(f"bound: 1 KiB append+fsync/s, one thread, same file system  {bound:10.0f}")
        with NatsCluster(Path(tmp) / "nats", size=args.servers, tag=TAG) as cluster:
            elapsed, latencies = asyncio.run(_publish(cluster, args.messages, args.window, args.size))
    rate = args.messages / elapsed
    latencies.sort()
    pct = {p: latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1000 for p in (50, 95, 99)}
    print(f"R{args.servers} stream, sync always: acknowledged publishes/s {rate:10.0f}"
          f"  ({args.messages} x {args.size} B, window {args.window})  ratio to fsync bound {rate / bound:.2f}")
    print(f"    latency publish->ack ms: p50 {pct[50]:.1f}  p95 {pct[95]:.1f}  p99 {pct[99]:.1f}")
    print(json.dumps({
        "bench": "nats_stream", "servers": args.servers, "messages": args.messages, "size": args.size,
        "window": args.window, "publishes_per_s": round(rate), "fsync_bound_per_s": round(bound),
        "p50_ms": round(pct[50], 2), "p95_ms": round(pct[95], 2), "p99_ms": round(pct[99], 2),
    }))


if __name__ == "__main__":
    main()
