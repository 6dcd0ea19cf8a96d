"""``python -m estatechain``: the CLI, for callers that hold the interpreter rather than the script's path.

The benchmarks start nodes and the NATS benchmark this way, so they use this very installation
whether it lives in a virtualenv, a system site or a source checkout.
"""

from estatechain.cli.main import main

main()
