"""Benchmarks, each figure reported next to a bound measured in the same run (design §5).

Run one with ``estatechain bench NAME [OPTIONS]`` (``estatechain bench --help`` lists them), or the
same module as ``bench/bench_NAME.py`` from a source checkout, the commands ``docs/benchmarks.md``
records. They live in the package, not only in the repository, so an operator can measure the
hardware a node will run on with the installed software alone.
"""
