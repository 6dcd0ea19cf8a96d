"""Kept so the commands recorded in docs/benchmarks.md still run: `estatechain bench synthetic` is the same.

The benchmark itself is `estatechain.bench.synthetic`, shipped with the package.
"""

from estatechain.bench.synthetic import main

if __name__ == "__main__":
    main()
