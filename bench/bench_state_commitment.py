"""Kept so the commands recorded in docs/benchmarks.md still run: `estatechain bench state-commitment` is the same.

The benchmark itself is `estatechain.bench.state_commitment`, shipped with the package.
"""

from estatechain.bench.state_commitment import main

if __name__ == "__main__":
    main()
