"""Committed transactions per second through the single-node pipeline, next to the Ed25519 bound.

Run: estatechain bench pipeline [--txs 20000] [--repeat 3]

The bound is what one core does in the same run with no ledger at all: Ed25519 verifications per
second (libsodium through PyNaCl, the backend the suite uses; OpenSSL through `cryptography` is shown
for the record). The pipeline figure is from the first submission to the last receipt of pre-signed
`note.put` transactions, each writing one state row, committed durably (WAL, synchronous=FULL).
The pipeline runs as in a node process: garbage collection tuned (``estatechain.node.process``), and
signatures with the payloads' canonical check verified in batches by a worker process on the second
core (``estatechain.node.signatures``) while the event loop commits.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from estatechain.clock import SystemClock
from estatechain.crypto.suites import get_suite
from estatechain.identity.devca import create_dev_consortium
from estatechain.node.pipeline import Pipeline
from estatechain.node.process import tune_gc
from estatechain.storage.store import LedgerStore
from estatechain.testing.builders import TxFactory


def verify_bound(seconds: float = 2.0) -> tuple[float, float]:
    """Ed25519 verifications/s on one core: (PyNaCl, cryptography)."""
    suite = get_suite("ed25519-sha256")
    private, public = suite.generate()
    message = b"x" * 600
    signature = suite.sign(private, message)
    rates = []
    for verify in (lambda: suite.verify(public, message, signature),
                   lambda: Ed25519PublicKey.from_public_bytes(public).verify(signature, message)):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(200):
                verify()
            n += 200
        rates.append(n / (time.perf_counter() - start))
    return rates[0], rates[1]


def _record(latencies: list[float], loop: asyncio.AbstractEventLoop, begun: float, _future: object) -> None:
    latencies.append(loop.time() - begun)


async def _run(store: LedgerStore, envelopes: list[bytes]) -> tuple[float, list[float]]:
    pipeline = Pipeline(store, SystemClock())
    runner = asyncio.create_task(pipeline.run())
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    start = time.perf_counter()

    futures = []
    for n, envelope in enumerate(envelopes):
        begun = loop.time()
        future = pipeline.submit_nowait(envelope)
        future.add_done_callback(functools.partial(_record, latencies, loop, begun))
        futures.append(future)
        if n % 500 == 499:
            await asyncio.sleep(0)  # let the pipeline cut and commit while submissions continue
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - start
    pipeline.stop()
    await runner
    return elapsed, latencies


def pipeline_rate(txs: int, *, steady: bool) -> tuple[float, list[float], int]:
    """(committed tx/s, latencies in s, blocks) for ``txs`` pre-signed transactions on a fresh ledger.

    ``steady``: signers' certificates are already on the ledger (one registering transaction each,
    committed before timing), so envelopes carry the fingerprint only — a bank system's normal case.
    Otherwise every envelope carries its certificate.
    """
    with tempfile.TemporaryDirectory() as tmp:
        clock = SystemClock()
        consortium = create_dev_consortium(Path(tmp) / "c", now_ms=clock.now_ms())
        store = LedgerStore.create(Path(tmp) / "node", consortium.genesis)
        factory = TxFactory(consortium, clock)
        writers = [i for i in consortium.identities.values() if i.role != "auditor"]
        if steady:
            asyncio.run(_run(store, [factory.note(w, f"register/{n}", {}) for n, w in enumerate(writers)]))
        envelopes = [
            factory.sign(writers[n % len(writers)], "note.put", {"data": {"n": n}, "key": f"bench/{n:08d}"},
                         with_certificate=not steady)
            for n in range(txs)
        ]
        elapsed, latencies = asyncio.run(_run(store, envelopes))
        blocks = store.height
        store.close()
    return txs / elapsed, latencies, blocks


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="estatechain bench pipeline", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--txs", type=int, default=20_000, help="transactions per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the median is reported")
    args = parser.parse_args(argv)
    tune_gc()  # as the node process does (estatechain.node.process)
    nacl_rate, openssl_rate = verify_bound()
    print(f"bound: Ed25519 verify/s, one core, PyNaCl (libsodium)    {nacl_rate:10.0f}")
    print(f"       Ed25519 verify/s, one core, cryptography (OpenSSL) {openssl_rate:10.0f}"
          f"   (PyNaCl/OpenSSL = {nacl_rate / openssl_rate:.2f})")
    for steady, label in ((False, "certificate in every envelope"), (True, "signers known (fingerprint only)")):
        runs = [pipeline_rate(args.txs, steady=steady) for _ in range(args.repeat)]
        rate = statistics.median(r[0] for r in runs)
        latencies = sorted(runs[len(runs) // 2][1])
        pct = {p: latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1000 for p in (50, 95, 99)}
        print(f"pipeline, {label}: committed tx/s (median of {args.repeat} x {args.txs}) {rate:8.0f}"
              f"  ratio to bound {rate / nacl_rate:.1%} (goal >= 40%)  blocks/run {runs[0][2]}")
        print(f"    latency submit->committed ms: p50 {pct[50]:.0f}  p95 {pct[95]:.0f}  p99 {pct[99]:.0f}"
              "  (all submitted at once: includes queueing)")


if __name__ == "__main__":
    main()
