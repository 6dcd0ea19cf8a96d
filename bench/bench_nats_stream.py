"""Kept so the commands recorded in docs/benchmarks.md still run: `estatechain bench nats-stream` is the same.

The benchmark itself is `estatechain.bench.nats_stream`, shipped with the package.
"""

from estatechain.bench.nats_stream import main

if __name__ == "__main__":
    main()
