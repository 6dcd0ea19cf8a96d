"""Selecting a unit's evidence on a large ledger: the exporter's mention index against a pass over every envelope.

Run: estatechain bench evidence [--units 10000] [--subjects 20]
     estatechain bench evidence --ledger /tmp/estatechain-bench/register-1000000-format4 --subjects 20
         (DIR made by ``estatechain init DIR --units N``, used in place: the index file ``mentions.sqlite``
         is written beside its ledger, as ``estatechain evidence export`` does; no node may be writing)

Why: a court's package for a unit holds every transaction that names it, valid or invalid, and the
steps of every application filed for it. Before the index the exporter found them with a pass over
every stored envelope, and one more pass per application filed for the unit; the ledger grows by about
10^7 inquiries a year (domain.md §7), so that pass grows without bound.

1. Ledger: ``estatechain init`` of ``--units`` units in a temporary directory, or ``--ledger DIR``.
2. Subjects: ``--subjects`` units, half of them units that applications were filed for (newest
   filings first; none on a freshly made register), the rest spread over the register.
3. Bound, same run: the pass the exporter made before the index (SQLite's ``instr`` over every
   envelope, then one more pass per filing found): seconds per unit, p50 / p95.
4. The product: the index's build (first build timed, then a catch-up with nothing new), then
   ``evidence.select`` through it for the same units: p50 / p95, the ratio of p95 to the bound's, and a
   check that both found the same transactions for every unit.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import orjson

from estatechain.bench import register as br
from estatechain.bench.inquiry import CLI
from estatechain.canonical import JSONValue
from estatechain.evidence.mentions import MENTIONS_FILE, MentionIndex
from estatechain.evidence.package import body_of, created_on_unit, mentions, names_created
from estatechain.evidence.select import select
from estatechain.storage.store import LedgerStore

WHOLE_HISTORY = 2**53 - 1


def full_pass(store: LedgerStore, unit: str) -> list[str]:
    """The selection before the index: envelopes naming the unit, then each filing's and record's steps, by a pass each.

    A record created on the unit (a seizure, a pre-sale contract, a consent) is followed as a filing is:
    its later steps name only its id (docs/evidence.md §8 check 4, rule 3).
    """
    def candidates(needle: str) -> list[tuple[int, str, str, bool, dict[str, JSONValue]]]:
        rows = store.connection.execute(
            "SELECT seq, tx_id, command, status, envelope FROM txs WHERE instr(envelope, ?) > 0", (f'"{needle}"',))
        return [(int(s), str(t), str(c), v == "valid", body_of(orjson.loads(e))) for s, t, c, v, e in rows]

    named = [(s, t, c, v, body) for s, t, c, v, body in candidates(unit) if mentions(body, unit)]
    found = {s: t for s, t, *_ in named}
    for app in sorted(t for _, t, c, _, _ in named if c == "application.file"):
        found.update({s: t for s, t, _, _, body in candidates(app) if body.get("application_id") == app})
    created = frozenset[tuple[str, str]]().union(*(
        created_on_unit(unit, tx_id=t, command=c, valid=v, body=body) for _, t, c, v, body in named))
    for _, record in sorted(created):
        found.update({s: t for s, t, _, _, body in candidates(record) if names_created(body, created)})
    return [found[s] for s in sorted(found)]


def subjects(store: LedgerStore, count: int) -> list[str]:
    """Half units with filings (newest first), the rest spread over the register."""
    filed: list[str] = []
    for (envelope,) in store.connection.execute(
            "SELECT envelope FROM txs WHERE command = 'application.file' ORDER BY seq DESC LIMIT ?", (count * 4,)):
        unit = body_of(orjson.loads(envelope)).get("unit_number")
        if isinstance(unit, str) and unit not in filed:
            filed.append(unit)
    filed = filed[:count // 2]
    return filed + [u for u in br.spread_units(store, count) if u not in filed][:count - len(filed)]


def timed(run: Callable[[str], list[str]], units: list[str]) -> tuple[float, float, dict[str, list[str]]]:
    """p50 and p95 in seconds of ``run`` over ``units``, and what it found for each."""
    times, found = [], {}
    for unit in units:
        begun = time.perf_counter()
        found[unit] = run(unit)
        times.append(time.perf_counter() - begun)
    times.sort()
    return times[len(times) // 2], times[min(int(len(times) * 0.95), len(times) - 1)], found


def measure(node: Path, count: int) -> None:
    """Steps 2-4 on the ledger of the node directory ``node``."""
    store = LedgerStore.open(node, readonly=True)
    try:
        envelopes = int(store.connection.execute("SELECT count(*) FROM txs").fetchone()[0])
        units = subjects(store, count)
        print(f"ledger: {envelopes:,} transactions; {len(units)} units as subjects", flush=True)
        bound = timed(lambda unit: full_pass(store, unit), units)
        print(f"bound: the pass over every envelope, s per unit p50 {bound[0]:.3f}  p95 {bound[1]:.3f}", flush=True)
        (node / MENTIONS_FILE).unlink(missing_ok=True)
        begun = time.perf_counter()
        first = MentionIndex.caught_up(node, store.connection)
        print(f"index first build: {time.perf_counter() - begun:.2f} s, {first.last_read:,} transactions read",
              flush=True)
        first.close()
        begun = time.perf_counter()
        index = MentionIndex.caught_up(node, store.connection)
        print(f"index catch-up with nothing new: {(time.perf_counter() - begun) * 1000:.1f} ms", flush=True)
        try:
            def indexed(unit: str) -> list[str]:
                subject: dict[str, JSONValue] = {"kind": "unit", "unit_number": unit, "from_ms": 0,
                                                 "to_ms": WHOLE_HISTORY}
                return [t.tx_id for t in select(store, subject, index).txs]

            product = timed(indexed, units)
        finally:
            index.close()
    finally:
        store.close()
    same = sum(bound[2][u] == product[2][u] for u in units)
    print(f"select through the index, s per unit p50 {product[0]:.4f}  p95 {product[1]:.4f}  "
          f"(p95 = {product[1] / bound[1]:.2%} of the pass); same transactions for {same} of {len(units)} units")
    if same != len(units):
        raise SystemExit("the index and the pass disagree: see the units above")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="estatechain bench evidence", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--ledger", type=Path, default=None, help="an `estatechain init` folder, used in place")
    parser.add_argument("--subjects", type=int, default=20)
    args = parser.parse_args(argv)
    if args.ledger is not None:
        measure(args.ledger / br.NODE, args.subjects)
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "net"
        subprocess.run([*CLI, "init", str(directory), "--units", str(args.units)], check=True,
                       stdout=subprocess.DEVNULL)
        measure(directory / br.NODE, args.subjects)


if __name__ == "__main__":
    main()
