"""Kept so the commands recorded in docs/benchmarks.md still run: `estatechain bench consents` is the same.

The benchmark itself is `estatechain.bench.consents`, shipped with the package.
"""

from estatechain.bench.consents import main

if __name__ == "__main__":
    main()
