"""Kept so the commands recorded in docs/benchmarks.md still run: `estatechain bench cluster` is the same.

The benchmark itself is `estatechain.bench.cluster`, shipped with the package.
"""

from estatechain.bench.cluster import main

if __name__ == "__main__":
    main()
