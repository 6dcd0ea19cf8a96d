"""Kept so the commands recorded in docs/benchmarks.md still run: `estatechain bench evidence` is the same.

The benchmark itself is `estatechain.bench.evidence`, shipped with the package.
"""

from estatechain.bench.evidence import main

if __name__ == "__main__":
    main()
