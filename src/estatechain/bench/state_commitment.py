"""Cost of one block's state-commitment update at two state sizes (design §3.15, §5).

Builds a sparse Merkle state tree of N rows in a real SQLite file (WAL, synchronous=FULL), reopens
it with a cold cache as a restarted node would, then applies blocks of C changed keys (half new
keys, half overwrites of existing ones), one SQLite transaction per block, and reports per block:
update time (walk + hashing + node inserts), commit time (fsync), SHA-256 calls, nodes read from
SQLite (cache misses), nodes written, and the database pages the block dirtied (WAL frames; the WAL is
emptied after each block, outside the timed part). Pages per block is what the store's layout decides:
nodes keyed by hash land on a random page each, nodes keyed by (version, path) append a few pages.
The bound, measured in the same run, is SHA-256 calls per second on one core over 65-byte node
preimages; "x floor" is update time over the time those hashes alone would take. The ratio row
compares the largest state with the smallest: for an O(changes · log n) update it follows log2(n), not n.

Example:
    estatechain bench state-commitment                 # 10,000 and 1,000,000 rows, 500 changes
    estatechain bench state-commitment --quick         # 10,000 and 100,000 rows, fewer blocks

"""

from __future__ import annotations

import argparse
import hashlib
import math
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from estatechain.state.commitment import EMPTY, CachingNodeStore, SparseMerkleTree
from estatechain.storage.smt import SMT_SCHEMA, SqliteNodeStore

BUILD_BATCH = 100_000


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class CountingHash:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, data: bytes) -> bytes:
        self.calls += 1
        return hashlib.sha256(data).digest()


class CountingStore(SqliteNodeStore):
    """The SQLite store, counting reads that reach SQLite and nodes written."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(conn)
        self.reads = 0
        self.writes = 0

    def get(self, pos: bytes) -> bytes | None:
        self.reads += 1
        return super().get(pos)

    def put_many(self, nodes: Iterable[tuple[bytes, bytes]]) -> None:
        pairs = list(nodes)
        self.writes += len(pairs)
        super().put_many(pairs)


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    rows: int
    build_s: float
    db_mib: float
    update_ms: list[float]
    commit_ms: list[float]
    hashes: list[int]
    reads: list[int]
    writes: list[int]
    pages: list[int]
    depth: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    blocks: int
    changes: int
    cache: int


def key(i: int) -> bytes:
    return sha256(b"row %d" % i)


def value(i: int, version: int) -> bytes:
    return sha256(b"value %d %d" % (i, version))


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(SMT_SCHEMA)
    return conn


def build(path: Path, rows: int) -> tuple[bytes, float]:
    """Insert ``rows`` keys in large batches, one transaction each; returns (root, seconds)."""
    conn = connect(path)
    tree = SparseMerkleTree(CachingNodeStore(SqliteNodeStore(conn), capacity=1 << 18), sha256)
    root = EMPTY
    start = time.perf_counter()
    for lo in range(0, rows, BUILD_BATCH):
        conn.execute("BEGIN")
        root = tree.update(root, {key(i): value(i, 0) for i in range(lo, min(rows, lo + BUILD_BATCH))})
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return root, elapsed


def block_changes(rows: int, block: int, changes: int) -> dict[bytes, bytes]:
    """Half new keys, half overwrites of existing keys picked by a hash (no RNG: reproducible)."""
    new = changes // 2
    fresh = {key(rows + block * new + j): value(rows + block * new + j, 0) for j in range(new)}
    picks = (int.from_bytes(sha256(b"pick %d %d" % (block, j))[:8], "big") % rows for j in range(changes - new))
    return fresh | {key(i): value(i, block + 1) for i in picks}


def run_blocks(path: Path, rows: int, root: bytes, plan: Plan) -> Result:
    conn = connect(path)  # reopened: cold node cache, as after a restart
    store = CountingStore(conn)
    counting = CountingHash()
    tree = SparseMerkleTree(CachingNodeStore(store, capacity=plan.cache), counting)
    update_ms: list[float] = []
    commit_ms: list[float] = []
    hashes: list[int] = []
    reads: list[int] = []
    writes: list[int] = []
    pages: list[int] = []
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    probe = [k for block in range(plan.blocks) for k in block_changes(rows, block, plan.changes)]
    probe = probe[:: max(1, plan.changes // 10)]
    for block in range(plan.blocks):
        batch = block_changes(rows, block, plan.changes)
        counting.calls = store.reads = store.writes = 0
        conn.execute("BEGIN")
        t0 = time.perf_counter()
        root = tree.update(root, batch)
        t1 = time.perf_counter()
        conn.execute("COMMIT")
        t2 = time.perf_counter()
        update_ms.append((t1 - t0) * 1e3)
        commit_ms.append((t2 - t1) * 1e3)
        hashes.append(counting.calls)
        reads.append(store.reads)
        writes.append(store.writes)
        pages.append(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    depth = statistics.fmean(len(tree.prove(root, k).siblings) for k in probe)
    conn.close()
    return Result(
        rows=rows,
        build_s=0.0,
        db_mib=0.0,
        update_ms=update_ms,
        commit_ms=commit_ms,
        hashes=hashes,
        reads=reads,
        writes=writes,
        pages=pages,
        depth=depth,
    )


def hash_rate(seconds: float = 1.0) -> float:
    """SHA-256 calls per second on one core, over 65-byte inputs, through the same Python call path."""
    data = bytes(65)
    count = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(10_000):
            sha256(data)
        count += 10_000
    return count / elapsed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def report(results: list[Result], rate: float, changes: int) -> None:
    print(f"bound: SHA-256 on one core = {rate:,.0f} hashes/s (65-byte inputs)")
    print(f"blocks of {changes} changed keys (half new, half overwrites); update = walk + hash + INSERT")
    header = (
        f"{'rows':>10} {'build s':>8} {'DB MiB':>7} {'depth':>6} {'hashes/blk':>10} {'reads/blk':>9} "
        f"{'writes/blk':>10} {'pages/blk':>9} {'upd p50':>8} {'p95':>7} {'p99':>7} {'commit p50':>10} "
        f"{'floor ms':>8} {'x floor':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        mean_hashes = statistics.fmean(r.hashes)
        floor_ms = mean_hashes / rate * 1e3
        print(
            f"{r.rows:>10,} {r.build_s:>8.1f} {r.db_mib:>7.0f} {r.depth:>6.1f} {mean_hashes:>10,.0f} "
            f"{statistics.fmean(r.reads):>9,.0f} {statistics.fmean(r.writes):>10,.0f} "
            f"{statistics.fmean(r.pages):>9,.0f} "
            f"{pct(r.update_ms, 0.5):>8.1f} {pct(r.update_ms, 0.95):>7.1f} {pct(r.update_ms, 0.99):>7.1f} "
            f"{pct(r.commit_ms, 0.5):>10.1f} {floor_ms:>8.1f} {pct(r.update_ms, 0.5) / floor_ms:>7.1f}"
        )
    small, large = results[0], results[-1]
    print(
        f"ratio {large.rows:,}/{small.rows:,} rows (x{large.rows / small.rows:,.0f} state): "
        f"hashes/blk x{statistics.fmean(large.hashes) / statistics.fmean(small.hashes):.2f}, "
        f"update p50 x{pct(large.update_ms, 0.5) / pct(small.update_ms, 0.5):.2f}, "
        f"log2(n) x{math.log2(large.rows) / math.log2(small.rows):.2f}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="estatechain bench state-commitment",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="example: estatechain bench state-commitment --quick",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000], help="state sizes in rows")
    parser.add_argument("--changes", type=int, default=500, help="changed keys per block (default 500)")
    parser.add_argument("--blocks", type=int, default=50, help="measured blocks per size (default 50)")
    parser.add_argument("--cache", type=int, default=65_536, help="node cache capacity (default 65,536)")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the SQLite files (default: a temp dir)")
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 rows, 10 blocks")
    args = parser.parse_args(argv)
    sizes: list[int] = [10_000, 100_000] if args.quick else sorted(args.sizes)
    plan = Plan(blocks=10 if args.quick else args.blocks, changes=args.changes, cache=args.cache)
    rate = hash_rate()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        results = []
        for rows in sizes:
            path = Path(tmp) / f"state-{rows}.sqlite"
            root, build_s = build(path, rows)
            db_mib = path.stat().st_size / 2**20
            print(f"built {rows:,} rows in {build_s:.1f} s ({db_mib:.0f} MiB)", flush=True)
            r = run_blocks(path, rows, root, plan)
            results.append(replace(r, build_s=build_s, db_mib=db_mib))
    report(results, rate, args.changes)


if __name__ == "__main__":
    main()
