"""Generation time per unit of the synthetic Guangzhou register (issue 5, docs/benchmarks.md).

Runs ``estatechain.testing.synthetic.generate`` over registers of 10,000 and 100,000 units (by
default), consuming every batch as an importer would, and reports time per unit, records per unit,
canonical bytes per unit (with ``--encode``, the cost of turning batches into import payloads) and
the process's peak RSS, which must stay flat as the register grows because batches are streamed.
The 1,000,000-unit figure is projected linearly from the largest run; ``--sizes 1000000`` measures it.

Example:
    estatechain bench synthetic
    estatechain bench synthetic --sizes 10000 100000 1000000 --encode

"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass

from estatechain.testing.synthetic import Batch, encode_batch, generate

PROJECTED = 1_000_000


@dataclass(frozen=True, slots=True)
class Run:
    units: int
    seconds: float
    records: int
    encoded_bytes: int
    peak_rss_mib: float


def _records(batch: Batch) -> int:
    return sum(len(getattr(batch, name)) for name in (
        "persons", "companies", "projects", "buildings", "units", "ownerships", "mortgages",
        "purchase_notices", "presale_mortgage_notices", "seizures",
    ))


def measure(units: int, *, seed: int, batch_size: int, encode: bool) -> Run:
    records = encoded = 0
    start = time.perf_counter()
    for batch in generate(seed, units, batch_size=batch_size):
        records += _records(batch)
        if encode:
            encoded += len(encode_batch(batch))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Run(units, seconds, records, encoded, peak)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="estatechain bench synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--encode", action="store_true", help="also encode every batch to canonical JSON")
    args = parser.parse_args(argv)

    print(f"{'units':>10} {'seconds':>9} {'µs/unit':>9} {'records/unit':>13} {'bytes/unit':>11} {'peak RSS MiB':>13}")
    runs = []
    for units in args.sizes:
        run = measure(units, seed=args.seed, batch_size=args.batch_size, encode=args.encode)
        runs.append(run)
        per_unit = run.seconds / run.units * 1e6
        encoded = f"{run.encoded_bytes / run.units:11.0f}" if args.encode else f"{'-':>11}"
        print(f"{run.units:>10,} {run.seconds:9.2f} {per_unit:9.1f} {run.records / run.units:13.2f} {encoded} "
              f"{run.peak_rss_mib:13.1f}")
    largest = max(runs, key=lambda r: r.units)
    if largest.units < PROJECTED:
        projected = largest.seconds / largest.units * PROJECTED
        print(f"projected for {PROJECTED:,} units (linear from {largest.units:,}): {projected:.0f} s")


if __name__ == "__main__":
    main()
