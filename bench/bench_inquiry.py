"""Kept so the commands recorded in docs/benchmarks.md still run: `estatechain bench inquiry` is the same.

The benchmark itself is `estatechain.bench.inquiry`, shipped with the package.
"""

from estatechain.bench.inquiry import main

if __name__ == "__main__":
    main()
