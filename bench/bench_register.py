"""Kept so the commands recorded in docs/benchmarks.md still run: `estatechain bench register` is the same.

The benchmark itself is `estatechain.bench.register`, shipped with the package.
"""

from estatechain.bench.register import main

if __name__ == "__main__":
    main()
