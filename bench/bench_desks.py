"""Kept so the commands recorded in docs/benchmarks.md still run: `estatechain bench desks` is the same.

The benchmark itself is `estatechain.bench.desks`, shipped with the package.
"""

from estatechain.bench.desks import main

if __name__ == "__main__":
    main()
