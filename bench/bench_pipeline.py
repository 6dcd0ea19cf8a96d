"""Kept so the commands recorded in docs/benchmarks.md still run: `estatechain bench pipeline` is the same.

The benchmark itself is `estatechain.bench.pipeline`, shipped with the package.
"""

from estatechain.bench.pipeline import main

if __name__ == "__main__":
    main()
